#include "ui/dataset/example_table_model.h"

#include <QApplication>
#include <QBrush>
#include <QColor>
#include <QStyle>

namespace loralab::ui {

namespace {
constexpr int kCellChars = 160; // a table cell shows the start; the detail view shows all

QString oneLine(const std::string& text)
{
    QString s = QString::fromStdString(text).trimmed();
    if (s.size() > kCellChars) s = s.left(kCellChars) + QStringLiteral("…");
    return s.replace(QLatin1Char('\n'), QStringLiteral(" ⏎ "));
}
} // namespace

bool exampleMatches(const std::string& prompt, const std::string& target, qint64 index, const QString& search)
{
    const QString needle = search.trimmed();
    if (needle.isEmpty()) return true;
    bool isNumber = false;
    const qint64 number = needle.toLongLong(&isNumber);
    return (isNumber && index == number) || QString::fromStdString(prompt).contains(needle, Qt::CaseInsensitive) ||
           QString::fromStdString(target).contains(needle, Qt::CaseInsensitive);
}

ExampleTableModel::ExampleTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ExampleTableModel::setExamples(std::vector<PreviewExample> examples)
{
    beginResetModel();
    m_examples = std::move(examples);
    m_page = 0;
    refilter();
    endResetModel();
    emit pageChanged(m_page, pageCount(), matchCount());
}

void ExampleTableModel::setFilter(const QString& text)
{
    if (text == m_filter) return;
    beginResetModel();
    m_filter = text;
    m_page = 0;
    refilter();
    endResetModel();
    emit pageChanged(m_page, pageCount(), matchCount());
}

void ExampleTableModel::setWarningsOnly(bool on)
{
    if (on == m_warningsOnly) return;
    beginResetModel();
    m_warningsOnly = on;
    m_page = 0;
    refilter();
    endResetModel();
    emit pageChanged(m_page, pageCount(), matchCount());
}

void ExampleTableModel::setPage(int page)
{
    page = std::clamp(page, 0, std::max(0, pageCount() - 1));
    if (page == m_page) return;
    beginResetModel();
    m_page = page;
    endResetModel();
    emit pageChanged(m_page, pageCount(), matchCount());
}

int ExampleTableModel::pageCount() const { return (matchCount() + kPageSize - 1) / kPageSize; }

void ExampleTableModel::refilter()
{
    m_matches.clear();
    for (int i = 0; i < static_cast<int>(m_examples.size()); ++i) {
        const PreviewExample& e = m_examples[i];
        if (m_warningsOnly && e.warnings.empty()) continue;
        if (exampleMatches(e.prompt, e.target, e.index, m_filter)) m_matches.push_back(i);
    }
}

const PreviewExample* ExampleTableModel::exampleAt(int row) const
{
    const int i = m_page * kPageSize + row;
    if (row < 0 || i >= matchCount()) return nullptr;
    return &m_examples[m_matches[i]];
}

int ExampleTableModel::rowCount(const QModelIndex& parent) const
{
    if (parent.isValid()) return 0;
    return std::clamp(matchCount() - m_page * kPageSize, 0, kPageSize);
}

int ExampleTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant ExampleTableModel::data(const QModelIndex& index, int role) const
{
    const PreviewExample* e = exampleAt(index.row());
    if (!e) return {};
    const bool warned = !e->warnings.empty();
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case kIndex: return QVariant::fromValue(e->index);
        case kLine: return QVariant::fromValue(e->line);
        case kPrompt: return oneLine(e->prompt);
        case kTarget: return oneLine(e->target);
        case kTokens:
            // Prompt + answer, as one short column; text data has no prompt.
            return e->promptTokens > 0 ? QStringLiteral("%1 + %2").arg(e->promptTokens).arg(e->answerTokens)
                                       : QString::number(e->answerTokens);
        case kWarnings: {
            QStringList w;
            for (const auto& s : e->warnings) w << QString::fromStdString(s);
            return w.join(QStringLiteral("; "));
        }
        }
        break;
    case Qt::ToolTipRole:
        if (index.column() == kPrompt) return QString::fromStdString(e->prompt).left(2000);
        if (index.column() == kTarget) return QString::fromStdString(e->target).left(2000);
        if (index.column() == kTokens) return tr("%1 prompt tokens + %2 answer tokens, after truncation to max_len")
                                                  .arg(e->promptTokens)
                                                  .arg(e->answerTokens);
        break;
    case Qt::DecorationRole:
        if (index.column() == kWarnings && warned) return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
        break;
    case Qt::BackgroundRole:
        if (warned) return QBrush(QColor(0xff, 0xf3, 0xe0));
        break;
    case Qt::TextAlignmentRole:
        if (index.column() <= kLine || index.column() == kTokens)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    }
    return {};
}

QVariant ExampleTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case kIndex: return tr("#");
    case kLine: return tr("Line");
    case kPrompt: return tr("Prompt");
    case kTarget: return tr("Target");
    case kTokens: return tr("Tokens");
    case kWarnings: return tr("Warnings");
    }
    return {};
}

} // namespace loralab::ui
