// The shape of a causal language model, read from a Hugging Face config.json
// (gpt_neox, qwen2, llama) or taken from a built-in preset with the official
// shapes of Pythia and Qwen1.5 models.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loralab {

enum class Architecture { GptNeoX, Qwen2, Llama };

const char* architectureName(Architecture arch); // the config.json model_type

struct ModelConfig {
    Architecture architecture = Architecture::GptNeoX;
    std::int64_t vocabSize = 0;
    std::int64_t hiddenSize = 0;
    std::int64_t intermediateSize = 0;
    std::int64_t numLayers = 0;
    std::int64_t numHeads = 0;
    std::int64_t numKvHeads = 0; // == numHeads unless grouped-query attention
    std::int64_t headDim = 0;
    std::int64_t maxPositions = 2048;
    double rotaryFraction = 1.0; // share of each head's dims that rotary embedding turns
    double ropeTheta = 10000.0;
    double normEps = 1e-5;
    std::string hiddenAct = "gelu";
    bool parallelResidual = true;   // GPT-NeoX
    bool qkvBias = true;            // bias on the query/key/value projections
    bool outputProjBias = true;     // bias on the attention output projection
    bool mlpBias = true;
    bool tieWordEmbeddings = false;
    std::int64_t bosTokenId = -1;
    std::int64_t eosTokenId = -1;
    std::string torchDtype = "float32"; // as stored on disk
    std::string nameOrPath;             // where it came from, for adapters and messages

    std::int64_t rotaryDims() const;
    // Parameters the model has, from the shapes alone (no module is built).
    std::int64_t parameterCount() const;
};

// Parses config.json text; `path` labels errors. Unknown architectures fail
// with a message that lists the supported ones.
ModelConfig parseModelConfig(const std::string& text, const std::string& path);
ModelConfig loadModelConfig(const std::filesystem::path& modelDir);

// config.json contents that transformers reads back into the same model.
std::string modelConfigToJson(const ModelConfig& config);

// Presets: "preset:pythia-70m", ... Returns false when `name` is not one.
bool isPresetName(const std::string& name);

// The largest vocabulary LoRA Lab accepts, from config.json or vocab_size
// (released models stay one to two orders of magnitude below it).
constexpr std::int64_t kMaxVocabSize = 4 << 20;
ModelConfig presetConfig(const std::string& name);
std::vector<std::string> presetNames();

} // namespace loralab
