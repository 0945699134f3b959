// Tokenizer tests: exact ids, tokens and decoded text against the reference
// tokenizers' goldens (parity), and the behaviour on bad files and odd input
// (unit): every failure is a loralab::Error naming the file, never a crash.
#include "engine_test.h"
#include "test_paths.h"

#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/unicode.h"
#include "engine/util/error.h"
#include "engine/util/files.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <random>
#include <thread>

namespace {

using loralab::test::dataDir;
using loralab::test::fixtureModel;
using loralab::test::reference;
using loralab::test::scratchDir;
using Json = nlohmann::json;
using Ids = std::vector<std::int64_t>;

std::string show(const Ids& ids)
{
    std::string out = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + std::to_string(ids[i]);
    return out + "]";
}

std::string show(const std::vector<std::string>& tokens)
{
    std::string out = "[";
    for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? ", \"" : "\"") + tokens[i] + "\"";
    return out + "]";
}

Ids concat(Ids a, const Ids& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Every golden entry: the ids and vocabulary strings of encode(text), and
// decode(ids), exactly as the reference gave them. Every entry is checked, and
// the failure lists each mismatch.
void checkGoldens(const loralab::Tokenizer& tokenizer, const std::filesystem::path& goldenFile)
{
    const Json goldens = Json::parse(loralab::readTextFile(goldenFile));
    QVERIFY(goldens.is_array());
    QVERIFY(!goldens.empty());
    std::string mismatches;
    for (const Json& entry : goldens) {
        const auto text = entry.at("text").get<std::string>();
        const auto ids = entry.at("ids").get<Ids>();
        const auto tokens = entry.at("tokens").get<std::vector<std::string>>();
        const auto decoded = entry.at("decoded").get<std::string>();
        const Ids got = tokenizer.encode(text);
        if (got != ids) mismatches += "\n    encode(\"" + text + "\") = " + show(got) + ", expected " + show(ids);
        const auto gotTokens = tokenizer.tokenTexts(ids);
        if (gotTokens != tokens)
            mismatches += "\n    tokens of \"" + text + "\" = " + show(gotTokens) + ", expected " + show(tokens);
        const std::string gotText = tokenizer.decode(ids);
        if (gotText != decoded)
            mismatches += "\n    decode(" + show(ids) + ") = \"" + gotText + "\", expected \"" + decoded + "\"";
    }
    QVERIFY2(mismatches.empty(), (goldenFile.filename().string() + ":" + mismatches).c_str());
}

void checkFixtureModel(const std::string& model)
{
    const auto tokenizer = loralab::loadTokenizer(fixtureModel(model));
    checkGoldens(*tokenizer, reference(model + "_tokenizer.json"));
}

Json fixtureJson(const std::string& model)
{
    return Json::parse(loralab::readTextFile(fixtureModel(model) / "tokenizer.json"));
}

std::filesystem::path writeScratch(const std::string& test, const std::string& name, const std::string& contents)
{
    const auto path = scratchDir(test) / name;
    loralab::writeFileAtomic(path, contents);
    return path;
}

std::unique_ptr<loralab::BpeTokenizer> fromJson(const Json& json)
{
    return loralab::BpeTokenizer::fromJson(json.dump(), "test tokenizer.json");
}

} // namespace

class TokenizerParityTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "parity")
    Q_CLASSINFO("tokenizer_tiny_gpt_neox", "tokenizer_tiny-gpt-neox")
    Q_CLASSINFO("tokenizer_tiny_qwen2", "tokenizer_tiny-qwen2")
    Q_CLASSINFO("tokenizer_tiny_llama_spm", "tokenizer_tiny-llama-spm")
private Q_SLOTS:
    void tokenizer_tiny_gpt_neox();
    void tokenizer_tiny_qwen2();
    void tokenizer_tiny_llama_spm();
    void tokenizer_qwen_real();
};
REGISTER_TESTS(TokenizerParityTests);

class TokenizerTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "unit")
private Q_SLOTS:
    void tokenizer_special_ids_from_configs();
    void tokenizer_special_ids_object_form_and_map();
    void tokenizer_truncated_json();
    void tokenizer_missing_model();
    void tokenizer_merge_with_unknown_token();
    void tokenizer_unsupported_model_type();
    void tokenizer_unsupported_pipeline_parts();
    void tokenizer_bad_vocab();
    void tokenizer_missing_file();
    void tokenizer_corrupt_sentencepiece();
    void tokenizer_directory_without_tokenizer();
    void tokenizer_mutated_json_never_crashes();
    void tokenizer_added_token_options();
    void tokenizer_split_behaviors();
    void tokenizer_invalid_utf8();
    void tokenizer_unicode_helpers();
    void tokenizer_concurrent_encode();
};
REGISTER_TESTS(TokenizerTests);

