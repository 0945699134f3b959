// The LoRA Lab window's entry point: application identity (QSettings keys
// and the data folder derive from it), the icon, and the main window.
#include "ui/main_window.h"
#include "ui/ui_resources.h"

#include <QApplication>

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("LoRA Lab"));
    QApplication::setApplicationName(QStringLiteral("LoRA Lab"));
    QApplication::setApplicationVersion(QStringLiteral(LORALAB_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("loralab"));
    QApplication::setWindowIcon(loralab::ui::appIcon());

    loralab::ui::MainWindow window;
    window.show();
    return QApplication::exec();
}
