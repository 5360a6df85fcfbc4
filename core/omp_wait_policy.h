// How libtorch's OpenMP threads (libgomp) wait between parallel regions in graft's processes.
#pragma once

namespace graft {

// The GOMP_SPINCOUNT graft runs libgomp with: how many times a thread that waits for work polls
// before it sleeps in the kernel. libgomp's default (300,000 polls, ~15 ms on a loaded 2-core
// machine) holds a core after every parallel region, which on a machine shared with other busy
// processes takes CPU from them and gets graft's own threads preempted (docs/models.md, "Threads").
inline constexpr char kGraftGompSpinCount[] = "10000";

// Sets GOMP_SPINCOUNT=kGraftGompSpinCount in this process's environment unless OMP_WAIT_POLICY
// or GOMP_SPINCOUNT is already set (the user's choice wins). Returns whether it set it. libgomp
// reads them once, when it is loaded: call it before exec'ing a program that loads libgomp.
bool SetOmpWaitPolicy();

// For a program that has already loaded libgomp (graft-model, the benchmarks): if
// SetOmpWaitPolicy sets the variable, runs this program again (/proc/self/exe with `argv`) so
// that libgomp reads it. Returns when there was nothing to do, or when the exec failed (the
// program then runs with libgomp's default).
void RestartWithOmpWaitPolicy(char** argv);

}  // namespace graft
