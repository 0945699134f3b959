#include "ui/config/config_widgets.h"

#include "engine/config/run_config.h"

#include <QVBoxLayout>

#include <cmath>

namespace loralab::ui {

ScientificSpinBox::ScientificSpinBox(QWidget* parent) : QDoubleSpinBox(parent)
{
    setDecimals(12); // the text is ours; this only keeps QDoubleSpinBox from rounding
    setRange(0.0, 1e3);
    setKeyboardTracking(false);
}

QString ScientificSpinBox::textFromValue(double value) const
{
    if (value == 0.0) return QStringLiteral("0");
    const double magnitude = std::fabs(value);
    if (magnitude >= 1e-3 && magnitude < 1e4) return QString::number(value, 'g', 6);
    return QString::number(value, 'e', 3).replace(QRegularExpression(QStringLiteral("\\.?0+e")), QStringLiteral("e"));
}

double ScientificSpinBox::valueFromText(const QString& text) const { return text.trimmed().toDouble(); }

QValidator::State ScientificSpinBox::validate(QString& input, int&) const
{
    const QString t = input.trimmed();
    if (t.isEmpty()) return QValidator::Intermediate;
    bool ok = false;
    const double v = t.toDouble(&ok);
    if (ok) return v >= minimum() && v <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
    // Half-typed numbers such as "1e" or "3." are fine while typing.
    static const QRegularExpression partial(QStringLiteral("^[0-9]*\\.?[0-9]*(e[-+]?[0-9]*)?$"),
                                            QRegularExpression::CaseInsensitiveOption);
    return partial.match(t).hasMatch() ? QValidator::Intermediate : QValidator::Invalid;
}

void ScientificSpinBox::stepBy(int steps)
{
    double v = value();
    if (v <= 0.0) v = 1e-5;
    // Walk 1, 2, 5, 10, 20, ... one notch per step.
    for (int i = 0; i < std::abs(steps); ++i) {
        const double decade = std::pow(10.0, std::floor(std::log10(v) + 1e-9));
        const double mantissa = v / decade;
        if (steps > 0)
            v = mantissa < 1.999 ? 2 * decade : mantissa < 4.999 ? 5 * decade : 10 * decade;
        else
            v = mantissa > 5.001 ? 5 * decade : mantissa > 2.001 ? 2 * decade : mantissa > 1.001 ? decade : decade / 2;
    }
    setValue(v);
}

QWidget* FieldMessages::wrap(QWidget* field, const QString& key)
{
    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(1);
    layout->addWidget(field);
    auto* message = new QLabel;
    message->setObjectName(QStringLiteral("fieldMessage_") + key);
    message->setWordWrap(true);
    message->setStyleSheet(QStringLiteral("color: #c62828; font-size: small;"));
    message->hide();
    layout->addWidget(message);
    m_labels.insert(key, message);
    field->setToolTip(optionTooltip(key));
    return box;
}

QStringList FieldMessages::show(const std::vector<std::string>& problems)
{
    QStringList unplaced;
    const auto previous = m_validation;
    m_validation.clear();
    for (const auto& p : problems) {
        const QString problem = QString::fromStdString(p);
        const int colon = problem.indexOf(QStringLiteral(": "));
        const QString key = colon > 0 ? problem.left(colon) : QString();
        if (m_labels.contains(key)) {
            QString& text = m_validation[key];
            text += (text.isEmpty() ? QString() : QStringLiteral("; ")) + problem.mid(colon + 2);
        } else {
            unplaced << problem;
        }
    }
    for (auto it = m_labels.cbegin(); it != m_labels.cend(); ++it)
        if (previous.contains(it.key()) || m_validation.contains(it.key())) refresh(it.key());
    return unplaced;
}

void FieldMessages::setExtra(const QString& key, const QString& message)
{
    if (message.isEmpty())
        m_extra.remove(key);
    else
        m_extra.insert(key, message);
    refresh(key);
}

QString FieldMessages::messageFor(const QString& key) const
{
    QStringList parts;
    if (m_validation.contains(key)) parts << m_validation.value(key);
    if (m_extra.contains(key)) parts << m_extra.value(key);
    return parts.join(QStringLiteral("; "));
}

void FieldMessages::refresh(const QString& key)
{
    QLabel* label = m_labels.value(key);
    if (!label) return;
    const QString text = messageFor(key);
    label->setText(text);
    label->setVisible(!text.isEmpty());
}

QString optionTooltip(const QString& key)
{
    static const QHash<QString, RunOptionDoc> docs = [] {
        QHash<QString, RunOptionDoc> out;
        for (const auto& d : runOptionDocs()) out.insert(QString::fromStdString(d.key), d);
        return out;
    }();
    const auto it = docs.constFind(key);
    if (it == docs.constEnd()) return {};
    const QString help = QString::fromStdString(it->help).toHtmlEscaped();
    return QStringLiteral("<p><b>%1</b> &nbsp;(default %2)<br>%3</p>")
        .arg(key, QString::fromStdString(it->defaultValue).toHtmlEscaped(), help);
}

QString countText(qint64 n, const QString& singular, const QString& plural)
{
    return QStringLiteral("%1 %2").arg(n).arg(n == 1 ? singular : plural);
}

void setPluralSuffix(QSpinBox* spin, const QString& singular, const QString& plural)
{
    const auto update = [spin, singular, plural](int v) { spin->setSuffix(QLatin1Char(' ') + (v == 1 ? singular : plural)); };
    update(spin->value());
    QObject::connect(spin, &QSpinBox::valueChanged, spin, update);
}

QString formatCount(qint64 n)
{
    const double v = static_cast<double>(n);
    if (std::llabs(n) >= 1000000000LL) return QStringLiteral("%1 B").arg(v / 1e9, 0, 'f', 2);
    if (std::llabs(n) >= 1000000LL) return QStringLiteral("%1 M").arg(v / 1e6, 0, 'f', 2);
    if (std::llabs(n) >= 10000LL) return QStringLiteral("%1 k").arg(v / 1e3, 0, 'f', 1);
    return QString::number(n);
}

QString formatBytes(qint64 bytes)
{
    const double v = static_cast<double>(bytes);
    if (bytes >= (1LL << 30)) return QStringLiteral("%1 GiB").arg(v / (1LL << 30), 0, 'f', 2);
    if (bytes >= (1LL << 20)) return QStringLiteral("%1 MiB").arg(v / (1LL << 20), 0, 'f', 1);
    if (bytes >= (1LL << 10)) return QStringLiteral("%1 KiB").arg(v / (1LL << 10), 0, 'f', 1);
    return QStringLiteral("%1 B").arg(bytes);
}

QString formatDuration(double seconds)
{
    if (!(seconds >= 0) || !std::isfinite(seconds)) return QStringLiteral("–");
    const qint64 s = static_cast<qint64>(std::llround(seconds));
    if (s >= 3600) return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
    if (s >= 60) return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 s").arg(s);
}

} // namespace loralab::ui
