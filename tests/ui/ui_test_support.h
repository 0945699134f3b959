// Helpers shared by the window tests: a short run configuration on the
// embedded model, screenshots, and finding the runs the tests write.
#pragma once

#include "engine/runner/run_config.h"

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

// Saves `widget` as <screenshots>/<name>.png; returns the path.
QString saveScreenshot(QWidget* widget, const QString& name);

} // namespace loralab::ui::test
