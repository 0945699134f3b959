// The Dataset tab: what the configured data looks like to the model before
// a run spends time on it. Examples in a paged, searchable table; one
// example in detail with its tokens coloured by whether they count in the
// loss; a length histogram; and the reader's warnings (prompts that do not
// end with "Assistant:", truncation that cuts into targets, malformed lines).
// Previews are computed on a worker thread.
#pragma once

#include "engine/config/run_config.h"
#include "engine/commands/workbench.h"

#include <QTimer>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QTextBrowser;

namespace loralab::ui {

class ExampleTableModel;
class LengthHistogram;
class TaskRunner;

class DatasetPanel : public QWidget {
    Q_OBJECT
public:
    static constexpr std::int64_t kPreviewExamples = 2000;

    explicit DatasetPanel(QWidget* parent = nullptr);
    ~DatasetPanel() override;

    // Reloads (after a short pause) when a field the preview depends on changed.
    void setConfig(const RunConfig& config);
    void reload();

    bool isLoading() const { return m_pending > 0; }
    ExampleTableModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    const DatasetPreview& preview() const { return m_preview; }
    QString tokenHtml() const;

signals:
    void previewLoaded(const QString& format, qint64 examples);
    void previewFailed(const QString& message);

private:
    void startLoad();
    void showPreview(DatasetPreview preview);
    void showExample(const PreviewExample* example);
    void showTokens(const std::vector<PreviewToken>& tokens);
    void updatePager(int page, int pages, int matches);

    TaskRunner* m_runner;
    ExampleTableModel* m_model;
    QLabel* m_summary;
    QLabel* m_warnings;
    QLineEdit* m_search;
    QCheckBox* m_warningsOnly;
    QTableView* m_table;
    QPushButton* m_previous;
    QPushButton* m_next;
    QLabel* m_pageLabel;
    QLabel* m_counts;
    QTextBrowser* m_text;
    QTextBrowser* m_tokens;
    LengthHistogram* m_histogram;
    QTimer m_reloadTimer;
    RunConfig m_config;
    std::string m_loadedKey;
    DatasetPreview m_preview;
    quint64 m_previewRequest = 0;
    quint64 m_tokenRequest = 0;
    int m_pending = 0;
};

} // namespace loralab::ui
