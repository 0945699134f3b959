// A TensorBoard event writer driven line by line from stdin, so that
// tests/python/check_tensorboard.py can read a file while it is still being
// written and after the process is killed. Prints the file's path, then
// "ok <records>" after each command:
//   scalar TAG STEP VALUE
//   text TAG STEP TEXT...
//   flush
#include "engine/export/tensorboard_writer.h"

#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: tensorboard_probe EVENTS_DIR\n";
        return 2;
    }
    try {
        loralab::TensorBoardWriter writer(argv[1]);
        std::cout << writer.path().string() << std::endl;
        std::string line;
        while (std::getline(std::cin, line)) {
            std::istringstream in(line);
            std::string command, tag;
            std::int64_t step = 0;
            in >> command;
            if (command == "scalar") {
                double value = 0;
                in >> tag >> step >> value;
                writer.addScalar(tag, step, value);
            } else if (command == "text") {
                in >> tag >> step;
                std::string text;
                std::getline(in >> std::ws, text);
                writer.addText(tag, step, text);
            } else if (command == "flush") {
                writer.flush();
            } else {
                std::cerr << "unknown command: " << line << "\n";
                return 2;
            }
            std::cout << "ok " << writer.recordsWritten() << std::endl;
        }
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
