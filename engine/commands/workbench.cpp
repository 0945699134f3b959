// What the window asks of the engine; see workbench.h.
#include "engine/commands/workbench.h"

#include "engine/data/collate.h"
#include "engine/io/safetensors.h"
#include "engine/lora/lora.h"
#include "engine/model/generation.h"
#include "engine/model/model_loader.h"
#include "engine/model/model_summary.h"
#include "engine/config/resources.h"
#include "engine/checkpoint/checkpoint.h"
#include "engine/run/run_samples.h"
#include "engine/run/run_setup.h"
#include "engine/util/error.h"
#include "engine/util/torch_compat.h"

#include <chrono>
#include <optional>
#include <set>

namespace loralab {
namespace fs = std::filesystem;

DeviceOverview describeDevice(const std::string& device, int threads)
{
    DeviceOverview o;
    o.requested = device;
    // What training will use: a run sets LibTorch's threads from its
    // configuration (0: every core) on its own thread, so the caller's
    // thread count says nothing.
    o.threads = threads > 0 ? threads : defaultThreadCount();
    o.libtorch = compat::libtorchVersion() + (compat::builtWithCuda() ? " with CUDA" : ", CPU only");
    torch::Device resolved = torch::kCPU;
    try {
        resolved = resolveDevice(device);
    } catch (const Error& e) {
        o.problem = e.what();
        return o;
    }
    o.resolved = resolved.str();
    if (!resolved.is_cuda()) {
        o.name = "CPU";
        return o;
    }
    const auto gpu = compat::cudaDeviceInfo(resolved.index());
    o.name = gpu.name;
    o.totalBytes = gpu.totalBytes;
    o.freeBytes = gpu.freeBytes;
    return o;
}

std::vector<DeviceOverview> listDevices()
{
    std::vector<DeviceOverview> out{describeDevice("cpu")};
    for (int i = 0; i < compat::cudaDeviceCount(); ++i) out.push_back(describeDevice("cuda:" + std::to_string(i)));
    return out;
}

ModelOverview describeModel(const std::string& spec)
{
    const std::string resolved = resolveModelSpec(spec);
    const ModelConfig c = configOfModel(spec, 0);
    const auto net = metaModel(c);
    ModelOverview o;
    o.spec = resolved;
    o.architecture = architectureName(c.architecture);
    o.totalParams = countParameters(*net).total;
    o.numLayers = c.numLayers;
    o.hiddenSize = c.hiddenSize;
    o.vocabSize = c.vocabSize;
    o.contextLength = c.maxPositions;
    o.storedDType = isPresetName(resolved) ? "random" : c.torchDtype;
    o.headName = net->headName();
    std::set<std::string> seen;
    for (const auto& [name, linear] : net->linearLayers()) {
        const std::string kind = name == o.headName ? name : name.substr(name.rfind('.') + 1);
        if (seen.insert(kind).second) o.linearKinds.push_back(kind);
    }
    o.hasTokenizer = !isPresetName(resolved) &&
                     (fs::exists(fs::path(resolved) / "tokenizer.json") || fs::exists(fs::path(resolved) / "tokenizer.model"));
    return o;
}

TrainableCount countTrainable(const RunConfig& config)
{
    const ModelConfig c = configOfModel(config.model, config.vocabSize);
    const auto net = metaModel(c);
    TrainableCount out;
    if (config.method == Method::Full) {
        setTrainable(*net, Method::Full);
    } else {
        const auto targets = applyLora(*net, adapterConfigFor(config, config.model));
        out.loraModules = static_cast<std::int64_t>(targets.size());
        setTrainable(*net, Method::Lora);
    }
    const ParameterCounts counts = countParameters(*net);
    out.total = counts.total;
    out.trainable = counts.trainable;
    return out;
}

namespace {

std::unique_ptr<Tokenizer> tokenizerFor(const RunConfig& config)
{
    // The run's tokenizer option wins over the model's own, as in a run.
    const std::string resolved = resolveModelSpec(config.tokenizer.empty() ? config.model : config.tokenizer);
    if (isPresetName(resolved)) throw Error(resolved + " is a shape preset without a tokenizer; pick a model directory to preview data");
    return loadTokenizer(resolved);
}

} // namespace

DatasetPreview previewDataset(const RunConfig& config, std::int64_t maxExamples)
{
    const DatasetFiles files = resolveDatasets(datasetRequest(config));
    const Dataset data = loadDatasetFiles(files.train.files, files.train.label, config.datasetFormat, config.columnMapping());
    const auto tokenizer = tokenizerFor(config);
    DatasetPreview p;
    p.path = files.train.label;
    p.format = choiceName(data.format);
    p.totalExamples = static_cast<std::int64_t>(data.examples.size());
    p.skippedLines = static_cast<std::int64_t>(data.skipped.size());
    p.skippedSummary = data.skippedSummary();
    std::optional<ChatTemplate> chatTemplate;
    if (data.isChat()) chatTemplate = chatTemplateFor(config);
    const TokenizeOptions options = tokenizeOptions(config, chatTemplate ? &*chatTemplate : nullptr);
    const auto n = std::min<std::int64_t>(maxExamples, p.totalExamples);
    for (std::int64_t i = 0; i < n; ++i) {
        const Example& e = data.examples[static_cast<std::size_t>(i)];
        PreviewExample x;
        x.index = i;
        x.line = e.line;
        x.prompt = e.prompt;
        x.target = e.target;
        x.rejected = e.rejected;
        x.conversation = e.conversation;
        if (data.isText()) {
            const auto ids = tokenizer->encode(e.target);
            x.answerTokens = std::min<std::int64_t>(static_cast<std::int64_t>(ids.size()), config.maxLen);
            x.answerCut = static_cast<std::int64_t>(ids.size()) > config.maxLen && config.textMode == TextMode::Lines;
        } else {
            const TokenizedExample t = tokenizeExample(*tokenizer, e, options);
            x.promptTokens = t.promptTokens;
            x.answerTokens = t.answerTokens;
            x.droppedTurns = t.droppedTurns;
            x.promptCut = t.promptCut;
            x.answerCut = t.answerCut;
            if (!e.isChat() && (data.format == DatasetFormat::HhRlhf || e.prompt.find("Human:") != std::string::npos)) {
                static const std::string kTurn = "Assistant:";
                const auto end = e.prompt.find_last_not_of(" \t\n");
                const std::string trimmed = end == std::string::npos ? "" : e.prompt.substr(0, end + 1);
                if (trimmed.size() < kTurn.size() || trimmed.compare(trimmed.size() - kTurn.size(), kTurn.size(), kTurn) != 0)
                    x.warnings.push_back("prompt does not end with \"Assistant:\"");
            }
            if (t.answerCut) x.warnings.push_back("the answer is cut: it is longer than max_len");
            if (t.droppedTurns > 0)
                x.warnings.push_back(std::to_string(t.droppedTurns) + " early turn(s) dropped to fit max_len");
            else if (t.promptCut)
                x.warnings.push_back("the prompt is cut to fit max_len");
        }
        p.lengths.push_back(x.promptTokens + x.answerTokens);
        p.examplesWithWarnings += !x.warnings.empty();
        p.examples.push_back(std::move(x));
    }
    return p;
}

namespace {

// The text one token stands for. Decoding a token alone drops the space a
// sentencepiece piece begins with ("\u2581the"), so that one is put back.
std::string tokenDisplayText(const Tokenizer& tokenizer, std::int64_t id)
{
    static const std::string kSpaceMark = "\xE2\x96\x81";
    std::string text = tokenizer.decode({id});
    const std::string piece = tokenizer.tokenText(id);
    if (piece.compare(0, kSpaceMark.size(), kSpaceMark) == 0 && (text.empty() || text[0] != ' ')) text.insert(0, " ");
    return text;
}

} // namespace

std::vector<PreviewToken> previewTokens(const RunConfig& config, const PreviewExample& example)
{
    const auto tokenizer = tokenizerFor(config);
    Example e;
    e.prompt = example.prompt;
    e.target = example.target;
    e.conversation = example.conversation;
    std::vector<PreviewToken> out;
    if (e.prompt.empty() && !e.isChat()) {
        for (const auto id : tokenizer->encode(e.target)) out.push_back({tokenDisplayText(*tokenizer, id), true});
        return out;
    }
    std::optional<ChatTemplate> chatTemplate;
    if (e.isChat()) chatTemplate = chatTemplateFor(config);
    const TokenizedExample t = tokenizeExample(*tokenizer, e, tokenizeOptions(config, chatTemplate ? &*chatTemplate : nullptr));
    for (std::size_t i = 0; i < t.ids.size(); ++i)
        out.push_back({tokenDisplayText(*tokenizer, t.ids[i]), i > 0 && t.labels[i] != -100});
    return out;
}

struct GenerationSession::Impl {
    RunConfig config;
    PreparedModel base;                    // with the run's adapter (LoRA) or the base weights (full)
    std::shared_ptr<CausalLMImpl> tunedFull; // full fine-tuning: a second model with the trained weights
    bool hasTuned = false;
    std::vector<Example> examples;
};

GenerationSession::GenerationSession(const RunConfig& config, const std::string& checkpointDir) : m_impl(std::make_unique<Impl>())
{
    Impl& s = *m_impl;
    s.config = config;
    s.config.adapter.clear();
    const torch::Device device = resolveDevice(config.device);
    s.base = prepareModel(s.config, device);
    if (!s.base.model.tokenizer) throw Error(config.model + " has no tokenizer; pick a model directory to generate");
    if (!checkpointDir.empty()) {
        const Checkpoint checkpoint = openCheckpoint(checkpointDir);
        if (checkpoint.kind == CheckpointKind::Adapter) {
            loadAdapter(*s.base.model.net, checkpoint.dir);
        } else {
            LoadOptions options;
            options.device = device;
            options.dtype = torchDType(config.dtype);
            s.tunedFull = loadModel(checkpoint.dir.string(), options).net;
        }
        s.hasTuned = true;
    }
    try {
        const PreparedData data = prepareData(s.config, nullptr);
        s.examples = data.sampleExamples();
    } catch (const Error&) {
        // Generation works without data: prompts can be typed.
    }
}

GenerationSession::~GenerationSession() = default;

bool GenerationSession::hasTuned() const { return m_impl->hasTuned; }

const std::vector<Example>& GenerationSession::examples() const { return m_impl->examples; }

GenerationOutput GenerationSession::generate(const std::string& prompt, const SamplingOptions& options, bool tuned,
                                             const std::atomic<bool>* cancel, const std::function<void(const std::string&)>& onText)
{
    Impl& s = *m_impl;
    if (tuned && !s.hasTuned) throw Error("no fine-tuned checkpoint is loaded");
    CausalLMImpl& net = tuned && s.tunedFull ? *s.tunedFull : *s.base.model.net;
    // The base model answers with the run's adapters switched off.
    const AdaptersOff base(*s.base.model.net, !tuned);
    const auto ids = encodePrompt(*s.base.model.tokenizer, prompt, net.config().maxPositions - options.maxNewTokens);
    const auto start = std::chrono::steady_clock::now();
    const GenerationResult r = loralab::generate(net, s.base.model.tokenizer.get(), ids, options, [&](const std::string& piece) {
        if (onText) onText(piece);
        return !(cancel && cancel->load());
    });
    GenerationOutput out;
    out.text = r.text;
    out.tokens = static_cast<std::int64_t>(r.ids.size());
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.stopReason = r.stopReason;
    return out;
}

} // namespace loralab
