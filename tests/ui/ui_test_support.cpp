#include "ui_test_support.h"

#include "ui/controllers/run_controller.h"
#include "ui/main_window.h"

#include <QAction>
#include <QSignalSpy>
#include <QTest>

#include <QCoreApplication>
#include <QDir>
#include <QSettings>
#include <QStandardPaths>
#include <QFileInfo>
#include <QPixmap>
#include <QWidget>

namespace loralab::ui::test {

void showWindow(MainWindow& w, const QSize& size)
{
    w.resize(size);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
}

Experiment runToEnd(MainWindow& w)
{
    QSignalSpy finished(w.controller(), &RunController::finished);
    QSignalSpy failed(w.controller(), &RunController::failed);
    w.startAction()->trigger();
    [&] { QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), 240000); }();
    if (!failed.isEmpty()) qWarning() << failed.first().first().toString();
    return finished.isEmpty() ? Experiment{} : finished.first().first().value<Experiment>();
}

QString runsDir(const QString& name, bool clean)
{
    QDir dir(QStringLiteral(LORALAB_UI_TEST_RUNS "/") + name);
    if (clean) dir.removeRecursively();
    dir.mkpath(QStringLiteral("."));
    return dir.absolutePath();
}

RunConfig shortConfig(const QString& runs)
{
    RunConfig c;
    c.name = "ui-test";
    c.model = "default";
    c.dataset = "default:dialogues";
    c.method = Method::Lora;
    c.maxSteps = 6;
    c.evalInterval = 2;
    c.evalAtStart = true; // a baseline evaluation at step 0, then steps 2, 4, 6
    c.evalBatches = 2;
    c.batchSize = 4;
    c.maxLen = 96;
    c.samples = 2;
    c.sampleMaxNewTokens = 16;
    c.checkpointInterval = 0;
    c.threads = 2;
    c.seed = 7;
    c.runsDir = runs.toStdString();
    return c;
}

QString newestFinishedRun(const QString& runs)
{
    QString newest;
    QDateTime when;
    for (const QFileInfo& info : QDir(runs).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        if (!QFileInfo::exists(info.filePath() + QStringLiteral("/summary.json"))) continue;
        if (newest.isEmpty() || info.lastModified() > when) {
            newest = info.absoluteFilePath();
            when = info.lastModified();
        }
    }
    return newest;
}

void useTestLocations()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("LoRA Lab Tests"));
    QCoreApplication::setApplicationName(QStringLiteral("LoRA Lab Tests"));
    const QString config = qEnvironmentVariable("XDG_CONFIG_HOME");
    if (!config.isEmpty()) QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, config);
}

QString saveScreenshot(QWidget* widget, const QString& name)
{
    QDir().mkpath(QStringLiteral(LORALAB_SCREENSHOTS));
    const QString path = QStringLiteral(LORALAB_SCREENSHOTS "/") + name + QStringLiteral(".png");
    widget->grab().save(path);
    return path;
}

} // namespace loralab::ui::test
