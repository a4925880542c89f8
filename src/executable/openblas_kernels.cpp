// Names OpenBLAS's kernels before OpenBLAS loads, for libmezo's own programs
// (examples, tests, benchmarks). Not part of libmezo: only an executable can
// run code this early (see below), so each program links this object.
//
// Why: OpenBLAS picks its kernels once, when it loads, from the CPU's model
// number. A CPU newer than the OpenBLAS build falls back to the generic
// "Prescott" (SSE3) kernels. Debian 12's OpenBLAS 0.3.21 does that on Intel's
// family 6 model 207 (Emerald Rapids): sgemm 1024³ ran at 37 GFLOP/s on 2
// threads there, against 193 with the Cooperlake kernels the CPU supports
// (docs/benchmarks.md, "Decoders (CPU)"). So on a CPU with AVX-512 we name, through OpenBLAS's
// documented OPENBLAS_CORETYPE variable, the kernels OpenBLAS itself picks for
// the AVX-512 CPUs it knows: Cooperlake with bf16, SkylakeX without. A value
// the user has set is kept, and CPUs without AVX-512 are left to OpenBLAS.
//
// How: OpenBLAS reads the variable in its initialiser, which runs before any
// constructor of the program. Only the executable's .preinit_array runs
// earlier, but a setenv() there is undone: libc's own initialiser, which runs
// next, resets the environment to the one the process started with. So the
// program starts itself again with the variable added, before any library
// has been initialised (nothing has run yet that an exec could lose). If that
// exec fails (no /proc), the program goes on with OpenBLAS's own choice.
#include <unistd.h>

#include <cstddef>
#include <cstring>

namespace {

#if defined(__x86_64__) && defined(__linux__)
constexpr char kVariable[] = "OPENBLAS_CORETYPE=";
constexpr std::size_t kMaxEnvironment = 4096;  // entries; a larger environment is left alone

const char* kernels_for_this_cpu() {
  __builtin_cpu_init();  // libgcc's own initialiser has not run yet
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (!avx512) return nullptr;
  return __builtin_cpu_supports("avx512bf16") ? "OPENBLAS_CORETYPE=Cooperlake"
                                              : "OPENBLAS_CORETYPE=SkylakeX";
}

// Runs with only the dynamic linker initialised: no malloc, no getenv.
void restart_with_openblas_kernels(int /*argc*/, char** argv, char** envp) {
  std::size_t count = 0;
  for (; envp[count] != nullptr; ++count) {
    if (std::strncmp(envp[count], kVariable, sizeof kVariable - 1) == 0) return;  // set: keep it
  }
  const char* kernels = kernels_for_this_cpu();
  if (kernels == nullptr || count >= kMaxEnvironment) return;
  static char* environment[kMaxEnvironment + 2];
  std::memcpy(environment, envp, count * sizeof(char*));
  environment[count] = const_cast<char*>(kernels);
  environment[count + 1] = nullptr;
  execve("/proc/self/exe", argv, environment);  // returns only on failure
}

using PreinitFunction = void (*)(int, char**, char**);
[[gnu::section(".preinit_array"), gnu::used]] const PreinitFunction run_before_openblas =
    restart_with_openblas_kernels;
#endif

}  // namespace
