// A word-level difference between a target answer and a model's answer, as
// HTML for the Generations table: words the answer adds are marked, target
// words it leaves out are struck through. An answer equal to its target (as
// the engine's answersMatch counts it: trimmed, case and final punctuation
// aside) is marked as a match instead.
#pragma once

#include <QString>

namespace loralab::ui {

struct AnswerMarkup {
    bool matches = false;
    QString html; // the answer with the difference marked; empty when there is no target
};

AnswerMarkup markAnswer(const QString& answer, const QString& target);

} // namespace loralab::ui
