#pragma once
// Every CUDA call's status becomes an exception carrying file, line and CUDA's own text.
#ifndef CONTINUA_CUDA_EMULATION
#include <cuda_runtime.h>
// Kernel launch, written once for the GPU and the host emulator (which defines its own).
#define CONTINUA_LAUNCH(kernel, grid, block, stream, ...) kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)
#endif

#include <stdexcept>
#include <string>

#define CONTINUA_CUDA_CHECK(expr)                                                                     \
  do {                                                                                                \
    cudaError_t continua_err_ = (expr);                                                               \
    if (continua_err_ != cudaSuccess)                                                                 \
      throw std::runtime_error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #expr   \
                               " failed: " + cudaGetErrorString(continua_err_));                      \
  } while (0)

// After a kernel launch: launch-configuration errors surface here, not at the next unrelated call.
#define CONTINUA_CUDA_CHECK_LAUNCH() CONTINUA_CUDA_CHECK(cudaGetLastError())
