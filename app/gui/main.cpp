// The LoRA Lab window's entry point: application identity (QSettings keys
// and the data folder derive from it), the icon, the command line, and the
// main window.
#include "engine/util/process.h"
#include "ui/config/config_panel.h"
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
    loralab::relaunchWithPassiveOpenMpThreads(argv);
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
    const QCommandLineOption startOption(
        QStringLiteral("start"), QStringLiteral("Start a run with the configuration at once, as Start does."));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a picture of the window to <file> and quit: once it has settled, or with --start "
                       "once the run has ended."),
        QStringLiteral("file"));
    const QCommandLineOption deviceOption(
        QStringLiteral("device"),
        QStringLiteral("Train on <device>: auto (a GPU when there is one), cpu, cuda or cuda:N; overrides the "
                       "configuration's device."),
        QStringLiteral("device"));
    parser.addOption(configOption);
    parser.addOption(deviceOption);
    parser.addOption(startOption);
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
    if (parser.isSet(deviceOption)) {
        loralab::ui::ConfigPanel* panel = window.configPanel();
        loralab::RunConfig config = panel->config();
        config.device = parser.value(deviceOption).toStdString();
        panel->setConfig(config, panel->axes());
    }
    window.show();

    const QString screenshot = parser.value(screenshotOption);
    // The model overview and dataset preview load on worker threads; a
    // picture waits a moment for them.
    auto saveAndQuit = [&window, screenshot](int code) {
        QTimer::singleShot(2500, &window, [&window, screenshot, code] {
            const bool saved = window.grab().save(screenshot);
            if (!saved)
                std::fprintf(stderr, "loralab: could not write the screenshot to %s\n", qPrintable(screenshot));
            QApplication::exit(saved ? code : 1);
        });
    };
    if (parser.isSet(startOption)) {
        QTimer::singleShot(0, &window, [&window, &screenshot, saveAndQuit] {
            window.startRun();
            if (screenshot.isEmpty()) return;
            if (!window.controller()->isBusy()) { // the configuration was refused; the banner says why
                saveAndQuit(1);
                return;
            }
            QObject::connect(window.controller(), &loralab::ui::RunController::finished, &window,
                             [saveAndQuit] { saveAndQuit(0); });
            QObject::connect(window.controller(), &loralab::ui::RunController::failed, &window,
                             [saveAndQuit] { saveAndQuit(1); });
        });
    } else if (!screenshot.isEmpty()) {
        saveAndQuit(0);
    }
    return QApplication::exec();
}
