// The LoRA target checklist: the linear layer kinds the model has (from
// describeModel), "all linear layers" as one switch, and the output head,
// which PEFT's all-linear leaves out and so is listed on its own.
#pragma once

#include <QWidget>

#include <string>
#include <vector>

class QCheckBox;
class QListWidget;

namespace loralab::ui {

class TargetModuleList : public QWidget {
    Q_OBJECT
public:
    explicit TargetModuleList(QWidget* parent = nullptr);

    // The model's linear layer kinds and its head's name; checked targets stay checked.
    void setAvailable(const std::vector<std::string>& kinds, const std::string& headName);
    void setTargets(const std::vector<std::string>& targets);
    std::vector<std::string> targets() const;

signals:
    void changed();

private:
    void addItem(const QString& name, bool checked, bool head);
    void syncAllLinear();

    QCheckBox* m_allLinear;
    QListWidget* m_list;
    QString m_headName = QStringLiteral("lm_head");
    bool m_updating = false;
};

} // namespace loralab::ui
