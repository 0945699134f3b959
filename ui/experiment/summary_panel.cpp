#include "ui/experiment/summary_panel.h"

#include "ui/charts/memory_breakdown_chart.h"
#include "ui/experiment/summary_columns.h"

#include <QDir>
#include <QHeaderView>
#include <QScrollBar>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace loralab::ui {

namespace {

constexpr int kSortRole = Qt::UserRole;

// Sorts by the number behind the text; rows without one go last either way.
class SortItem : public QTableWidgetItem {
public:
    using QTableWidgetItem::QTableWidgetItem;
    bool operator<(const QTableWidgetItem& other) const override
    {
        const QVariant a = data(kSortRole), b = other.data(kSortRole);
        if (a.userType() == QMetaType::Double && b.userType() == QMetaType::Double) {
            const double x = a.toDouble(), y = b.toDouble();
            const bool ascending = !tableWidget() || tableWidget()->horizontalHeader()->sortIndicatorOrder() == Qt::AscendingOrder;
            if (std::isnan(x) || std::isnan(y)) return std::isnan(x) == std::isnan(y) ? false : std::isnan(y) == ascending;
            return x < y;
        }
        return QTableWidgetItem::operator<(other);
    }
};

} // namespace

SummaryPanel::SummaryPanel(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    m_headline = new QLabel;
    m_headline->setObjectName(QStringLiteral("summaryHeadline"));
    m_headline->setWordWrap(true);
    m_headline->setTextFormat(Qt::RichText);
    layout->addWidget(m_headline);
    auto* split = new QSplitter(Qt::Vertical);
    m_split = split;
    m_table = new QTableWidget;
    m_table->setObjectName(QStringLiteral("summaryTable"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSortingEnabled(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    split->addWidget(m_table);
    m_memory = new MemoryBreakdownChart;
    split->addWidget(m_memory);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    layout->addWidget(split, 1);
    m_footer = new QLabel;
    m_footer->setWordWrap(true);
    m_footer->setStyleSheet(QStringLiteral("color: #616161;"));
    m_footer->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_footer);
    clear();
}

void SummaryPanel::clear()
{
    m_table->setSortingEnabled(false);
    m_table->clear();
    m_table->setRowCount(0);
    m_table->setColumnCount(0);
    m_memory->showRuns({});
    m_headline->setText(tr("<p>The summary appears when a run finishes: a row per run. Choose <b>Compare LoRA and full</b> "
                           "as the method or add a sweep to run several, or reopen runs from the Runs tab.</p>"));
    m_footer->clear();
}

void SummaryPanel::showExperiment(const Experiment& e)
{
    const std::vector<SummaryColumn> cols = summaryColumns(varyingOptions(e));
    m_table->setSortingEnabled(false);
    m_table->clear();
    m_table->setColumnCount(static_cast<int>(cols.size()));
    m_table->setRowCount(static_cast<int>(e.runs.size()));
    for (int c = 0; c < static_cast<int>(cols.size()); ++c) {
        auto* header = new QTableWidgetItem(cols[c].title);
        header->setToolTip(cols[c].tip);
        m_table->setHorizontalHeaderItem(c, header);
    }
    for (int row = 0; row < static_cast<int>(e.runs.size()); ++row) {
        const ExperimentRun& run = e.runs[static_cast<std::size_t>(row)];
        const bool dim = !finishedNormally(run.state);
        for (int c = 0; c < static_cast<int>(cols.size()); ++c) {
            auto* item = new SortItem(cols[c].text(run));
            item->setData(kSortRole, cols[c].value(run));
            item->setTextAlignment((c == 0 ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter);
            if (dim) item->setForeground(QColor(0x75, 0x75, 0x75));
            if (c == 0) item->setToolTip(qstr(run.label) + QLatin1Char('\n') + QDir::toNativeSeparators(qstr(run.dir)));
            m_table->setItem(row, c, item);
        }
    }
    m_table->setSortingEnabled(true);
    m_headline->setText(summaryHeadline(e, Markup::Html));
    m_memory->showRuns(e.runs);
    // Every row in sight (up to half the tab); the memory bars take the rest.
    m_table->resizeColumnsToContents();
    m_table->setColumnWidth(0, std::min(m_table->columnWidth(0), 240)); // long labels elide; the tooltip has them whole
    const int rows = m_table->rowCount();
    const int wanted = m_table->horizontalHeader()->height() + rows * m_table->verticalHeader()->defaultSectionSize() +
                       m_table->horizontalScrollBar()->sizeHint().height() + 2 * m_table->frameWidth() + 4;
    const int total = m_split->height() > 0 ? m_split->height() : 600;
    const int table = std::min(wanted, total / 2 + 60);
    m_split->setSizes({table, total - table});
    m_footer->setText(e.runs.size() == 1 ? tr("Run folder: %1").arg(QDir::toNativeSeparators(qstr(e.dir)))
                                         : tr("Experiment folder: %1").arg(QDir::toNativeSeparators(qstr(e.dir))));
}

QString SummaryPanel::headline() const { return m_headline->text(); }

int SummaryPanel::column(const QString& title) const
{
    for (int c = 0; c < m_table->columnCount(); ++c)
        if (m_table->horizontalHeaderItem(c) && m_table->horizontalHeaderItem(c)->text() == title) return c;
    return -1;
}

} // namespace loralab::ui
