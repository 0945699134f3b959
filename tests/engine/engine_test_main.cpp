// The one main of an engine test executable. Every QtTest class its files
// register (REGISTER_TESTS in engine_test.h) contributes its cases, each named
// label/slot:
//   exe --list                               every case, one a line (CTest's discovery reads it)
//   exe label/name[:row] [QtTest options]    that case alone, or one data row of it
//   exe [QtTest options]                     every case of every class
// A case run alone exits 0 when it passed, 1 when it failed and 77 (CTest's
// SKIP_RETURN_CODE) when it was skipped: QSKIP in every row it has.
#include "engine_test.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QMetaMethod>
#include <QStringList>
#include <QTemporaryFile>

#include <nlohmann/json.hpp>

#include <cmath>
#include <exception>
#include <iostream>
#include <set>
#include <sstream>
#include <vector>

namespace loralab::test {

namespace {

constexpr int kSkipCode = 77;

struct TestClass {
    const QMetaObject* meta;
    std::function<std::unique_ptr<QObject>()> make;
};

std::vector<TestClass>& testClasses()
{
    static std::vector<TestClass> all;
    return all;
}

struct Case {
    std::string name; // label/name, as CTest knows it
    const TestClass* owner;
    std::string slot;
};

// QtTest's own rule for which slots are test functions.
bool isTestFunction(const QMetaMethod& m)
{
    if (m.methodType() != QMetaMethod::Slot || m.access() != QMetaMethod::Private || m.parameterCount() != 0 ||
        m.returnType() != QMetaType::Void)
        return false;
    const QByteArray name = m.name();
    return !name.isEmpty() && !name.endsWith("_data") && name != "initTestCase" && name != "cleanupTestCase" &&
           name != "init" && name != "cleanup";
}

const char* classInfo(const QMetaObject* meta, const char* key)
{
    const int i = meta->indexOfClassInfo(key);
    return i < 0 ? nullptr : meta->classInfo(i).value();
}

// Every case of every class, in registration order; `problem` says why there
// are none when a class has no label or two cases share a name.
std::vector<Case> allCases(std::string& problem)
{
    std::vector<Case> cases;
    std::set<std::string> seen;
    for (const TestClass& c : testClasses()) {
        const char* label = classInfo(c.meta, "label");
        if (!label || !*label) {
            problem = std::string(c.meta->className()) + " has no Q_CLASSINFO(\"label\", ...)";
            return {};
        }
        for (int i = c.meta->methodOffset(); i < c.meta->methodCount(); ++i) {
            const QMetaMethod m = c.meta->method(i);
            if (!isTestFunction(m)) continue;
            const std::string slot = m.name().toStdString();
            const char* rename = classInfo(c.meta, slot.c_str());
            const std::string name = std::string(label) + "/" + (rename ? rename : slot);
            // CTest and the discovery script take names as they are: no spaces,
            // list separators, brackets or the row separator.
            if (name.find_first_of(" \t;:[]\"\\$#") != std::string::npos) {
                problem = "case name '" + name + "' of " + c.meta->className() + " holds a character CTest cannot take";
                return {};
            }
            if (!seen.insert(name).second) {
                problem = "two cases are named " + name;
                return {};
            }
            cases.push_back({name, &c, slot});
        }
    }
    return cases;
}

// Whether QtTest's log of one case says it was skipped: a SKIP line for it,
// and no PASS line (which each row that ran to the end has).
bool logSaysSkipped(const QString& logFile, const char* className, const std::string& slot)
{
    QFile file(logFile);
    if (!file.open(QIODevice::ReadOnly)) return false;
    const QByteArray test = QByteArray(": ") + className + "::" + slot.c_str() + "(";
    bool skipped = false;
    bool passed = false;
    for (const QByteArray& line : file.readAll().split('\n')) {
        if (!line.contains(test)) continue;
        skipped = skipped || line.startsWith("SKIP");
        passed = passed || line.startsWith("PASS");
    }
    return skipped && !passed;
}

int runCase(const Case& c, const std::string& row, const QStringList& options, const char* program)
{
    QStringList args{QString::fromLocal8Bit(program), QString::fromStdString(c.slot + (row.empty() ? "" : ":" + row))};
    args << options;
    // Given loggers of its own (-o), the caller reads the results there.
    const bool ownLoggers = options.contains("-o");
    QTemporaryFile log(QDir::tempPath() + "/loralab-engine-test-XXXXXX.txt");
    if (!ownLoggers) {
        if (!log.open()) {
            std::cerr << "cannot create a log file in " << QDir::tempPath().toStdString() << "\n";
            return 1;
        }
        args << "-o" << "-,txt" << "-o" << log.fileName() + ",txt";
    }
    const std::unique_ptr<QObject> tests = c.owner->make();
    if (QTest::qExec(tests.get(), args) != 0) return 1;
    if (ownLoggers) return 0;
    return logSaysSkipped(log.fileName(), c.owner->meta->className(), c.slot) ? kSkipCode : 0;
}

int runAll(const QStringList& options, const char* program)
{
    int failed = 0;
    for (const TestClass& c : testClasses()) {
        const std::unique_ptr<QObject> tests = c.make();
        failed += QTest::qExec(tests.get(), QStringList{QString::fromLocal8Bit(program)} << options);
    }
    return failed == 0 ? 0 : 1;
}

} // namespace

void registerTestClass(const QMetaObject* meta, std::function<std::unique_ptr<QObject>()> make)
{
    testClasses().push_back({meta, std::move(make)});
}

bool verifyNear(double a, double b, double tolerance, const char* exprA, const char* exprB, const char* file, int line)
{
    if (std::fabs(a - b) <= tolerance) return true;
    std::ostringstream out;
    out.precision(12);
    out << exprA << " ~= " << exprB << ": " << a << " vs " << b << ", difference " << std::fabs(a - b) << " > "
        << tolerance;
    QTest::qFail(out.str().c_str(), file, line);
    return false;
}

std::string missingFragments(const std::string& message, std::initializer_list<std::string> fragments)
{
    std::string missing;
    for (const std::string& fragment : fragments)
        if (message.find(fragment) == std::string::npos) missing += (missing.empty() ? "'" : ", '") + fragment + "'";
    return missing.empty() ? missing : "message '" + message + "' lacks " + missing;
}

void fixtureModelRows()
{
    QTest::addColumn<QString>("model");
    for (const char* name : kFixtureModels) QTest::newRow(name) << QString::fromUtf8(name);
}

void modelRows(std::initializer_list<const char*> models)
{
    QTest::addColumn<QString>("model");
    for (const char* name : models) QTest::newRow(name) << QString::fromUtf8(name);
}

std::string currentModel()
{
    QFETCH(QString, model);
    return model.toStdString();
}

std::string notJson(const std::string& text)
{
    try {
        const auto parsed = nlohmann::json::parse(text);
        (void)parsed;
        return {};
    } catch (const std::exception& e) {
        return std::string("not JSON: ") + e.what();
    }
}

} // namespace loralab::test

