// Precompiled header for every translation unit that uses LibTorch: parsing
// <torch/torch.h> costs about half a minute per file without it.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
