// The C interface of LoRA Lab's sentencepiece shim (libloralab_spm.so).
//
// Debian's libsentencepiece carries its own copy of protobuf 3.14 while
// LibTorch loads libprotobuf 3.21; linked into one binary, whichever copy
// loads first serves both and the other side fails (a version check abort, or
// a crash at start-up). So sentencepiece lives in this small shim, which the
// engine opens with dlmopen(LM_ID_NEWLM): the shim and libsentencepiece get a
// link namespace of their own, where protobuf resolves to sentencepiece's copy
// while LibTorch keeps its own. Memory crosses the boundary only through this
// interface, and buffers the shim allocates are freed by the shim.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LORALAB_SPM_ABI 2

typedef struct LoralabSpm LoralabSpm;

int loralab_spm_abi(void);
// Loads a serialized model; on failure returns NULL and writes a message.
LoralabSpm* loralab_spm_load(const char* bytes, size_t size, char* error, size_t errorSize);
void loralab_spm_free(LoralabSpm* model);
// Encodes text into *ids (malloc'd, free with loralab_spm_release); 0 on success.
int loralab_spm_encode(const LoralabSpm* model, const char* text, size_t size, int64_t** ids, size_t* count, char* error,
                       size_t errorSize);
// Decodes ids into a malloc'd NUL-terminated string (free with loralab_spm_release).
char* loralab_spm_decode(const LoralabSpm* model, const int64_t* ids, size_t count, size_t* size);
char* loralab_spm_piece(const LoralabSpm* model, int64_t id);
int64_t loralab_spm_piece_to_id(const LoralabSpm* model, const char* piece, size_t size);
int64_t loralab_spm_size(const LoralabSpm* model);
// 0: bos, 1: eos, 2: pad, 3: unk.
int64_t loralab_spm_special(const LoralabSpm* model, int which);
void loralab_spm_release(void* buffer);
// Trains a model; `options` holds "key=value" records (sentencepiece trainer
// flags) separated by the unit separator 0x1f, so values may contain spaces
// and newlines. 0 on success.
int loralab_spm_train(const char* options, char* error, size_t errorSize);

#ifdef __cplusplus
}
#endif
