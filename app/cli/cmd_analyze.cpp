// loralab-cli analyze: how large and how low-rank each layer's update is, its
// intruder dimensions, and with a second checkpoint the subspace similarity
// of the two updates; as tables or JSON.
#include "commands.h"
#include "progress.h"

#include "engine/analysis/analysis_json.h"
#include "engine/analysis/update_analysis.h"
#include "engine/config/resources.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <climits>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

namespace loralab::cli {
namespace {

std::string fixed(double v, int digits)
{
    std::ostringstream out;
    out << std::fixed << std::setprecision(digits) << v;
    return out.str();
}

std::string general(double v)
{
    std::ostringstream out;
    out << std::setprecision(4) << v;
    return out.str();
}

// Left-aligned first column, the others right-aligned, each to its widest cell.
void printTable(const std::vector<std::vector<std::string>>& rows)
{
    std::vector<std::size_t> widths;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (widths.size() <= i) widths.push_back(0);
            widths[i] = std::max(widths[i], row[i].size());
        }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            const std::string pad(widths[i] - row[i].size(), ' ');
            line += i == 0 ? row[i] + pad : "  " + pad + row[i];
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        std::cout << line << "\n";
    }
}

void printAnalysis(const UpdateAnalysis& a)
{
    std::string method = updateKindName(a.kind);
    if (a.kind == UpdateKind::Lora && !a.layers.empty())
        method += " r=" + std::to_string(a.layers.front().loraRank) + ", scale " + general(a.layers.front().loraScale);
    std::cout << "checkpoint  " << a.checkpoint << " (" << method << ")\n"
              << "base model  " << a.baseModel << "\n"
              << "device      " << a.device << "; float64 up to " << a.options.float64MaxElements << " elements per matrix\n";
    if (a.options.intruders)
        std::cout << "intruders   top " << a.options.intruderTopK << " singular vectors of W + dW, epsilon "
                  << general(a.options.intruderEpsilon) << "\n";
    if (!a.complete) std::cout << "(stopped after " << a.layers.size() << " layers)\n";
    std::cout << "\n";

    const std::string energy = "rank " + fixed(100.0 * a.options.energyFraction, 0) + "%";
    std::vector<std::vector<std::string>> kinds = {{"kind", "layers", "|dW|/|W|", "eff. rank", energy}};
    if (a.options.intruders) kinds[0].push_back("intruders");
    for (const auto& k : a.kinds) {
        kinds.push_back({k.kind, std::to_string(k.layers), fixed(k.meanRelativeNorm, 4), fixed(k.meanEffectiveRank, 2),
                         fixed(k.meanEnergyRank, 1)});
        if (a.options.intruders) kinds.back().push_back(std::to_string(k.intruderTotal));
    }
    printTable(kinds);
    std::cout << "\n";

    std::vector<std::vector<std::string>> layers = {{"module", "layer", "shape", "|dW|", "|W|", "|dW|/|W|", "s1", "eff. rank", energy}};
    if (a.options.intruders) layers[0].push_back("intruders");
    for (const auto& u : a.layers) {
        layers.push_back({u.module, u.layer < 0 ? "-" : std::to_string(u.layer),
                          std::to_string(u.outFeatures) + "x" + std::to_string(u.inFeatures), general(u.updateNorm),
                          general(u.baseNorm), fixed(u.relativeNorm, 4),
                          u.singularValues.empty() ? "-" : general(u.singularValues.front()), fixed(u.effectiveRank, 2),
                          std::to_string(u.energyRank)});
        if (a.options.intruders) layers.back().push_back(std::to_string(u.intruderCount));
    }
    printTable(layers);
    for (const auto& note : a.notes) std::cout << "note: " << note << "\n";
}

void printComparison(const UpdateComparison& c)
{
    std::cout << "subspace similarity of the top-k " << singularSideName(c.options.side)
              << " singular vectors (k = min(" << c.options.k << ", both ranks)): "
              << c.a << " vs " << c.b << "\n\n";
    std::vector<std::vector<std::string>> kinds = {{"kind", "layers", "mean similarity"}};
    for (const auto& k : c.kinds) kinds.push_back({k.kind, std::to_string(k.layers), fixed(k.meanSimilarity, 4)});
    printTable(kinds);
    std::cout << "\n";
    std::vector<std::vector<std::string>> layers = {{"module", "layer", "k", "similarity"}};
    for (const auto& s : c.layers)
        layers.push_back({s.module, s.layer < 0 ? "-" : std::to_string(s.layer), std::to_string(s.k), fixed(s.similarity, 4)});
    printTable(layers);
    for (const auto& note : c.notes) std::cout << "note: " << note << "\n";
}

