#pragma once
// Where a CUDA kernel of ours should launch: on the tensor's device, in LibTorch's current stream there
// (the one a caller's CUDAStreamGuard selects), ordered after and before LibTorch's own work. Compiled
// against a CUDA LibTorch this uses c10::cuda; against a CPU-only LibTorch (Debian's) no tensor can be on
// a GPU, and stream() is the legacy default stream (nullptr). No torch or CUDA headers here.
namespace continua::core {

class CudaLaunchScope {
 public:
  explicit CudaLaunchScope(int deviceIndex);  // makes the device current until destruction
  ~CudaLaunchScope();
  CudaLaunchScope(const CudaLaunchScope&) = delete;
  CudaLaunchScope& operator=(const CudaLaunchScope&) = delete;

  void* stream() const { return stream_; }  // a cudaStream_t

 private:
  int previousDevice_ = -1;
  void* stream_ = nullptr;
};

}  // namespace continua::core
