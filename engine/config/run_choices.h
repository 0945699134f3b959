// The choices a run configuration makes among named values, each enum with
// its names beside it (see choices.h). The engine's modules take these enums
// as they are; strings exist only at the configuration's edge (config.json,
// the command line, the window's combo boxes). No LibTorch here.
#pragma once

#include "engine/config/choices.h"

#include <cstdint>

namespace loralab {

// What trains: adapters on frozen base weights, or every weight. The whole
// difference between LoRA and full fine-tuning is which parameters reach the
// optimizer.
enum class Method { Lora, Full };
template <>
struct ChoiceList<Method> {
    static constexpr const char* what = "method";
    static constexpr std::array<std::pair<Method, const char*>, 2> items = {{{Method::Lora, "lora"}, {Method::Full, "full"}}};
};

// What a run optimises: supervised fine-tuning (cross-entropy on the answers,
// or on the whole text) or Direct Preference Optimization on pairs.
enum class Objective { Sft, Dpo };
template <>
struct ChoiceList<Objective> {
    static constexpr const char* what = "objective";
    static constexpr std::array<std::pair<Objective, const char*>, 2> items = {{{Objective::Sft, "sft"}, {Objective::Dpo, "dpo"}}};
};

// Learning-rate schedules, as transformers' get_*_schedule_with_warmup.
enum class Schedule { Constant, ConstantWithWarmup, Linear, Cosine };
template <>
struct ChoiceList<Schedule> {
    static constexpr const char* what = "schedule";
    static constexpr std::array<std::pair<Schedule, const char*>, 4> items = {
        {{Schedule::Constant, "constant"}, {Schedule::ConstantWithWarmup, "constant_with_warmup"}, {Schedule::Linear, "linear"},
         {Schedule::Cosine, "cosine"}}};
};

// Text data: concatenated and cut into max_len blocks, or one example per line.
enum class TextMode { Chunk, Lines };
template <>
struct ChoiceList<TextMode> {
    static constexpr const char* what = "text_mode";
    static constexpr std::array<std::pair<TextMode, const char*>, 2> items = {{{TextMode::Chunk, "chunk"}, {TextMode::Lines, "lines"}}};
};

// The DPO loss: the logistic loss of the DPO paper, or IPO's squared loss.
enum class DpoLoss { Sigmoid, Ipo };
template <>
struct ChoiceList<DpoLoss> {
    static constexpr const char* what = "dpo_loss";
    static constexpr std::array<std::pair<DpoLoss, const char*>, 2> items = {{{DpoLoss::Sigmoid, "sigmoid"}, {DpoLoss::Ipo, "ipo"}}};
};

// The DPO reference: the model as the run starts (base plus a starting
// adapter), or the base model with the adapters switched off.
enum class DpoReference { Initial, Base };
template <>
struct ChoiceList<DpoReference> {
    static constexpr const char* what = "dpo_reference";
    static constexpr std::array<std::pair<DpoReference, const char*>, 2> items = {
        {{DpoReference::Initial, "initial"}, {DpoReference::Base, "base"}}};
};

// The dtype of the base weights (adapters always train in fp32).
enum class WeightDType { Fp32, Bf16, Fp16 };
template <>
struct ChoiceList<WeightDType> {
    static constexpr const char* what = "dtype";
    static constexpr std::array<std::pair<WeightDType, const char*>, 3> items = {
        {{WeightDType::Fp32, "fp32"}, {WeightDType::Bf16, "bf16"}, {WeightDType::Fp16, "fp16"}}};
};
inline std::int64_t bytesPerElement(WeightDType d) { return d == WeightDType::Fp32 ? 4 : 2; }

// How fresh adapters start: PEFT's default (Kaiming-uniform A, zero B) or
// Gaussian A.
enum class LoraInit { Kaiming, Gaussian };
template <>
struct ChoiceList<LoraInit> {
    static constexpr const char* what = "lora_init";
    static constexpr std::array<std::pair<LoraInit, const char*>, 2> items = {
        {{LoraInit::Kaiming, "kaiming"}, {LoraInit::Gaussian, "gaussian"}}};
};

// What early stopping and the best checkpoint follow: validation loss (lower
// is better) or DPO preference accuracy (higher is better).
enum class StopMetric { Loss, Accuracy };
template <>
struct ChoiceList<StopMetric> {
    static constexpr const char* what = "early_stopping_metric";
    static constexpr std::array<std::pair<StopMetric, const char*>, 2> items = {
        {{StopMetric::Loss, "loss"}, {StopMetric::Accuracy, "accuracy"}}};
};

} // namespace loralab
