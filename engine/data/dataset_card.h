// What a dataset card (a repository's README.md) says about its files: the
// YAML front matter's `configs:` list, and the glob patterns its data_files
// use. No LibTorch here.
#pragma once

#include <string>

namespace loralab {

// A glob as the `datasets` library's data_files patterns use it: '*' and '?'
// within one path part, "**" across parts, [...] classes. `path` is relative
// with '/' separators. Each (pattern, path) position is tried once.
bool globMatch(const std::string& pattern, const std::string& path);

// The `configs:` list of a dataset card's YAML front matter as JSON (the
// subset of YAML cards use: block mappings and sequences, quoted and plain
// scalars, flow lists; nesting bounded); "null" when the card has none.
// Throws Error naming `path` and the YAML line it cannot read.
std::string cardConfigsJson(const std::string& readme, const std::string& path);

} // namespace loralab
