// The fixture caches of tests/data/hub_datasets (made by
// tests/data/make_hub_datasets.py): a Hugging Face hub cache and a `datasets`
// Arrow cache, and the cache variables pointed at them for one case.
#pragma once

#include "test_paths.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace loralab::test {

inline std::filesystem::path hubDatasetsRoot() { return dataDir() / "hub_datasets"; }
inline std::filesystem::path hubDatasetsHub() { return hubDatasetsRoot() / "hub"; }
inline std::filesystem::path hubDatasetsArrow() { return hubDatasetsRoot() / "datasets"; }

// HF_HUB_CACHE and HF_DATASETS_CACHE set to the fixture caches, put back afterwards.
class DatasetCaches {
public:
    DatasetCaches()
    {
        for (const char* name : {"HF_HUB_CACHE", "HF_DATASETS_CACHE"})
            if (const char* v = std::getenv(name)) m_saved.emplace_back(name, v);
        setenv("HF_HUB_CACHE", hubDatasetsHub().c_str(), 1);
        setenv("HF_DATASETS_CACHE", hubDatasetsArrow().c_str(), 1);
    }
    ~DatasetCaches()
    {
        unsetenv("HF_HUB_CACHE");
        unsetenv("HF_DATASETS_CACHE");
        for (const auto& [name, value] : m_saved) setenv(name.c_str(), value.c_str(), 1);
    }
    DatasetCaches(const DatasetCaches&) = delete;
    DatasetCaches& operator=(const DatasetCaches&) = delete;

private:
    std::vector<std::pair<std::string, std::string>> m_saved;
};

} // namespace loralab::test
