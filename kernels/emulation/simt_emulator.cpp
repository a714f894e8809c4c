// Fibres (ucontext) stand in for a block's GPU threads. The scheduler takes the block's warps in turn and
// resumes each live lane of the warp until it finishes or parks (in a shuffle or at __syncthreads); when a
// warp's live lanes all wait in one shuffle it performs the exchange and resumes them. Once every warp is
// through, all live threads wait at the barrier: it releases them and starts over.
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

enum class LaneState { Ready, InShuffle, AtBarrier, Done };
enum class ShuffleKind { Down, Xor };

struct Lane {
  ucontext_t context;
  std::unique_ptr<char[]> stack;  // uninitialised: zeroing 256 KiB per thread would cost more than most kernels
  ThreadCoordinates coords;
  LaneState state = LaneState::Ready;
  ShuffleKind kind = ShuffleKind::Down;  // of the shuffle it waits in
  unsigned mask = 0, delta = 0;          // delta: the offset (down) or lane mask (xor)
  float value = 0.f, result = 0.f;
};

struct Warp {
  Lane* lanes = nullptr;  // into Block::lanes
  unsigned size = 0;      // lanes that exist (the last warp of a block may be partial)
};

struct Block {
  ucontext_t scheduler;
  std::vector<Lane> lanes;  // one per thread of the block, warps consecutive
  std::vector<Warp> warps;
  Lane* running = nullptr;
  const std::function<void()>* body = nullptr;
  std::exception_ptr failure;
};

thread_local Block* tBlock = nullptr;

