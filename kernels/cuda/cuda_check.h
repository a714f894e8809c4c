#pragma once
// Every CUDA call's status becomes an exception carrying file, line and CUDA's own text.
#include <cuda_runtime.h>

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
