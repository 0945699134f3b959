// Packed SFT batches: several examples in one sequence, each attending only to
// itself with positions from 0, give the loss and gradients of the same
// examples one per row; and datasets named from the Hugging Face cache give a
// run the examples the same data gives as files.
#include "engine_test.h"
#include "hub_dataset_fixture.h"
#include "lora_fixture.h"
#include "run_fixture.h"

#include "engine/config/resources.h"
#include "engine/data/collate.h"
#include "engine/data/columnar/columnar_file.h"
#include "engine/run/run_setup.h"
#include "engine/run/runner.h"

#include <fstream>
#include <random>
#include <set>

using namespace loralab;
namespace fs = std::filesystem;

namespace {

// Examples of varied lengths with a prompt outside the loss.
std::vector<TokenizedExample> syntheticExamples(std::int64_t vocab, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<TokenizedExample> out;
    for (const int length : {9, 23, 4, 17, 30, 12, 6, 25}) {
        TokenizedExample e;
        const int prompt = length / 3;
        for (int t = 0; t < length; ++t) {
            e.ids.push_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(vocab)));
            e.labels.push_back(t < prompt ? kIgnoreIndex : e.ids.back());
        }
        e.promptTokens = prompt;
        e.answerTokens = length - prompt;
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<const TokenizedExample*> pointers(const std::vector<TokenizedExample>& v)
{
    std::vector<const TokenizedExample*> out;
    for (const auto& e : v) out.push_back(&e);
    return out;
}

// Loss and every trainable gradient of one batch.
std::pair<double, std::vector<torch::Tensor>> lossAndGradients(CausalLMImpl& net, const Batch& b)
{
    for (auto& p : net.parameters())
        if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
    const LossOutput l = modelLoss(net, b.ids, b.mask, b.labels);
    l.loss.backward();
    std::vector<torch::Tensor> grads;
    for (auto& p : net.parameters())
        if (p.requires_grad() && p.grad().defined()) grads.push_back(p.grad().clone());
    return {l.loss.item<double>(), grads};
}

std::vector<std::string> targetsOf(const Dataset& d)
{
    std::vector<std::string> out;
    for (const auto& e : d.examples) out.push_back(std::to_string(e.line) + "\x1f" + e.prompt + "\x1f" + e.target + "\x1f" + e.rejected);
    return out;
}


} // namespace

class PackingTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
private Q_SLOTS:
    void packed_loss_equals_unpacked_loss_data() { test::fixtureModelRows(); }
    void packed_loss_equals_unpacked_loss();
    void packing_keeps_every_token_within_max_len();
    void hub_datasets_give_the_examples_of_the_same_files();
    void packing_in_a_run_reports_useful_tokens();
    void hub_dataset_runs_and_their_problems();
};

void PackingTests::packed_loss_equals_unpacked_loss()
{
    test::Fixture f = test::openFixture(test::currentModel(), true);
    CausalLMImpl& net = *f.model.net;
    net.eval(); // no dropout: both passes see the same function
    const auto examples = syntheticExamples(net.config().vocabSize, 7);
    const Batch rows = collate(pointers(examples), 0, torch::kCPU);
    const auto packed = packExamples(examples, 64);
    QVERIFY(packed.size() < examples.size());
    const Batch sequences = collate(pointers(packed), 0, torch::kCPU);
    QCOMPARE(sequences.mask.dim(), 4);
    const auto [unpackedLoss, unpackedGrads] = lossAndGradients(net, rows);
    const auto [packedLoss, packedGrads] = lossAndGradients(net, sequences);
    VERIFY_NEAR(packedLoss, unpackedLoss, 1e-5 * std::abs(unpackedLoss));
    QCOMPARE(packedGrads.size(), unpackedGrads.size());
    QVERIFY(!packedGrads.empty());
    for (std::size_t i = 0; i < packedGrads.size(); ++i) {
        const double scale = unpackedGrads[i].abs().max().item<double>() + 1e-12;
        VERIFY_NEAR((packedGrads[i] - unpackedGrads[i]).abs().max().item<double>() / scale, 0.0, 1e-4);
    }
    // Without the per-example mask and positions the hidden states differ by far more
    // than the tolerance above: the check can fail.
    torch::NoGradGuard noGrad;
    const torch::Tensor right = net.hiddenStates(sequences.ids, sequences.mask, nullptr);
    const torch::Tensor leaky = net.hiddenStates(sequences.ids, (sequences.ids >= 0).to(torch::kInt64), nullptr);
    const double spread = (leaky - right).abs().max().item<double>() / right.abs().max().item<double>();
    QVERIFY2(spread > 1e-3, std::to_string(spread).c_str());
}

