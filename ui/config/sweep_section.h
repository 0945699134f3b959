// The sweep: run options to vary and their values, each combination one run
// of the experiment (lora_r 4, 8, 16 x learning_rate 1e-3, 2e-3 is six
// runs). Values are typed as loralab-cli sweep --grid takes them: commas
// between values, '+' between the words of a list ("query_key_value+dense").
// Unchecked, the configuration runs once.
#pragma once

#include "engine/experiment/experiment.h"

#include <QGroupBox>
#include <QList>
#include <QStringList>

class QComboBox;
class QLabel;
class QLineEdit;
class QVBoxLayout;

namespace loralab::ui {

class SweepSection : public QGroupBox {
    Q_OBJECT
public:
    explicit SweepSection(QWidget* parent = nullptr);

    // The axes as typed; throws loralab::Error naming a bad key or value.
    std::vector<SweepAxis> axes() const;
    void setAxes(const std::vector<SweepAxis>& axes);
    // Shows how many runs the plan makes, or why it cannot be made.
    void setRunCount(int runs, const QString& problem);

signals:
    void changed();

private:
    struct Row {
        QWidget* widget;
        QComboBox* key;
        QLineEdit* values;
    };
    void addRow(const QString& key = {}, const QString& values = {});

    QVBoxLayout* m_rows;
    QList<Row> m_axisRows;
    QLabel* m_count;
    bool m_loading = false;
};

} // namespace loralab::ui
