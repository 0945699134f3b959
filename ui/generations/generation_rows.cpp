// The Generations tab's rows: prompts with their targets, the answers of the
// base model and of each run as they arrive, and the queue of generations;
// see generation_panel.h.
#include "ui/generations/generation_panel.h"
#include "ui/generations/answer_delegate.h"
#include "ui/config/config_widgets.h"
#include "ui/dataset/example_table_model.h"
#include "ui/generations/generation_controller.h"
#include "ui/generations/text_diff.h"
#include "ui/config/wheel_guard.h"
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

namespace loralab::ui {

namespace {
const QString kPending = QStringLiteral("…"); // an answer queued or being generated
} // namespace

int GenerationPanel::rowForPrompt(const QString& prompt, const QString& target)
{
    for (int row = 0; row < m_table->rowCount(); ++row)
        if (m_table->item(row, kInput)->data(Qt::UserRole).toString() == prompt &&
            m_table->item(row, kTarget)->text() == target)
            return row;
    return addPrompt(prompt, target);
}

void GenerationPanel::showSamples(const std::vector<SampleRecord>& samples, bool replace, int run)
{
    if (replace) clearRows();
    const int column = kTuned + std::clamp(run, 0, runColumnCount() - 1);
    for (const SampleRecord& s : samples) {
        // Every run of an experiment answers the same prompts: one row each.
        const int row = rowForPrompt(QString::fromStdString(s.prompt), QString::fromStdString(s.target));
        if (!m_table->item(row, kBase) || m_table->item(row, kBase)->text().isEmpty()) {
            setCell(row, kBase, QString::fromStdString(s.baseOutput));
            markAnswerCell(row, kBase);
        }
        setCell(row, column, QString::fromStdString(s.tunedOutput));
        markAnswerCell(row, column);
    }
}

void GenerationPanel::clearRows()
{
    stop();
    m_table->setRowCount(0);
    updateButtons();
}

SamplingOptions GenerationPanel::samplingOptions() const
{
    SamplingOptions o;
    o.temperature = m_temperature->value();
    o.topP = m_topP->value();
    o.topK = m_topK->value();
    o.maxNewTokens = m_maxTokens->value();
    o.seed = static_cast<std::uint64_t>(m_seed->value());
    o.stopAtEos = m_stopAtEos->isChecked();
    o.repetitionPenalty = m_config.sampleRepetitionPenalty;
    return o;
}

void GenerationPanel::setSamplingOptions(const SamplingOptions& o)
{
    m_temperature->setValue(o.temperature);
    m_topP->setValue(o.topP);
    m_topK->setValue(static_cast<int>(o.topK));
    m_maxTokens->setValue(static_cast<int>(o.maxNewTokens));
    m_seed->setValue(static_cast<int>(o.seed));
    m_stopAtEos->setChecked(o.stopAtEos);
}

void GenerationPanel::generateAll()
{
    for (int row = 0; row < m_table->rowCount(); ++row) generateRow(row);
}

void GenerationPanel::generateRow(int row)
{
    if (row < 0 || row >= m_table->rowCount()) return;
    ensureOpen();
    queue(row, false);
    queue(row, true);
}

void GenerationPanel::markAnswerCell(int row, int column)
{
    QTableWidgetItem* item = m_table->item(row, column);
    const QTableWidgetItem* target = m_table->item(row, kTarget);
    if (!item || !target || item->text().isEmpty()) return;
    const AnswerMarkup markup = markAnswer(item->text(), target->text());
    item->setData(AnswerDelegate::kHtmlRole, markup.html);
    if (!markup.html.isEmpty())
        item->setToolTip(markup.matches ? tr("Equal to the target") : tr("Orange: words the target lacks; struck through: target words missing"));
}

void GenerationPanel::queue(int row, bool tuned)
{
    const std::string prompt = sstr(m_table->item(row, kInput)->data(Qt::UserRole).toString());
    SamplingOptions options = samplingOptions();
    // Dialogue prompts: stop where the model would start the next human turn,
    // as the run's own samples do.
    if (isDialoguePrompt(prompt)) stopAtNextTurn(options);
    setCell(row, tuned ? kTuned + m_sourceRun : kBase, kPending, true);
    ++m_busy;
    updateButtons();
    m_controller->generate(m_table->item(row, kInput)->data(kIdRole).toLongLong(), tuned, prompt, options);
}

void GenerationPanel::stop() { m_controller->stop(); }

int GenerationPanel::rowOf(qint64 id) const
{
    for (int row = 0; row < m_table->rowCount(); ++row)
        if (m_table->item(row, kInput)->data(kIdRole).toLongLong() == id) return row;
    return -1;
}

void GenerationPanel::setCell(int row, int column, const QString& text, bool placeholder)
{
    auto* item = new QTableWidgetItem(text);
    if (placeholder) {
        item->setForeground(palette().color(QPalette::PlaceholderText));
        QFont f = item->font();
        f.setItalic(true);
        item->setFont(f);
    }
    m_table->setItem(row, column, item);
}

void GenerationPanel::onProgress(qint64 id, bool tuned, const QString& text)
{
    const int row = rowOf(id);
    if (row >= 0) setCell(row, tuned ? kTuned + m_sourceRun : kBase, text + QStringLiteral(" ▌"));
}

void GenerationPanel::onGenerated(qint64 id, bool tuned, const GenerationOutput& out)
{
    const int row = rowOf(id);
    if (row >= 0) {
        const QString text = QString::fromStdString(out.text).trimmed();
        if (text.trimmed().isEmpty())
            setCell(row, tuned ? kTuned + m_sourceRun : kBase, tr("(no text: %1)").arg(QString::fromStdString(out.stopReason)), true);
        else
            setCell(row, tuned ? kTuned + m_sourceRun : kBase, text);
        markAnswerCell(row, tuned ? kTuned + m_sourceRun : kBase);
        m_table->item(row, tuned ? kTuned + m_sourceRun : kBase)
            ->setToolTip(tr("%1 tokens in %2 s; stopped by %3")
                             .arg(out.tokens)
                             .arg(out.seconds, 0, 'f', 2)
                             .arg(QString::fromStdString(out.stopReason)));
        emit rowGenerated(row, tuned);
    }
    jobEnded();
}

void GenerationPanel::onJobFailed(qint64 id, bool tuned, const QString& message)
{
    const int row = rowOf(id);
    if (row >= 0) setCell(row, tuned ? kTuned + m_sourceRun : kBase, tr("(%1)").arg(message), true);
    jobEnded();
}

void GenerationPanel::jobEnded()
{
    m_busy = std::max(0, m_busy - 1);
    updateButtons();
    if (m_busy == 0) emit idle();
}

void GenerationPanel::updateButtons()
{
    const bool rows = m_table->rowCount() > 0;
    m_generateAll->setEnabled(rows);
    m_regenerate->setEnabled(rows);
    m_stop->setEnabled(m_busy > 0);
}

} // namespace loralab::ui
