// The dataset preview's examples as a paged, searchable table: the search
// filters over every previewed example, the page picks 50 of the matches.
#pragma once

#include "engine/commands/workbench.h"

#include <QAbstractTableModel>

#include <vector>

namespace loralab::ui {

// Whether an example matches a search: the text in its prompt or target
// (any case), or, for a bare number, the example with that index.
bool exampleMatches(const std::string& prompt, const std::string& target, qint64 index, const QString& search);

class ExampleTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { kIndex, kLine, kPrompt, kTarget, kTokens, kWarnings, kColumnCount };
    static constexpr int kPageSize = 50;

    explicit ExampleTableModel(QObject* parent = nullptr);

    void setExamples(std::vector<PreviewExample> examples);
    void setFilter(const QString& text);
    void setWarningsOnly(bool on);
    void setPage(int page);
    int page() const { return m_page; }
    int pageCount() const;
    int matchCount() const { return static_cast<int>(m_matches.size()); }
    const PreviewExample* exampleAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

signals:
    void pageChanged(int page, int pageCount, int matches);

private:
    void refilter();

    std::vector<PreviewExample> m_examples;
    std::vector<int> m_matches; // indices into m_examples
    QString m_filter;
    bool m_warningsOnly = false;
    int m_page = 0;
};

} // namespace loralab::ui
