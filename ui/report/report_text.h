// Text the experiment report is made of: Markdown that stays a table when a
// cell holds pipes, stars or line breaks, CSV fields as spreadsheets and
// Python's csv module read them, and numbers written so they read back
// exactly.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace loralab::ui {

// `text` with Markdown's punctuation escaped, so it prints as written.
QString markdownEscaped(const QString& text);
// One table cell: escaped, pipes too, line breaks as <br>.
QString markdownCell(const QString& text);
// A pipe table; `right` says which columns align right (numbers). Cells are
// taken as Markdown (escape them with markdownCell first).
QString markdownTable(const QStringList& header, const QList<QStringList>& rows, const QList<bool>& right = {});

// A CSV field: quoted where it has to be (commas, quotes, line breaks, edge spaces).
QString csvField(const QString& text);
QString csvRow(const QStringList& fields);
// A number as CSV holds it: the shortest text that reads back to the same
// double; nothing for an absent value or NaN.
QString csvNumber(double value);
QString csvNumber(const std::optional<double>& value);

} // namespace loralab::ui
