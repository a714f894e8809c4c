// The host SIMT emulator that runs the CUDA kernels' source in CI: thread coordinates, warp shuffles,
// the undefined behaviour it must refuse, launch limits, and the bfloat16 conversions of the shim.
#include <QtTest>

#include <cmath>
#include <vector>

#define CONTINUA_CUDA_EMULATION 1
#include "kernels/emulation/cuda_host_shim.h"

namespace {

__global__ void writeGlobalIndex(int* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x + blockIdx.y * gridDim.x * blockDim.x;
  if (i < n) out[i] += i + 1;  // += : a thread run twice shows as a wrong value
}

__device__ float warpSum(float v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

__global__ void sumPerWarp(float* out) {
  const int lane = threadIdx.x & 31, warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const float total = warpSum(float(threadIdx.x + 1));
  if (lane == 0) out[warp] = total;
}

__global__ void shuffleDownValues(float* out) {
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, float(threadIdx.x), 5);
}

__global__ void exitThenShuffle(float* out) {
  if (threadIdx.x == 7) return;  // lane 7 leaves; the others wait for it in a full-mask shuffle
  out[threadIdx.x] = warpSum(1.f);
}

__global__ void divergentShuffles(float* out) {
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.f, threadIdx.x < 16 ? 1 : 2);
}

__global__ void shuffleXorValues(float* out, int laneMask) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, float(threadIdx.x), laneMask);
}

__global__ void mixedShuffles(float* out) {  // same offset, different kinds: divergent
  out[threadIdx.x] = threadIdx.x < 16 ? __shfl_down_sync(0xffffffffu, 1.f, 1) : __shfl_xor_sync(0xffffffffu, 1.f, 1);
}

// Each thread publishes its index in shared memory, then reads its neighbour's: correct only if the barrier
// holds every warp until all have written (warps otherwise run one after another here).
__global__ void rotateThroughShared(float* out) {
  __shared__ float cells[256];
  const unsigned n = blockDim.x;
  cells[threadIdx.x] = float(blockIdx.x * 1000 + threadIdx.x);
  __syncthreads();
  const float neighbour = cells[(threadIdx.x + 1) % n];
  __syncthreads();  // nobody overwrites a slot of the next round before it has been read
  cells[threadIdx.x] = neighbour;
  __syncthreads();
  out[blockIdx.x * n + threadIdx.x] = cells[(threadIdx.x + n - 1) % n];
}

// Threads past `live` exit before the barrier; the rest still meet there (exited threads count as arrived).
__global__ void barrierAfterExits(float* out, unsigned live) {
  __shared__ float total[1];
  if (threadIdx.x >= live) return;
  if (threadIdx.x == 0) total[0] = 0.f;
  __syncthreads();
  atomicAdd(total, 1.f);
  __syncthreads();
  out[threadIdx.x] = total[0];
}

__global__ void barrierAgainstShuffle(float* out) {  // half a warp at the barrier, half in a shuffle
  if (threadIdx.x < 16) {
    __syncthreads();
    out[threadIdx.x] = 0.f;
  } else {
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.f, 1);
  }
}

__global__ void doNothing() {}

}  // namespace

class TestSimtEmulator : public QObject {
  Q_OBJECT
 private slots:
  void everyThreadRunsOnceWithItsCoordinates() {
    const int n = 1000;  // grid (4, 2) of 130-thread blocks: partial warps, a partial last block
    std::vector<int> out(n, 0);
    CONTINUA_LAUNCH(writeGlobalIndex, dim3(4, 2), 130, nullptr, out.data(), n);
    for (int i = 0; i < n; ++i) QCOMPARE(out[i], i + 1);
  }

  void warpShuffleReducesAcrossLanes() {
    std::vector<float> out(6, -1.f);  // 3 blocks of 64 threads = 6 warps
    CONTINUA_LAUNCH(sumPerWarp, 3, 64, nullptr, out.data());
    for (int w = 0; w < 6; ++w) {
      const int first = (w % 2) * 32;  // threadIdx.x of the warp's lane 0
      const float expected = 32.f * first + 32.f * 33.f / 2.f;
      QCOMPARE(out[w], expected);
    }
  }

  void shuffleDownKeepsOwnValuePastTheEnd() {
    std::vector<float> out(32);
    CONTINUA_LAUNCH(shuffleDownValues, 1, 32, nullptr, out.data());
    for (int i = 0; i < 32; ++i) QCOMPARE(out[i], float(i + 5 < 32 ? i + 5 : i));
  }

