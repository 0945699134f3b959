// The experiment report as documents: report.md (tables and images beside
// it, as Git hosts and Markdown viewers show it) and report.html (one
// self-contained page: inline style, the charts embedded as data URIs, the
// generations in a grid with exact answers marked).
#pragma once

#include "ui/report/report_charts.h"
#include "ui/report/report_content.h"

#include <QString>

#include <vector>

namespace loralab::ui {

struct ReportStamp {
    QString written; // "2026-12-03 09:12"
    QString version; // LoRA Lab's
};

QString reportMarkdown(const ReportContent& content, const std::vector<ReportChart>& charts, const ReportStamp& stamp);
// `folder` holds the charts' PNGs, which the page embeds; throws
// loralab::Error naming one that cannot be read.
QString reportHtml(const ReportContent& content, const std::vector<ReportChart>& charts, const ReportStamp& stamp,
                   const QString& folder);

} // namespace loralab::ui
