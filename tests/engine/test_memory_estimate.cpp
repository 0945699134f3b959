// The memory estimate against the measured tensor peak of real runs: text
// data chunked to the full length (every batch as long as the estimate
// assumes), three steps each, LoRA with and without dropout and activation
// checkpointing, full fine-tuning, on GPT-NeoX (the embedded model), Qwen2
// and Llama fixtures; and DPO on a small preference set. The table is
// printed; each run has its bound.
#include "engine_test.h"
#include "run_fixture.h"

#include "engine/records/metrics.h"
#include "engine/run/runner.h"

using namespace loralab;
using namespace loralab::test;

class MemoryEstimateTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")

private Q_SLOTS:
    void estimate_is_near_the_measured_peak();
};
REGISTER_TESTS(MemoryEstimateTests);

void MemoryEstimateTests::estimate_is_near_the_measured_peak()
{
    struct Case {
        const char* name;
        const char* model; // a fixture, or "" for the embedded model
        Method method;
        double dropout;
        std::int64_t checkpointing;
        double bound; // |estimate / peak - 1|
        Objective objective = Objective::Sft;
    };
    const Case cases[] = {
        {"lora", "", Method::Lora, 0.05, 0, 0.10},
        {"lora-no-dropout", "", Method::Lora, 0.0, 0, 0.10},
        {"lora-checkpointed", "", Method::Lora, 0.05, 1, 0.10},
        {"lora-every-second", "", Method::Lora, 0.05, 2, 0.10},
        {"full", "", Method::Full, 0.0, 0, 0.10},
        {"full-checkpointed", "", Method::Full, 0.0, 1, 0.10},
        {"lora-qwen2", "tiny-qwen2", Method::Lora, 0.05, 0, 0.10},
        {"lora-qwen2-checkpointed", "tiny-qwen2", Method::Lora, 0.05, 1, 0.10},
        {"full-llama", "tiny-llama-spm", Method::Full, 0.0, 0, 0.10},
        // DPO's chosen and rejected answers run as one batch.
        {"dpo", "", Method::Lora, 0.05, 0, 0.10, Objective::Dpo},
        {"dpo-checkpointed", "", Method::Lora, 0.05, 1, 0.10, Objective::Dpo},
    };
    const std::string runs = scratchDir("memory-estimate").string();
    const std::string pairs = writeDialogues(scratchDir("memory-estimate-pairs")).string();
    for (const Case& k : cases) {
        RunConfig c = memoryRun(runs, 4, 128, 3);
        c.name = k.name;
        if (*k.model) c.model = fixtureModel(k.model).string();
        c.objective = k.objective;
        if (k.objective == Objective::Dpo) c.dataset = pairs;
        c.method = k.method;
        c.loraDropout = k.dropout;
        c.activationCheckpointing = k.checkpointing;
        RunControl control;
        const RunSummary s = trainRun(c, control, {}).summary;
        const double ratio = static_cast<double>(s.estimate.total()) / static_cast<double>(s.peakMemoryBytes);
        std::cout << k.name << ": peak " << s.peakMemoryBytes / 1048576.0 << " MiB, estimate " << s.estimate.total() / 1048576.0
                  << " MiB (" << (ratio - 1.0) * 100.0 << " %), activations measured " << s.measured.activationBytes / 1048576.0
                  << " MiB, estimated " << s.estimate.activationBytes / 1048576.0 << " MiB\n";
        QVERIFY2(std::abs(ratio - 1.0) <= k.bound,
                 qPrintable(QStringLiteral("%1: estimate %2 of the peak, beyond %3").arg(k.name).arg(ratio).arg(k.bound)));
    }
}

#include "test_memory_estimate.moc"
