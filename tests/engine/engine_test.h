// What every engine test file includes: QtTest, the registration of its test
// classes with the one main of its executable (engine_test_main.cpp), and the
// checks QtTest lacks.
//
// A test file holds QObject classes whose private slots are its cases. Each
// class names its CTest label (unit, parity, slow, gpu, ...) with
// Q_CLASSINFO("label", ...); a case is registered with CTest as label/slot,
// so unit/gzip_datasets is the slot gzip_datasets of a class labelled unit.
// A slot whose case name is not a C++ name carries it in a class info named
// after the slot: Q_CLASSINFO("tokenizer_tiny_gpt_neox", "tokenizer_tiny-gpt-neox").
// The cases are `private Q_SLOTS:` (Qt's keyword macros are off: LibTorch's
// headers name a member slots()).
//
// QCOMPARE compares floating-point values fuzzily; where two doubles must be
// equal to the bit, QCOMPARE_EQ says so, and VERIFY_NEAR holds a tolerance.
// QtTest's macros return from the function they are in. A helper that checks
// with them is called through CALL_CHECKS, so that the case stops where the
// helper failed instead of going on as if it had passed.
#pragma once

#include "test_paths.h"

#include "engine/util/error.h"

#include <QObject>
#include <QString>
#include <QTest>

#include <filesystem>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <string>

namespace loralab::test {

// Adds a QtTest class to the cases of this executable (REGISTER_TESTS).
void registerTestClass(const QMetaObject* meta, std::function<std::unique_ptr<QObject>()> make);

template <typename T>
bool registerTests()
{
    registerTestClass(&T::staticMetaObject, [] { return std::make_unique<T>(); });
    return true;
}

// Whether |a - b| <= tolerance; reports both values, the difference and the
// tolerance through QTest::qFail when not (NaN is never near anything).
bool verifyNear(double a, double b, double tolerance, const char* exprA, const char* exprB, const char* file, int line);

// What is wrong with an error message that should contain every fragment:
// empty when it does.
std::string missingFragments(const std::string& message, std::initializer_list<std::string> fragments);

// The test data of a case run once per fixture model: one row per model, named
// after it, in the column "model" (call from the case's _data slot).
void fixtureModelRows();
// The same for the models named.
void modelRows(std::initializer_list<const char*> models);
// That row's model, in the case itself.
std::string currentModel();

// Why `text` is not JSON; empty when it is (VERIFY_JSON).
std::string notJson(const std::string& text);

} // namespace loralab::test

// Values QCOMPARE prints on failure.
namespace QTest {
template <>
inline char* toString(const std::string& s)
{
    return qstrdup(("\"" + s + "\"").c_str());
}
template <>
inline char* toString(const std::filesystem::path& p)
{
    return qstrdup(p.string().c_str());
}
} // namespace QTest

// moc reads the test files for their classes only; it would trip over the raw
// string literals in these macros' arguments.
#ifndef Q_MOC_RUN

// One variable per class, named after it: class names are unique in an
// executable, so the names stay unique when a unity build joins files.
#define REGISTER_TESTS(Class)                                                                      \
    [[maybe_unused]] static const bool loralab_registered_##Class = ::loralab::test::registerTests<Class>()

// |a - b| <= tol, printing both values on failure.
#define VERIFY_NEAR(a, b, tol)                                                                     \
    do {                                                                                           \
        if (!::loralab::test::verifyNear((a), (b), (tol), #a, #b, __FILE__, __LINE__)) return;     \
    } while (false)

// The statement must throw loralab::Error whose message contains every listed
// fragment. Another exception type goes on up and fails the case.
#define VERIFY_THROWS_WITH(stmt, ...)                                                              \
    do {                                                                                           \
        std::string ll_problem = #stmt " did not throw loralab::Error";                            \
        try {                                                                                      \
            stmt;                                                                                  \
        } catch (const ::loralab::Error& ll_e) {                                                   \
            ll_problem = ::loralab::test::missingFragments(ll_e.what(), {__VA_ARGS__});            \
        }                                                                                          \
        if (!ll_problem.empty()) {                                                                 \
            QTest::qFail(ll_problem.c_str(), __FILE__, __LINE__);                                  \
            return;                                                                                \
        }                                                                                          \
    } while (false)

// The text must parse as JSON.
#define VERIFY_JSON(text)                                                                          \
    do {                                                                                           \
        const std::string ll_why = ::loralab::test::notJson(text);                                 \
        QVERIFY2(ll_why.empty(), ll_why.c_str());                                                  \
    } while (false)

// Runs a helper that checks with QtTest's macros; the case stops when it failed.
#define CALL_CHECKS(call)                                                                          \
    do {                                                                                           \
        call;                                                                                      \
        if (QTest::currentTestFailed()) return;                                                    \
    } while (false)

#endif // Q_MOC_RUN
