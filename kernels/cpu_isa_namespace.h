#pragma once
// The CPU kernels are compiled three times, for x86-64's baseline (SSE2), AVX2 + FMA and AVX-512; each build
// defines CONTINUA_CPU_ISA to its own namespace name (kernels/CMakeLists.txt). A file compiled once (the
// dispatcher, the reference, tests) sees the baseline name.
#ifndef CONTINUA_CPU_ISA
#define CONTINUA_CPU_ISA isa_baseline
#endif
