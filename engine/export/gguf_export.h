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

#include <filesystem>
#include <string>

namespace loralab {

class CausalLMImpl;
class Tokenizer;

enum class GgufType { F16, Q8_0 };
const char* ggufTypeName(GgufType type); // "f16", "q8_0"
// "f16" or "q8_0"; anything else is an Error naming the choices.
GgufType parseGgufType(const std::string& name);

// Writes `out` under a temporary name beside it and renames it into place,
// so the file is whole or absent. The model is left as it was. Errors name
// what cannot be expressed (an architecture feature llama.cpp lacks, a
// tokenizer file it cannot read) or the path that cannot be written.
// `tokenizerDir` is the folder `tokenizer` was loaded from.
void exportGguf(CausalLMImpl& net, const Tokenizer& tokenizer, const std::filesystem::path& tokenizerDir,
                const std::filesystem::path& out, GgufType type);

} // namespace loralab
