#include "ui/config/model_section.h"

#include "engine/run/memory_fit.h"
#include "engine/util/units.h"

#include "engine/model/hf_cache.h"
#include "engine/model/model_config.h"

#include <QComboBox>
#include <QEvent>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>

namespace loralab::ui {

namespace {
enum Source { kEmbedded = 0, kDirectory = 1, kCache = 2, kPreset = 3 };
}

ModelSection::ModelSection(FieldMessages& messages, QWidget* parent) : ConfigSection(tr("Model"), messages, parent)
{
    m_source = combo({tr("Embedded default model"), tr("Hugging Face model folder"), tr("Hugging Face cache"),
                      tr("Shape preset (random weights)")});
    m_source->setObjectName(QStringLiteral("modelSource"));
    addField(tr("Source"), m_source, QStringLiteral("model"));

    m_directory = lineEdit(tr("folder with config.json and *.safetensors"));
    m_directory->setObjectName(QStringLiteral("modelDirectory"));
    m_directoryRow = pathRow(m_directory, true, tr("Choose a Hugging Face model folder"));
    form()->addRow(tr("Folder"), m_directoryRow);

    // Filled when the source is picked, not at start: the cache is read only by
    // those who use it, and a model downloaded meanwhile shows up.
    m_cached = combo({});
    m_cached->setObjectName(QStringLiteral("modelCached"));
    form()->addRow(tr("Model"), m_cached);

    m_preset = combo({});
    m_preset->setObjectName(QStringLiteral("modelPreset"));
    for (const auto& name : presetNames()) m_preset->addItem(QString::fromStdString(name).mid(7), QString::fromStdString(name));
    form()->addRow(tr("Preset"), m_preset);

    m_tokenizer = lineEdit(tr("the embedded model's tokenizer"));
    m_tokenizer->setObjectName(QStringLiteral("tokenizerDirectory"));
    m_tokenizerRow = pathRow(m_tokenizer, true, tr("Choose a model folder whose tokenizer to use"));
    addField(tr("Tokenizer from"), m_tokenizerRow, QStringLiteral("tokenizer"));

    m_info = new QLabel;
    m_info->setObjectName(QStringLiteral("modelInfo"));
    m_info->setWordWrap(true);
    m_info->setTextFormat(Qt::RichText);
    m_info->setStyleSheet(QStringLiteral("color: #424242;"));
    m_info->installEventFilter(this); // keeps its height right as its width changes (fitInfoHeight)
    form()->addRow(m_info);

    connect(m_source, &QComboBox::currentIndexChanged, this, [this] {
        // loadFields refills the list itself, with the configured model.
        if (m_source->currentIndex() == kCache && !m_loading) refreshCache(m_cached->currentData().toString(), false);
        updateVisibility();
    });
    updateVisibility();
}

void ModelSection::refreshCache(const QString& select, bool keepMissing)
{
    // The caller reports the change (a new source or a loaded config); the
    // refill itself is not a user's edit.
    const QSignalBlocker blocker(m_cached);
    m_cacheDir = QString::fromStdString(hfCacheDir().string());
    m_cached->clear();
    for (const CachedModel& m : listCachedModels()) {
        const QString architecture = m.architecture.empty() ? tr("unknown architecture") : QString::fromStdString(m.architecture);
        QString text = QStringLiteral("%1 · %2 · %3").arg(QString::fromStdString(m.repoId), architecture, formatBytes(m.sizeBytes));
        if (!m.hasWeights) text += tr(" · no .safetensors weights");
        m_cached->addItem(text, QString::fromStdString(m.repoId));
        m_cached->setItemData(m_cached->count() - 1, QString::fromStdString(m.snapshot.string()), Qt::ToolTipRole);
    }
    // A loaded config's model that the cache lacks (or one pinned to a
    // revision) stays selected as it is, so the overview can say what
    // resolving it gives; a pick from an earlier listing only if still there.
    int i = m_cached->findData(select);
    if (i < 0 && keepMissing && !select.isEmpty()) {
        m_cached->addItem(select, select);
        i = m_cached->count() - 1;
    }
    if (i >= 0) m_cached->setCurrentIndex(i);
    m_cached->setToolTip(tr("Models in the Hugging Face cache %1").arg(m_cacheDir));
}

QString ModelSection::sourceProblem() const
{
    if (m_source->currentIndex() != kCache || m_cached->count() > 0) return {};
    return tr("No models in the Hugging Face cache %1. Download one with \"huggingface-cli download Org/Name\", "
              "or set HF_HUB_CACHE or HF_HOME to the cache that holds yours.")
        .arg(m_cacheDir);
}

void ModelSection::loadFields(const RunConfig& config)
{
    const QString model = QString::fromStdString(config.model);
    if (model.isEmpty() || model == QLatin1String("default")) {
        m_source->setCurrentIndex(kEmbedded);
    } else if (model.startsWith(QLatin1String("preset:"))) {
        m_source->setCurrentIndex(kPreset);
        const int i = m_preset->findData(model);
        if (i >= 0) m_preset->setCurrentIndex(i);
    } else if (isHubModelSpec(config.model)) {
        m_source->setCurrentIndex(kCache);
        refreshCache(model, true);
    } else {
        m_source->setCurrentIndex(kDirectory);
        m_directory->setText(model);
    }
    m_tokenizer->setText(QString::fromStdString(config.tokenizer));
    updateVisibility();
}

QString ModelSection::spec() const
{
    switch (m_source->currentIndex()) {
    case kDirectory: return m_directory->text().trimmed();
    case kCache: return m_cached->currentData().toString();
    case kPreset: return m_preset->currentData().toString();
    default: return QStringLiteral("default");
    }
}

void ModelSection::store(RunConfig& config) const
{
    config.model = spec().toStdString();
    config.tokenizer = m_tokenizer->text().trimmed().toStdString();
}

void ModelSection::updateVisibility()
{
    form()->setRowVisible(m_directoryRow, m_source->currentIndex() == kDirectory);
    form()->setRowVisible(m_cached, m_source->currentIndex() == kCache && m_cached->count() > 0);
    form()->setRowVisible(m_preset, m_source->currentIndex() == kPreset);
    // A model folder brings its own tokenizer; a preset borrows one.
    form()->setRowVisible(m_tokenizerRow->parentWidget(), m_source->currentIndex() == kPreset);
}

void ModelSection::setOverview(const ModelOverview& o)
{
    m_messages.setExtra(QStringLiteral("model"), {});
    QString text = tr("<b>%1</b> · %2 parameters · %3 layers · hidden %4 · vocabulary %5")
                       .arg(QString::fromStdString(o.architecture), formatCount(o.totalParams))
                       .arg(o.numLayers)
                       .arg(o.hiddenSize)
                       .arg(formatCount(o.vocabSize));
    if (!o.storedDType.empty()) text += tr(" · stored as %1").arg(QString::fromStdString(o.storedDType));
    if (QString::fromStdString(o.spec).startsWith(QLatin1String("preset:")))
        text += tr("<br><span style='color:#b26a00'>A shape preset has random weights: it measures speed and "
                   "memory, and reads text with a borrowed tokenizer.</span>");
    else if (!o.hasTokenizer)
        text += tr("<br><span style='color:#b26a00'>This folder has no tokenizer (tokenizer.json or "
                   "tokenizer.model).</span>");
    m_modelText = text;
    showInfo();
}

void ModelSection::setOverviewError(const QString& message)
{
    m_modelText.clear();
    showInfo();
    m_messages.setExtra(QStringLiteral("model"), message);
}

void ModelSection::setDevice(const DeviceOverview& d)
{
    const QString libtorch = QString::fromStdString(d.libtorch).toHtmlEscaped();
    if (!d.problem.empty())
        m_deviceText = tr("<span style='color:#b00020'>%1</span>").arg(QString::fromStdString(d.problem).toHtmlEscaped());
    else if (d.resolved == "cpu")
        m_deviceText = (d.threads == 1 ? tr("Trains on the <b>CPU</b> · 1 thread · LibTorch %1").arg(libtorch)
                                       : tr("Trains on the <b>CPU</b> · %1 threads · LibTorch %2").arg(d.threads).arg(libtorch));
    else
        m_deviceText = tr("Trains on <b>%1</b> (%2) · %3, %4 free · LibTorch %5")
                           .arg(QString::fromStdString(d.name).toHtmlEscaped(), QString::fromStdString(d.resolved),
                                formatBytes(d.totalBytes), formatBytes(d.freeBytes), libtorch);
    showInfo();
}

void ModelSection::showInfo()
{
    QStringList parts;
    if (!m_modelText.isEmpty()) parts << m_modelText;
    if (!m_deviceText.isEmpty()) parts << m_deviceText;
    if (!m_memoryText.isEmpty()) parts << m_memoryText;
    m_info->setText(parts.join(QStringLiteral("<br>")));
    fitInfoHeight();
}

void ModelSection::fitInfoHeight()
{
    // The form in its scroll area does not ask a wrapped label for its height
    // again when its text grows by lines or its width shrinks; the label asks
    // for it itself.
    if (m_info->width() > 0) m_info->setMinimumHeight(m_info->heightForWidth(m_info->width()));
}

bool ModelSection::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_info && event->type() == QEvent::Resize) fitInfoHeight();
    return ConfigSection::eventFilter(watched, event);
}