// ---------------------------------------------------------------------------
// Parity with the reference tokenizers

void TokenizerParityTests::tokenizer_tiny_gpt_neox() { checkFixtureModel("tiny-gpt-neox"); }

void TokenizerParityTests::tokenizer_tiny_qwen2() { checkFixtureModel("tiny-qwen2"); }

void TokenizerParityTests::tokenizer_tiny_llama_spm() { checkFixtureModel("tiny-llama-spm"); }

// The real 151k-token Qwen vocabulary: ../shared/fixtures/qwen-tokenizer beside
// the checkout (LORALAB_QWEN_TOKENIZER_PATH, set by CMake), or the file that the
// environment variable LORALAB_QWEN_TOKENIZER names.
void TokenizerParityTests::tokenizer_qwen_real()
{
    const char* env = std::getenv("LORALAB_QWEN_TOKENIZER");
    const std::filesystem::path path = env && *env ? env : LORALAB_QWEN_TOKENIZER_PATH;
    if (!std::filesystem::exists(path))
        QSKIP((path.string() + " is absent; set LORALAB_QWEN_TOKENIZER to the real Qwen tokenizer.json").c_str());
    const auto tokenizer = loralab::loadHfTokenizerJson(path);
    QCOMPARE(tokenizer->vocabSize(), 151669); // 151,643 BPE tokens + 26 added
    QCOMPARE(tokenizer->tokenId("<|im_end|>"), 151645);
    checkGoldens(*tokenizer, reference("qwen_real_tokenizer.json"));
}

// ---------------------------------------------------------------------------
// Special ids

void TokenizerTests::tokenizer_special_ids_from_configs()
{
    const auto neox = loralab::loadTokenizer(fixtureModel("tiny-gpt-neox"));
    QCOMPARE(neox->eosId(), 0);
    QCOMPARE(neox->bosId(), -1);
    QCOMPARE(neox->padId(), -1);
    const auto spm = loralab::loadTokenizer(fixtureModel("tiny-llama-spm"));
    QCOMPARE(spm->bosId(), 1);
    QCOMPARE(spm->eosId(), 2);
    QCOMPARE(spm->tokenId("<unk>"), 0);
    QCOMPARE(spm->tokenId("no such piece"), -1);
}

void TokenizerTests::tokenizer_special_ids_object_form_and_map()
{
    const auto dir = scratchDir("tokenizer_special_ids_object_form_and_map");
    loralab::writeFileAtomic(dir / "tokenizer.json", fixtureJson("tiny-qwen2").dump());
    loralab::writeFileAtomic(dir / "tokenizer_config.json",
                             R"({"bos_token": {"content": "<|im_start|>", "lstrip": false}, "eos_token": "<|im_end|>"})");
    // tokenizer_config.json wins; special_tokens_map.json fills what it lacks.
    loralab::writeFileAtomic(dir / "special_tokens_map.json",
                             R"({"eos_token": "<|endoftext|>", "pad_token": {"content": "<|endoftext|>"}})");
    const auto tokenizer = loralab::loadTokenizer(dir);
    QCOMPARE(tokenizer->bosId(), 1);
    QCOMPARE(tokenizer->eosId(), 2);
    QCOMPARE(tokenizer->padId(), 0);
}

// ---------------------------------------------------------------------------
// Bad files

void TokenizerTests::tokenizer_truncated_json()
{
    const std::string text = loralab::readTextFile(fixtureModel("tiny-gpt-neox") / "tokenizer.json");
    const auto path = writeScratch("tokenizer_truncated_json", "tokenizer.json", text.substr(0, text.size() / 2));
    const std::string file = path.string();
    VERIFY_THROWS_WITH(loralab::loadHfTokenizerJson(path), file.c_str(), "is not valid JSON");
}

void TokenizerTests::tokenizer_missing_model()
{
    Json json = fixtureJson("tiny-gpt-neox");
    json.erase("model");
    const auto path = writeScratch("tokenizer_missing_model", "tokenizer.json", json.dump());
    const std::string file = path.string();
    VERIFY_THROWS_WITH(loralab::loadHfTokenizerJson(path), file.c_str(), "no \"model\"");
}

