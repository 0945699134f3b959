// Shows one experiment across the Charts, Summary and Generations tabs and
// the early-stopping readout: live, as its runs report, or reopened from
// disk. A lone run, a comparison, a sweep and runs overlaid from the Runs tab
// are all the same N-run view; the window only decides what to show.
#pragma once

#include "ui/metatypes.h"

#include <QObject>

namespace loralab::ui {

class ChartsPanel;
class EarlyStoppingPanel;
class GenerationPanel;
class SummaryPanel;

class ExperimentView : public QObject {
    Q_OBJECT
public:
    ExperimentView(ChartsPanel* charts, SummaryPanel* summary, GenerationPanel* generation, EarlyStoppingPanel* earlyStopping,
                   QObject* parent = nullptr);

    // The experiment shown, with every record its runs reported (what the
    // charts draw), as the report writes it.
    const Experiment& shown() const { return m_shown; }

    // An experiment starting. A continued one (read from disk with its
    // metrics) keeps what its runs recorded: its charts, summary rows and
    // early-stopping readout carry on from it.
    void begin(const Experiment& experiment);
    void runStarted(int run);
    void runDirCreated(int run, const QString& dir);
    void step(int run, const StepRecord& record);
    void eval(int run, const EvalRecord& record);
    void runFinished(int run, const ExperimentRun& result);
    void finished(const Experiment& experiment);
    // A pause took effect: the paused run's last checkpoint can answer prompts.
    void paused(int run, const QString& runDir, const RunConfig& config);

    // An experiment (or a run, or an overlay) read from disk with its metrics.
    void show(const Experiment& experiment);
    // A run or experiment got a title in the Runs tab.
    void retitle(const QString& dir, const QString& title);

    // How the experiment ended, in a sentence for the banner; `level` is 0
    // (all finished), 1 (cancelled or not started) or 2 (failed, NaN loss).
    QString outcomeSentence(int* level) const;

private:
    // What run `run` recorded before, into the charts and the readout.
    void showRecords(int run, const ExperimentRun& recorded);

    ChartsPanel* m_charts;
    SummaryPanel* m_summary;
    GenerationPanel* m_generation;
    EarlyStoppingPanel* m_earlyStopping;
    Experiment m_shown;
};

} // namespace loralab::ui