void ModelSection::setMemoryFit(const MemoryFit& fit)
{
    const QString estimate = tr("Memory: about <b>%1</b>").arg(QString::fromStdString(bytesText(fit.estimate.total())));
    if (fit.budgetBytes <= 0) {
        m_memoryText = tr("%1 (the device's free memory is unknown)").arg(estimate);
    } else if (fit.fits) {
        m_memoryText = tr("%1 of %2 available: fits").arg(estimate, QString::fromStdString(bytesText(fit.budgetBytes)));
    } else {
        QStringList fitting;
        for (const MemoryLever& l : fit.levers)
            if (l.fits) fitting << QString::fromStdString(l.setting).toHtmlEscaped();
        m_memoryText = tr("<span style='color:#b00020'>%1 of %2 available: <b>does not fit</b>; %3</span>")
                           .arg(estimate, QString::fromStdString(bytesText(fit.budgetBytes)),
                                fitting.isEmpty() ? tr("no lever alone makes it fit (see the tooltip)")
                                                  : tr("it fits with %1").arg(fitting.join(tr(" or "))));
    }
    QStringList tip{QString::fromStdString(fit.verdict()).toHtmlEscaped()};
    if (!fit.levers.empty() || !fit.combined.empty()) tip << tr("Each lever alone:");
    for (const std::string& line : fit.leverLines()) tip << QStringLiteral("&nbsp;&nbsp;") + QString::fromStdString(line).toHtmlEscaped();
    m_info->setToolTip(tip.join(QStringLiteral("<br>")));
    showInfo();
}

void ModelSection::setMemoryFitError(const QString& message)
{
    m_memoryText.clear();
    m_info->setToolTip(message);
    showInfo();
}

} // namespace loralab::ui
