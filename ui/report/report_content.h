// What an experiment report says, before it is written as Markdown, HTML or
// CSV: its tables (the per-run summary, memory by kind, losses, the
// configuration) as plain-text cells, and the sampled answers grouped by
// prompt across runs. Numbers are the Summary tab's (summary_columns.h).
#pragma once

#include "ui/metatypes.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <vector>

namespace loralab::ui {

struct ReportTable {
    QString title;
    QString note; // a sentence under the title; may be empty
    QStringList header;
    QList<QStringList> rows; // plain text; a cell may hold line breaks
    QList<bool> right;       // per column: numbers, aligned right
};

// One prompt of the validation set and what every run answered to it.
struct ReportExample {
    QString prompt;
    QString target;
    QString rejected;       // preference data only
    QString base;           // the model before fine-tuning
    QStringList outputs;    // per run, in run order; empty where a run has no answer
};

struct ReportContent {
    QString title;                // "lora-vs-full: LoRA against full fine-tuning"
    QString headlineMarkdown;     // summaryHeadline
    QString headlineHtml;
    QStringList facts;            // "Model: …", "Dataset: …", "Experiment folder: …"
    QStringList runLabels;
    ReportTable summary;
    ReportTable memory;
    ReportTable losses;
    ReportTable varying;          // options that differ between the runs (none for a lone run)
    ReportTable options;          // every other option and its value, shared by all runs
    std::vector<ReportExample> examples;
};

ReportContent reportContent(const Experiment& experiment);

// The CSV files, with raw numbers (bytes, milliseconds, full precision):
// a row per run; every option × run; a row per prompt with each run's answer.
QString summaryCsv(const Experiment& experiment);
QString configCsv(const Experiment& experiment);
QString generationsCsv(const ReportContent& content);

} // namespace loralab::ui
