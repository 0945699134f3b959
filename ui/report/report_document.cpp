#include "ui/report/report_document.h"

#include "ui/report/report_text.h"

#include "engine/records/metrics.h"
#include "engine/util/error.h"

#include <QDir>
#include <QFile>

namespace loralab::ui {

namespace {

// ---- Markdown ----

QString mdTable(const ReportTable& t)
{
    QStringList header;
    for (const QString& h : t.header) header << markdownCell(h);
    QList<QStringList> rows;
    for (const QStringList& r : t.rows) {
        QStringList cells;
        for (const QString& c : r) cells << markdownCell(c);
        rows << cells;
    }
    return markdownTable(header, rows, t.right);
}

QString mdSection(const ReportTable& t, const QString& level = QStringLiteral("##"))
{
    if (t.rows.isEmpty()) return {};
    QString out = level + QLatin1Char(' ') + t.title + QStringLiteral("\n\n");
    if (!t.note.isEmpty()) out += t.note + QStringLiteral("\n\n");
    return out + mdTable(t) + QLatin1Char('\n');
}

// A fenced block that no run of backticks inside the text can close.
QString mdFence(const QString& text)
{
    int longest = 0, run = 0;
    for (const QChar c : text) {
        run = c == QLatin1Char('`') ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    const QString fence(std::max(3, longest + 1), QLatin1Char('`'));
    return fence + QStringLiteral("text\n") + text + (text.endsWith(QLatin1Char('\n')) ? QString() : QStringLiteral("\n")) + fence +
           QLatin1Char('\n');
}

QString mark(const QString& output, const QString& target)
{
    return !output.isEmpty() && answersMatch(sstr(output), sstr(target)) ? QStringLiteral(" ✓") : QString();
}

// ---- HTML ----

QString esc(const QString& s) { return s.toHtmlEscaped(); }

QString htmlTable(const ReportTable& t, const QString& cls = {})
{
    QString out = cls.isEmpty() ? QStringLiteral("<table>") : QStringLiteral("<table class=\"%1\">").arg(cls);
    out += QStringLiteral("<thead><tr>");
    for (int c = 0; c < t.header.size(); ++c)
        out += QStringLiteral("<th%1>%2</th>").arg(c < t.right.size() && t.right[c] ? QStringLiteral(" class=\"num\"") : QString(), esc(t.header[c]));
    out += QStringLiteral("</tr></thead><tbody>");
    for (const QStringList& row : t.rows) {
        out += QStringLiteral("<tr>");
        for (int c = 0; c < row.size(); ++c)
            out += QStringLiteral("<td%1>%2</td>").arg(c < t.right.size() && t.right[c] ? QStringLiteral(" class=\"num\"") : QString(), esc(row[c]));
        out += QStringLiteral("</tr>");
    }
    return out + QStringLiteral("</tbody></table>\n");
}

QString htmlSection(const ReportTable& t, const QString& id, const QString& tag = QStringLiteral("h2"))
{
    if (t.rows.isEmpty()) return {};
    QString out = QStringLiteral("<%1 id=\"%2\">%3</%1>\n").arg(tag, id, esc(t.title));
    if (!t.note.isEmpty()) out += QStringLiteral("<p class=\"note\">%1</p>\n").arg(esc(t.note));
    return out + QStringLiteral("<div class=\"scroll\">") + htmlTable(t) + QStringLiteral("</div>\n");
}

QString dataUri(const QString& folder, const QString& file)
{
    const QString path = QDir(folder).filePath(file);
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) throw Error(sstr(QDir::toNativeSeparators(path)) + ": cannot read the chart image: " + sstr(f.errorString()));
    return QStringLiteral("data:image/png;base64,") + QString::fromLatin1(f.readAll().toBase64());
}

QString answerCell(const QString& output, const QString& target)
{
    if (output.isEmpty()) return QStringLiteral("<td class=\"none\">–</td>");
    const bool exact = answersMatch(sstr(output), sstr(target));
    return QStringLiteral("<td%1>%2%3</td>").arg(exact ? QStringLiteral(" class=\"exact\"") : QString(), esc(output),
                                                  exact ? QStringLiteral(" <span class=\"tick\" title=\"equals the target\">✓</span>") : QString());
}

const char* kStyle = R"(
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #212121; margin: 0; background: #fafafa; }
main { max-width: 1800px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 8px; } h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 1px solid #e0e0e0; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
.headline { font-size: 16px; background: #f1f6fb; border-left: 4px solid #1f77b4; padding: 8px 12px; }
.facts { color: #555; padding-left: 20px; } .note { color: #616161; font-size: 13px; margin: 4px 0 8px; }
nav { font-size: 13px; color: #616161; } nav a { margin-right: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0 12px; }
th, td { border: 1px solid #e0e0e0; padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #f5f5f5; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) td { background: #fcfcfc; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(800px, 1fr)); gap: 16px; }
figure { margin: 0; } figure.bars { max-width: 900px; } figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 12px; color: #616161; margin-top: 2px; } figcaption a { margin-left: 6px; }
table.gen { width: 100%; table-layout: fixed; } table.gen td { white-space: pre-wrap; word-wrap: break-word; font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
table.gen td.exact { background: #e8f5e9 !important; } .tick { color: #2e7d32; font-weight: bold; } td.none { color: #9e9e9e; }
details summary { cursor: pointer; color: #1f77b4; margin: 8px 0; }
footer { margin-top: 32px; font-size: 12px; color: #757575; }
)";

} // namespace

QString reportMarkdown(const ReportContent& c, const std::vector<ReportChart>& charts, const ReportStamp& stamp)
{
    QString out = QStringLiteral("# %1\n\n%2\n\n").arg(markdownEscaped(c.title), c.headlineMarkdown);
    for (const QString& f : c.facts) out += QStringLiteral("- %1\n").arg(markdownEscaped(f));
    out += QStringLiteral("\nThe same report on one page: [report.html](report.html). Raw numbers: [summary.csv](summary.csv), "
                          "[config.csv](config.csv), [generations.csv](generations.csv).\n\n");
    out += mdSection(c.summary) + mdSection(c.memory);
    for (const ReportChart& ch : charts)
        if (!ch.svgAndCsv) out += QStringLiteral("![%1](%2.png)\n\n").arg(markdownEscaped(ch.title), ch.stem);
    out += mdSection(c.losses);
    out += QStringLiteral("## Charts\n\n");
    for (const ReportChart& ch : charts) {
        if (!ch.svgAndCsv) continue;
        out += QStringLiteral("### %1\n\n%2\n\n![%1](%3.png)\n\n[SVG](%3.svg) · [data (CSV)](%3.csv)\n\n")
                   .arg(markdownEscaped(ch.title), markdownEscaped(ch.caption), ch.stem);
    }
    if (!c.examples.empty()) {
        out += QStringLiteral("## Generations\n\n%1 prompts of the validation set, answered by the base model and by each run; "
                              "✓ marks an answer equal to its target.\n\n")
                   .arg(c.examples.size());
        int n = 0;
        for (const ReportExample& x : c.examples) {
            out += QStringLiteral("### Example %1\n\n**Input**\n\n").arg(++n) + mdFence(x.prompt.trimmed()) + QLatin1Char('\n');
            QList<QStringList> rows{{QStringLiteral("**Target**"), markdownCell(x.target)}};
            if (!x.rejected.isEmpty()) rows << QStringList{QStringLiteral("Rejected"), markdownCell(x.rejected)};
            rows << QStringList{QStringLiteral("Base model") + mark(x.base, x.target), markdownCell(x.base)};
            for (int i = 0; i < c.runLabels.size(); ++i)
                rows << QStringList{markdownCell(c.runLabels[i]) + mark(x.outputs[i], x.target),
                                    x.outputs[i].isEmpty() ? QStringLiteral("–") : markdownCell(x.outputs[i])};
            out += markdownTable({QStringLiteral(" "), QStringLiteral("Answer")}, rows) + QLatin1Char('\n');
        }
    }
    out += QStringLiteral("## Configuration\n\n");
    out += mdSection(c.varying, QStringLiteral("###")) + mdSection(c.options, QStringLiteral("###"));
    out += QStringLiteral("---\n\nWritten %1 by LoRA Lab %2.\n").arg(stamp.written, stamp.version);
    return out;
}

QString reportHtml(const ReportContent& c, const std::vector<ReportChart>& charts, const ReportStamp& stamp, const QString& folder)
{
    QString out = QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                                 "<title>%1</title><style>%2</style></head><body><main>\n")
                      .arg(esc(c.title), QLatin1String(kStyle));
    out += QStringLiteral("<h1>%1</h1>\n<div class=\"headline\">%2</div>\n<ul class=\"facts\">").arg(esc(c.title), c.headlineHtml);
    for (const QString& f : c.facts) out += QStringLiteral("<li>%1</li>").arg(esc(f));
    out += QStringLiteral("</ul>\n<nav><a href=\"#runs\">Runs</a><a href=\"#memory\">Memory</a><a href=\"#losses\">Losses</a>"
                          "<a href=\"#charts\">Charts</a><a href=\"#generations\">Generations</a><a href=\"#config\">Configuration</a>"
                          "<a href=\"report.md\">Markdown</a><a href=\"summary.csv\">CSV</a></nav>\n");
    out += htmlSection(c.summary, QStringLiteral("runs")) + htmlSection(c.memory, QStringLiteral("memory"));
    for (const ReportChart& ch : charts)
        if (!ch.svgAndCsv)
            out += QStringLiteral("<figure class=\"bars\"><img alt=\"%1\" src=\"%2\"><figcaption>%3</figcaption></figure>\n")
                       .arg(esc(ch.title), dataUri(folder, ch.stem + QStringLiteral(".png")), esc(ch.caption));
    out += htmlSection(c.losses, QStringLiteral("losses"));
    out += QStringLiteral("<h2 id=\"charts\">Charts</h2>\n<div class=\"charts\">\n");
    for (const ReportChart& ch : charts) {
        if (!ch.svgAndCsv) continue;
        out += QStringLiteral("<figure><img alt=\"%1\" src=\"%2\"><figcaption>%3 <a href=\"%4.svg\">SVG</a><a href=\"%4.csv\">CSV</a>"
                              "</figcaption></figure>\n")
                   .arg(esc(ch.title), dataUri(folder, ch.stem + QStringLiteral(".png")), esc(ch.caption), ch.stem);
    }
    out += QStringLiteral("</div>\n");
    if (!c.examples.empty()) {
        bool rejected = false;
        for (const ReportExample& x : c.examples) rejected = rejected || !x.rejected.isEmpty();
        out += QStringLiteral("<h2 id=\"generations\">Generations</h2>\n<p class=\"note\">%1 prompts of the validation set, answered "
                              "by the base model and by each run; green marks an answer equal to its target.</p>\n"
                              "<div class=\"scroll\"><table class=\"gen\"><thead><tr><th>Input</th><th>Target</th>")
                   .arg(c.examples.size());
        if (rejected) out += QStringLiteral("<th>Rejected</th>");
        out += QStringLiteral("<th>Base model</th>");
        for (const QString& label : c.runLabels) out += QStringLiteral("<th>%1</th>").arg(esc(label));
        out += QStringLiteral("</tr></thead><tbody>\n");
        for (const ReportExample& x : c.examples) {
            // Prompts begin with the dialogue's blank lines; the page starts at the text.
            out += QStringLiteral("<tr><td>%1</td><td>%2</td>").arg(esc(x.prompt.trimmed()), esc(x.target));
            if (rejected) out += QStringLiteral("<td>%1</td>").arg(esc(x.rejected));
            out += answerCell(x.base, x.target);
            for (const QString& o : x.outputs) out += answerCell(o, x.target);
            out += QStringLiteral("</tr>\n");
        }
        out += QStringLiteral("</tbody></table></div>\n");
    }
    out += QStringLiteral("<h2 id=\"config\">Configuration</h2>\n");
    if (!c.varying.rows.isEmpty()) out += htmlSection(c.varying, QStringLiteral("varying"), QStringLiteral("h3"));
    out += QStringLiteral("<details%1><summary>%2 (%3)</summary>")
               .arg(c.varying.rows.isEmpty() ? QStringLiteral(" open") : QString(), esc(c.options.title))
               .arg(c.options.rows.size());
    out += QStringLiteral("<div class=\"scroll\">") + htmlTable(c.options) + QStringLiteral("</div></details>\n");
    out += QStringLiteral("<footer>Written %1 by LoRA Lab %2.</footer>\n</main></body></html>\n").arg(esc(stamp.written), esc(stamp.version));
    return out;
}

} // namespace loralab::ui
