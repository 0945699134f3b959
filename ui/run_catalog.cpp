#include "ui/run_catalog.h"

#include "ui/metatypes.h"

#include "engine/runner/experiment.h"
#include "engine/util/files.h"

#include <QDir>
#include <QFileInfo>

#include <nlohmann/json.hpp>

namespace loralab::ui {

namespace {

const QString kNotesFile = QStringLiteral("notes.json");

bool isRunDir(const QDir& d) { return d.exists(QStringLiteral("config.json")) || d.exists(QStringLiteral("metrics.jsonl")); }

QString optionText(const RunConfig& c, const char* key)
{
    return QString::fromStdString(runOptionJson(c, key)).remove(QLatin1Char('"')).remove(QLatin1Char('[')).remove(QLatin1Char(']'));
}

QString outcomeName(StopReason reason) { return QString::fromStdString(stopReasonName(reason)).replace(QLatin1Char('_'), QLatin1Char(' ')); }

// What every entry has: where it is, its name and title, when it began.
RunEntry folderEntry(const QString& path)
{
    RunEntry e;
    e.dir = path;
    const QFileInfo info(path);
    e.folder = info.fileName();
    e.title = readNotes(path).title;
    e.started = info.birthTime().isValid() ? info.birthTime() : info.lastModified();
    return e;
}

RunEntry readRun(const QString& path)
{
    RunEntry e = folderEntry(path);
    const QDir d(path);
    try {
        if (d.exists(QStringLiteral("config.json"))) {
            const RunConfig c = loadRunConfig(sstr(d.filePath(QStringLiteral("config.json"))));
            e.method = QString::fromLatin1(runMethodName(c.method));
            e.model = qstr(c.model);
            e.dataset = qstr(c.dataset);
            e.learningRate = optionText(c, "learning_rate");
            e.batch = optionText(c, "batch_size");
            e.maxLen = optionText(c, "max_len");
            if (c.method != RunMethod::Full) {
                e.rank = optionText(c, "lora_r");
                e.alpha = optionText(c, "lora_alpha");
                e.targets = optionText(c, "lora_targets").replace(QLatin1Char(','), QLatin1Char('+'));
            }
        }
        if (d.exists(QStringLiteral("summary.json"))) {
            const RunSummary s = runSummaryFromJson(readTextFile(sstr(d.filePath(QStringLiteral("summary.json")))));
            e.steps = s.steps;
            e.bestValLoss = s.bestValLoss;
            e.outcome = outcomeName(s.stopReason);
            e.resumable = s.stopReason == StopReason::Cancelled;
        } else {
            e.outcome = QObject::tr("not finished");
            e.resumable = true;
        }
        e.resumable = e.resumable && QFileInfo(d.filePath(QStringLiteral("checkpoints/last"))).exists();
    } catch (const std::exception&) {
        e.outcome = QObject::tr("unreadable");
    }
    return e;
}

} // namespace

RunNotes readNotes(const QString& dir)
{
    RunNotes n;
    const QString path = QDir(dir).filePath(kNotesFile);
    if (!QFileInfo::exists(path)) return n;
    try {
        const auto j = nlohmann::json::parse(readTextFile(sstr(path)));
        n.title = qstr(j.value("title", ""));
        n.notes = qstr(j.value("notes", ""));
    } catch (const std::exception&) {
        // Unreadable notes read as none; the next save replaces them.
    }
    return n;
}

bool writeNotes(const QString& dir, const RunNotes& notes)
{
    try {
        const nlohmann::json j = {{"title", sstr(notes.title)}, {"notes", sstr(notes.notes)}};
        writeFileAtomic(sstr(QDir(dir).filePath(kNotesFile)), j.dump(2) + "\n");
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

RunEntry readEntry(const QString& path)
{
    if (!isExperimentDir(sstr(path))) return readRun(path);
    RunEntry e = folderEntry(path);
    e.experiment = true;
    const QString file = QDir(path).filePath(QStringLiteral("experiment.json"));
    int finished = 0;
    if (QFileInfo::exists(file)) {
        try {
            const auto j = nlohmann::json::parse(readTextFile(sstr(file)));
            for (const auto& r : j.value("runs", nlohmann::json::array())) {
                const QString runDir = qstr(r.value("dir", ""));
                RunEntry child;
                if (!runDir.isEmpty() && QFileInfo(QDir(path).filePath(runDir)).isDir()) {
                    child = readRun(QDir(path).filePath(runDir));
                } else {
                    child.outcome = QObject::tr("not started");
                    child.folder = QObject::tr("(not started)");
                }
                if (child.title.isEmpty()) child.title = qstr(r.value("label", ""));
                e.children << child;
            }
        } catch (const std::exception&) {
            e.outcome = QObject::tr("unreadable");
        }
    } else {
        // A comparison of older versions: its runs are its subfolders.
        for (const QFileInfo& sub : QDir(path).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
            if (sub.fileName() != QLatin1String("checkpoints") && isRunDir(QDir(sub.filePath()))) e.children << readRun(sub.filePath());
        std::stable_sort(e.children.begin(), e.children.end(),
                         [](const RunEntry& a, const RunEntry& b) { return a.method == QLatin1String("lora") && b.method != QLatin1String("lora"); });
    }
    QStringList methods;
    for (const RunEntry& c : e.children) {
        finished += c.outcome == QLatin1String("completed") || c.outcome == QLatin1String("early stopping") ||
                    c.outcome == QLatin1String("user stop");
        e.resumable = e.resumable || c.resumable || c.outcome == QObject::tr("not started");
        if (!c.method.isEmpty() && !methods.contains(c.method)) methods << c.method;
        if (c.bestValLoss >= 0 && (e.bestValLoss < 0 || c.bestValLoss < e.bestValLoss)) e.bestValLoss = c.bestValLoss;
    }
    e.method = methods.join(QStringLiteral(" vs "));
    if (e.outcome.isEmpty()) e.outcome = QObject::tr("%1 of %2 runs finished").arg(finished).arg(e.children.size());
    return e;
}

QList<RunEntry> scanRuns(const QString& runsDir)
{
    QList<RunEntry> out;
    for (const QFileInfo& info : QDir(runsDir).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QDir d(info.filePath());
        if (isRunDir(d) || isExperimentDir(sstr(info.filePath()))) out << readEntry(info.filePath());
    }
    return out;
}

} // namespace loralab::ui
