// loralab-cli datasets and data: the datasets in the Hugging Face caches, and
// what a run would see of one: its configurations and splits, rows, columns,
// and the first examples as the model's template renders them, with their
// token ids and loss masks.
#include "commands.h"

#include "engine/config/resources.h"
#include "engine/data/columnar/columnar_file.h"
#include "engine/data/hub_datasets.h"
#include "engine/run/run_setup.h"
#include "engine/train/loss.h"
#include "engine/util/error.h"
#include "engine/util/units.h"

#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

namespace loralab::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string listText(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

Json configsJson(const HubDataset& d)
{
    Json configs = Json::array();
    for (const auto& c : d.configs) {
        Json splits = Json::array();
        for (const auto& s : c.splits) {
            Json files = Json::array();
            for (const auto& f : s.files) files.push_back(f.string());
            splits.push_back({{"name", s.name}, {"files", files}});
        }
        configs.push_back({{"name", c.name}, {"default", c.isDefault}, {"data_dir", c.dataDir}, {"splits", splits}});
    }
    return configs;
}

int runDatasets(const Args& args)
{
    const auto hub = hfCacheDir();
    const auto arrow = hfDatasetsCacheDir();
    const auto all = listCachedDatasets(hub, arrow);
    if (args.has("json")) {
        Json list = Json::array();
        for (const auto& d : all)
            list.push_back({{"repo_id", d.repoId}, {"revision", d.revision}, {"root", d.root.string()},
                            {"arrow_cache", d.arrowCache}, {"size_bytes", d.sizeBytes}, {"configurations", configsJson(d)},
                            {"data_dirs", d.dataDirs}});
        std::cout << Json{{"hub_cache", hub.string()}, {"datasets_cache", arrow.string()}, {"datasets", list}}.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
        return 0;
    }
    if (all.empty()) {
        std::cout << "No datasets in the Hugging Face hub cache " << hub.string() << " or the datasets cache " << arrow.string()
                  << ".\nThe caches are $HF_HUB_CACHE (else $HF_HOME/hub) and $HF_DATASETS_CACHE (else $HF_HOME/datasets).\n"
                  << "Download one with `huggingface-cli download Salesforce/wikitext --repo-type dataset`, or give a file.\n";
        return 0;
    }
    std::cout << "Hugging Face hub cache " << hub.string() << ", datasets cache " << arrow.string() << "\n";
    for (const auto& d : all) {
        std::cout << "  " << d.repoId << "  " << bytesText(d.sizeBytes) << "  "
                  << (d.arrowCache ? "Arrow cache " : d.revision.substr(0, 12) + "  ") << d.root.string() << "\n";
        for (const auto& c : d.configs) {
            std::cout << "    " << c.name << (c.isDefault ? " (default)" : "") << ":";
            for (const auto& s : c.splits) std::cout << " " << s.name << " (" << s.files.size() << (s.files.size() == 1 ? " file)" : " files)");
            std::cout << "\n";
        }
        if (!d.dataDirs.empty()) std::cout << "    data_dir: " << listText(d.dataDirs) << "\n";
    }
    std::cout << "Name one as a run's dataset, e.g. loralab-cli data " << all.front().repoId << "\n";
    return 0;
}

// The columns of a file as a run reads them: a Parquet or Arrow schema, or
// the keys of a JSONL file's first record.
std::vector<std::string> columnsOf(const std::filesystem::path& file)
{
    std::vector<std::string> out;
    if (detectColumnarFormat(file.string()) != ColumnarFormat::None) {
        for (const auto& c : columnarSchema(file.string())) out.push_back(c.name + " (" + c.type + ")");
        return out;
    }
    const std::string text = readMaybeGzip(file);
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const auto j = Json::parse(text.begin() + static_cast<std::ptrdiff_t>(start), text.begin() + static_cast<std::ptrdiff_t>(end),
                                   nullptr, false);
        start = end + 1;
        if (j.is_object()) {
            for (const auto& [key, value] : j.items()) out.push_back(key);
            break;
        }
        if (!j.is_discarded()) break;
    }
    return out;
}

