// Paths to the test fixtures (copied from the reference Python stack).
#pragma once

#include <filesystem>
#include <string>

namespace loralab::test {

inline std::filesystem::path dataDir() { return LORALAB_TEST_DATA; }
inline std::filesystem::path fixtureModel(const std::string& name) { return dataDir() / "fixtures/models" / name; }
inline std::filesystem::path fixtureAdapter(const std::string& name) { return dataDir() / "fixtures/adapters" / (name + "-lora-r4"); }
inline std::filesystem::path reference(const std::string& file) { return dataDir() / "fixtures/reference" / file; }

// A fresh, empty directory under the build tree for one test's files.
inline std::filesystem::path scratchDir(const std::string& name)
{
    auto dir = std::filesystem::path(LORALAB_BINARY_DIR) / "test-scratch" / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

inline const char* kFixtureModels[] = {"tiny-gpt-neox", "tiny-qwen2", "tiny-llama-spm"};

} // namespace loralab::test
