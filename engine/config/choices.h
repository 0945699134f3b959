// Named choices: an enum whose values a user picks by name (a schedule, a text
// mode, what trains). Each enum lists its names once, beside its declaration,
// as a ChoiceList specialisation; parsing, printing, the run options' help and
// validation, and the window's combo boxes all read that one list. No
// LibTorch here.
#pragma once

#include "engine/util/error.h"

#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace loralab {

// Specialise with `static constexpr std::array<std::pair<E, const char*>, N> items`
// (in the order help text lists them) and `static constexpr const char* what`
// (the option that makes the choice, for messages: "schedule").
template <typename E>
struct ChoiceList;

template <typename E>
const char* choiceName(E value)
{
    for (const auto& [v, name] : ChoiceList<E>::items)
        if (v == value) return name;
    return ChoiceList<E>::items[0].second;
}

template <typename E>
std::vector<std::string> choiceNames()
{
    std::vector<std::string> out;
    for (const auto& item : ChoiceList<E>::items) out.emplace_back(item.second);
    return out;
}

// "a, b or c".
inline std::string choicesText(const std::vector<std::string>& names)
{
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    return out;
}

template <typename E>
bool tryParseChoice(const std::string& text, E& out)
{
    for (const auto& [v, name] : ChoiceList<E>::items)
        if (text == name) {
            out = v;
            return true;
        }
    return false;
}

// Throws loralab::Error "<what>: must be a, b or c, not "x"".
template <typename E>
E parseChoice(const std::string& text)
{
    E out{};
    if (!tryParseChoice(text, out))
        throw Error(std::string(ChoiceList<E>::what) + ": must be " + choicesText(choiceNames<E>()) + ", not \"" + text + "\"");
    return out;
}

} // namespace loralab
