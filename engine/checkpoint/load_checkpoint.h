// Loading a checkpoint's trained weights into a model, through the checked
// loaders: an adapter's factors into the adapters the model carries, or full
// weights with every name and shape checked against the model.
#pragma once

#include "engine/checkpoint/checkpoint.h"
#include "engine/model/causal_lm.h"

namespace loralab {

// `net` is the run's model: with its adapters attached for an adapter
// checkpoint, or the same architecture and shapes for full weights. Throws
// loralab::Error naming the file and the tensor that does not fit.
void loadCheckpointWeights(CausalLMImpl& net, const Checkpoint& checkpoint);

} // namespace loralab
