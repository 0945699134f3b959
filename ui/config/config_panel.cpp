#include "ui/config/config_panel.h"

#include "ui/config/data_section.h"
#include "ui/experiment/early_stopping_panel.h"
#include "ui/config/method_section.h"
#include "ui/config/model_section.h"
#include "ui/config/sweep_section.h"
#include "ui/config/training_section.h"
#include "ui/config/wheel_guard.h"

#include "engine/commands/workbench.h"
#include "engine/run/memory_fit.h"
#include "engine/util/error.h"

#include <QDir>
#include <QLabel>
#include <QSettings>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace loralab::ui {

namespace {
constexpr int kRefreshDelayMs = 200; // a typing pause, so counts are not redone per keystroke
const QString kConfigKey = QStringLiteral("config/json");
const QString kComparisonKey = QStringLiteral("config/comparison");
const QString kSweepKey = QStringLiteral("config/sweep");

bool isComparisonAxis(const SweepAxis& a)
{
    return a.key == "method" && a.values == std::vector<std::string>{"\"lora\"", "\"full\""};
}
} // namespace

ConfigPanel::ConfigPanel(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_model = new ModelSection(m_messages);
    m_data = new DataSection(m_messages);
    m_method = new MethodSection(m_messages);
    m_training = new TrainingSection(m_messages);
    m_runtime = new RuntimeSection(m_messages);
    m_sections = {m_model, m_data, m_method, m_training, m_runtime};
    for (ConfigSection* s : m_sections) {
        layout->addWidget(s);
        connect(s, &ConfigSection::changed, this, &ConfigPanel::scheduleRefresh);
    }
    m_sweep = new SweepSection;
    layout->addWidget(m_sweep);
    connect(m_sweep, &SweepSection::changed, this, &ConfigPanel::scheduleRefresh);
    m_general = new QLabel;
    m_general->setObjectName(QStringLiteral("generalProblems"));
    m_general->setWordWrap(true);
    m_general->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_general->hide();
    layout->addWidget(m_general);
    layout->addStretch(1);

    m_earlyStopping = new EarlyStoppingPanel(m_messages);
    connect(m_earlyStopping, &EarlyStoppingPanel::changed, this, &ConfigPanel::scheduleRefresh);

    m_refreshTimer.setSingleShot(true);
    m_refreshTimer.setInterval(kRefreshDelayMs);
    connect(&m_refreshTimer, &QTimer::timeout, this, &ConfigPanel::refresh);

    RunConfig defaults;
    defaults.runsDir = defaultRunsDir().toStdString();
    setConfig(defaults);
    guardWheel(this);
}

ConfigPanel::~ConfigPanel()
{
    // The early-stopping panel normally lives in a dock that deletes it; only
    // a panel that was never placed is deleted here.
    if (m_earlyStopping && !m_earlyStopping->parent()) delete m_earlyStopping.data();
}

EarlyStoppingPanel* ConfigPanel::earlyStoppingPanel() const { return m_earlyStopping.data(); }

QString ConfigPanel::defaultRunsDir() { return QString::fromStdString(loralab::defaultRunsDir()); }

RunConfig ConfigPanel::config() const
{
    RunConfig c = m_base;
    for (const ConfigSection* s : m_sections) s->store(c);
    m_earlyStopping->store(c);
    return c;
}

bool ConfigPanel::comparison() const { return m_method->comparison(); }

std::vector<SweepAxis> ConfigPanel::axes() const
{
    std::vector<SweepAxis> out;
    if (comparison()) out.push_back({"method", {"\"lora\"", "\"full\""}});
    for (const SweepAxis& a : m_sweep->axes()) out.push_back(a);
    return out;
}

Experiment ConfigPanel::plan() const
{
    const RunConfig c = config();
    const std::vector<SweepAxis> all = axes();
    // LoRA against full fine-tuning is the sweep over method, named as such.
    return planExperiment(c, all, all.size() == 1 && comparison() ? c.name + "-compare" : c.name);
}

void ConfigPanel::setConfig(const RunConfig& config, const std::vector<SweepAxis>& axes)
{
    m_base = config;
    std::vector<SweepAxis> sweep = axes;
    const bool compare = !sweep.empty() && isComparisonAxis(sweep.front());
    if (compare) sweep.erase(sweep.begin());
    m_method->setComparison(compare && config.method == Method::Lora && config.objective == Objective::Sft);
    m_sweep->setAxes(sweep);
    for (ConfigSection* s : m_sections) s->load(config);
    m_earlyStopping->load(config);
    refreshNow();
}

void ConfigPanel::loadSettings(QSettings& settings)
{
    const QString json = settings.value(kConfigKey).toString();
    if (json.isEmpty()) return;
    try {
        RunConfig c = parseRunConfig(json.toStdString(), "saved settings");
        if (c.runsDir.empty()) c.runsDir = defaultRunsDir().toStdString();
        std::vector<SweepAxis> all;
        if (settings.value(kComparisonKey, false).toBool()) all.push_back({"method", {"\"lora\"", "\"full\""}});
        for (const QString& axis : settings.value(kSweepKey).toStringList()) all.push_back(parseSweepAxis(axis.toStdString()));
        setConfig(c, all);
    } catch (const Error&) {
        // Settings from another version: start from the defaults rather than fail.
    }
}

