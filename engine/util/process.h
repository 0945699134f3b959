// Process set-up that must happen before any work starts.
#pragma once

namespace loralab {

// LibTorch's OpenMP threads and OpenBLAS's own threads take turns on the
// same cores. By default an idle OpenMP thread spins for a while before it
// sleeps, so every matrix product that follows an elementwise operation
// competes with spinning threads: with 2 cores a Pythia-70m LoRA step ran
// at about half speed. libgomp reads its wait policy once, when it is
// loaded, so a process that started without OMP_WAIT_POLICY sets it to
// PASSIVE and executes itself again (same pid, same arguments). Does
// nothing when OMP_WAIT_POLICY is already set (the user's choice stands), and
// goes on as it is if the re-execution fails. Call first thing in main().
void relaunchWithPassiveOpenMpThreads(char** argv);

} // namespace loralab
