#include "core/bench/timing.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace continua::core {

double medianMs(const std::function<void()>& work, int repeats, bool cuda) {
  work();  // warm-up: allocator, caches, lazy initialisation
  if (cuda) torch::cuda::synchronize();
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    auto t0 = std::chrono::steady_clock::now();
    work();
    if (cuda) torch::cuda::synchronize();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

double medianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double copyBandwidthGBs() {
  const int64_t n = int64_t(1) << 28;  // 1 GiB of float32
  torch::Tensor a = torch::empty({n}, torch::TensorOptions().device(torch::kCUDA));
  torch::Tensor b = torch::empty_like(a);
  const double ms = medianMs([&] { b.copy_(a); }, 10, true);
  return 2.0 * n * 4 / (ms * 1e-3) / 1e9;
}

}  // namespace continua::core