int runAnalyze(const Args& args)
{
    const std::string device = applyRuntimeOptions(args);
    if (args.positional().empty() || args.positional().size() > 2)
        throw Error("analyze needs a checkpoint or adapter folder, and optionally a second one to compare with it");
    if (!args.has("model")) throw Error("analyze needs --model BASE, the model the checkpoint was trained from");
    AnalysisOptions options;
    options.intruders = !args.has("no-intruders");
    options.intruderTopK = args.getInt("top-k", options.intruderTopK, 1, INT_MAX);
    options.intruderEpsilon = args.getDouble("epsilon", options.intruderEpsilon);
    CompareOptions compare;
    compare.k = args.getInt("subspace-k", compare.k, 1, INT_MAX);
    const std::string side = args.get("side", "right");
    if (side != "right" && side != "left") throw Error("--side is right or left, got '" + side + "'");
    compare.side = side == "right" ? SingularSide::Right : SingularSide::Left;
    const bool two = args.positional().size() == 2;
    if (two) options.keepDirections = compare.k;

    RunControl control;
    InterruptGuard interrupt(control);
    std::vector<UpdateAnalysis> analyses;
    for (const auto& checkpoint : args.positional()) {
        AnalysisInput input;
        input.baseModel = resolveModelSpec(args.get("model"));
        input.checkpoint = checkpoint;
        input.device = device;
        analyses.push_back(analyzeUpdate(input, options, [&](const AnalysisProgress& p) {
            if (args.has("verbose") && !p.module.empty())
                std::cerr << "[" << (p.done + 1) << "/" << p.total << "] " << p.module << "\n";
            return !control.cancel.load();
        }));
        if (!analyses.back().complete) break;
    }
    if (interrupt.signal() != 0) {
        std::cerr << "analyze: interrupted\n";
        return 128 + interrupt.signal();
    }

    nlohmann::ordered_json json;
    std::optional<UpdateComparison> comparison;
    if (two) comparison = compareUpdates(analyses[0], analyses[1], compare);
    if (two) {
        json["analyses"] = {updateAnalysisJson(analyses[0]), updateAnalysisJson(analyses[1])};
        json["comparison"] = updateComparisonJson(*comparison);
    } else {
        json = updateAnalysisJson(analyses[0]);
    }
    if (args.has("out")) writeFileAtomic(args.get("out"), json.dump(2) + "\n");
    if (args.has("json")) {
        std::cout << json.dump(2) << "\n";
        return 0;
    }
    for (std::size_t i = 0; i < analyses.size(); ++i) {
        if (i > 0) std::cout << "\n";
        printAnalysis(analyses[i]);
    }
    if (comparison) {
        std::cout << "\n";
        printComparison(*comparison);
    }
    return 0;
}

std::string analyzeHelp()
{
    return "CHECKPOINT is a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) or a full\n"
           "checkpoint folder (config.json + model.safetensors), trained from BASE. Per linear layer: the\n"
           "Frobenius norm of the update dW (LoRA: scale * B A; full: trained minus base weight) against the\n"
           "base weight's, its singular values (LoRA: exactly, from the r x r core of the QR factors of B and\n"
           "A^T), the effective rank exp(entropy of s_i / sum s) and the smallest k holding 90 % of sum s_i^2,\n"
           "and the intruder dimensions: top singular vectors of W + dW whose largest |cos| with any singular\n"
           "vector of W is below epsilon. Matrices up to " +
           std::to_string(kFloat64MaxElements) +
           " elements are decomposed in float64,\nlarger ones in float32.\n"
           "With a SECOND checkpoint of the same base, also the subspace similarity of the two updates per\n"
           "layer, ||U_a[:, :k]^T U_b[:, :k]||_F^2 / k over their top-k singular vectors.\n";
}

} // namespace

std::vector<Command> analyzeCommands()
{
    return {{"analyze", "analyze CHECKPOINT [SECOND] --model BASE [options]",
             "weight-space analysis of a fine-tuning update: norms, spectra, effective ranks, intruder dimensions",
             {{"model", "BASE", "the base model the checkpoint was trained from (required)"},
              {"json", "", "print JSON instead of the tables"},
              {"out", "FILE", "also write the JSON here"},
              {"top-k", "K", "singular vectors of W + dW examined for intruders (default 10)"},
              {"epsilon", "E", "intruder threshold on the largest |cos| (default 0.5)"},
              {"no-intruders", "", "skip intruder dimensions (they need a full SVD of W and W + dW per layer)"},
              {"subspace-k", "K", "directions compared between two checkpoints (default 8, capped by the ranks)"},
              {"side", "right|left", "compare right (input-space, default) or left (output-space) singular vectors"},
              {"verbose", "", "print each layer as it is analysed"}},
             runAnalyze, analyzeHelp}};
}

} // namespace loralab::cli
