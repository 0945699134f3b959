// adapter_config.json; see adapter_config.h.
#include "engine/lora/adapter_config.h"

#include "engine/util/error.h"
#include "engine/util/json_file.h"

#include <nlohmann/json.hpp>
#include <cctype>
#include <regex>
#include <type_traits>

namespace loralab {
namespace {

using Json = nlohmann::json;

// PEFT options that change what a LoRA adapter computes and that LoRA Lab does
// not implement: an adapter that sets one is refused, never half-applied.
const std::pair<const char*, const char*> kUnsupportedFields[] = {
    {"use_dora", "DoRA adapters"},
    {"lora_bias", "adapters with LoRA biases"},
    {"modules_to_save", "fully trained extra modules (modules_to_save)"},
    {"layers_to_transform", "adapters on a subset of layers (layers_to_transform)"},
    {"fan_in_fan_out", "Conv1D-layout weights (fan_in_fan_out)"},
    {"exclude_modules", "excluded modules (exclude_modules)"},
    {"layer_replication", "replicated layers (layer_replication)"},
    {"target_parameters", "adapters on parameters rather than modules (target_parameters)"},
    {"trainable_token_indices", "trainable token embeddings (trainable_token_indices)"},
    {"alora_invocation_tokens", "activated LoRA (alora_invocation_tokens)"},
    {"use_qalora", "QA-LoRA adapters (use_qalora)"},
};

bool isSet(const Json& j, const char* key)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return false;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_array() || it->is_object()) return !it->empty();
    return true;
}

// PEFT matches a pattern key against a module name as "(.*\.)?(key)$".
bool patternMatches(const std::string& key, const std::string& module)
{
    try {
        return std::regex_search(module, std::regex("(^|.*\\.)(" + key + ")$"));
    } catch (const std::regex_error&) {
        return false;
    }
}

template <typename T>
T patternValue(const std::map<std::string, T>& patterns, const std::string& module, T fallback)
{
    for (const auto& [key, value] : patterns)
        if (patternMatches(key, module)) return value;
    return fallback;
}

} // namespace

AdapterConfig parseAdapterConfig(const std::string& text, const std::string& path)
{
    const Json j = parseJsonObject<Json>(text, path);
    try {
        const std::string type = j.value("peft_type", "LORA");
        if (type != "LORA") throw fileError(path, "peft_type '" + type + "' is not supported (only LORA adapters)");
        for (const auto& [field, what] : kUnsupportedFields)
            if (isSet(j, field))
                throw fileError(path, std::string("field '") + field + "' is set: " + what +
                                          " are not supported, and loading the adapter without it would compute something else");
        if (j.contains("bias") && j["bias"].is_string() && j["bias"] != "none")
            throw fileError(path, "field 'bias' is '" + j["bias"].get<std::string>() + "': only \"none\" is supported");

        // Each value of the type PEFT writes, or an error naming the field.
        const auto typed = [&](const char* key, auto fallback) {
            using T = decltype(fallback);
            const auto it = j.find(key);
            if (it == j.end() || it->is_null()) return fallback;
            const bool ok = std::is_same<T, bool>::value ? it->is_boolean()
                            : std::is_integral<T>::value ? it->is_number_integer()
                                                         : it->is_number();
            if (!ok)
                throw fileError(path, std::string("field '") + key + "' should be " +
                                          (std::is_same<T, bool>::value ? "true or false"
                                           : std::is_integral<T>::value ? "a whole number"
                                                                        : "a number") +
                                          ", not " + jsonPreview(*it));
            return it->template get<T>();
        };
        AdapterConfig c;
        c.rank = typed("r", std::int64_t{8});
        c.alpha = typed("lora_alpha", 8.0);
        c.dropout = typed("lora_dropout", 0.0);
        c.useRsLora = typed("use_rslora", false);
        if (c.rank <= 0) throw fileError(path, "r must be positive");
        if (c.dropout < 0.0 || c.dropout >= 1.0) throw fileError(path, "lora_dropout must be in [0, 1)");
        const auto targets = j.find("target_modules");
        if (targets == j.end() || targets->is_null()) throw fileError(path, "target_modules is missing");
        if (targets->is_string()) {
            const auto t = targets->get<std::string>();
            if (t == "all-linear")
                c.targetModules = {t};
            else
                c.targetRegex = t;
        } else if (targets->is_array()) {
            for (const auto& t : *targets) {
                if (!t.is_string()) throw fileError(path, "target_modules holds a non-string entry");
                c.targetModules.push_back(t.get<std::string>());
            }
        } else {
            throw fileError(path, "target_modules must be a list of names or a regular expression");
        }
        if (c.targetModules.empty() && c.targetRegex.empty()) throw fileError(path, "target_modules is empty");
        if (!c.targetRegex.empty()) {
            try {
                std::regex check(c.targetRegex);
            } catch (const std::regex_error&) {
                throw fileError(path, "target_modules '" + c.targetRegex + "' is not a valid regular expression");
            }
        }
        if (const auto rp = j.find("rank_pattern"); rp != j.end() && rp->is_object())
            for (auto it = rp->begin(); it != rp->end(); ++it) c.rankPattern[it.key()] = it->get<std::int64_t>();
        if (const auto ap = j.find("alpha_pattern"); ap != j.end() && ap->is_object())
            for (auto it = ap->begin(); it != ap->end(); ++it) c.alphaPattern[it.key()] = it->get<double>();
        for (const auto& [key, r] : c.rankPattern)
            if (r <= 0) throw fileError(path, "rank_pattern entry '" + key + "' must be positive");
        c.baseModel = j.value("base_model_name_or_path", std::string());
        if (j.contains("init_lora_weights")) {
            const auto& init = j["init_lora_weights"];
            c.init = init.is_string() && init.get<std::string>() == "gaussian" ? LoraInit::Gaussian : LoraInit::Kaiming;
        }
        return c;
    } catch (const Json::exception& e) {
        throw fileError(path, std::string("has a value of the wrong type: ") + e.what());
    }
}

