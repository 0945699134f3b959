// DPO against the reference: completion log-probabilities under the policy
// (base + fixture adapter) and the reference (base), rewards and losses.
#include "fixture_reference.h"
#include "engine_test.h"

#include "engine/data/collate.h"
#include "engine/lora/lora.h"
#include "engine/model/model_loader.h"
#include "engine/train/dpo.h"

using namespace loralab;
using namespace loralab::test;

namespace {

void checkDpo(const std::string& name, const Target& t)
{
    const LoadedModel model = loadModel(fixtureModel(name).string(), t.loadOptions());
    loadAdapter(*model.net, fixtureAdapter(name));
    const auto ref = nlohmann::json::parse(readTextFile(reference(name + "_dpo.json")));
    const double beta = ref["beta"].get<double>();
    TokenizeOptions options;
    options.appendEos = false;
    options.maxLen = 4096;
    std::vector<TokenizedExample> rows;
    for (const auto& pair : ref["pairs"]) {
        for (const char* answer : {"chosen", "rejected"}) {
            Example e;
            e.prompt = pair["prompt"].get<std::string>();
            e.target = pair[answer].get<std::string>();
            rows.push_back(tokenizeExample(*model.tokenizer, e, options));
        }
    }
    std::vector<const TokenizedExample*> pointers;
    for (const auto& r : rows) pointers.push_back(&r);
    const Batch batch = collate(pointers, 0, t.device);
    torch::NoGradGuard noGrad;
    model.net->eval();
    const torch::Tensor policy = sequenceLogProbs(*model.net, batch).cpu();
    setLoraEnabled(*model.net, false);
    const torch::Tensor reference = sequenceLogProbs(*model.net, batch).cpu();
    setLoraEnabled(*model.net, true);

    const auto n = static_cast<std::int64_t>(ref["pairs"].size());
    const auto even = torch::arange(0, 2 * n, 2);
    const auto odd = torch::arange(1, 2 * n, 2);
    const DpoTerms terms = dpoLoss(policy.index_select(0, even), policy.index_select(0, odd), reference.index_select(0, even),
                               reference.index_select(0, odd), beta, "sigmoid");
    double worst = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        const auto& p = ref["pairs"][static_cast<std::size_t>(i)];
        const double got[] = {policy[2 * i].item<double>(), policy[2 * i + 1].item<double>(), reference[2 * i].item<double>(),
                              reference[2 * i + 1].item<double>()};
        const double want[] = {p["policy_chosen_logp"].get<double>(), p["policy_rejected_logp"].get<double>(),
                               p["reference_chosen_logp"].get<double>(), p["reference_rejected_logp"].get<double>()};
        for (int k = 0; k < 4; ++k) {
            // Summed log-probabilities are around -100, where neighbouring fp32
            // values lie 0.8e-5 to 1.5e-5 apart; both sides are fp32 sums of
            // some thirty terms, so agreement is checked to 1e-5 or four units
            // in the last place, whichever is larger (relative 5e-7). Rewards
            // and losses below are held to 1e-5 absolute.
            const double ulp = std::nextafter(static_cast<float>(std::fabs(want[k])), INFINITY) - static_cast<float>(std::fabs(want[k]));
            worst = std::max(worst, std::fabs(got[k] - want[k]));
            const double tolerance = t.logProbRel > 0 ? t.logProbRel * std::fabs(want[k]) : std::max(1e-5, 4 * ulp);
            VERIFY_NEAR(got[k], want[k], tolerance);
        }
        VERIFY_NEAR(terms.rewardChosen[i].item<double>(), p["reward_chosen"].get<double>(), t.loss);
        VERIFY_NEAR(terms.rewardRejected[i].item<double>(), p["reward_rejected"].get<double>(), t.loss);
        const double margin = (terms.rewardChosen[i] - terms.rewardRejected[i]).item<double>();
        const double pairLoss = -std::log(1.0 / (1.0 + std::exp(-margin)));
        VERIFY_NEAR(pairLoss, p["loss"].get<double>(), t.loss);
    }
    std::cout << name << " on " << t.device << " " << t.dtype << ": worst log-probability error " << worst << "\n";
    VERIFY_NEAR(terms.loss.item<double>(), ref["mean_loss"].get<double>(), t.loss);
}

} // namespace

class DpoParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void dpo_gpt_neox();
    void dpo_qwen2();
    void dpo_llama();
    void bf16_dpo_data() { loralab::test::fixtureModelRows(); }
    void bf16_dpo();
};
REGISTER_TESTS(DpoParityTests);

class DpoGpuTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "gpu")
private Q_SLOTS:
    void init() { SKIP_WITHOUT_CUDA(); }
    void dpo_data() { loralab::test::fixtureModelRows(); }
    void dpo();
    void bf16_dpo_data() { loralab::test::fixtureModelRows(); }
    void bf16_dpo();
};
REGISTER_TESTS(DpoGpuTests);

class DpoTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void dpo_loss_shapes();
};
REGISTER_TESTS(DpoTests);

void DpoParityTests::dpo_gpt_neox() { checkDpo("tiny-gpt-neox", cpuFp32()); }
void DpoParityTests::dpo_qwen2() { checkDpo("tiny-qwen2", cpuFp32()); }
void DpoParityTests::dpo_llama() { checkDpo("tiny-llama-spm", cpuFp32()); }
void DpoParityTests::bf16_dpo() { checkDpo(currentModel(), bf16(torch::kCPU)); }
void DpoGpuTests::dpo() { checkDpo(currentModel(), cudaFp32()); }
void DpoGpuTests::bf16_dpo() { checkDpo(currentModel(), bf16(cudaDevice())); }

void DpoTests::dpo_loss_shapes()
{
    const auto pc = torch::tensor({-10.0, -5.0});
    const auto pr = torch::tensor({-12.0, -4.0});
    const auto zero = torch::zeros({2});
    const DpoTerms s = dpoLoss(pc, pr, zero, zero, 0.5, "sigmoid");
    const double expected = 0.5 * (std::log1p(std::exp(-1.0)) + std::log1p(std::exp(0.5)));
    VERIFY_NEAR(s.loss.item<double>(), expected, 1e-6);
    const DpoTerms ipo = dpoLoss(pc, pr, zero, zero, 0.5, "ipo");
    VERIFY_NEAR(ipo.loss.item<double>(), 0.5 * (1.0 + 4.0), 1e-6); // (2 - 1)^2 and (-1 - 1)^2
}

#include "test_dpo.moc"
