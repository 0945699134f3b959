// Generation; see generation.h.
#include "engine/model/generation.h"

#include "engine/util/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

namespace loralab {
namespace {

// splitmix64: a tiny, well-mixed generator whose whole state is one integer,
// so a sampling position can be reproduced from (seed, step) alone.
double nextUniform(std::uint64_t& state)
{
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
}

bool endsInsideCharacter(const std::string& text)
{
    static const std::string kReplacement = "\xEF\xBF\xBD";
    return text.size() >= 3 && text.compare(text.size() - 3, 3, kReplacement) == 0;
}

// How much of `text` can be shown: not a trailing partial UTF-8 character, nor
// a tail that may turn out to be the start of a stop string.
std::size_t safeLength(const std::string& text, const std::vector<std::string>& stops)
{
    if (endsInsideCharacter(text)) return 0;
    std::size_t hold = 0;
    for (const auto& s : stops) {
        if (s.empty()) continue;
        for (std::size_t n = std::min(s.size() - 1, text.size()); n > hold; --n)
            if (s.compare(0, n, text, text.size() - n, n) == 0) {
                hold = n;
                break;
            }
    }
    return text.size() - hold;
}

} // namespace

std::int64_t pickToken(std::vector<double> logits, const std::vector<std::int64_t>& history, const SamplingOptions& o,
                       std::uint64_t& rngState)
{
    const auto vocab = static_cast<std::int64_t>(logits.size());
    if (o.repetitionPenalty != 1.0) {
        for (const auto id : std::set<std::int64_t>(history.begin(), history.end())) {
            if (id < 0 || id >= vocab) continue;
            double& l = logits[static_cast<std::size_t>(id)];
            l = l < 0 ? l * o.repetitionPenalty : l / o.repetitionPenalty;
        }
    }
    if (o.temperature <= 0.0)
        return std::max_element(logits.begin(), logits.end()) - logits.begin();

    std::vector<std::int64_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return logits[a] > logits[b]; });
    std::size_t keep = order.size();
    if (o.topK > 0) keep = std::min<std::size_t>(keep, static_cast<std::size_t>(o.topK));

    std::vector<double> probs(keep);
    const double top = logits[order[0]] / o.temperature;
    double total = 0.0;
    for (std::size_t i = 0; i < keep; ++i) total += probs[i] = std::exp(logits[order[i]] / o.temperature - top);
    if (o.topP < 1.0) {
        // The smallest prefix of the sorted tokens whose mass reaches top_p.
        double mass = 0.0;
        std::size_t n = 0;
        while (n < keep) {
            mass += probs[n++] / total;
            if (mass >= o.topP) break;
        }
        keep = std::max<std::size_t>(n, 1);
        total = std::accumulate(probs.begin(), probs.begin() + static_cast<std::ptrdiff_t>(keep), 0.0);
    }
    double r = nextUniform(rngState) * total;
    for (std::size_t i = 0; i < keep; ++i) {
        r -= probs[i];
        if (r <= 0.0) return order[i];
    }
    return order[keep - 1];
}

GenerationResult generate(CausalLMImpl& net, const Tokenizer* tokenizer, const std::vector<std::int64_t>& promptIds,
                          const SamplingOptions& options, const TextCallback& onText)
{
    if (promptIds.empty()) throw Error("generation needs a non-empty prompt");
    if (const auto problems = samplingProblems(options); !problems.empty()) {
        std::string text = "sampling settings:";
        for (const auto& p : problems) text += " " + p + ";";
        throw Error(text);
    }
    const auto vocab = net.config().vocabSize;
    for (const auto id : promptIds)
        if (id < 0 || id >= vocab) throw Error("prompt token id " + std::to_string(id) + " is outside the vocabulary");
    // Positions past the context have no trained position (rotary tables and
    // attention end there): the prompt must leave room, and generation stops
    // when the context is full.
    const auto context = net.config().maxPositions;
    if (context > 0 && static_cast<std::int64_t>(promptIds.size()) >= context)
        throw Error("the prompt has " + std::to_string(promptIds.size()) + " tokens, and the model's context is " +
                    std::to_string(context) + " (max_position_embeddings): no room is left to generate; shorten the prompt");

    torch::NoGradGuard noGrad;
    const bool wasTraining = net.is_training();
    net.eval();
    const torch::Device device = net.parameters().front().device();

    GenerationResult result;
    std::vector<std::int64_t> history = promptIds;
    std::uint64_t rng = options.seed;
    KvCache cache;
    torch::Tensor input = torch::tensor(promptIds, torch::kInt64).view({1, -1}).to(device);
    std::size_t emitted = 0;
    result.stopReason = "max_tokens";
    for (std::int64_t step = 0; step < options.maxNewTokens; ++step) {
        if (context > 0 && static_cast<std::int64_t>(history.size()) >= context) {
            result.stopReason = "context_full";
            break;
        }
        const torch::Tensor hidden = net.hiddenStates(input, {}, &cache);
        const torch::Tensor last = net.logits(hidden.select(1, hidden.size(1) - 1)).to(torch::kCPU, torch::kFloat64);
        const double* row = last.data_ptr<double>();
        const std::int64_t next = pickToken(std::vector<double>(row, row + last.size(1)), history, options, rng);
        if (options.stopAtEos && tokenizer && next == tokenizer->eosId()) {
            result.stopReason = "eos";
            break;
        }
        result.ids.push_back(next);
        history.push_back(next);
        input = torch::tensor({next}, torch::kInt64).view({1, 1}).to(device);
        if (!tokenizer) continue;

        std::string text = tokenizer->decode(result.ids);
        bool stop = false;
        for (const auto& s : options.stopStrings) {
            const auto at = text.find(s);
            if (!s.empty() && at != std::string::npos) {
                text.resize(at);
                stop = true;
            }
        }
        result.text = text;
        const std::size_t shown = stop ? text.size() : safeLength(text, options.stopStrings);
        if (shown > emitted) {
            if (onText && !onText(text.substr(emitted, shown - emitted))) {
                result.stopReason = "cancelled";
                break;
            }
            emitted = shown;
        }
        if (stop) {
            result.stopReason = "stop_string";
            break;
        }
    }
    if (onText && result.stopReason != "cancelled" && result.text.size() > emitted) onText(result.text.substr(emitted));
    net.train(wasTraining);
    return result;
}

} // namespace loralab
