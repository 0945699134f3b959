// The LoRA Lab window's entry point: application identity (QSettings keys
// and the data folder derive from it), the icon, the command line, and the
// main window.
#include "ui/main_window.h"
#include "ui/ui_resources.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>

namespace {

void setIdentity()
{
    QCoreApplication::setOrganizationName(QStringLiteral("LoRA Lab"));
    QCoreApplication::setApplicationName(QStringLiteral("LoRA Lab"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LORALAB_VERSION));
}

// --help and --version print and exit; they need no display.
bool onlyPrints(int argc, char* argv[])
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "-h" || arg == "--help" || arg == "--help-all" || arg == "-v" || arg == "--version") return true;
    }
    return false;
}

} // namespace

int main(int argc, char* argv[])
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("LoRA Lab: LoRA and full fine-tuning of causal language models, side by side."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption configOption(
        QStringLiteral("config"),
        QStringLiteral("Open the run configuration JSON in <file> (as the window saves it, or as loralab-cli "
                       "run reads it)."),
        QStringLiteral("file"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Open the window, save a picture of it to <file> once it has settled, and quit."),
        QStringLiteral("file"));
    parser.addOption(configOption);
    parser.addOption(screenshotOption);

    if (onlyPrints(argc, argv)) {
        QCoreApplication core(argc, argv);
        setIdentity();
        parser.process(core); // prints and exits
        return 0;
    }

    QApplication app(argc, argv);
    setIdentity();
    QApplication::setDesktopFileName(QStringLiteral("loralab"));
    QApplication::setWindowIcon(loralab::ui::appIcon());
    parser.process(app);

    loralab::ui::MainWindow window;
    if (parser.isSet(configOption) && !window.loadConfigFile(parser.value(configOption)))
        std::fprintf(stderr, "loralab: could not open %s\n", qPrintable(parser.value(configOption)));
    window.show();

    if (parser.isSet(screenshotOption)) {
        const QString path = parser.value(screenshotOption);
        // The model overview and dataset preview load on worker threads; give
        // them a moment before the picture is taken.
        QTimer::singleShot(2500, &window, [&window, path] {
            const bool saved = window.grab().save(path);
            if (!saved)
                std::fprintf(stderr, "loralab: could not write the screenshot to %s\n", qPrintable(path));
            QApplication::exit(saved ? 0 : 1);
        });
    }
    return QApplication::exec();
}