void ConfigPanel::saveSettings(QSettings& settings) const
{
    settings.setValue(kConfigKey, QString::fromStdString(runConfigToJson(config())));
    settings.setValue(kComparisonKey, comparison());
    QStringList sweep;
    try {
        for (const SweepAxis& a : m_sweep->axes()) {
            QStringList values;
            for (const auto& v : a.values) values << QString::fromStdString(v);
            sweep << QString::fromStdString(a.key) + QLatin1Char('=') + values.join(QLatin1Char(','));
        }
    } catch (const Error&) {
        // A sweep that cannot be read is not kept.
    }
    settings.setValue(kSweepKey, sweep);
}

void ConfigPanel::setRunning(bool running)
{
    for (ConfigSection* s : m_sections) s->setEnabled(!running);
    m_sweep->setEnabled(!running);
    m_earlyStopping->setRunning(running);
}

void ConfigPanel::setDatasetDetected(const QString& text, bool problem) { m_data->setDetected(text, problem); }

void ConfigPanel::scheduleRefresh() { m_refreshTimer.start(); }

void ConfigPanel::updateMemoryFit(const Experiment& plan)
{
    // The run of the plan that needs the most (full fine-tuning in a
    // comparison, the largest batch of a sweep), with its levers.
    try {
        const RunConfig* largest = nullptr;
        std::int64_t most = -1;
        MemoryPlanOptions quick;
        quick.leversAlways = false;
        for (const ExperimentRun& run : plan.runs)
            if (const std::int64_t need = planMemory(run.config, quick).estimate.total(); need > most) {
                most = need;
                largest = &run.config;
            }
        if (!largest) return m_model->setMemoryFitError(tr("nothing to run"));
        m_model->setMemoryFit(planMemory(*largest));
    } catch (const std::exception& e) {
        m_model->setMemoryFitError(QString::fromUtf8(e.what()));
    }
}

void ConfigPanel::refreshNow()
{
    m_refreshTimer.stop();
    refresh();
}

void ConfigPanel::refresh()
{
    const RunConfig c = config();

    // describeModel reads config.json only; redo it when the model changes,
    // or while it fails (the user may be fixing the folder). A source that
    // names no model (an empty cache) must not fall back to the embedded one.
    if (const QString problem = m_model->sourceProblem(); !problem.isEmpty()) {
        m_model->setOverviewError(problem);
        m_modelOk = false;
    } else if (c.model != m_describedModel || !m_modelOk) {
        m_describedModel = c.model;
        try {
            const ModelOverview overview = describeModel(c.model);
            m_model->setOverview(overview);
            m_method->setModelOverview(overview);
            m_modelOk = true;
        } catch (const std::exception& e) {
            m_model->setOverviewError(QString::fromUtf8(e.what()));
            m_modelOk = false;
        }
    }

    if (c.device != m_describedDevice) {
        m_describedDevice = c.device;
        const DeviceOverview device = describeDevice(c.device, c.threads);
        m_deviceProblem = QString::fromStdString(device.problem);
        m_model->setDevice(device);
    }

    const std::vector<std::string> problems = validateRunConfig(c);
    // Model and target problems already sit under their fields; they only
    // join the list that keeps Start disabled.
    QStringList extra;
    if (!m_deviceProblem.isEmpty()) extra << QStringLiteral("device: ") + m_deviceProblem;
    if (m_modelOk) {
        try {
            m_method->setTrainable(countTrainable(c));
        } catch (const std::exception& e) {
            m_method->setTrainableError(QString::fromUtf8(e.what()));
            extra << QStringLiteral("lora_targets: ") + QString::fromUtf8(e.what());
        }
    } else {
        m_model->setMemoryFitError(tr("the model cannot be read"));
        m_method->setTrainableError({});
        extra << QStringLiteral("model: ") + m_messages.messageFor(QStringLiteral("model"));
    }

    // The sweep: every combination must make a valid run.
    try {
        const Experiment p = plan();
        QString problem;
        for (const ExperimentRun& run : p.runs) {
            const auto runProblems = validateRunConfig(run.config);
            if (!runProblems.empty() && p.runs.size() > 1) {
                problem = tr("%1: %2").arg(QString::fromStdString(run.label), QString::fromStdString(runProblems.front()));
                break;
            }
        }
        m_sweep->setRunCount(static_cast<int>(p.runs.size()), problem);
        if (!problem.isEmpty()) extra << QStringLiteral("sweep: ") + problem;
        if (m_modelOk && problem.isEmpty() && problems.empty() && m_deviceProblem.isEmpty()) updateMemoryFit(p);
    } catch (const Error& e) {
        m_sweep->setRunCount(0, QString::fromUtf8(e.what()));
        extra << QStringLiteral("sweep: ") + QString::fromUtf8(e.what());
    }

    const QStringList unplaced = m_messages.show(problems);
    m_general->setText(unplaced.join(QLatin1Char('\n')));
    m_general->setVisible(!unplaced.isEmpty());

    QStringList all;
    for (const auto& p : problems) all << QString::fromStdString(p);
    all << extra;
    all.removeDuplicates();
    const bool differs = all != m_problems;
    m_problems = all;
    if (differs) emit problemsChanged(m_problems);
    emit configChanged();
}

} // namespace loralab::ui
