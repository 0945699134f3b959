# Third-party dependencies of the engine. Everything is found through the usual
# CMake search path, so a machine without system -dev packages can point
# CMAKE_PREFIX_PATH at unpacked packages instead.

if(NOT LORALAB_FUZZ)
  find_package(Torch REQUIRED)
  message(STATUS "LibTorch ${Torch_VERSION} from ${Torch_DIR}")
  # A CUDA LibTorch sets TORCH_CUDA_LIBRARIES; its CPU code runs without a GPU too.
  if(LORALAB_WITH_CUDA STREQUAL "AUTO")
    if(TORCH_CUDA_LIBRARIES)
      set(LORALAB_CUDA ON)
    else()
      set(LORALAB_CUDA OFF)
    endif()
  elseif(LORALAB_WITH_CUDA)
    if(NOT TORCH_CUDA_LIBRARIES)
      message(FATAL_ERROR "LORALAB_WITH_CUDA is ON, but the LibTorch in ${Torch_DIR} has no CUDA. "
        "Point CMAKE_PREFIX_PATH at a CUDA LibTorch (scripts/setup-gpu.sh does).")
    endif()
    set(LORALAB_CUDA ON)
  else()
    set(LORALAB_CUDA OFF)
  endif()
  message(STATUS "GPU support (LORALAB_WITH_CUDA): ${LORALAB_CUDA}")
endif()
find_package(Threads REQUIRED)

find_path(NLOHMANN_JSON_INCLUDE_DIR nlohmann/json.hpp REQUIRED)
find_path(PCRE2_INCLUDE_DIR pcre2.h REQUIRED)
find_library(PCRE2_LIBRARY NAMES pcre2-8 libpcre2-8.so.0 REQUIRED)
find_path(UTF8PROC_INCLUDE_DIR utf8proc.h REQUIRED)
find_library(UTF8PROC_LIBRARY NAMES utf8proc libutf8proc.so.2 REQUIRED)
find_path(SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h REQUIRED)
find_library(SENTENCEPIECE_LIBRARY NAMES sentencepiece libsentencepiece.so.0 REQUIRED)
find_library(SENTENCEPIECE_TRAIN_LIBRARY NAMES sentencepiece_train libsentencepiece_train.so.0 REQUIRED)
find_package(ZLIB REQUIRED)
# Snappy and Zstandard, for Parquet pages and Arrow IPC bodies (Debian's
# libsnappy-dev and libzstd-dev).
find_path(SNAPPY_INCLUDE_DIR snappy-c.h REQUIRED)
find_library(SNAPPY_LIBRARY NAMES snappy libsnappy.so.1 REQUIRED)
find_path(ZSTD_INCLUDE_DIR zstd.h REQUIRED)
find_library(ZSTD_LIBRARY NAMES zstd libzstd.so.1 REQUIRED)
# Gloo's headers, which c10d's Gloo process group includes (Debian's
# libgloo-dev; LibTorch carries the library itself).
if(NOT LORALAB_FUZZ)
  find_path(GLOO_INCLUDE_DIR gloo/context.h REQUIRED)
endif()

# libsentencepiece is never linked into LoRA Lab's binaries: it carries its own
# protobuf, which clashes with the one LibTorch loads. The engine reaches it
# through a shim library opened at run time (engine/tokenizer/spm_shim.h).

# loralab_unity_build(<target>)
# Every LibTorch translation unit spends most of its compile time
# instantiating the same tensor templates; compiling them in batches of eight
# does that work once per batch. Sources keep their helpers in anonymous
# namespaces with distinct names so that batching stays valid.
function(loralab_unity_build target)
  if(LORALAB_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  endif()
endfunction()

# loralab_warnings(<target>)
# The warnings LoRA Lab's own code is held to; errors with
# LORALAB_WARNINGS_AS_ERRORS. Third-party headers (LibTorch, Qt, JSON) are
# included as system headers and stay out of it.
function(loralab_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
  if(LORALAB_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
