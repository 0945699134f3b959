// The runs a user has: the run and experiment folders under a runs folder,
// each read as an Experiment (engine/experiment/experiment.h) with its state,
// plus the user's title and notes kept in notes.json beside them. The Runs
// tab and `loralab-cli runs` list the same entries with the same states and
// the same "can be continued". No LibTorch here.
#pragma once

#include "engine/experiment/experiment.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loralab {

// Where runs go when a configuration does not say (runs_dir ""): the
// window's and loralab-cli's shared folder, $LORALAB_RUNS_DIR, else
// $XDG_DATA_HOME/loralab/runs, else ~/.local/share/loralab/runs.
std::string defaultRunsDir();
// The folder a configuration's runs go to: its runs_dir, or the default.
std::string runsDirOf(const RunConfig& config);
// Where earlier versions kept runs (the window's own data folder, and
// ./runs of the command line): still listed when they hold runs.
std::vector<std::string> legacyRunsDirs();

struct RunNotes {
    std::string title;
    std::string notes;
};
RunNotes readNotes(const std::string& dir);
// Writes notes.json in `dir` atomically; throws loralab::Error when it cannot.
void writeNotes(const std::string& dir, const RunNotes& notes);
// Runs (and the experiment) take the titles their folders' notes give them.
void applyTitles(Experiment& experiment);

struct CatalogEntry {
    std::string dir;
    std::string folder;         // the folder's name
    RunNotes notes;
    std::int64_t modified = 0;  // the folder's modification time, seconds since the epoch
    bool experiment = false;    // an experiment folder; a lone run otherwise
    Experiment contents;        // its runs, their states and summaries (no metrics)
    bool continuable = false;   // canContinue(contents)

    const std::string& shownName() const { return notes.title.empty() ? folder : notes.title; }
};

// One folder: a run, or an experiment with its runs. Throws loralab::Error
// for a folder that is neither.
CatalogEntry catalogEntry(const std::string& dir);
// Every run and experiment directly under `runsDir`, newest first; folders
// that cannot be read are left out and named in `problems`.
std::vector<CatalogEntry> listRuns(const std::string& runsDir, std::vector<std::string>* problems = nullptr);

// "3 of 4 runs finished" for an experiment; a lone run's outcomeText.
std::string entryOutcomeText(const CatalogEntry& entry);
// The catalog as JSON (`loralab-cli runs --json`): an array of entries, each
// with its runs' label, dir, state, steps and best validation loss.
std::string catalogJson(const std::vector<CatalogEntry>& entries);

} // namespace loralab
