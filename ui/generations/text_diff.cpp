#include "ui/generations/text_diff.h"

#include "engine/run/runner.h"

#include <QRegularExpression>
#include <QStringList>

#include <vector>

namespace loralab::ui {

namespace {

// Words and the spaces after them, so that the answer reads as written.
QStringList tokens(const QString& text)
{
    static const QRegularExpression word(QStringLiteral("\\S+\\s*"));
    QStringList out;
    auto it = word.globalMatch(text);
    while (it.hasNext()) out << it.next().captured(0);
    return out;
}

QString key(const QString& token)
{
    static const QRegularExpression trailing(QStringLiteral("[\\s.,;:!?]+$"));
    return token.toLower().remove(trailing);
}

} // namespace

AnswerMarkup markAnswer(const QString& answer, const QString& target)
{
    AnswerMarkup out;
    if (target.trimmed().isEmpty()) return out;
    out.matches = answersMatch(answer.toStdString(), target.toStdString());
    if (out.matches) {
        out.html = QStringLiteral("<span style='background:#c8e6c9'>✓ %1</span>").arg(answer.trimmed().toHtmlEscaped());
        return out;
    }
    const QStringList a = tokens(target), b = tokens(answer);
    // Longest common subsequence of the words; long answers are compared in full
    // (a few hundred words at most in a table cell).
    const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
    std::vector<std::vector<int>> lcs(static_cast<std::size_t>(n + 1), std::vector<int>(static_cast<std::size_t>(m + 1), 0));
    for (int i = n - 1; i >= 0; --i)
        for (int j = m - 1; j >= 0; --j)
            lcs[i][j] = key(a[i]) == key(b[j]) ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    QString html;
    int i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && key(a[i]) == key(b[j])) {
            html += b[j].toHtmlEscaped();
            ++i;
            ++j;
        } else if (j < m && (i >= n || lcs[i][j + 1] >= lcs[i + 1][j])) {
            html += QStringLiteral("<span style='background:#ffe0b2'>%1</span>").arg(b[j].toHtmlEscaped());
            ++j;
        } else {
            html += QStringLiteral("<span style='color:#c62828; text-decoration:line-through'>%1</span>").arg(a[i].toHtmlEscaped());
            ++i;
        }
    }
    out.html = html;
    return out;
}

} // namespace loralab::ui
