#pragma once
// Selective scan as a LibTorch autograd operation over the kernels in kernels/selective_scan.h.
// Shapes: u, delta, z (batch, length, channels); A (channels, states); B, C (batch, length, states) or
// (batch, length, groups, states); D, deltaBias (channels); initialState (batch, channels, states).
// Device and dtype pick the implementation: CPU float32 -> vectorised CPU kernel, CPU float64 -> float64
// reference kernel, CUDA float32/bfloat16 -> CUDA kernel. Optional tensors are left undefined.
#include <torch/torch.h>

namespace continua::core {

struct ScanInputs {
  torch::Tensor u, delta, A, B, C;
  torch::Tensor D, z, deltaBias, initialState;  // optional
  bool deltaSoftplus = true;
};

struct ScanOutputs {
  torch::Tensor out;         // like u
  torch::Tensor finalState;  // (batch, channels, states), float32 (float64 for float64 inputs); differentiable
};

// Differentiable in every tensor input.
ScanOutputs selectiveScan(const ScanInputs& in);

// The same operation written with LibTorch ops, one time step at a time. Differentiable through LibTorch's
// autograd; the references of the tests and benchmarks. Two ways to take the steps:
//   Unbind      the careful loop: the per-step views come from one unbind, whose backward stacks the step
//               gradients once, so the backward is O(L) — the fair reference a PyTorch user would write
//   PerStepSlice  x[:, t] at every step, as the official selective_scan_ref and common Python fallbacks do:
//               each step's backward allocates a full-size gradient, so the backward is O(L^2)
enum class TorchLoop { Unbind, PerStepSlice };
ScanOutputs selectiveScanTorchOps(const ScanInputs& in, TorchLoop loop = TorchLoop::PerStepSlice);

// One token with a fixed-size state: u, delta, z (batch, channels); B, C (batch, states) or
// (batch, groups, states); state (batch, channels, states) updated in place. Returns the output (batch, channels).
torch::Tensor selectiveScanStep(const ScanInputs& token, torch::Tensor& state);

// While one of these is alive, CPU float32 and bfloat16 scans (forward, backward and step) run the CUDA
// kernels' source under the host SIMT emulator instead of the CPU kernels, with the CUDA chunk length.
// For `check-kernels --emulate-cuda` and the tests on machines without a GPU; slow; not thread-safe.
class EmulatedCudaScope {
 public:
  EmulatedCudaScope();
  ~EmulatedCudaScope();
  EmulatedCudaScope(const EmulatedCudaScope&) = delete;
  EmulatedCudaScope& operator=(const EmulatedCudaScope&) = delete;

 private:
  bool previous_;
};

}  // namespace continua::core
