// A small test harness for the engine tests: TEST registers a case, CHECK*
// macros record failures without stopping the case, REQUIRE stops it. Each
// executable runs the cases whose names match its first argument, so CTest can
// register every case on its own with its own labels.
#pragma once

#include <cmath>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace loralab::test {

struct Case {
    std::string name;
    std::function<void()> body;
};

inline std::vector<Case>& registry()
{
    static std::vector<Case> cases;
    return cases;
}

inline int& failures()
{
    static int count = 0;
    return count;
}

// Thrown by REQUIRE and by SKIP to leave a case early.
struct Abort {};
struct Skip {
    std::string why;
};

struct Registrar {
    Registrar(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

inline void fail(const char* file, int line, const std::string& what)
{
    ++failures();
    std::cerr << file << ":" << line << ": FAILED: " << what << "\n";
}

template <typename A, typename B>
std::string describe(const char* exprA, const char* exprB, const A& a, const B& b)
{
    std::ostringstream out;
    out << exprA << " == " << exprB << " (" << a << " vs " << b << ")";
    return out.str();
}

// CTest treats this exit code as "skipped" (SKIP_RETURN_CODE on each test).
constexpr int kSkipCode = 77;

inline int runAll(int argc, char** argv)
{
    const std::string filter = argc > 1 ? argv[1] : "";
    if (filter == "--list") {
        for (const auto& c : registry()) std::cout << c.name << "\n";
        return 0;
    }
    int ran = 0;
    int skipped = 0;
    for (const auto& c : registry()) {
        if (!filter.empty() && c.name != filter) continue;
        ++ran;
        const int before = failures();
        try {
            c.body();
        } catch (const Abort&) {
        } catch (const Skip& s) {
            ++skipped;
            std::cout << "SKIP " << c.name << ": " << s.why << "\n";
            continue;
        } catch (const std::exception& e) {
            fail(c.name.c_str(), 0, std::string("unexpected exception: ") + e.what());
        }
        std::cout << (failures() == before ? "PASS " : "FAIL ") << c.name << "\n";
    }
    if (ran == 0) {
        std::cerr << "no test named '" << filter << "'\n";
        return 2;
    }
    if (failures() > 0) return 1;
    return skipped == ran ? kSkipCode : 0;
}

} // namespace loralab::test

// LibTorch brings glog's CHECK macros; these tests use their own.
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NEAR

#define LL_CONCAT2(a, b) a##b
#define LL_CONCAT(a, b) LL_CONCAT2(a, b)
// __COUNTER__ rather than __LINE__: unique even when a unity build joins files.
#define LL_TEST_IMPL(name, id)                                                                     \
    static void LL_CONCAT(test_body_, id)();                                                       \
    static ::loralab::test::Registrar LL_CONCAT(test_reg_, id)(name, LL_CONCAT(test_body_, id));   \
    static void LL_CONCAT(test_body_, id)()
#define TEST(name) LL_TEST_IMPL(name, __COUNTER__)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) ::loralab::test::fail(__FILE__, __LINE__, #cond);                             \
    } while (0)
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ::loralab::test::fail(__FILE__, __LINE__, #cond);                                      \
            throw ::loralab::test::Abort{};                                                        \
        }                                                                                          \
    } while (0)
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        const auto& ll_a = (a);                                                                    \
        const auto& ll_b = (b);                                                                    \
        if (!(ll_a == ll_b))                                                                       \
            ::loralab::test::fail(__FILE__, __LINE__, ::loralab::test::describe(#a, #b, ll_a, ll_b)); \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        const double ll_a = (a), ll_b = (b);                                                       \
        if (!(std::fabs(ll_a - ll_b) <= (tol))) {                                                  \
            std::ostringstream ll_out;                                                             \
            ll_out.precision(10);                                                                  \
            ll_out << #a << " ~= " << #b << " (" << ll_a << " vs " << ll_b << ", diff "            \
                   << std::fabs(ll_a - ll_b) << " > " << (tol) << ")";                             \
            ::loralab::test::fail(__FILE__, __LINE__, ll_out.str());                               \
        }                                                                                          \
    } while (0)
// The statement must throw loralab::Error whose message contains every listed fragment.
#define CHECK_THROWS_WITH(stmt, ...)                                                               \
    do {                                                                                           \
        bool ll_threw = false;                                                                     \
        try {                                                                                      \
            stmt;                                                                                  \
        } catch (const ::loralab::Error& ll_e) {                                                   \
            ll_threw = true;                                                                       \
            const std::string ll_msg = ll_e.what();                                                \
            for (const std::string& ll_frag : std::initializer_list<std::string>{__VA_ARGS__})                                        \
                if (ll_msg.find(ll_frag) == std::string::npos)                                     \
                    ::loralab::test::fail(__FILE__, __LINE__,                                      \
                                          "message '" + ll_msg + "' lacks '" + ll_frag + "'");     \
        }                                                                                          \
        if (!ll_threw) ::loralab::test::fail(__FILE__, __LINE__, #stmt " did not throw loralab::Error"); \
    } while (0)
// The text must parse as JSON.
#define CHECK_NO_THROW_PARSE(text)                                                                 \
    do {                                                                                           \
        try {                                                                                      \
            const auto ll_parsed = nlohmann::json::parse(text);                                    \
            (void)ll_parsed;                                                                       \
        } catch (const std::exception& ll_e) {                                                     \
            ::loralab::test::fail(__FILE__, __LINE__, std::string("not JSON: ") + ll_e.what());    \
        }                                                                                          \
    } while (0)
#define SKIP(why) throw ::loralab::test::Skip{why}
