#pragma once
// Parity checks of the selective-scan kernels against the float64 reference, on fresh random inputs.
// Shared by the Qt Test suite and `continua-cli check-kernels`, so a user on a new machine runs exactly
// what the tests run.
#include <cstdint>
#include <string>
#include <vector>

namespace continua::core {

struct ScanCase {
  std::string name;
  int batch = 2, length = 16, channels = 8, states = 4, groups = 1;
  bool withZ = true, withD = true, withBias = true, softplus = true, withInitialState = false;
  // Whether checkReferenceAgreement runs on it: that check proves the reference, which no large shape adds to, and
  // LibTorch's autograd one step at a time takes ~20 s at a million elements.
  bool checksReference = true;
};

struct CheckRow {
  std::string caseName, device, dtype, quantity;
  double error = 0.0;  // max |x - ref| / max |ref| over the tensor
  double bound = 0.0;
  bool passed() const { return error <= bound; }
};

// The standard grid: L = 1, L not a multiple of the chunk, N in {1, 4, 16, 40, 64, 256}, channels not a
// multiple of the vector width, groups whose boundaries split a vector block, whole warps per group (the
// CUDA warp reduction), several register tiles of states, a given initial state.
std::vector<ScanCase> standardScanCases();

// Relative-error bounds, per dtype (documented in docs/KERNELS.md).
double scanErrorBound(const std::string& dtype);

// Forward output, final state and every gradient of the kernel on `device` ("cpu", "cuda", or
// "cuda-emulated": the CUDA kernels' source run on the CPU by the SIMT emulator) in `dtype`
// ("float32" or "bfloat16") against the float64 reference kernel on the same inputs.
std::vector<CheckRow> checkScanCase(const ScanCase& c, const std::string& device, const std::string& dtype,
                                    uint64_t seed);

// Step-by-step streaming against the full scan, float32, on any of checkScanCase's devices.
std::vector<CheckRow> checkScanStreaming(const ScanCase& c, const std::string& device, uint64_t seed);

// The LibTorch-ops reference (in float64, through autograd) against the float64 reference kernel: proves
// the kernel reference itself.
std::vector<CheckRow> checkReferenceAgreement(const ScanCase& c, uint64_t seed);

bool cudaAvailable();

}  // namespace continua::core