void laneEntry() {
  Block& b = *tBlock;
  try {
    (*b.body)();
  } catch (...) {
    if (!b.failure) b.failure = std::current_exception();
  }
  b.running->state = LaneState::Done;
  // Returning resumes uc_link: the scheduler.
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string whyUnavailable(LaneState s) {
  switch (s) {
    case LaneState::Done: return ", which has exited";
    case LaneState::AtBarrier: return ", which waits at __syncthreads";
    default: return "";
  }
}

// Every lane waiting in a shuffle must name only lanes in that same shuffle in its mask.
void exchange(Warp& w) {
  int first = -1;
  for (unsigned i = 0; i < w.size; ++i) {
    const Lane& l = w.lanes[i];
    if (l.state != LaneState::InShuffle) continue;
    if (first < 0) first = int(i);
    const Lane& f = w.lanes[first];
    if (l.kind != f.kind || l.delta != f.delta || l.mask != f.mask)
      throw std::logic_error("SIMT emulator: lanes " + std::to_string(first) + " and " + std::to_string(i) +
                             " of a warp wait in different shuffles (divergent __shfl_*_sync)");
    for (unsigned j = 0; j < kWarpSize; ++j) {
      if (!(l.mask >> j & 1u)) continue;
      if (j >= w.size || w.lanes[j].state != LaneState::InShuffle)
        throw std::logic_error("SIMT emulator: lane " + std::to_string(i) + " waits in a shuffle (mask " +
                               hex(l.mask) + ") for lane " + std::to_string(j) +
                               (j >= w.size ? ", which does not exist" : whyUnavailable(w.lanes[j].state)) +
                               " (undefined behaviour on a GPU)");
    }
  }
  for (unsigned i = 0; i < w.size; ++i) {
    Lane& l = w.lanes[i];
    if (l.state != LaneState::InShuffle) continue;
    const unsigned src = l.kind == ShuffleKind::Down ? i + l.delta : i ^ l.delta;
    // A source lane outside the warp's size was caught above (it is in the mask); past 32 is the own value.
    l.result = src < kWarpSize ? w.lanes[src].value : l.value;
  }
  for (unsigned i = 0; i < w.size; ++i)
    if (w.lanes[i].state == LaneState::InShuffle) w.lanes[i].state = LaneState::Ready;
}

// Runs the warp until none of its lanes is ready or in a shuffle: each is done or at the barrier.
void runWarp(Block& b, Warp& w) {
  for (;;) {
    for (unsigned i = 0; i < w.size; ++i) {
      Lane& l = w.lanes[i];
      if (l.state != LaneState::Ready) continue;
      b.running = &l;
      swapcontext(&b.scheduler, &l.context);
      b.running = nullptr;
    }
    if (b.failure) std::rethrow_exception(b.failure);
    const bool anyInShuffle =
        std::any_of(w.lanes, w.lanes + w.size, [](const Lane& l) { return l.state == LaneState::InShuffle; });
    if (!anyInShuffle) return;
    exchange(w);
  }
}

void runBlock(Block& b) {
  for (;;) {
    for (Warp& w : b.warps) runWarp(b, w);
    bool anyAtBarrier = false;
    for (Lane& l : b.lanes) anyAtBarrier |= l.state == LaneState::AtBarrier;
    if (!anyAtBarrier) return;  // all done
    // Threads that exited count as arrived, as on a GPU since Volta.
    for (Lane& l : b.lanes)
      if (l.state == LaneState::AtBarrier) l.state = LaneState::Ready;
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

Lane& runningLane(const char* what) {
  if (!tBlock || !tBlock->running) throw std::logic_error(std::string("SIMT emulator: ") + what + " outside a kernel launch");
  return *tBlock->running;
}

float park(ShuffleKind kind, unsigned mask, float value, unsigned delta) {
  Lane& l = runningLane("shuffle");
  l.state = LaneState::InShuffle;
  l.kind = kind;
  l.mask = mask;
  l.delta = delta;
  l.value = value;
  swapcontext(&l.context, &tBlock->scheduler);
  return l.result;
}

void resetLanes(Block& b, Dim3 grid, Dim3 block, Dim3 blockIndex) {
  for (unsigned linear = 0; linear < b.lanes.size(); ++linear) {
    Lane& l = b.lanes[linear];  // x fastest, as on a GPU
    l.coords = {{linear % block.x, linear / block.x % block.y, linear / (block.x * block.y)}, blockIndex, block, grid};
    l.state = LaneState::Ready;
    getcontext(&l.context);
    l.context.uc_stack.ss_sp = l.stack.get();
    l.context.uc_stack.ss_size = kLaneStackBytes;
    l.context.uc_link = &b.scheduler;
    makecontext(&l.context, laneEntry, 0);
  }
}

}  // namespace

const ThreadCoordinates& currentThread() { return runningLane("thread coordinates read").coords; }

float shuffleDown(unsigned mask, float value, unsigned delta) { return park(ShuffleKind::Down, mask, value, delta); }

float shuffleXor(unsigned mask, float value, unsigned laneMask) {
  if (laneMask >= kWarpSize) throw std::logic_error("SIMT emulator: __shfl_xor_sync lane mask " + std::to_string(laneMask) + " >= 32");
  return park(ShuffleKind::Xor, mask, value, laneMask);
}

void syncThreads() {
  Lane& l = runningLane("__syncthreads");
  l.state = LaneState::AtBarrier;
  swapcontext(&l.context, &tBlock->scheduler);
}

void launch(Dim3 grid, Dim3 block, const std::function<void()>& body) {
  checkConfiguration(grid, block);
  const unsigned blockThreads = block.x * block.y * block.z;
  auto b = std::make_unique<Block>();
  b->body = &body;
  b->lanes.resize(blockThreads);
  for (Lane& l : b->lanes) l.stack.reset(new char[kLaneStackBytes]);
  for (unsigned first = 0; first < blockThreads; first += kWarpSize)
    b->warps.push_back({&b->lanes[first], std::min(kWarpSize, blockThreads - first)});
  Block* outer = tBlock;
  tBlock = b.get();
  try {
    for (unsigned bz = 0; bz < grid.z; ++bz)
      for (unsigned by = 0; by < grid.y; ++by)
        for (unsigned bx = 0; bx < grid.x; ++bx) {
          resetLanes(*b, grid, block, {bx, by, bz});
          runBlock(*b);
        }
  } catch (...) {
    tBlock = outer;
    throw;
  }
  tBlock = outer;
}

}  // namespace continua::kernels::emulation
