// Loading checkpoints into models; see load_checkpoint.h.
#include "engine/checkpoint/load_checkpoint.h"

#include "engine/io/safetensors.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"

namespace loralab {

void loadCheckpointWeights(CausalLMImpl& net, const Checkpoint& checkpoint)
{
    if (checkpoint.kind == CheckpointKind::Adapter) {
        loadAdapterWeights(net, checkpoint.dir);
        return;
    }
    const CheckpointWeights weights(checkpoint.dir);
    loadWeights(net, weights, checkpoint.dir);
}

} // namespace loralab
