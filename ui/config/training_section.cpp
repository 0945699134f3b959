#include "ui/config/training_section.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRadioButton>
#include <QSpinBox>
#include <QThread>

namespace loralab::ui {

TrainingSection::TrainingSection(FieldMessages& messages, QWidget* parent)
    : ConfigSection(tr("Optimisation"), messages, parent)
{
    auto* optimizer = new QLabel(tr("AdamW (decoupled weight decay)"));
    form()->addRow(tr("Optimiser"), optimizer);
    m_learningRate = sciSpin(0.0, 10.0);
    m_learningRate->setObjectName(QStringLiteral("learningRate"));
    addField(tr("Learning rate"), m_learningRate, QStringLiteral("learning_rate"));
    m_schedule = choiceCombo("schedule");
    addField(tr("Schedule"), m_schedule, QStringLiteral("schedule"));
    m_warmup = intSpin(0, 1000000, tr("step"), tr("steps"));
    addField(tr("Warm-up"), m_warmup, QStringLiteral("warmup_steps"));
    m_weightDecay = doubleSpin(0.0, 10.0, 4, 0.01);
    addField(tr("Weight decay"), m_weightDecay, QStringLiteral("weight_decay"));
    m_maxGradNorm = doubleSpin(0.0, 1e6, 3, 0.1);
    m_maxGradNorm->setSpecialValueText(tr("no clipping"));
    addField(tr("Clip grad norm"), m_maxGradNorm, QStringLiteral("max_grad_norm"));
    m_beta1 = doubleSpin(0.0, 0.9999, 4, 0.01);
    addField(tr("Adam β1"), m_beta1, QStringLiteral("adam_beta1"));
    m_beta2 = doubleSpin(0.0, 0.99999, 5, 0.001);
    addField(tr("Adam β2"), m_beta2, QStringLiteral("adam_beta2"));
    m_adamEps = sciSpin(0.0, 1.0);
    addField(tr("Adam ε"), m_adamEps, QStringLiteral("adam_eps"));

    m_batchSize = intSpin(1, 65536, tr("example"), tr("examples"));
    m_batchSize->setObjectName(QStringLiteral("batchSize"));
    addField(tr("Batch size"), m_batchSize, QStringLiteral("batch_size"));
    m_gradAccum = intSpin(1, 65536, tr("micro-batch"), tr("micro-batches"));
    addField(tr("Grad accumulation"), m_gradAccum, QStringLiteral("grad_accum"));
    m_effectiveBatch = new QLabel;
    m_effectiveBatch->setStyleSheet(QStringLiteral("color: #616161;"));
    form()->addRow(QString(), m_effectiveBatch);

    m_bySteps = new QRadioButton(tr("Steps"));
    m_byEpochs = new QRadioButton(tr("Epochs"));
    m_maxSteps = intSpin(1, 100000000);
    m_maxSteps->setObjectName(QStringLiteral("maxSteps"));
    m_epochs = doubleSpin(0.01, 10000.0, 2, 0.5);
    auto* length = new QWidget;
    auto* lengthLayout = new QHBoxLayout(length);
    lengthLayout->setContentsMargins(0, 0, 0, 0);
    lengthLayout->addWidget(m_bySteps);
    lengthLayout->addWidget(m_maxSteps, 1);
    lengthLayout->addWidget(m_byEpochs);
    lengthLayout->addWidget(m_epochs, 1);
    addField(tr("Train for"), length, QStringLiteral("max_steps"));
    connect(m_bySteps, &QRadioButton::toggled, this, [this] {
        updateDerived();
        if (!m_loading) emit changed();
    });

    m_evalBatches = intSpin(0, 1000000, tr("batch"), tr("batches"));
    m_evalBatches->setSpecialValueText(tr("whole validation set"));
    addField(tr("Per evaluation"), m_evalBatches, QStringLiteral("eval_batches"));
    m_checkpointInterval = intSpin(0, 100000000, tr("step"), tr("steps"));
    m_checkpointInterval->setSpecialValueText(tr("only at the end"));
    addField(tr("Checkpoint every"), m_checkpointInterval, QStringLiteral("checkpoint_interval"));
    // Activation checkpointing: memory for time, a block at a time.
    m_activationCheckpointing = intSpin(0, 4096, tr("block"), tr("blocks"));
    m_activationCheckpointing->setObjectName(QStringLiteral("activationCheckpointing"));
    m_activationCheckpointing->setSpecialValueText(tr("off: keep every activation"));
    m_activationCheckpointing->setPrefix(tr("every "));
    addField(tr("Recompute activations"), m_activationCheckpointing, QStringLiteral("activation_checkpointing"));

    connect(this, &ConfigSection::changed, this, &TrainingSection::updateDerived);
}

void TrainingSection::loadFields(const RunConfig& c)
{
    m_learningRate->setValue(c.learningRate);
    loadChoice(m_schedule, c, "schedule");
    m_warmup->setValue(static_cast<int>(c.warmupSteps));
    m_weightDecay->setValue(c.weightDecay);
    m_maxGradNorm->setValue(c.maxGradNorm);
    m_beta1->setValue(c.beta1);
    m_beta2->setValue(c.beta2);
    m_adamEps->setValue(c.adamEps);
    m_batchSize->setValue(static_cast<int>(c.batchSize));
    m_gradAccum->setValue(static_cast<int>(c.gradAccum));
    const bool bySteps = c.maxSteps > 0;
    m_bySteps->setChecked(bySteps);
    m_byEpochs->setChecked(!bySteps);
    if (bySteps) m_maxSteps->setValue(static_cast<int>(c.maxSteps));
    m_epochs->setValue(c.epochs);
    m_evalBatches->setValue(static_cast<int>(c.evalBatches));
    m_checkpointInterval->setValue(static_cast<int>(c.checkpointInterval));
    m_activationCheckpointing->setValue(static_cast<int>(c.activationCheckpointing));
    updateDerived();
}

void TrainingSection::store(RunConfig& c) const
{
    c.learningRate = m_learningRate->value();
    storeChoice(m_schedule, c, "schedule");
    c.warmupSteps = m_warmup->value();
    c.weightDecay = m_weightDecay->value();
    c.maxGradNorm = m_maxGradNorm->value();
    c.beta1 = m_beta1->value();
    c.beta2 = m_beta2->value();
    c.adamEps = m_adamEps->value();
    c.batchSize = m_batchSize->value();
    c.gradAccum = m_gradAccum->value();
    c.maxSteps = m_bySteps->isChecked() ? m_maxSteps->value() : 0;
    c.epochs = m_epochs->value();
    c.evalBatches = m_evalBatches->value();
    c.checkpointInterval = m_checkpointInterval->value();
    c.activationCheckpointing = m_activationCheckpointing->value();
}

void TrainingSection::updateDerived()
{
    m_maxSteps->setEnabled(m_bySteps->isChecked());
    m_epochs->setEnabled(!m_bySteps->isChecked());
    m_effectiveBatch->setText(tr("%1 examples per optimiser step").arg(m_batchSize->value() * m_gradAccum->value()));
}

RuntimeSection::RuntimeSection(FieldMessages& messages, QWidget* parent)
    : ConfigSection(tr("Samples, runtime and output"), messages, parent)
{
    m_samples = intSpin(0, 100000, tr("example"), tr("examples"));
    m_samples->setObjectName(QStringLiteral("samples"));
    addField(tr("Sample after training"), m_samples, QStringLiteral("samples"));
    m_sampleTokens = intSpin(1, 100000, tr("token"), tr("tokens"));
    addField(tr("Sample length"), m_sampleTokens, QStringLiteral("sample_max_new_tokens"));
    m_sampleTemperature = doubleSpin(0.0, 10.0, 2, 0.1);
    m_sampleTemperature->setSpecialValueText(tr("0 (greedy)"));
    addField(tr("Sample temperature"), m_sampleTemperature, QStringLiteral("sample_temperature"));
    m_sampleTopP = doubleSpin(0.01, 1.0, 2, 0.05);
    addField(tr("Sample top-p"), m_sampleTopP, QStringLiteral("sample_top_p"));
    m_sampleTopK = intSpin(0, 1000000);
    m_sampleTopK->setSpecialValueText(tr("no limit"));
    addField(tr("Sample top-k"), m_sampleTopK, QStringLiteral("sample_top_k"));
    m_repetitionPenalty = doubleSpin(0.01, 10.0, 2, 0.05);
    addField(tr("Repetition penalty"), m_repetitionPenalty, QStringLiteral("sample_repetition_penalty"));

    m_seed = intSpin(0, std::numeric_limits<int>::max());
    m_seed->setObjectName(QStringLiteral("seed"));
    addField(tr("Seed"), m_seed, QStringLiteral("seed"));
    m_threads = intSpin(0, 1024);
    m_threads->setObjectName(QStringLiteral("threads"));
    m_threads->setSpecialValueText(tr("all cores (%1)").arg(QThread::idealThreadCount()));
    addField(tr("CPU threads"), m_threads, QStringLiteral("threads"));
    m_device = combo({QStringLiteral("auto"), QStringLiteral("cpu"), QStringLiteral("cuda"), QStringLiteral("cuda:0"),
                      QStringLiteral("cuda:1")});
    m_device->setEditable(true);
    connect(m_device, &QComboBox::editTextChanged, this, [this] {
        if (!m_loading) emit changed();
    });
    addField(tr("Device"), m_device, QStringLiteral("device"));
    // More than one: data-parallel, one process per GPU (or CPU processes
    // sharing the cores); the window trains as the first of them.
    m_processes = intSpin(1, 1024, tr("process"), tr("processes"));
    m_processes->setObjectName(QStringLiteral("processes"));
    addField(tr("Processes / GPUs"), m_processes, QStringLiteral("processes"));
    m_dtype = choiceCombo("dtype");
    addField(tr("Base weights"), m_dtype, QStringLiteral("dtype"));

    m_name = lineEdit(QStringLiteral("run"));
    m_name->setObjectName(QStringLiteral("runName"));
    addField(tr("Run name"), m_name, QStringLiteral("name"));
    m_runsDir = lineEdit();
    m_runsDir->setObjectName(QStringLiteral("runsDir"));
    addField(tr("Runs folder"), pathRow(m_runsDir, true, tr("Choose the runs folder")), QStringLiteral("runs_dir"));
}

void RuntimeSection::loadFields(const RunConfig& c)
{
    m_samples->setValue(static_cast<int>(c.samples));
    m_sampleTokens->setValue(static_cast<int>(c.sampleMaxNewTokens));
    m_sampleTemperature->setValue(c.sampleTemperature);
    m_sampleTopP->setValue(c.sampleTopP);
    m_sampleTopK->setValue(static_cast<int>(c.sampleTopK));
    m_repetitionPenalty->setValue(c.sampleRepetitionPenalty);
    m_seed->setValue(static_cast<int>(std::min<std::uint64_t>(c.seed, std::numeric_limits<int>::max())));
    m_threads->setValue(c.threads);
    setCombo(m_device, QString::fromStdString(c.device));
    m_processes->setValue(c.processes);
    loadChoice(m_dtype, c, "dtype");
    m_name->setText(QString::fromStdString(c.name));
    m_runsDir->setText(QString::fromStdString(c.runsDir));
}

void RuntimeSection::store(RunConfig& c) const
{
    c.samples = m_samples->value();
    c.sampleMaxNewTokens = m_sampleTokens->value();
    c.sampleTemperature = m_sampleTemperature->value();
    c.sampleTopP = m_sampleTopP->value();
    c.sampleTopK = m_sampleTopK->value();
    c.sampleRepetitionPenalty = m_repetitionPenalty->value();
    c.seed = static_cast<std::uint64_t>(m_seed->value());
    c.threads = m_threads->value();
    c.device = m_device->currentText().trimmed().toStdString();
    c.processes = m_processes->value();
    storeChoice(m_dtype, c, "dtype");
    const QString name = m_name->text().trimmed();
    c.name = name.isEmpty() ? std::string("run") : name.toStdString();
    c.runsDir = m_runsDir->text().trimmed().toStdString();
}

} // namespace loralab::ui