void TokenizerTests::tokenizer_merge_with_unknown_token()
{
    Json json = fixtureJson("tiny-gpt-neox");
    json["model"]["merges"].push_back(Json::array({"t", "nosuchtoken"}));
    const auto path = writeScratch("tokenizer_merge_with_unknown_token", "tokenizer.json", json.dump());
    const std::string file = path.string();
    VERIFY_THROWS_WITH(loralab::loadHfTokenizerJson(path), file.c_str(), "\"nosuchtoken\" is not in the vocabulary");

    Json legacy = fixtureJson("tiny-gpt-neox");
    legacy["model"]["merges"] = Json::array({"t h", "x nosuchtoken"});
    VERIFY_THROWS_WITH(fromJson(legacy), "model.merges[1]", "\"nosuchtoken\" is not in the vocabulary");
    legacy["model"]["merges"] = Json::array({"t h e"});
    VERIFY_THROWS_WITH(fromJson(legacy), "model.merges[0]", "one space");
}

void TokenizerTests::tokenizer_unsupported_model_type()
{
    Json json = fixtureJson("tiny-gpt-neox");
    json["model"]["type"] = "WordPiece";
    const auto path = writeScratch("tokenizer_unsupported_model_type", "tokenizer.json", json.dump());
    const std::string file = path.string();
    VERIFY_THROWS_WITH(loralab::loadHfTokenizerJson(path), file.c_str(), "\"WordPiece\" is not supported");
}

void TokenizerTests::tokenizer_unsupported_pipeline_parts()
{
    Json json = fixtureJson("tiny-qwen2");
    json["pre_tokenizer"]["pretokenizers"][1] = Json{{"type", "Metaspace"}, {"replacement", "_"}};
    VERIFY_THROWS_WITH(fromJson(json), "test tokenizer.json", "pre_tokenizer.pretokenizers[1]", "\"Metaspace\"");
    json = fixtureJson("tiny-qwen2");
    json["normalizer"] = Json{{"type", "NFKC"}};
    VERIFY_THROWS_WITH(fromJson(json), "test tokenizer.json", "normalizer", "\"NFKC\"");
    json = fixtureJson("tiny-qwen2");
    json["decoder"] = Json{{"type", "WordPiece"}};
    VERIFY_THROWS_WITH(fromJson(json), "test tokenizer.json", "decoder", "\"WordPiece\"");
    json = fixtureJson("tiny-qwen2");
    json["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
    VERIFY_THROWS_WITH(fromJson(json), "test tokenizer.json", "pattern", "does not compile");
}

void TokenizerTests::tokenizer_bad_vocab()
{
    Json json = fixtureJson("tiny-gpt-neox");
    json["model"]["vocab"] = Json::array({"a", "b"});
    const auto path = writeScratch("tokenizer_bad_vocab", "tokenizer.json", json.dump());
    const std::string file = path.string();
    VERIFY_THROWS_WITH(loralab::loadHfTokenizerJson(path), file.c_str(), "model.vocab is not an object");
    json = fixtureJson("tiny-gpt-neox");
    json["model"]["vocab"]["h"] = "seven";
    VERIFY_THROWS_WITH(fromJson(json), "model.vocab[\"h\"]", "not an integer");
    json["model"]["vocab"]["h"] = -3;
    VERIFY_THROWS_WITH(fromJson(json), "model.vocab[\"h\"]", "not a valid token id");
    json["model"]["vocab"]["h"] = 2000000000;
    VERIFY_THROWS_WITH(fromJson(json), "model.vocab[\"h\"]", "not a valid token id");
    json["model"]["vocab"]["h"] = 100000;
    VERIFY_THROWS_WITH(fromJson(json), "too sparse");
    VERIFY_THROWS_WITH(loralab::BpeTokenizer::fromJson("[1, 2]", "x.json"), "x.json", "not a JSON object");
}

void TokenizerTests::tokenizer_missing_file()
{
    const auto dir = scratchDir("tokenizer_missing_file");
    const std::string json = (dir / "tokenizer.json").string();
    const std::string model = (dir / "tokenizer.model").string();
    const std::string nowhere = (dir / "nowhere").string();
    VERIFY_THROWS_WITH(loralab::loadHfTokenizerJson(json), json.c_str(), "file not found");
    VERIFY_THROWS_WITH(loralab::loadSentencePieceModel(model), model.c_str(), "file not found");
    VERIFY_THROWS_WITH(loralab::loadTokenizer(nowhere), nowhere.c_str(), "directory not found");
}

void TokenizerTests::tokenizer_corrupt_sentencepiece()
{
    std::string garbage;
    std::mt19937 rng(7);
    for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>(rng() & 0xFF));
    const auto path = writeScratch("tokenizer_corrupt_sentencepiece", "tokenizer.model", garbage);
    const std::string file = path.string();
    VERIFY_THROWS_WITH(loralab::loadSentencePieceModel(path), file.c_str(), "sentencepiece model");

    // A real model cut short.
    const std::string model = loralab::readTextFile(fixtureModel("tiny-llama-spm") / "tokenizer.model");
    loralab::writeFileAtomic(path, model.substr(0, model.size() / 3));
    VERIFY_THROWS_WITH(loralab::loadSentencePieceModel(path), file.c_str(), "sentencepiece model");
    loralab::writeFileAtomic(path, "");
    VERIFY_THROWS_WITH(loralab::loadSentencePieceModel(path), file.c_str(), "empty");
}

