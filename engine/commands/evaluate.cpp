// loralab-cli eval: the mean negative log-likelihood of completions; see tools.h.
#include "engine/commands/tools.h"

#include "engine/config/resources.h"
#include "engine/data/collate.h"
#include "engine/data/micro_batches.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/train/loss.h"
#include "engine/util/error.h"

#include <cmath>
#include <limits>
#include <optional>

namespace loralab {

double CompletionEval::perplexity() const { return std::exp(loss); }

CompletionEval evaluateCompletions(const std::string& model, const std::string& adapterDir, const std::string& dataFile,
                                   const std::string& device, std::int64_t batchSize)
{
    LoadOptions options;
    options.device = resolveDevice(device);
    const LoadedModel loaded = loadModel(resolveModelSpec(model), options);
    if (!loaded.tokenizer) throw Error(model + " has no tokenizer; give a model directory");
    std::vector<std::string> warnings;
    if (!adapterDir.empty()) {
        const AdapterConfig adapter = loadAdapter(*loaded.net, adapterDir);
        if (const std::string w = adapterBaseWarning(adapter, adapterDir, model); !w.empty()) warnings.push_back(w);
    }
    const Dataset data = loadDataset(dataFile);
    if (data.isText()) throw fileError(dataFile, "is text; eval scores completions of prompt/completion, HH or chat JSONL");

    TokenizeOptions t;
    t.maxLen = std::numeric_limits<std::int64_t>::max() / 4;
    t.appendEos = false;
    // Chat data as the model's own chat template renders it.
    std::optional<ChatTemplate> chatTemplate;
    if (data.isChat()) chatTemplate = ChatTemplate::forModel(loaded.dir);
    t.chatTemplate = chatTemplate ? &*chatTemplate : nullptr;
    std::vector<TokenizedExample> examples;
    // Scores are of whole examples: one longer than the model's context is
    // refused by line rather than cut (a cut would change what is measured).
    const std::int64_t context = loaded.config.maxPositions;
    for (const auto& e : data.examples) {
        examples.push_back(tokenizeExample(*loaded.tokenizer, e, t));
        const auto length = static_cast<std::int64_t>(examples.back().ids.size());
        if (context > 0 && length > context)
            throw fileError(dataFile, "line " + std::to_string(e.line) + ": prompt and completion are " + std::to_string(length) +
                                          " tokens, longer than the model's context of " + std::to_string(context) +
                                          " (max_position_embeddings)");
    }

    const EvaluationMode evaluation(*loaded.net);
    CompletionEval out;
    double sum = 0.0;
    for (const BatchRange& range : batchRanges(examples.size(), batchSize)) {
        const Batch b = collate(batchItems(examples, range), loaded.tokenizer->paddingId(), options.device);
        const LossOutput l = modelLoss(*loaded.net, b.ids, b.mask, b.labels);
        sum += l.loss.item<double>() * static_cast<double>(l.tokens);
        out.tokens += l.tokens;
    }
    out.examples = static_cast<std::int64_t>(examples.size());
    out.warnings = warnings;
    if (out.tokens == 0) throw fileError(dataFile, "has no completion tokens to score");
    out.loss = sum / static_cast<double>(out.tokens);
    if (!std::isfinite(out.loss))
        throw Error(model + ": the loss on " + dataFile + " is not finite (" + std::to_string(out.loss) +
                    "): the model's outputs overflow or hold NaN");
    return out;
}

} // namespace loralab