  void shuffleXorReadsThePartnerLane() {
    for (int laneMask : {1, 5, 16, 31}) {
      std::vector<float> out(64);
      CONTINUA_LAUNCH(shuffleXorValues, 1, 64, nullptr, out.data(), laneMask);
      for (int i = 0; i < 64; ++i) QCOMPARE(out[i], float((i & ~31) + ((i & 31) ^ laneMask)));
    }
  }

  void shufflesOfDifferentKindsAreDivergent() {
    std::vector<float> out(32);
    QVERIFY_THROWS_EXCEPTION(std::logic_error, CONTINUA_LAUNCH(mixedShuffles, 1, 32, nullptr, out.data()));
  }

  void barrierHoldsEveryWarpOfTheBlock() {
    const int blocks = 3, threads = 96;  // 3 warps per block
    std::vector<float> out(blocks * threads, -1.f);
    CONTINUA_LAUNCH(rotateThroughShared, blocks, threads, nullptr, out.data());
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < threads; ++t) QCOMPARE(out[b * threads + t], float(b * 1000 + t));
  }

  void exitedThreadsCountAsArrivedAtTheBarrier() {
    std::vector<float> out(64, -1.f);
    CONTINUA_LAUNCH(barrierAfterExits, 1, 64, nullptr, out.data(), 40u);
    for (int t = 0; t < 40; ++t) QCOMPARE(out[t], 40.f);
    for (int t = 40; t < 64; ++t) QCOMPARE(out[t], -1.f);
  }

  void shuffleWaitingForALaneAtTheBarrierIsAnError() {
    std::vector<float> out(32);
    try {
      CONTINUA_LAUNCH(barrierAgainstShuffle, 1, 32, nullptr, out.data());
      QFAIL("expected a logic_error");
    } catch (const std::logic_error& e) {
      QVERIFY2(QString(e.what()).contains("waits at __syncthreads"), e.what());
    }
  }

  void laneExitingBeforeAFullMaskShuffleIsAnError() {
    std::vector<float> out(32);
    try {
      CONTINUA_LAUNCH(exitThenShuffle, 1, 32, nullptr, out.data());
      QFAIL("expected a logic_error");
    } catch (const std::logic_error& e) {
      QVERIFY2(QString(e.what()).contains("lane 7, which has exited"), e.what());
    }
  }

  void fullMaskShuffleInAPartialWarpIsAnError() {
    std::vector<float> out(40);
    QVERIFY_THROWS_EXCEPTION(std::logic_error, CONTINUA_LAUNCH(shuffleDownValues, 1, 40, nullptr, out.data()));
  }

  void divergentShufflesAreAnError() {
    std::vector<float> out(32);
    QVERIFY_THROWS_EXCEPTION(std::logic_error, CONTINUA_LAUNCH(divergentShuffles, 1, 32, nullptr, out.data()));
  }

  void launchLimitsAreCudas() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, CONTINUA_LAUNCH(doNothing, 1, 2048, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, CONTINUA_LAUNCH(doNothing, dim3(1, 70000), 32, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, CONTINUA_LAUNCH(doNothing, 0, 32, nullptr));
    CONTINUA_LAUNCH(doNothing, dim3(1, 65535), 1, nullptr);  // the largest legal grid.y
    CONTINUA_LAUNCH(doNothing, 1, 1024, nullptr);            // and block
  }

  void coordinatesOutsideAKernelAreAnError() {
    QVERIFY_THROWS_EXCEPTION(std::logic_error, (void)threadIdx.x);
  }

  void bfloat16RoundsToNearestEven() {
    auto rt = [](float f) { return __bfloat162float(__float2bfloat16(f)); };
    QCOMPARE(rt(1.0f), 1.0f);
    QCOMPARE(rt(1.0f + 1.0f / 256), 1.0f);                  // tie, rounds to the even mantissa
    QCOMPARE(rt(1.0f + 3.0f / 256), 1.0f + 4.0f / 256);     // tie, rounds up to even
    QCOMPARE(rt(1.0f + 1.0f / 256 + 1e-6f), 1.0f + 2.0f / 256);  // above the tie
    QCOMPARE(rt(-2.5f), -2.5f);
    QVERIFY(std::isnan(rt(std::nanf(""))));
    QVERIFY(std::isinf(rt(INFINITY)));
  }

  void deviceAllocationsStartAsNaN() {
    float* p = nullptr;
    QCOMPARE(cudaMallocAsync(&p, 8 * sizeof(float), nullptr), cudaSuccess);
    for (int i = 0; i < 8; ++i) QVERIFY(std::isnan(p[i]));
    cudaFreeAsync(p, nullptr);
  }
};

QTEST_GUILESS_MAIN(TestSimtEmulator)
#include "test_simt_emulator.moc"