void TokenizerTests::tokenizer_directory_without_tokenizer()
{
    const auto dir = scratchDir("tokenizer_directory_without_tokenizer");
    loralab::writeFileAtomic(dir / "config.json", "{}");
    const std::string where = dir.string();
    VERIFY_THROWS_WITH(loralab::loadTokenizer(dir), where.c_str(), "neither tokenizer.json nor tokenizer.model");
}

// Damaged copies of a real file either load or throw loralab::Error; any
// other outcome (another exception type, a crash) fails the test.
void TokenizerTests::tokenizer_mutated_json_never_crashes()
{
    const std::string original = loralab::readTextFile(fixtureModel("tiny-qwen2") / "tokenizer.json");
    const std::string alphabet = "{}[]\",:0-9 aeZ\\/u\xC3\xA9";
    std::mt19937 rng(1234);
    int rejected = 0;
    for (int round = 0; round < 400; ++round) {
        std::string text = original;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !text.empty(); ++e) {
            const std::size_t at = rng() % text.size();
            switch (rng() % 4) {
            case 0: text.resize(at); break;
            case 1: text[at] = alphabet[rng() % alphabet.size()]; break;
            case 2: text.erase(at, 1 + rng() % 40); break;
            default: text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 40)); break;
            }
        }
        try {
            const auto tokenizer = loralab::BpeTokenizer::fromJson(text, "mutated.json");
            const Ids ids = tokenizer->encode("Hello <|im_end|> wörld 12345\n\n  x");
            tokenizer->decode(ids);
        } catch (const loralab::Error& e) {
            ++rejected;
            QVERIFY(std::string(e.what()).find("mutated.json") == 0);
        }
    }
    QVERIFY(rejected > 0);
}

// ---------------------------------------------------------------------------
// Behaviour beyond the goldens

void TokenizerTests::tokenizer_added_token_options()
{
    const auto base = fromJson(fixtureJson("tiny-gpt-neox"));
    Json json = fixtureJson("tiny-gpt-neox");
    const auto added = [&](int id, const char* content, bool lstrip, bool rstrip, bool singleWord) {
        json["added_tokens"].push_back({{"id", id}, {"content", content}, {"single_word", singleWord}, {"lstrip", lstrip},
                                        {"rstrip", rstrip}, {"normalized", false}, {"special", true}});
    };
    added(500, "<mask>", true, false, false);
    added(501, "[x]", false, false, true);
    added(502, "<r>", false, true, false);
    added(503, "<mask>!", false, false, false);
    const auto tokenizer = fromJson(json);
    QCOMPARE(tokenizer->vocabSize(), 504);
    // lstrip takes the spaces before the token.
    QVERIFY(tokenizer->encode("a  <mask>") == concat(base->encode("a"), {500}));
    // rstrip takes the spaces after it.
    QVERIFY(tokenizer->encode("<r>  b") == concat({502}, base->encode("b")));
    // single_word: not when a letter touches it.
    QVERIFY(tokenizer->encode("y[x]") == base->encode("y[x]"));
    QVERIFY(tokenizer->encode("y [x] z") == concat(concat(base->encode("y "), {501}), base->encode(" z")));
    // The longest match wins.
    QVERIFY(tokenizer->encode("<mask>!") == Ids{503});
    QCOMPARE(tokenizer->decode({500, 502}), std::string("<mask><r>"));
}

