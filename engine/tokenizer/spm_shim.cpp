// libloralab_spm.so: sentencepiece behind a C interface; see spm_shim.h.
#include "engine/tokenizer/spm_shim.h"

#include <cstdlib>
#include <cstring>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <string>
#include <unordered_map>
#include <vector>

struct LoralabSpm {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

void setError(char* error, size_t size, const std::string& message)
{
    if (!error || size == 0) return;
    std::strncpy(error, message.c_str(), size - 1);
    error[size - 1] = '\0';
}

char* copyString(const std::string& s, size_t* size)
{
    char* out = static_cast<char*>(std::malloc(s.size() + 1));
    if (!out) return nullptr;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    if (size) *size = s.size();
    return out;
}

} // namespace

extern "C" {

int loralab_spm_abi(void) { return LORALAB_SPM_ABI; }

LoralabSpm* loralab_spm_load(const char* bytes, size_t size, char* error, size_t errorSize)
{
    try {
        auto* model = new LoralabSpm;
        const auto status = model->processor.LoadFromSerializedProto(std::string(bytes, size));
        if (!status.ok()) {
            setError(error, errorSize, status.ToString());
            delete model;
            return nullptr;
        }
        return model;
    } catch (const std::exception& e) {
        setError(error, errorSize, e.what());
        return nullptr;
    }
}

void loralab_spm_free(LoralabSpm* model) { delete model; }

int loralab_spm_encode(const LoralabSpm* model, const char* text, size_t size, int64_t** ids, size_t* count, char* error,
                       size_t errorSize)
{
    std::vector<int> pieces;
    const auto status = model->processor.Encode(std::string(text, size), &pieces);
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        return 1;
    }
    *count = pieces.size();
    *ids = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * (pieces.empty() ? 1 : pieces.size())));
    if (!*ids) {
        setError(error, errorSize, "out of memory");
        return 1;
    }
    for (size_t i = 0; i < pieces.size(); ++i) (*ids)[i] = pieces[i];
    return 0;
}

char* loralab_spm_decode(const LoralabSpm* model, const int64_t* ids, size_t count, size_t* size)
{
    std::vector<int> pieces(ids, ids + count);
    std::string text;
    if (!model->processor.Decode(pieces, &text).ok()) text.clear();
    return copyString(text, size);
}

char* loralab_spm_piece(const LoralabSpm* model, int64_t id)
{
    if (id < 0 || id >= model->processor.GetPieceSize()) return copyString("", nullptr);
    return copyString(model->processor.IdToPiece(static_cast<int>(id)), nullptr);
}

int64_t loralab_spm_piece_to_id(const LoralabSpm* model, const char* piece, size_t size)
{
    return model->processor.PieceToId(std::string(piece, size));
}

int64_t loralab_spm_size(const LoralabSpm* model) { return model->processor.GetPieceSize(); }

int64_t loralab_spm_special(const LoralabSpm* model, int which)
{
    switch (which) {
    case 0: return model->processor.bos_id();
    case 1: return model->processor.eos_id();
    case 2: return model->processor.pad_id();
    default: return model->processor.unk_id();
    }
}

void loralab_spm_release(void* buffer) { std::free(buffer); }

int loralab_spm_train(const char* options, char* error, size_t errorSize)
{
    std::unordered_map<std::string, std::string> kwargs;
    const std::string all(options);
    size_t start = 0;
    while (start <= all.size()) {
        size_t end = all.find('\x1f', start);
        if (end == std::string::npos) end = all.size();
        const std::string record = all.substr(start, end - start);
        const size_t eq = record.find('=');
        if (eq != std::string::npos) kwargs[record.substr(0, eq)] = record.substr(eq + 1);
        start = end + 1;
    }
    const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs);
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        return 1;
    }
    return 0;
}

} // extern "C"