void PackingTests::packing_keeps_every_token_within_max_len()
{
    const auto examples = syntheticExamples(1000, 3);
    std::int64_t tokens = 0, labels = 0;
    for (const auto& e : examples) {
        tokens += static_cast<std::int64_t>(e.ids.size());
        labels += labelTokens(e);
    }
    const auto packed = packExamples(examples, 40);
    std::int64_t packedTokens = 0, packedLabels = 0;
    std::multiset<std::int64_t> lengths, packedLengths;
    for (const auto& e : examples) lengths.insert(static_cast<std::int64_t>(e.ids.size()));
    for (const auto& p : packed) {
        QVERIFY(static_cast<std::int64_t>(p.ids.size()) <= 40);
        std::int64_t sum = 0;
        for (const auto s : p.segments) {
            QCOMPARE(p.labels[static_cast<std::size_t>(sum)], kIgnoreIndex); // no example predicts another's first token
            sum += s;
            packedLengths.insert(s);
        }
        QCOMPARE(sum, static_cast<std::int64_t>(p.ids.size()));
        packedTokens += sum;
        packedLabels += labelTokens(p);
    }
    QCOMPARE(packedTokens, tokens);
    QCOMPARE(packedLabels, labels);
    QVERIFY(packedLengths == lengths);
    // 126 tokens fit in four sequences of 40 (best fit), not the eight rows unpacked.
    QCOMPARE(packed.size(), 4u);
}

void PackingTests::hub_datasets_give_the_examples_of_the_same_files()
{
    const test::DatasetCaches caches;
    const fs::path dir = test::scratchDir("hub-as-files");
    // WikiText: the cached Parquet split against the same rows as a raw text file.
    RunConfig hub;
    hub.dataset = "Salesforce/wikitext";
    hub.datasetConfig = "wikitext-2-raw-v1";
    const auto tokenizer = loadTokenizer(resolveModelSpec("default"));
    const PreparedData fromHub = prepareData(hub, tokenizer.get());
    const DatasetFiles files = resolveDatasets(datasetRequest(hub));
    for (const auto* part : {&files.train, &files.validation}) {
        std::ofstream out(dir / (part == &files.train ? "train.raw" : "valid.raw"));
        const ColumnTable table = readColumnarFile(part->files.front().string());
        // A row a line (rows keep their "\n"; blank lines are "" rows).
        for (std::int64_t i = 0; i < table.rows; ++i) {
            const std::string row = table.columns[0].value(i).get<std::string>();
            out << row << (row.empty() || row.back() != '\n' ? "\n" : "");
        }
    }
    RunConfig plain;
    plain.dataset = (dir / "train.raw").string();
    plain.validation = (dir / "valid.raw").string();
    const PreparedData fromFiles = prepareData(plain, tokenizer.get());
    QVERIFY(!fromHub.train.examples.empty());
    QVERIFY(targetsOf(fromHub.train) == targetsOf(fromFiles.train));
    QVERIFY(targetsOf(fromHub.validation) == targetsOf(fromFiles.validation));
    QCOMPARE(fromHub.trainTokens.size(), fromFiles.trainTokens.size());
    for (std::size_t i = 0; i < fromHub.trainTokens.size(); ++i) QVERIFY(fromHub.trainTokens[i].ids == fromFiles.trainTokens[i].ids);
    QVERIFY(!fromHub.test.examples.empty());

    // HH-RLHF without a data_dir: every folder's train file, read as one JSONL file of them.
    RunConfig hh;
    hh.dataset = "Anthropic/hh-rlhf";
    hh.validationSplit = "test";
    const PreparedData hhHub = prepareData(hh, tokenizer.get());
    const DatasetFiles hhFiles = resolveDatasets(datasetRequest(hh));
    QCOMPARE(hhFiles.train.files.size(), 2u);
    {
        std::ofstream train(dir / "hh-train.jsonl"), test(dir / "hh-test.jsonl");
        for (const auto& f : hhFiles.train.files) train << readMaybeGzip(f);
        for (const auto& f : hhFiles.validation.files) test << readMaybeGzip(f);
    }
    RunConfig hhPlain;
    hhPlain.dataset = (dir / "hh-train.jsonl").string();
    hhPlain.validation = (dir / "hh-test.jsonl").string();
    const PreparedData hhFromFiles = prepareData(hhPlain, tokenizer.get());
    QCOMPARE(hhHub.train.examples.size(), 12u);
    QVERIFY(targetsOf(hhHub.train) == targetsOf(hhFromFiles.train));
    QVERIFY(targetsOf(hhHub.validation) == targetsOf(hhFromFiles.validation));
}