void TokenizerTests::tokenizer_split_behaviors()
{
    Json plainJson = fixtureJson("tiny-gpt-neox");
    plainJson["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
    const auto plain = fromJson(plainJson);
    const auto withSplit = [&](const char* behavior) {
        Json json = plainJson;
        json["pre_tokenizer"] = {{"type", "Sequence"},
                                 {"pretokenizers",
                                  {{{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", behavior}},
                                   plainJson["pre_tokenizer"]}}};
        return fromJson(json);
    };
    const std::string text = "ab cd";
    QVERIFY(withSplit("Removed")->encode(text) == concat(plain->encode("ab"), plain->encode("cd")));
    QVERIFY(withSplit("Isolated")->encode(text) == concat(concat(plain->encode("ab"), plain->encode(" ")), plain->encode("cd")));
    QVERIFY(withSplit("MergedWithPrevious")->encode(text) == concat(plain->encode("ab "), plain->encode("cd")));
    QVERIFY(withSplit("MergedWithNext")->encode(text) == concat(plain->encode("ab"), plain->encode(" cd")));
    VERIFY_THROWS_WITH(withSplit("Sideways"), "\"Sideways\"");

    // add_prefix_space puts a space before text that lacks one.
    Json prefixed = plainJson;
    prefixed["pre_tokenizer"]["add_prefix_space"] = true;
    QVERIFY(fromJson(prefixed)->encode("hi") == plain->encode(" hi"));
    QVERIFY(fromJson(prefixed)->encode(" hi") == plain->encode(" hi"));
}

void TokenizerTests::tokenizer_invalid_utf8()
{
    const auto tokenizer = loralab::loadTokenizer(fixtureModel("tiny-qwen2"));
    // Invalid input reads as U+FFFD, one per maximal ill-formed subpart.
    QVERIFY(tokenizer->encode("a\xFF" "b") == tokenizer->encode("a\xEF\xBF\xBD" "b"));
    QVERIFY(tokenizer->encode("\xF0\x9F\x99") == tokenizer->encode("\xEF\xBF\xBD"));
    // Decoding half of a character gives U+FFFD; unknown ids are skipped.
    const std::int64_t f0 = tokenizer->tokenId("\xC3\xB0"); // "ð" stands for byte 0xF0
    QVERIFY(f0 >= 0);
    QCOMPARE(tokenizer->decode({f0}), std::string("\xEF\xBF\xBD"));
    QCOMPARE(tokenizer->decode({-5, 1000000}), std::string());
    QCOMPARE(tokenizer->tokenText(-1), std::string());
    QCOMPARE(tokenizer->tokenText(tokenizer->vocabSize()), std::string());
}

void TokenizerTests::tokenizer_unicode_helpers()
{
    QCOMPARE(loralab::toValidUtf8("\xF0\x9F\x99"), std::string("\xEF\xBF\xBD"));
    QCOMPARE(loralab::toValidUtf8("\xC0\x80"), std::string("\xEF\xBF\xBD\xEF\xBF\xBD"));
    QCOMPARE(loralab::toValidUtf8("\xED\xA0\x80"), std::string("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
    QCOMPARE(loralab::toValidUtf8("ok \xEF\xBF\xBD"), std::string("ok \xEF\xBF\xBD"));
    QVERIFY(loralab::isValidUtf8("caf\xC3\xA9 \xF0\x9F\x99\x82"));
    QVERIFY(!loralab::isValidUtf8("\xF4\x90\x80\x80")); // above U+10FFFF
    QCOMPARE(loralab::nfc("A\xCC\x8A"), std::string("\xC3\x85"));  // A + combining ring
    QCOMPARE(loralab::nfc("\xE2\x84\xAB"), std::string("\xC3\x85")); // ANGSTROM SIGN
    QCOMPARE(loralab::nfc("\xEF\xAC\x81"), std::string("\xEF\xAC\x81")); // the ﬁ ligature stays (NFC, not NFKC)
}

// encode() is const and shares a word cache; threads must get what one thread gets.
void TokenizerTests::tokenizer_concurrent_encode()
{
    const auto tokenizer = loralab::loadTokenizer(fixtureModel("tiny-qwen2"));
    std::vector<std::string> texts;
    for (int i = 0; i < 2000; ++i)
        texts.push_back("Human: item " + std::to_string(i * 7919) + " of lot" + std::to_string(i % 97) +
                        "x\n\nAssistant: d\xC3\xA9j\xC3\xA0 vu " + std::string(static_cast<std::size_t>(i % 13), 'z'));
    std::vector<Ids> expected;
    {
        const auto fresh = loralab::loadTokenizer(fixtureModel("tiny-qwen2"));
        for (const auto& text : texts) expected.push_back(fresh->encode(text));
    }
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (std::size_t i = 0; i < texts.size(); ++i) {
                const std::size_t k = (i * 7 + static_cast<std::size_t>(t) * 500) % texts.size();
                if (tokenizer->encode(texts[k]) != expected[k]) ++mismatches[t];
            }
        });
    for (auto& thread : threads) thread.join();
    for (int t = 0; t < 4; ++t) QCOMPARE(mismatches[t], 0);
}

#include "test_tokenizer.moc"