int runData(const Args& args)
{
    if (args.positional().empty()) throw Error("data: name a dataset (Org/Name from the Hugging Face cache, a file, or default:dialogues)");
    RunConfig config;
    applySetOptions(args, config);
    config.dataset = args.positional()[0];
    if (args.has("config")) config.datasetConfig = args.get("config");
    if (args.has("data-dir")) config.datasetDataDir = args.get("data-dir");
    if (args.has("split")) config.datasetSplit = args.get("split");
    if (args.has("model")) config.model = args.get("model");
    const auto count = args.getInt("examples", 3, 0, 1000);
    const bool json = args.has("json");

    Json out;
    out["dataset"] = config.dataset;
    std::optional<HubDataset> hub;
    if (isHubRepoSpec(config.dataset) && config.dataset.rfind("default:", 0) != 0) {
        try {
            hub = findCachedDataset(config.dataset, config.datasetDataDir);
        } catch (const Error&) {
            // A file path of that shape, or a dataset not cached: resolving says which.
        }
    }
    if (hub) {
        out["repo_id"] = hub->repoId;
        out["revision"] = hub->revision;
        out["root"] = hub->root.string();
        out["configurations"] = configsJson(*hub);
        out["data_dirs"] = hub->dataDirs;
        if (!json) {
            std::cout << hub->repoId << "  " << (hub->arrowCache ? "from the datasets cache" : "revision " + hub->revision.substr(0, 12))
                      << "  " << hub->root.string() << "\n";
            std::cout << "configurations" << (hub->fromCard ? " (from the dataset card)" : " (from the file names)") << ":\n";
            for (const auto& c : hub->configs) {
                std::cout << "  " << c.name << (c.isDefault ? " (default)" : "") << (c.dataDir.empty() ? "" : " [data_dir " + c.dataDir + "]")
                          << ":";
                for (const auto& s : c.splits) std::cout << " " << s.name << " (" << s.files.size() << (s.files.size() == 1 ? " file)" : " files)");
                std::cout << "\n";
            }
            if (!hub->dataDirs.empty()) std::cout << "data_dir choices: " << listText(hub->dataDirs) << "\n";
        }
    }
    const DatasetFiles files = resolveDatasets(datasetRequest(config));
    const Dataset data = loadDatasetFiles(files.train.files, files.train.label, config.datasetFormat, config.columnMapping());
    std::vector<std::string> fileNames;
    for (const auto& f : files.train.files) fileNames.push_back(f.string());
    const std::vector<std::string> columns = data.isText() && detectColumnarFormat(files.train.files.front().string()) == ColumnarFormat::None
                                                 ? std::vector<std::string>{}
                                                 : columnsOf(files.train.files.front());
    out["split"] = files.train.label;
    out["files"] = fileNames;
    out["format"] = choiceName(data.format);
    out["examples_read"] = data.examples.size();
    out["skipped"] = data.skipped.size();
    out["columns"] = columns;
    if (!json) {
        std::cout << "split       " << files.train.label << "\n"
                  << "format      " << choiceName(data.format) << "\n"
                  << "examples    " << data.examples.size() << (data.skipped.empty() ? "" : "; " + data.skippedSummary()) << "\n";
        if (!columns.empty()) std::cout << "columns     " << listText(columns) << "\n";
        if (!files.validation.empty()) std::cout << "validation  " << files.validation.label << "\n";
        if (!files.test.empty()) std::cout << "test        " << files.test.label << "\n";
    }
    if (!files.validation.empty()) out["validation"] = files.validation.label;
    if (!files.test.empty()) out["test"] = files.test.label;

    Json examples = Json::array();
    if (count > 0) {
        const std::string modelDir = resolveModelSpec(config.model);
        const auto tokenizer = loadTokenizer(config.tokenizer.empty() ? modelDir : resolveModelSpec(config.tokenizer));
        std::optional<ChatTemplate> chatTemplate;
        if (data.isChat()) chatTemplate = chatTemplateFor(config);
        if (chatTemplate) {
            out["template"] = chatTemplate->isJinja() ? chatTemplate->sourceName() : "Human/Assistant layout";
            if (!json) std::cout << "template    " << (chatTemplate->isJinja() ? chatTemplate->sourceName() : "the Human/Assistant layout (the model has none)") << "\n";
        }
        const TokenizeOptions options = tokenizeOptions(config, chatTemplate ? &*chatTemplate : nullptr);
        std::vector<TokenizedExample> tokenized;
        if (data.isText()) {
            // Lines tokenize one at a time, so the first blocks come from a
            // prefix of the lines: one long enough for a block past those shown.
            for (std::size_t lines = 64;; lines *= 4) {
                const std::size_t n = std::min(lines, data.examples.size());
                const std::vector<Example> prefix(data.examples.begin(), data.examples.begin() + static_cast<std::ptrdiff_t>(n));
                tokenized = tokenizeText(*tokenizer, prefix, config.maxLen, config.textMode);
                if (static_cast<std::int64_t>(tokenized.size()) > count || n == data.examples.size()) break;
            }
        } else {
            for (std::int64_t i = 0; i < count && i < static_cast<std::int64_t>(data.examples.size()); ++i)
                tokenized.push_back(tokenizeExample(*tokenizer, data.examples[static_cast<std::size_t>(i)], options));
        }
        for (std::int64_t i = 0; i < count && i < static_cast<std::int64_t>(tokenized.size()); ++i) {
            const TokenizedExample& t = tokenized[static_cast<std::size_t>(i)];
            // The mask as transformers gives it (a label per token); the loss
            // never counts the first token, which nothing predicts.
            std::string mask;
            for (const std::int64_t label : t.labels) mask += label != kIgnoreIndex ? '1' : '0';
            const std::int64_t inLoss = labelTokens(t);
            Json e{{"index", i},
                   {"text", tokenizer->decode(t.ids)},
                   {"ids", t.ids},
                   {"loss_mask", mask},
                   {"tokens", t.ids.size()},
                   {"loss_tokens", inLoss}};
            if (!data.isText()) e["line"] = data.examples[t.source].line;
            examples.push_back(e);
            if (!json) {
                std::cout << "\n--- example " << i + 1 << (data.isText() ? " (block of max_len tokens)" : ", line " + std::to_string(data.examples[t.source].line))
                          << ": " << t.ids.size() << " tokens, " << inLoss << " in the loss\n"
                          << tokenizer->decode(t.ids) << "\n"
                          << "ids  ";
                for (std::size_t k = 0; k < t.ids.size(); ++k) std::cout << (k ? " " : "") << t.ids[k];
                std::cout << "\nmask " << mask << "\n";
            }
        }
    }
    out["shown"] = examples;
    if (json) std::cout << out.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    return 0;
}

} // namespace

std::vector<Command> dataCommands()
{
    return {
        {"datasets", "datasets [--json]",
         "the datasets in the Hugging Face hub and datasets caches, with their configurations and splits",
         {{"json", "", "print one JSON object"}},
         runDatasets},
        {"data", "data Org/Name|FILE [--config NAME] [--data-dir DIR] [--split SPLIT] [--model MODEL] [--json]",
         "what a run would see of a dataset: configurations, splits, rows, columns, and the first examples rendered with "
         "their token ids and loss masks",
         {{"config", "NAME", "the dataset's configuration (default: its default one)"},
          {"data-dir", "DIR", "the dataset's folder to read, e.g. harmless-base"},
          {"split", "SPLIT", "the split to read (default: train)"},
          {"model", "MODEL", "whose tokenizer and chat template render the examples (default: the embedded model)"},
          {"examples", "N", "examples to show (default 3)"},
          {"set", "KEY=VALUE", "a run option, e.g. --set messages_column=dialog or --set max_len=256"},
          {"json", "", "print one JSON object"}},
         runData},
    };
}

} // namespace loralab::cli
