#include "ui/config/sweep_section.h"

#include "ui/config/config_widgets.h"
#include "ui/config/wheel_guard.h"

#include "engine/util/error.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

namespace loralab::ui {

namespace {
// "4, 8" from the axis's JSON values, as the field shows them.
QString valuesText(const SweepAxis& axis)
{
    QStringList out;
    for (const auto& v : axis.values) {
        const auto j = nlohmann::json::parse(v);
        if (j.is_string()) {
            out << QString::fromStdString(j.get<std::string>());
        } else if (j.is_array()) {
            QStringList words;
            for (const auto& w : j) words << QString::fromStdString(w.is_string() ? w.get<std::string>() : w.dump());
            out << words.join(QLatin1Char('+'));
        } else {
            out << QString::fromStdString(v);
        }
    }
    return out.join(QStringLiteral(", "));
}
} // namespace

SweepSection::SweepSection(QWidget* parent) : QGroupBox(tr("Sweep"), parent)
{
    setObjectName(QStringLiteral("sweepSection"));
    setCheckable(true);
    setChecked(false);
    setToolTip(tr("Run every combination of the values below, one run after another, as one experiment"));
    auto* layout = new QVBoxLayout(this);
    m_rows = new QVBoxLayout;
    layout->addLayout(m_rows);
    auto* bottom = new QHBoxLayout;
    auto* add = new QPushButton(tr("Add option"));
    add->setObjectName(QStringLiteral("addSweepAxis"));
    bottom->addWidget(add);
    m_count = new QLabel;
    m_count->setObjectName(QStringLiteral("sweepCount"));
    m_count->setWordWrap(true);
    bottom->addWidget(m_count, 1);
    layout->addLayout(bottom);
    connect(add, &QPushButton::clicked, this, [this] {
        addRow();
        emit changed();
    });
    connect(this, &QGroupBox::toggled, this, [this] {
        if (isChecked() && m_axisRows.isEmpty()) addRow(QStringLiteral("lora_r"), QStringLiteral("4, 8, 16"));
        if (!m_loading) emit changed();
    });
}

void SweepSection::addRow(const QString& key, const QString& values)
{
    auto* row = new QWidget;
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    auto* keyBox = new QComboBox;
    keyBox->setObjectName(QStringLiteral("sweepKey%1").arg(m_axisRows.size()));
    for (const RunOptionDoc& doc : runOptionDocs())
        if (doc.key != "name" && doc.key != "runs_dir") keyBox->addItem(QString::fromStdString(doc.key));
    keyBox->setCurrentText(key.isEmpty() ? QStringLiteral("learning_rate") : key);
    keyBox->setFocusPolicy(Qt::StrongFocus);
    auto* valuesEdit = new QLineEdit(values);
    valuesEdit->setObjectName(QStringLiteral("sweepValues%1").arg(m_axisRows.size()));
    valuesEdit->setPlaceholderText(tr("values, comma-separated"));
    auto* remove = new QToolButton;
    remove->setText(QStringLiteral("✕"));
    remove->setToolTip(tr("Remove this option from the sweep"));
    h->addWidget(keyBox, 2);
    h->addWidget(valuesEdit, 3);
    h->addWidget(remove);
    m_rows->addWidget(row);
    m_axisRows.append({row, keyBox, valuesEdit});
    guardWheel(row);
    const auto updateTip = [keyBox, valuesEdit] { valuesEdit->setToolTip(optionTooltip(keyBox->currentText())); };
    updateTip();
    connect(keyBox, &QComboBox::currentIndexChanged, this, [this, updateTip] {
        updateTip();
        if (!m_loading) emit changed();
    });
    connect(valuesEdit, &QLineEdit::textChanged, this, [this] {
        if (!m_loading) emit changed();
    });
    connect(remove, &QToolButton::clicked, this, [this, row] {
        for (int i = 0; i < m_axisRows.size(); ++i)
            if (m_axisRows[i].widget == row) m_axisRows.removeAt(i);
        row->deleteLater();
        emit changed();
    });
}

std::vector<SweepAxis> SweepSection::axes() const
{
    std::vector<SweepAxis> out;
    if (!isChecked()) return out;
    for (const Row& r : m_axisRows) {
        const QString values = r.values->text().trimmed();
        if (values.isEmpty()) throw Error("the sweep option " + r.key->currentText().toStdString() + " has no values");
        out.push_back(parseSweepAxis(r.key->currentText().toStdString() + "=" + values.toStdString()));
    }
    return out;
}

void SweepSection::setAxes(const std::vector<SweepAxis>& axes)
{
    m_loading = true;
    for (const Row& r : m_axisRows) delete r.widget;
    m_axisRows.clear();
    for (const SweepAxis& a : axes) addRow(QString::fromStdString(a.key), valuesText(a));
    setChecked(!axes.empty());
    m_loading = false;
}

void SweepSection::setRunCount(int runs, const QString& problem)
{
    if (!problem.isEmpty()) {
        m_count->setStyleSheet(QStringLiteral("color: #c62828;"));
        m_count->setText(problem);
        return;
    }
    m_count->setStyleSheet(QString());
    m_count->setText(countText(runs, tr("run"), tr("runs")));
}

} // namespace loralab::ui
