#include "ui/config/target_module_list.h"

#include "engine/lora/adapter_config.h"

#include <QCheckBox>
#include <QListWidget>
#include <QSet>
#include <QVBoxLayout>

namespace loralab::ui {

namespace {
constexpr int kHeadRole = Qt::UserRole + 1;
const QString kAllLinear = QStringLiteral("all-linear");
} // namespace

TargetModuleList::TargetModuleList(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    m_allLinear = new QCheckBox(tr("All linear layers (all-linear)"));
    m_allLinear->setObjectName(QStringLiteral("allLinearTargets"));
    layout->addWidget(m_allLinear);
    m_list = new QListWidget;
    m_list->setObjectName(QStringLiteral("targetModules"));
    m_list->setUniformItemSizes(true);
    m_list->setMaximumHeight(120);
    m_list->setFlow(QListView::LeftToRight);
    m_list->setWrapping(true);
    m_list->setResizeMode(QListView::Adjust);
    m_list->setSpacing(2);
    layout->addWidget(m_list);

    connect(m_allLinear, &QCheckBox::toggled, this, [this] {
        syncAllLinear();
        if (!m_updating) emit changed();
    });
    connect(m_list, &QListWidget::itemChanged, this, [this] {
        if (!m_updating) emit changed();
    });
}

void TargetModuleList::addItem(const QString& name, bool checked, bool head)
{
    // Adapter files name every head lm_head; say so where the model calls it otherwise.
    const QString fileName = QString::fromLatin1(kAdapterHeadName);
    auto* item = new QListWidgetItem(!head ? name
                                     : name == fileName
                                         ? tr("%1 (output head)").arg(name)
                                         : tr("%1 (output head; the adapter file calls it %2)").arg(name, fileName),
                                     m_list);
    item->setData(Qt::UserRole, name);
    item->setData(kHeadRole, head);
    item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
    item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
}

void TargetModuleList::setAvailable(const std::vector<std::string>& kinds, const std::string& headName)
{
    const std::vector<std::string> current = targets();
    const QSet<QString> checked = [&] {
        QSet<QString> s;
        for (const auto& t : current) s.insert(QString::fromStdString(t));
        return s;
    }();
    m_updating = true;
    m_list->clear();
    m_headName = headName.empty() ? QStringLiteral("lm_head") : QString::fromStdString(headName);
    QSet<QString> listed;
    for (const auto& k : kinds) {
        const QString name = QString::fromStdString(k);
        if (name == m_headName) continue; // listed last, on its own: all-linear leaves it out
        addItem(name, checked.contains(name), false);
        listed.insert(name);
    }
    // Targets this model does not have stay visible, so the user sees why
    // the engine would refuse them.
    for (const QString& name : checked)
        if (name != kAllLinear && name != QLatin1String("lm_head") && name != m_headName && !listed.contains(name))
            addItem(name, true, false);
    addItem(m_headName, checked.contains(m_headName) || checked.contains(QStringLiteral("lm_head")), true);
    m_updating = false;
    syncAllLinear();
}

void TargetModuleList::setTargets(const std::vector<std::string>& targets)
{
    m_updating = true;
    QSet<QString> wanted;
    for (const auto& t : targets) wanted.insert(QString::fromStdString(t));
    m_allLinear->setChecked(wanted.contains(kAllLinear));
    QSet<QString> listed;
    for (int i = 0; i < m_list->count(); ++i) {
        QListWidgetItem* item = m_list->item(i);
        const QString name = item->data(Qt::UserRole).toString();
        const bool head = item->data(kHeadRole).toBool();
        const bool on = wanted.contains(name) || (head && wanted.contains(QStringLiteral("lm_head")));
        item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
        listed.insert(name);
    }
    for (const QString& name : wanted)
        if (name != kAllLinear && !listed.contains(name) && name != QLatin1String("lm_head")) addItem(name, true, false);
    m_updating = false;
    syncAllLinear();
}

std::vector<std::string> TargetModuleList::targets() const
{
    std::vector<std::string> out;
    if (m_allLinear->isChecked()) out.push_back(kAllLinear.toStdString());
    for (int i = 0; i < m_list->count(); ++i) {
        const QListWidgetItem* item = m_list->item(i);
        const bool head = item->data(kHeadRole).toBool();
        if (m_allLinear->isChecked() && !head) continue; // covered by all-linear
        if (item->checkState() == Qt::Checked) out.push_back(item->data(Qt::UserRole).toString().toStdString());
    }
    return out;
}

void TargetModuleList::syncAllLinear()
{
    // Under all-linear the per-layer boxes show what it covers and are not
    // editable; the head keeps its own box.
    const bool all = m_allLinear->isChecked();
    const bool was = m_updating;
    m_updating = true;
    for (int i = 0; i < m_list->count(); ++i) {
        QListWidgetItem* item = m_list->item(i);
        if (item->data(kHeadRole).toBool()) continue;
        Qt::ItemFlags flags = Qt::ItemIsUserCheckable;
        if (!all) flags |= Qt::ItemIsEnabled;
        item->setFlags(flags);
        if (all) item->setCheckState(Qt::Checked);
    }
    m_updating = was;
}

} // namespace loralab::ui
