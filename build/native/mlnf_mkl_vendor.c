/* Opt-in MKL vendor-check override for libtorch on AMD CPUs (see docs/benchmarks.md, "CPU kernel dispatch").
 * libtorch_cpu.so links oneMKL statically and exports MKL's internal mkl_serv_intel_cpu_true; MKL's dispatcher
 * calls it to decide whether the CPU may run its optimised Intel code paths. Loaded before libtorch (LD_PRELOAD,
 * or MLNetForgetting's TorchRuntime with RTLD_GLOBAL), this definition wins symbol lookup, so MKL picks the kernels
 * for the instruction sets the CPU reports. Undocumented MKL internals: keep it opt-in. */
int mkl_serv_intel_cpu_true(void) { return 1; }
