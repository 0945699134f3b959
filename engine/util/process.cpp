// Process set-up; see process.h.
#include "engine/util/process.h"

#include <cstdlib>
#include <unistd.h>

namespace loralab {

void relaunchWithPassiveOpenMpThreads(char** argv)
{
    if (std::getenv("OMP_WAIT_POLICY")) return;
    if (::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
    ::execv("/proc/self/exe", argv);
    // Still here: the executable could not be run again (removed or
    // replaced since it started). Spinning threads are slower, not wrong.
}

} // namespace loralab
