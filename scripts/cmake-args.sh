# Sourced by the build scripts: the CMake arguments every build folder starts
# with. Ninja where it is installed; ccache where it is installed (unless
# LORALAB_CCACHE=0), with settings that let the build folders share objects:
# paths under the checkout are hashed relative to it, so the CUDA build reuses
# the CPU build's LibTorch-free objects and a second clone reuses the first's,
# and precompiled headers are cached too.
#   cmake_args   the arguments (an array)
cmake_args=()
command -v ninja >/dev/null 2>&1 && cmake_args+=(-G Ninja)
if [ "${LORALAB_CCACHE:-1}" != "0" ] && command -v ccache >/dev/null 2>&1; then
  cmake_args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(pwd)}"
  export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
fi