std::string adapterConfigToJson(const AdapterConfig& c)
{
    nlohmann::ordered_json j;
    j["peft_type"] = "LORA";
    j["task_type"] = "CAUSAL_LM";
    j["base_model_name_or_path"] = c.baseModel;
    j["r"] = c.rank;
    j["lora_alpha"] = c.alpha;
    j["lora_dropout"] = c.dropout;
    if (c.targetRegex.empty())
        j["target_modules"] = c.targetModules;
    else
        j["target_modules"] = c.targetRegex;
    j["bias"] = "none";
    j["use_rslora"] = c.useRsLora;
    j["use_dora"] = false;
    j["fan_in_fan_out"] = false;
    j["modules_to_save"] = nullptr;
    j["init_lora_weights"] = c.init == LoraInit::Gaussian ? nlohmann::ordered_json("gaussian") : nlohmann::ordered_json(true);
    j["rank_pattern"] = c.rankPattern;
    j["alpha_pattern"] = c.alphaPattern;
    j["layers_to_transform"] = nullptr;
    j["layers_pattern"] = nullptr;
    j["inference_mode"] = true;
    j["revision"] = nullptr;
    return j.dump(2) + "\n";
}

std::int64_t rankFor(const AdapterConfig& c, const std::string& module) { return patternValue(c.rankPattern, module, c.rank); }
double alphaFor(const AdapterConfig& c, const std::string& module) { return patternValue(c.alphaPattern, module, c.alpha); }

std::string adapterBaseWarning(const AdapterConfig& adapter, const std::filesystem::path& adapterDir, const std::string& model)
{
    if (adapter.baseModel.empty() || model.empty()) return "";
    const auto lastPart = [](std::string name) {
        while (!name.empty() && name.back() == '/') name.pop_back();
        const auto slash = name.find_last_of('/');
        std::string part = slash == std::string::npos ? name : name.substr(slash + 1);
        for (char& c : part) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return part;
    };
    if (lastPart(adapter.baseModel) == lastPart(model)) return "";
    return "warning: the adapter in " + adapterDir.string() + " was trained on '" + adapter.baseModel +
           "' (base_model_name_or_path), and is applied to '" + model + "'; its shapes fit, but check that it belongs to this model";
}

} // namespace loralab
