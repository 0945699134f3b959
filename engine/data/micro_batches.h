// Cutting a list of examples into batches: the one loop every training step,
// evaluation and scoring pass uses. No LibTorch here.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace loralab {

// Batch `index` holds positions [begin, end) of the list.
struct BatchRange {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::int64_t index = 0;
    std::size_t size() const { return end - begin; }
};

// The batches of `count` items in order, `batchSize` at a time (the last may
// be smaller); none for an empty list.
inline std::vector<BatchRange> batchRanges(std::size_t count, std::int64_t batchSize)
{
    std::vector<BatchRange> out;
    const auto step = static_cast<std::size_t>(std::max<std::int64_t>(1, batchSize));
    for (std::size_t begin = 0; begin < count; begin += step)
        out.push_back({begin, std::min(count, begin + step), static_cast<std::int64_t>(out.size())});
    return out;
}

// The items a batch holds: items[order[i]] for i in the range, or items[i]
// when no order is given.
template <typename T>
std::vector<const T*> batchItems(const std::vector<T>& items, const BatchRange& range, const std::vector<std::size_t>* order = nullptr)
{
    std::vector<const T*> out;
    out.reserve(range.size());
    for (std::size_t i = range.begin; i < range.end; ++i) out.push_back(&items[order ? (*order)[i] : i]);
    return out;
}

} // namespace loralab
