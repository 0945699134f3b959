#include "ui/config/method_section.h"

#include "ui/config/target_module_list.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>

#include <cmath>

namespace loralab::ui {

MethodSection::MethodSection(FieldMessages& messages, QWidget* parent) : ConfigSection(tr("Method"), messages, parent)
{
    m_method = combo({tr("LoRA"), tr("Full fine-tuning"), tr("Compare LoRA and full"), tr("DPO (preference pairs)")});
    m_method->setObjectName(QStringLiteral("method"));
    m_method->setItemData(kCompare, tr("Runs the same configuration with LoRA, then with full fine-tuning, "
                                       "and shows both side by side"),
                          Qt::ToolTipRole);
    addField(tr("Method"), m_method, QStringLiteral("method"));

    m_rank = intSpin(1, 4096);
    m_rank->setObjectName(QStringLiteral("loraRank"));
    addField(tr("LoRA rank r"), m_rank, QStringLiteral("lora_r"));
    m_alpha = doubleSpin(0.0, 1e5, 2, 1.0);
    addField(tr("LoRA alpha"), m_alpha, QStringLiteral("lora_alpha"));
    m_dropout = doubleSpin(0.0, 0.99, 3, 0.01);
    addField(tr("LoRA dropout"), m_dropout, QStringLiteral("lora_dropout"));
    m_rsLora = check(tr("Rank-stabilised scaling (rsLoRA)"));
    addField(QString(), m_rsLora, QStringLiteral("rslora"));
    m_scaling = new QLabel;
    m_scaling->setStyleSheet(QStringLiteral("color: #616161;"));
    form()->addRow(QString(), m_scaling);
    m_init = choiceCombo("lora_init");
    addField(tr("Initialisation"), m_init, QStringLiteral("lora_init"));
    // QLoRA: the frozen base held as 8- or 4-bit codes under the adapters.
    m_baseQuantization = choiceCombo("base_quantization");
    m_baseQuantization->setObjectName(QStringLiteral("baseQuantization"));
    addField(tr("Quantized base"), m_baseQuantization, QStringLiteral("base_quantization"));
    m_doubleQuant = check(tr("Double quantization (4-bit)"));
    addField(QString(), m_doubleQuant, QStringLiteral("double_quant"));

    m_targets = new TargetModuleList;
    connect(m_targets, &TargetModuleList::changed, this, [this] {
        if (!m_loading) emit changed();
    });
    m_targetsField = m_messages.wrap(m_targets, QStringLiteral("lora_targets"));
    auto* targetsLabel = new QLabel(tr("Target modules"));
    targetsLabel->setToolTip(optionTooltip(QStringLiteral("lora_targets")));
    form()->addRow(targetsLabel, m_targetsField);

    m_adapter = lineEdit(tr("none: fresh adapters"));
    m_adapterRow = pathRow(m_adapter, true, tr("Choose a PEFT adapter folder"));
    addField(tr("Start from adapter"), m_adapterRow, QStringLiteral("adapter"));

    m_trainable = new QLabel;
    m_trainable->setObjectName(QStringLiteral("trainableCount"));
    m_trainable->setWordWrap(true);
    m_trainable->setTextFormat(Qt::RichText);
    form()->addRow(tr("Trains"), m_trainable);

    m_dpoBeta = doubleSpin(0.0, 100.0, 3, 0.05);
    addField(tr("DPO beta"), m_dpoBeta, QStringLiteral("dpo_beta"));
    m_dpoLoss = choiceCombo("dpo_loss");
    addField(tr("DPO loss"), m_dpoLoss, QStringLiteral("dpo_loss"));
    m_dpoReference = choiceCombo("dpo_reference");
    addField(tr("DPO reference"), m_dpoReference, QStringLiteral("dpo_reference"));
    m_stopMetric = choiceCombo("early_stopping_metric");
    addField(tr("Early-stopping metric"), m_stopMetric, QStringLiteral("early_stopping_metric"));

    connect(m_method, &QComboBox::currentIndexChanged, this, &MethodSection::updateVisibility);
    connect(this, &ConfigSection::changed, this, &MethodSection::updateVisibility);
    updateVisibility();
}

void MethodSection::loadFields(const RunConfig& c)
{
    const bool wasComparison = comparison();
    if (c.objective == Objective::Dpo)
        m_method->setCurrentIndex(kDpo);
    else if (c.method == loralab::Method::Full)
        m_method->setCurrentIndex(kFull);
    else
        m_method->setCurrentIndex(wasComparison ? kCompare : kLora); // the JSON has no "compare"
    m_rank->setValue(static_cast<int>(c.loraRank));
    m_alpha->setValue(c.loraAlpha);
    m_dropout->setValue(c.loraDropout);
    m_rsLora->setChecked(c.rsLora);
    loadChoice(m_init, c, "lora_init");
    loadChoice(m_baseQuantization, c, "base_quantization");
    m_doubleQuant->setChecked(c.doubleQuant);
    m_targets->setTargets(c.loraTargets);
    m_adapter->setText(QString::fromStdString(c.adapter));
    m_dpoBeta->setValue(c.dpoBeta);
    loadChoice(m_dpoLoss, c, "dpo_loss");
    loadChoice(m_dpoReference, c, "dpo_reference");
    loadChoice(m_stopMetric, c, "early_stopping_metric");
    updateVisibility();
}

void MethodSection::store(RunConfig& c) const
{
    // The window's one Method box sets both axes: what the run optimises and what trains.
    c.objective = m_method->currentIndex() == kDpo ? Objective::Dpo : Objective::Sft;
    c.method = m_method->currentIndex() == kFull ? loralab::Method::Full : loralab::Method::Lora; // a comparison starts from the LoRA config
    c.loraRank = m_rank->value();
    c.loraAlpha = m_alpha->value();
    c.loraDropout = m_dropout->value();
    c.rsLora = m_rsLora->isChecked();
    storeChoice(m_init, c, "lora_init");
    // A comparison's full run, like a full run, trains the base: no quantization there.
    const bool quantizable = m_method->currentIndex() == kLora || m_method->currentIndex() == kDpo;
    if (quantizable) storeChoice(m_baseQuantization, c, "base_quantization");
    else c.baseQuantization = BaseQuantization::None;
    c.doubleQuant = quantizable && isFourBit(c.baseQuantization) && m_doubleQuant->isChecked();
    c.loraTargets = m_targets->targets();
    c.adapter = m_adapter->text().trimmed().toStdString();
    c.dpoBeta = m_dpoBeta->value();
    storeChoice(m_dpoLoss, c, "dpo_loss");
    storeChoice(m_dpoReference, c, "dpo_reference");
    storeChoice(m_stopMetric, c, "early_stopping_metric");
}

bool MethodSection::comparison() const { return m_method->currentIndex() == kCompare; }

void MethodSection::setComparison(bool on)
{
    if (on)
        m_method->setCurrentIndex(kCompare);
    else if (comparison())
        m_method->setCurrentIndex(kLora);
}

void MethodSection::setModelOverview(const ModelOverview& overview)
{
    const bool was = m_loading;
    m_loading = true; // the list is refilled, not edited
    m_targets->setAvailable(overview.linearKinds, overview.headName);
    m_loading = was;
}

void MethodSection::setTrainable(const TrainableCount& count)
{
    m_messages.setExtra(QStringLiteral("lora_targets"), {});
    QString text = tr("<b>%1</b> of %2 parameters (<b>%3 %</b>)")
                       .arg(formatCount(count.trainable), formatCount(count.total))
                       .arg(count.percent(), 0, 'f', count.percent() < 1.0 ? 3 : 2);
    if (count.loraModules > 0) text += tr(" in %1 LoRA modules").arg(count.loraModules);
    m_trainable->setText(text);
}

void MethodSection::setTrainableError(const QString& message)
{
    m_trainable->setText(QStringLiteral("–"));
    m_messages.setExtra(QStringLiteral("lora_targets"), message);
}

void MethodSection::updateVisibility()
{
    const int m = m_method->currentIndex();
    const bool lora = m != kFull;
    for (QWidget* w : {static_cast<QWidget*>(m_rank), static_cast<QWidget*>(m_alpha), static_cast<QWidget*>(m_dropout),
                       static_cast<QWidget*>(m_rsLora), static_cast<QWidget*>(m_init)})
        form()->setRowVisible(w->parentWidget(), lora);
    form()->setRowVisible(m_scaling, lora);
    form()->setRowVisible(m_targetsField, lora);
    form()->setRowVisible(m_adapterRow->parentWidget(), lora && m != kCompare);
    form()->setRowVisible(m_baseQuantization->parentWidget(), lora && m != kCompare);
    form()->setRowVisible(m_doubleQuant->parentWidget(), lora && m != kCompare);
    m_doubleQuant->setEnabled(m_baseQuantization->currentText() == QLatin1String("nf4") ||
                              m_baseQuantization->currentText() == QLatin1String("fp4"));
    for (QWidget* w : {static_cast<QWidget*>(m_dpoBeta), static_cast<QWidget*>(m_dpoLoss),
                       static_cast<QWidget*>(m_dpoReference), static_cast<QWidget*>(m_stopMetric)})
        form()->setRowVisible(w->parentWidget(), m == kDpo);

    const double r = std::max(1, m_rank->value());
    const double scale = m_rsLora->isChecked() ? m_alpha->value() / std::sqrt(r) : m_alpha->value() / r;
    m_scaling->setText(tr("Scaling %1 = alpha / %2").arg(scale, 0, 'g', 4).arg(m_rsLora->isChecked() ? tr("√r") : tr("r")));
}

} // namespace loralab::ui
