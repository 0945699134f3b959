// Activation checkpointing as a custom autograd function; see block_checkpoint.h.
#include "engine/model/block_checkpoint.h"

#include <ATen/Context.h>
#include <torch/autograd.h>
#include <torch/custom_class.h>

#include <mutex>

namespace loralab {

namespace {

// The block, kept with the graph until backward has run it again.
struct BlockClosure : torch::CustomClassHolder {
    std::function<torch::Tensor(const torch::Tensor&)> run;
};

at::Generator generatorFor(const torch::Device& device) { return at::globalContext().defaultGenerator(device); }

torch::Tensor randomState(const torch::Device& device)
{
    at::Generator g = generatorFor(device);
    std::lock_guard<std::mutex> lock(g.mutex());
    return g.get_state();
}

void setRandomState(const torch::Device& device, const torch::Tensor& state)
{
    at::Generator g = generatorFor(device);
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_state(state);
}

class CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, at::TensorList trainable,
                                 const c10::IValue& closure)
    {
        // Runs under no-grad (the autograd function's forward): nothing inside is kept.
        std::vector<torch::Tensor> saved{x};
        saved.insert(saved.end(), trainable.begin(), trainable.end());
        ctx->save_for_backward(saved);
        ctx->saved_data["closure"] = closure;
        ctx->saved_data["rng"] = randomState(x.device());
        return c10::static_intrusive_pointer_cast<BlockClosure>(closure.toCapsule())->run(x);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads)
    {
        const torch::autograd::variable_list saved = ctx->get_saved_variables();
        const torch::Tensor& x = saved[0];
        const auto closure = c10::static_intrusive_pointer_cast<BlockClosure>(ctx->saved_data["closure"].toCapsule());
        torch::Tensor input = x.detach();
        input.requires_grad_(x.requires_grad());

        // The forward again, from the random state the first one had; the
        // state of the rest of the run is left as it was.
        const torch::Device device = x.device();
        const torch::Tensor now = randomState(device);
        setRandomState(device, ctx->saved_data["rng"].toTensor());
        torch::Tensor out;
        try {
            torch::AutoGradMode enable(true);
            out = closure->run(input);
        } catch (...) {
            setRandomState(device, now);
            throw;
        }
        setRandomState(device, now);

        std::vector<torch::Tensor> wrt;
        std::vector<std::size_t> where; // index in the backward's result of each of wrt
        if (input.requires_grad()) {
            wrt.push_back(input);
            where.push_back(0);
        }
        for (std::size_t i = 1; i < saved.size(); ++i) {
            wrt.push_back(saved[i]);
            where.push_back(i);
        }
        // x, each trainable tensor, and nothing for the closure.
        torch::autograd::variable_list result(saved.size() + 1);
        if (wrt.empty() || !out.requires_grad()) return result;
        const torch::autograd::variable_list g =
            torch::autograd::grad({out}, wrt, {grads[0]}, /*retain_graph=*/false, /*create_graph=*/false, /*allow_unused=*/true);
        for (std::size_t i = 0; i < g.size(); ++i) result[where[i]] = g[i];
        return result;
    }
};

} // namespace

torch::Tensor checkpointedBlock(const std::function<torch::Tensor(const torch::Tensor&)>& block, const torch::Tensor& x,
                                const std::vector<torch::Tensor>& trainable)
{
    auto closure = c10::make_intrusive<BlockClosure>();
    closure->run = block;
    return CheckpointedBlock::apply(x, at::TensorList(trainable), c10::IValue::make_capsule(std::move(closure)));
}

} // namespace loralab
