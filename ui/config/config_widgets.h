// Small pieces the configuration forms are built from: a spin box for
// values that span decades (learning rates), per-field problem messages,
// and tooltips taken from the engine's option documentation, so that the
// window and `loralab-cli run --help` never disagree.
#pragma once

#include <QDoubleSpinBox>
#include <QSpinBox>
#include <QHash>
#include <QLabel>
#include <QString>
#include <QStringList>

#include <string>
#include <vector>

namespace loralab::ui {

// Shows values as 2e-04, 1.5e-05; the arrows walk the 1-2-5 sequence.
class ScientificSpinBox : public QDoubleSpinBox {
    Q_OBJECT
public:
    explicit ScientificSpinBox(QWidget* parent = nullptr);
    QString textFromValue(double value) const override;
    double valueFromText(const QString& text) const override;
    QValidator::State validate(QString& input, int& pos) const override;
    void stepBy(int steps) override;
};

// "key: why" problems from validateRunConfig, shown under the field that
// owns the key. Problems for keys without a field are collected for a
// general message.
class FieldMessages {
public:
    // A container holding `field` with an (initially hidden) message under it.
    QWidget* wrap(QWidget* field, const QString& key);
    // Routes `problems` to their fields; returns those no field owns.
    QStringList show(const std::vector<std::string>& problems);
    // A message that did not come from validation (e.g. an unreadable model).
    void setExtra(const QString& key, const QString& message);
    QString messageFor(const QString& key) const;

private:
    void refresh(const QString& key);
    QHash<QString, QLabel*> m_labels;
    QHash<QString, QString> m_validation;
    QHash<QString, QString> m_extra;
};

// "<b>key</b> (default …): help", from runOptionDocs().
QString optionTooltip(const QString& key);

// "1 evaluation", "3 evaluations" (English plurals without a translator).
QString countText(qint64 n, const QString& singular, const QString& plural);
// Keeps a spin box's unit suffix in the right number as its value changes.
void setPluralSuffix(QSpinBox* spin, const QString& singular, const QString& plural);

QString formatCount(qint64 n);     // 1.23 M, 45.6 k, 812
QString formatBytes(qint64 bytes); // 12.3 MiB
QString formatDuration(double seconds); // 1 h 02 min, 3 min 20 s, 12 s

} // namespace loralab::ui
