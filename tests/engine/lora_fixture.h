// What the LoRA and trainer tests share: a fixture model with its reference
// batch, its loss, and the optimizer of the reference step.
#pragma once

#include "fixture_reference.h"

#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/train/loss.h"
#include "engine/train/trainer.h"

namespace loralab::test {

struct Fixture {
    LoadedModel model;
    nlohmann::json ref;
    Batch batch;
};

inline Fixture openFixture(const std::string& name, bool withAdapter, const Target& t = cpuFp32())
{
    Fixture f{loadModel(fixtureModel(name).string(), t.loadOptions()), referenceJson(name), {}};
    f.batch = {tensor2d(f.ref["input_ids"]).to(t.device), tensor2d(f.ref["attention_mask"]).to(t.device),
               tensor2d(f.ref["labels"]).to(t.device)};
    if (withAdapter) loadAdapter(*f.model.net, fixtureAdapter(name));
    return f;
}

inline double batchLoss(CausalLMImpl& net, const Batch& b)
{
    torch::NoGradGuard noGrad;
    return modelLoss(net, b.ids, b.mask, b.labels).loss.item<double>();
}

inline TrainConfig fixtureOptimizer(Method method)
{
    // The reference step: AdamW(lr, betas 0.9/0.999, eps 1e-8, weight_decay 0.01), clip_grad_norm(1.0).
    TrainConfig c;
    c.method = method;
    c.adam.lr = method == Method::Lora ? 1e-2 : 1e-3;
    c.adam.weightDecay = 0.01;
    c.maxGradNorm = 1.0;
    return c;
}

} // namespace loralab::test
