// Helpers shared by the window tests: a short run configuration on the
// embedded model, screenshots, and finding the runs the tests write.
#pragma once

#include "engine/config/run_config.h"

#include <QString>

class QWidget;

namespace loralab::ui::test {

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
