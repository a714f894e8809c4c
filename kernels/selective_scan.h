#pragma once
// Selective scan (Mamba-1 / S6): the plain C++ interface shared by the CPU, CUDA and float64 reference
// implementations. No torch, no Qt, no CUDA types cross this header: core/ fills these structs from tensors.
//
// Layout (documented in docs/KERNELS.md):
//   u, delta, z, out   (batch, length, channels)      channels contiguous, batch/time strides free
//   B, C               (batch, length, groups, states) states contiguous, then groups; batch/time strides free
//   A                  (channels, states)             contiguous
//   D, deltaBias       (channels)
//   states             (batch, channels, states)      contiguous: initial, final and per-chunk states
// Channel d reads group d / (channels / groups) of B and C.
//
// Recurrence, per batch b, channel d, state n:
//   dt_t = softplus(delta_t + bias) (or delta_t + bias, or delta_t)
//   h_t  = exp(dt_t * A) * h_{t-1} + dt_t * B_t * u_t
//   y_t  = sum_n C_t * h_t + D * u_t ;  out_t = y_t * silu(z_t) when z is given
#include <cstdint>
#include <string>

#ifdef __CUDACC__
#define CONTINUA_HOST_DEVICE __host__ __device__
#else
#define CONTINUA_HOST_DEVICE
#endif

namespace continua::kernels {

// Element type of u, delta, z, B, C, out and their gradients. A, D, bias and states are float, except
// in the float64 reference where everything is double.
enum class ScanDType { Float32, BFloat16, Float64 };

struct Strides2 {  // strides (in elements) of a (batch, time, ...) tensor's first two axes
  int64_t batch = 0;
  int64_t time = 0;
};

struct ScanParams {
  int batch = 0, length = 0, channels = 0, states = 0, groups = 1;
  ScanDType dtype = ScanDType::Float32;
  bool deltaSoftplus = false;
  int chunkLength = 64;  // steps between saved states; the backward recomputes inside a chunk
  int numThreads = 1;    // CPU only

  const void* u = nullptr;      Strides2 uStride;
  const void* delta = nullptr;  Strides2 deltaStride;
  const void* A = nullptr;
  const void* B = nullptr;      Strides2 bStride;
  const void* C = nullptr;      Strides2 cStride;
  const void* D = nullptr;          // optional
  const void* z = nullptr;          Strides2 zStride;  // optional
  const void* deltaBias = nullptr;  // optional
  const void* initialState = nullptr;  // optional, zero when absent

  void* out = nullptr;          Strides2 outStride;
  void* finalState = nullptr;   // optional
  // (batch, numChunks(), channels, states): the state after each chunk; written by the forward and
  // read by the backward. Optional in the forward when no backward will follow.
  void* chunkStates = nullptr;

  CONTINUA_HOST_DEVICE int numChunks() const { return (length + chunkLength - 1) / chunkLength; }
};

struct ScanGradParams : ScanParams {
  const void* dout = nullptr;   Strides2 doutStride;
  const void* dFinalState = nullptr;  // optional gradient of the final state (batch, channels, states)
  // Outputs. du, ddelta and dz have the element type and layout of their inputs (contiguous).
  // dA, dB, dC, dD, dDeltaBias and dInitialState are float (double in the reference), overwritten, not added to.
  void* du = nullptr;
  void* ddelta = nullptr;
  void* dz = nullptr;           // required when z is given
  void* dA = nullptr;
  void* dB = nullptr;           // (batch, length, groups, states) contiguous
  void* dC = nullptr;
  void* dD = nullptr;           // required when D is given
  void* dDeltaBias = nullptr;   // required when deltaBias is given
  void* dInitialState = nullptr;  // optional
};

// One token for streaming inference: state (batch, channels, states) is read and updated in place.
// u, delta, z, out: (batch, channels); B, C: (batch, groups, states); all contiguous.
struct ScanStepParams {
  int batch = 0, channels = 0, states = 0, groups = 1;
  ScanDType dtype = ScanDType::Float32;
  bool deltaSoftplus = false;
  const void* u = nullptr;
  const void* delta = nullptr;
  const void* A = nullptr;
  const void* B = nullptr;
  const void* C = nullptr;
  const void* D = nullptr;
  const void* z = nullptr;
  const void* deltaBias = nullptr;
  void* state = nullptr;
  void* out = nullptr;
};

// Throws std::invalid_argument naming the field when sizes or pointers are inconsistent.
void validateScanParams(const ScanParams& p);

// CPU, float32: vectorised over channels, threaded over (batch, channel block), chunked over time.
void scanForwardCpu(const ScanParams& p);
void scanBackwardCpu(const ScanGradParams& p);
void scanStepCpu(const ScanStepParams& p);

// Float64 reference: plain loops, stores every state. Used by tests and `continua-cli check-kernels`.
void scanForwardReference(const ScanParams& p);
void scanBackwardReference(const ScanGradParams& p);
void scanStepReference(const ScanStepParams& p);

// CUDA, float32 or bfloat16 inputs with float32 accumulation. `stream` is a cudaStream_t (nullptr: default).
// Throw std::runtime_error when the library was built without CUDA or a CUDA call fails.
bool cudaKernelsAvailable();

// The current CUDA device, for benchmarks that compare against its physical limits.
struct CudaDeviceSummary {
  std::string name;
  int multiprocessors = 0;
  int clockKHz = 0;  // peak SM clock
  int major = 0, minor = 0;
};
// False (and `out` untouched) without a CUDA build or a visible device.
bool cudaDeviceSummary(CudaDeviceSummary& out);
void scanForwardCuda(const ScanParams& p, void* stream);
void scanBackwardCuda(const ScanGradParams& p, void* stream);
void scanStepCuda(const ScanStepParams& p, void* stream);

// The CUDA kernels' own source compiled for the host and run by a SIMT emulator (kernels/emulation), with
// host pointers: slow, but checks their indexing, tiling and warp reductions where no GPU is present.
void scanForwardCudaEmulated(const ScanParams& p);
void scanBackwardCudaEmulated(const ScanGradParams& p);
void scanStepCudaEmulated(const ScanStepParams& p);

}  // namespace continua::kernels
