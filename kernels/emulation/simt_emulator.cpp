// Fibres (ucontext) stand in for the 32 lanes of a warp: the scheduler resumes each live lane until it
// finishes or parks in a shuffle, then performs the exchange for the whole warp and starts over.
#include "kernels/emulation/simt_emulator.h"

#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace continua::kernels::emulation {
namespace {

constexpr unsigned kWarpSize = 32;
constexpr size_t kLaneStackBytes = 256 * 1024;  // kernels keep a few KiB of locals; debug builds use more

enum class LaneState { Ready, Parked, Done };
enum class ShuffleKind { Down, Xor };

struct Lane {
  ucontext_t context;
  std::unique_ptr<char[]> stack;
  ThreadCoordinates coords;
  LaneState state = LaneState::Ready;
  ShuffleKind kind = ShuffleKind::Down;  // of the shuffle it is parked in
  unsigned mask = 0, delta = 0;          // delta: the offset (down) or lane mask (xor)
  float value = 0.f, result = 0.f;
};

struct Warp {
  ucontext_t scheduler;
  Lane lanes[kWarpSize];
  unsigned size = 0;   // lanes that exist (the last warp of a block may be partial)
  unsigned running = 0;
  const std::function<void()>* body = nullptr;
  std::exception_ptr failure;
};

thread_local Warp* tWarp = nullptr;
thread_local const ThreadCoordinates* tCoords = nullptr;

void laneEntry() {
  Warp& w = *tWarp;
  try {
    (*w.body)();
  } catch (...) {
    if (!w.failure) w.failure = std::current_exception();
  }
  w.lanes[w.running].state = LaneState::Done;
  // Returning resumes uc_link: the scheduler.
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Every parked lane must name only parked lanes in its mask, and all must be at the same shuffle.
void exchange(Warp& w) {
  int first = -1;
  for (unsigned i = 0; i < w.size; ++i) {
    const Lane& l = w.lanes[i];
    if (l.state != LaneState::Parked) continue;
    if (first < 0) first = int(i);
    const Lane& f = w.lanes[first];
    if (l.kind != f.kind || l.delta != f.delta || l.mask != f.mask)
      throw std::logic_error("SIMT emulator: lanes " + std::to_string(first) + " and " + std::to_string(i) +
                             " of a warp wait in different shuffles (divergent __shfl_*_sync)");
    for (unsigned j = 0; j < kWarpSize; ++j) {
      if (!(l.mask >> j & 1u)) continue;
      if (j >= w.size || w.lanes[j].state != LaneState::Parked)
        throw std::logic_error("SIMT emulator: lane " + std::to_string(i) + " waits in a shuffle (mask " +
                               hex(l.mask) + ") for lane " + std::to_string(j) +
                               (j >= w.size ? ", which does not exist" : ", which has exited") +
                               " (undefined behaviour on a GPU)");
    }
  }
  for (unsigned i = 0; i < w.size; ++i) {
    Lane& l = w.lanes[i];
    if (l.state != LaneState::Parked) continue;
    const unsigned src = l.kind == ShuffleKind::Down ? i + l.delta : i ^ l.delta;
    // A source lane outside the warp's size was caught above (it is in the mask); past 32 is the own value.
    l.result = src < kWarpSize ? w.lanes[src].value : l.value;
  }
  for (unsigned i = 0; i < w.size; ++i)
    if (w.lanes[i].state == LaneState::Parked) w.lanes[i].state = LaneState::Ready;
}

void runWarp(Warp& w) {
  for (;;) {
    bool anyLive = false;
    for (unsigned i = 0; i < w.size; ++i) {
      Lane& l = w.lanes[i];
      if (l.state != LaneState::Ready) continue;
      w.running = i;
      tCoords = &l.coords;
      swapcontext(&w.scheduler, &l.context);
      tCoords = nullptr;
    }
    if (w.failure) std::rethrow_exception(w.failure);
    for (unsigned i = 0; i < w.size; ++i) anyLive |= w.lanes[i].state != LaneState::Done;
    if (!anyLive) return;
    exchange(w);
  }
}

void checkConfiguration(Dim3 grid, Dim3 block) {
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument("SIMT emulator: invalid launch configuration (cudaErrorInvalidConfiguration): " + what);
  };
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (threads == 0 || threads > 1024) fail("block of " + std::to_string(threads) + " threads, expected 1..1024");
  if (block.z > 64) fail("block.z " + std::to_string(block.z) + " > 64");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) fail("empty grid");
  if (grid.x > 2147483647u) fail("grid.x " + std::to_string(grid.x) + " > 2^31-1");
  if (grid.y > 65535 || grid.z > 65535)
    fail("grid.y " + std::to_string(grid.y) + " or grid.z " + std::to_string(grid.z) + " > 65535");
}

}  // namespace

const ThreadCoordinates& currentThread() {
  if (!tCoords) throw std::logic_error("SIMT emulator: thread coordinates read outside a kernel launch");
  return *tCoords;
}

namespace {
float park(ShuffleKind kind, unsigned mask, float value, unsigned delta) {
  if (!tWarp) throw std::logic_error("SIMT emulator: shuffle outside a kernel launch");
  Warp& w = *tWarp;
  Lane& l = w.lanes[w.running];
  l.state = LaneState::Parked;
  l.kind = kind;
  l.mask = mask;
  l.delta = delta;
  l.value = value;
  swapcontext(&l.context, &w.scheduler);
  return l.result;
}
}  // namespace

float shuffleDown(unsigned mask, float value, unsigned delta) { return park(ShuffleKind::Down, mask, value, delta); }

float shuffleXor(unsigned mask, float value, unsigned laneMask) {
  if (laneMask >= kWarpSize) throw std::logic_error("SIMT emulator: __shfl_xor_sync lane mask " + std::to_string(laneMask) + " >= 32");
  return park(ShuffleKind::Xor, mask, value, laneMask);
}

void launch(Dim3 grid, Dim3 block, const std::function<void()>& body) {
  checkConfiguration(grid, block);
  auto warp = std::make_unique<Warp>();
  for (Lane& l : warp->lanes) l.stack = std::make_unique<char[]>(kLaneStackBytes);
  warp->body = &body;
  Warp* outer = tWarp;
  tWarp = warp.get();
  const unsigned blockThreads = block.x * block.y * block.z;
  try {
    for (unsigned bz = 0; bz < grid.z; ++bz)
      for (unsigned by = 0; by < grid.y; ++by)
        for (unsigned bx = 0; bx < grid.x; ++bx)
          for (unsigned first = 0; first < blockThreads; first += kWarpSize) {
            Warp& w = *warp;
            w.size = std::min(kWarpSize, blockThreads - first);
            for (unsigned i = 0; i < w.size; ++i) {
              Lane& l = w.lanes[i];
              const unsigned linear = first + i;  // x fastest, as on a GPU
              l.coords = {{linear % block.x, linear / block.x % block.y, linear / (block.x * block.y)},
                          {bx, by, bz}, block, grid};
              l.state = LaneState::Ready;
              getcontext(&l.context);
              l.context.uc_stack.ss_sp = l.stack.get();
              l.context.uc_stack.ss_size = kLaneStackBytes;
              l.context.uc_link = &w.scheduler;
              makecontext(&l.context, laneEntry, 0);
            }
            runWarp(w);
          }
  } catch (...) {
    tWarp = outer;
    throw;
  }
  tWarp = outer;
}

}  // namespace continua::kernels::emulation
