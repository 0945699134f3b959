// Loading checkpoints into models; see load_checkpoint.h.
#include "engine/checkpoint/load_checkpoint.h"

#include "engine/io/safetensors.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/util/error.h"

namespace loralab {

void loadCheckpointWeights(CausalLMImpl& net, const Checkpoint& checkpoint)
{
    if (checkpoint.kind == CheckpointKind::Adapter) {
        loadAdapterWeights(net, checkpoint.dir);
        return;
    }
    for (auto& [name, linear] : net.linearLayers())
        if (linear->baseQuantized())
            throw Error("cannot load the fully fine-tuned weights of " + checkpoint.dir.string() + " into " + name +
                        ", whose base weight is quantized; load them without base_quantization");
    const CheckpointWeights weights(checkpoint.dir);
    loadWeights(net, weights, checkpoint.dir);
}

} // namespace loralab
