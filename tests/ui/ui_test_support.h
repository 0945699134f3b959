// Helpers shared by the window tests: a short run configuration on the
// embedded model, screenshots, and finding the runs the tests write.
#pragma once

#include "engine/config/run_config.h"
#include "engine/experiment/experiment.h"

#include <QSize>
#include <QString>

class QWidget;

namespace loralab::ui {
class MainWindow;
}

namespace loralab::ui::test {

// Shows the window at `size` and waits until it is on screen.
void showWindow(MainWindow& window, const QSize& size = {1600, 1000});
// Presses Start and waits (up to four minutes) for the experiment to end;
// what RunController::finished gave, or an empty experiment if it failed.
Experiment runToEnd(MainWindow& window);

// Where the tests keep their runs: a fresh folder per test (`clean`), or the
// one the fixture run wrote.
QString runsDir(const QString& name, bool clean);

// A run on the embedded model and dialogues, small enough for two cores.
RunConfig shortConfig(const QString& runs);

// The newest run folder under `runs` that has a summary ("" if none).
QString newestFinishedRun(const QString& runs);

// Settings and the default runs folder go to test locations, never the
// user's; each CTest test keeps its settings in its own XDG_CONFIG_HOME
// (QStandardPaths' test mode alone would share one file between tests that
// run in parallel, and one window closing would overwrite another's).
void useTestLocations();

// Saves `widget` as <screenshots>/<name>.png; returns the path.
QString saveScreenshot(QWidget* widget, const QString& name);

} // namespace loralab::ui::test
