#include "ui/report/report_text.h"

#include <QLocale>

#include <cmath>

namespace loralab::ui {

QString markdownEscaped(const QString& text)
{
    static const QString special = QStringLiteral("\\`*_{}[]<>#+!|~");
    QString out;
    out.reserve(text.size() + 8);
    for (const QChar c : text) {
        if (special.contains(c)) out += QLatin1Char('\\');
        out += c;
    }
    return out;
}

QString markdownCell(const QString& text)
{
    QString s = markdownEscaped(text.trimmed());
    s.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    s.replace(QLatin1Char('\n'), QStringLiteral("<br>"));
    return s.isEmpty() ? QStringLiteral(" ") : s;
}

QString markdownTable(const QStringList& header, const QList<QStringList>& rows, const QList<bool>& right)
{
    const auto line = [](const QStringList& cells) { return QStringLiteral("| ") + cells.join(QStringLiteral(" | ")) + QStringLiteral(" |\n"); };
    QStringList rule;
    for (int c = 0; c < header.size(); ++c) rule << (c < right.size() && right[c] ? QStringLiteral("---:") : QStringLiteral("---"));
    QString out = line(header) + line(rule);
    for (QStringList row : rows) {
        while (row.size() < header.size()) row << QStringLiteral(" ");
        out += line(row);
    }
    return out;
}

QString csvField(const QString& text)
{
    const bool quote = text.contains(QLatin1Char(',')) || text.contains(QLatin1Char('"')) || text.contains(QLatin1Char('\n')) ||
                       text.contains(QLatin1Char('\r')) || (!text.isEmpty() && (text.front().isSpace() || text.back().isSpace()));
    if (!quote) return text;
    QString s = text;
    s.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + s + QLatin1Char('"');
}

QString csvRow(const QStringList& fields)
{
    QStringList quoted;
    quoted.reserve(fields.size());
    for (const QString& f : fields) quoted << csvField(f);
    return quoted.join(QLatin1Char(',')) + QLatin1Char('\n');
}

QString csvNumber(double value)
{
    if (std::isnan(value)) return {};
    return QString::number(value, 'g', QLocale::FloatingPointShortest);
}

QString csvNumber(const std::optional<double>& value) { return value ? csvNumber(*value) : QString(); }

} // namespace loralab::ui
