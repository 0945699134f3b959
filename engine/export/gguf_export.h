// A loaded model, adapters folded in, as one GGUF file for llama.cpp and
// Ollama, laid out as llama.cpp's convert_hf_to_gguf.py lays out the merged
// Hugging Face checkpoint: architecture "gptneox", "qwen2" or "llama" with
// the hyperparameters llama.cpp reads, tensors under llama.cpp's names
// (token_embd, blk.N.attn_q, ..., output), Llama's q/k rows permuted from
// Hugging Face's rotate-half order to llama.cpp's interleaved pairs, GPT-NeoX's
// fused query_key_value regrouped from per-head [q k v] to [all q; all k;
// all v], and the tokenizer (see gguf_vocab.h). Weights are F16 or Q8_0;
// norms and biases F32, and Q8_0 falls back to F16 for rows that are not a
// multiple of 32 values, as the converter does.
//
// This header needs no LibTorch (CausalLMImpl is only named), so the window
// and the CLI's option parsing can include it.
#pragma once

#include "engine/config/choices.h"

#include <filesystem>
#include <string>

namespace loralab {

class CausalLMImpl;
class Tokenizer;

enum class GgufType { F16, Q8_0 };
template <>
struct ChoiceList<GgufType> {
    static constexpr const char* what = "GGUF type";
    static constexpr std::array<std::pair<GgufType, const char*>, 2> items = {{{GgufType::F16, "f16"}, {GgufType::Q8_0, "q8_0"}}};
};

// Writes `out` under a temporary name beside it and renames it into place,
// so the file is whole or absent. The model is left as it was. Errors name
// what cannot be expressed (an architecture feature llama.cpp lacks, a
// tokenizer file it cannot read) or the path that cannot be written.
// `tokenizerDir` is the folder `tokenizer` was loaded from.
void exportGguf(CausalLMImpl& net, const Tokenizer& tokenizer, const std::filesystem::path& tokenizerDir,
                const std::filesystem::path& out, GgufType type);

} // namespace loralab