void PackingTests::packing_in_a_run_reports_useful_tokens()
{
    RunConfig c;
    c.maxLen = 128;
    c.packing = true;
    const auto tokenizer = loadTokenizer(resolveModelSpec("default"));
    const PreparedData packed = prepareData(c, tokenizer.get());
    c.packing = false;
    const PreparedData rows = prepareData(c, tokenizer.get());
    QVERIFY(packed.trainTokens.size() * 3 < rows.trainTokens.size()); // short dialogues: several a sequence
    std::int64_t a = 0, b = 0;
    for (const auto& t : packed.trainTokens) a += labelTokens(t);
    for (const auto& t : rows.trainTokens) b += labelTokens(t);
    QCOMPARE(a, b);
    QVERIFY(std::any_of(packed.notes.begin(), packed.notes.end(), [](const std::string& n) { return n.rfind("packing: ", 0) == 0; }));
    c.objective = Objective::Dpo;
    c.packing = true;
    VERIFY_THROWS_WITH(checkRunConfig(c), "packing", "applies to SFT");
}

void PackingTests::hub_dataset_runs_and_their_problems()
{
    const test::DatasetCaches caches;
    RunConfig c = test::smallRun("hub-dataset-runs");
    const std::string runs = c.runsDir;
    RunControl control;
    const auto errorOf = [&](const RunConfig& config) {
        try {
            trainRun(config, control, {});
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    // Problems named with what exists, before any run folder is made.
    c.dataset = "Salesforce/wikitext";
    const std::string noConfig = errorOf(c);
    QVERIFY2(test::missingFragments(noConfig, {"none is the default", "wikitext-2-raw-v1, wikitext-2-v1"}).empty(), noConfig.c_str());
    c.datasetConfig = "wikitext-2-raw-v1";
    c.datasetSplit = "dev";
    const std::string noSplit = errorOf(c);
    QVERIFY2(test::missingFragments(noSplit, {"no split 'dev'", "test, train, validation"}).empty(), noSplit.c_str());
    c = test::smallRun("hub-dataset-runs");
    c.dataset = "lab-fixtures/chat-sft";
    c.messagesColumn = "turns";
    const std::string noColumn = errorOf(c);
    QVERIFY2(test::missingFragments(noColumn, {"no column \"turns\"", "dialog (list<struct<"}).empty(), noColumn.c_str());
    QVERIFY(!fs::exists(runs) || fs::is_empty(runs));

    // DPO on preference pairs in messages form trains, packing off; SFT on the
    // mapped chat column with packing trains too.
    c = test::smallRun("hub-dataset-runs");
    c.dataset = "lab-fixtures/chat-prefs";
    c.objective = Objective::Dpo;
    c.maxSteps = 2;
    c.validationSplit = "test";
    const RunResult dpo = trainRun(c, control, {});
    QCOMPARE(dpo.summary.steps, std::int64_t{2});
    c = test::smallRun("hub-dataset-runs");
    c.dataset = "lab-fixtures/chat-sft";
    c.messagesColumn = "dialog";
    c.packing = true;
    c.maxSteps = 2;
    c.maxLen = 128;
    const RunResult sft = trainRun(c, control, {});
    QCOMPARE(sft.summary.steps, std::int64_t{2});
    QVERIFY(sft.summary.usefulTokensPerSecond > 0 && sft.summary.usefulTokensPerSecond < sft.summary.tokensPerSecond);
}

REGISTER_TESTS(PackingTests);
#include "test_packing.moc"
