// The Generations tab: prompts answered side by side by the base model and
// by every run of the experiment shown (a column per run), each answer marked
// where it equals the target and its difference shown otherwise. Prompts come
// from the validation examples (random, by number, by search) or are typed;
// sampling settings apply to the next generation; one row or all rows can be
// regenerated with the base model and the run picked above the table, whose
// checkpoints/best (finished runs) or checkpoints/last (paused runs) are
// loaded and run on the GenerationController's thread.
#pragma once

#include "ui/metatypes.h"
#include "ui/metatypes.h"

#include "engine/checkpoint/checkpoint.h"

#include "engine/model/sampling.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace loralab::ui {

class GenerationController;

class GenerationPanel : public QWidget {
    Q_OBJECT
public:
    // kTuned is the first run's column; run i answers in column kTuned + i.
    enum Column { kInput, kTarget, kBase, kTuned };
    // The row's id (its answers find it by) is kept on its input cell.
    static constexpr int kIdRole = Qt::UserRole + 1;

    explicit GenerationPanel(QWidget* parent = nullptr);
    ~GenerationPanel() override; // stops generation, joins the thread

    // The run to generate from, whose answers go in column kTuned + `run`;
    // loading waits for the first generation (or Load).
    void setSource(const RunConfig& config, const QString& runDir, CheckpointPick checkpoint, int run = 0);
    // The runs with a column each, and their samples; the first run that has a
    // checkpoint becomes the source.
    void showExperiment(const Experiment& experiment);
    void setRunLabels(const QStringList& labels);
    int runColumnCount() const;
    void loadNow();
    // The window's current settings, used (base model only) until a run is chosen.
    void setCurrentConfig(const RunConfig& config);

    // Rows filled from a run's own samples (outputs already known), its
    // answers in the column of run `run`.
    void showSamples(const std::vector<SampleRecord>& samples, bool replace, int run = 0);
    int addPrompt(const QString& prompt, const QString& target = {});
    bool addExample(int index); // from the loaded validation examples
    void addRandomExample();
    void generateAll();
    void generateRow(int row);
    void stop();
    void clearRows();

    SamplingOptions samplingOptions() const;
    void setSamplingOptions(const SamplingOptions& options);

    QTableWidget* table() const { return m_table; }
    int exampleCount() const { return static_cast<int>(m_examples.size()); }
    bool isBusy() const { return m_busy > 0; }
    bool isLoaded() const { return m_loaded; }

signals:
    void sessionOpened(int examples, bool hasTuned);
    void sessionFailed(const QString& message);
    void rowGenerated(int row, bool tuned);
    void idle(); // every queued generation has finished, failed or been skipped
    void failed(const QString& message);

private:
    void ensureOpen();
    void queue(int row, bool tuned);
    int rowOf(qint64 id) const;
    void setCell(int row, int column, const QString& text, bool placeholder = false);
    void markAnswerCell(int row, int column);
    int rowForPrompt(const QString& prompt, const QString& target);
    void onOpened(const std::vector<Example>& examples, bool hasTuned, const QString& description);
    void onProgress(qint64 id, bool tuned, const QString& text);
    void onGenerated(qint64 id, bool tuned, const GenerationOutput& output);
    void onJobFailed(qint64 id, bool tuned, const QString& message);
    void jobEnded();
    void filterExamples(const QString& text);
    void updateButtons();
    QString checkpointPath() const;

    GenerationController* m_controller = nullptr;

    QLineEdit* m_runDir;
    QComboBox* m_runPick; // which run of the experiment generates
    QComboBox* m_checkpoint;
    QPushButton* m_load;
    QLabel* m_status;
    QLineEdit* m_search;
    QListWidget* m_exampleList;
    QPlainTextEdit* m_prompt;
    QCheckBox* m_wrapDialogue;
    QDoubleSpinBox* m_temperature;
    QDoubleSpinBox* m_topP;
    QSpinBox* m_topK;
    QSpinBox* m_maxTokens;
    QSpinBox* m_seed;
    QCheckBox* m_stopAtEos;
    QPushButton* m_generateAll;
    QPushButton* m_regenerate;
    QPushButton* m_stop;
    QTableWidget* m_table;

    RunConfig m_config;
    bool m_hasSource = false;
    int m_sourceRun = 0;
    std::vector<ExperimentRun> m_runs; // the experiment's runs the picker offers
    QString m_openedKey; // config + checkpoint the worker has (or is loading)
    bool m_loaded = false;
    std::vector<Example> m_examples;
    qint64 m_nextId = 1;
    int m_busy = 0;
};

} // namespace loralab::ui
