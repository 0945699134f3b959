// From examples to training batches: tokenization (prompt and answer
// separately, ids = tokenize(prompt) + tokenize(answer); a chat example as its
// chat template renders it, the loss on the assistant's tokens), truncation
// that keeps the answer by dropping the oldest dialogue turns first, labels
// of -100 on the prompt and padding, text chunking, and right-padded
// collation.
#pragma once

#include "engine/config/run_choices.h"

#include "engine/data/chat/chat_render.h"
#include "engine/data/dataset.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/train/trainer.h"

#include <cstdint>
#include <vector>

namespace loralab {

struct TokenizeOptions {
    std::int64_t maxLen = 512;
    bool trainOnPrompt = false; // labels on the prompt too
    bool appendEos = true;      // end answers with EOS so the model learns to stop
    // Chat examples: the template they are rendered with (the Human/Assistant
    // layout when null) and the assistant messages the loss is on. The
    // template closes each turn itself, so appendEos does not apply.
    const ChatTemplate* chatTemplate = nullptr;
    AssistantTurns assistantTurns = AssistantTurns::All;
};

struct TokenizedExample {
    std::vector<std::int64_t> ids;
    std::vector<std::int64_t> labels; // -100 where the loss ignores a token
    std::int64_t promptTokens = 0;    // after truncation
    std::int64_t answerTokens = 0;
    std::int64_t droppedTurns = 0;  // whole dialogue turns removed from the front
    bool promptCut = false;         // the prompt lost tokens (turns or a cut)
    bool answerCut = false;         // the answer itself did not fit
    std::size_t source = 0;         // index of the example it came from
    // A packed sequence: the lengths of the examples it holds, in order
    // (empty: one example). Each attends only to itself, from position 0.
    std::vector<std::int64_t> segments;
};

// Packs examples into sequences of at most maxLen tokens (best fit, longest
// first, so no example is cut and few sequences are left part empty). The
// labels of each example stay as they were; its first token's label is
// dropped, since no token before it in its own example predicts it.
std::vector<TokenizedExample> packExamples(const std::vector<TokenizedExample>& examples, std::int64_t maxLen);

// A chat example longer than maxLen keeps its newest maxLen tokens (the last
// answer stays whole where it fits; answerCut says it did not), earlier turns
// giving way; promptTokens and answerTokens count the tokens outside and
// inside the loss.
TokenizedExample tokenizeExample(const Tokenizer& tokenizer, const Example& example, const TokenizeOptions& options);

// Text data: Chunk concatenates every line (each followed by a newline) and
// cuts the stream into blocks of maxLen; Lines makes one example per line,
// truncated to maxLen. Every token counts in the loss.
std::vector<TokenizedExample> tokenizeText(const Tokenizer& tokenizer, const std::vector<Example>& lines,
                                           std::int64_t maxLen, TextMode mode);

// Tokens whose labels count in the loss (the first token never does).
std::int64_t labelTokens(const TokenizedExample& example);

// Right-pads to the longest example; padding gets mask 0 and label -100.
// A batch holding packed sequences gets, instead of the [B, T] padding mask,
// the [B, 1, T, T] boolean mask of which token sees which: causal within each
// example (a padding token sees only itself), which the models also read
// their positions from.
Batch collate(const std::vector<const TokenizedExample*>& examples, std::int64_t padId, torch::Device device);

// The turns of a dialogue prompt, split before each "\n\nHuman:".
std::vector<std::string> dialogueTurns(const std::string& prompt);

} // namespace loralab