int main(int argc, char** argv)
{
    using namespace loralab::test;
    std::string problem;
    const std::vector<Case> cases = allCases(problem);
    if (!problem.empty()) {
        std::cerr << argv[0] << ": " << problem << "\n";
        return 2;
    }
    const std::string first = argc > 1 ? argv[1] : "";
    if (first == "--list") {
        for (const Case& c : cases) std::cout << c.name << "\n";
        return 0;
    }
    // QtTest's watchdog ends a test function after five minutes; the slow
    // cases take longer, and CTest's TIMEOUT is the limit that counts.
    if (!qEnvironmentVariableIsSet("QTEST_FUNCTION_TIMEOUT")) qputenv("QTEST_FUNCTION_TIMEOUT", "1500000");
    // Crashes are left to the default handlers and the sanitizers, whose
    // reports QtTest's handler would replace.
    QStringList options{"-nocrashhandler"};
    const bool oneCase = !first.empty() && first[0] != '-';
    for (int i = oneCase ? 2 : 1; i < argc; ++i) options << QString::fromLocal8Bit(argv[i]);
    try {
        if (!oneCase) return runAll(options, argv[0]);
        const std::size_t colon = first.find(':');
        const std::string name = first.substr(0, colon);
        for (const Case& c : cases)
            if (c.name == name) return runCase(c, colon == std::string::npos ? "" : first.substr(colon + 1), options, argv[0]);
        std::cerr << "no test named '" << name << "' (" << argv[0] << " --list names them)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << first << ": unexpected exception: " << e.what() << "\n";
    } catch (...) {
        std::cerr << first << ": unexpected exception\n";
    }
    return 1;
}
