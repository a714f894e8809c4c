#pragma once
// How the CPU backward's register tiles (selective_scan_cpu_backward.cpp) read B_t and C_t, and where they put
// their dB_t and dC_t lane products. Included by that file only, once per instruction-set build.
#include "kernels/cpu_isa_namespace.h"
#include "kernels/cpu_vec.h"
#include "kernels/selective_scan_cpu.h"

#include <algorithm>
#include <utility>

namespace continua::kernels {
namespace CONTINUA_CPU_ISA {
namespace backward {
using namespace cpu;

// A register tile is kTileStates states of kVecLanes lanes (one vector each). Its g, dA and A, with the step's
// dt, u, dy and sums, should fit the register file: 2 states in AVX2's or SSE's 16 registers. On AVX-512, 8
// states: their adjoint spills a few vectors to the stack (GCC's choice), but at N = 16 a block then has only a
// first and a last tile, none in between adding to the step records' sums, half the record loads per state and
// one folded dB store per step for 8 states — measured 3-6% faster than tiles of 4 (B16 L512 D256 N16, 1 and 2
// threads, alternated).
#ifdef __AVX512F__
constexpr int kTileStates = 8;
#else
constexpr int kTileStates = 2;
#endif

// The dB_t lane products of one tile, kTileStates vectors, folded into one before they are added to the span's
// sums: segment q (kVecLanes / kTileStates lanes) of the folded vector holds part sums of the tile's state
// foldedState(q). One store per adjoint step instead of one per state: the stores, not the arithmetic, were what
// the dB sums cost (measured at B16 L512 D256 N16: without them the backward took ~10 % less; folded, ~5 % less).
// dC's sums stay one line per state: the recompute loop waits on its exps, which hide its stores, and folding
// there measured slower.
namespace fold {
// Lanes j without bit W: a[j] + a[j + W]; lanes with it: b[j - W] + b[j] — a's part sums in one half of each
// 2W-lane segment, b's in the other.
template <int W, std::size_t... J>
constexpr VecInts firstOfPair(std::index_sequence<J...>) {
  return VecInts{(J & W ? int(kVecLanes + J - W) : int(J))...};
}
template <int W, std::size_t... J>
constexpr VecInts secondOfPair(std::index_sequence<J...>) {
  return VecInts{(J & W ? int(kVecLanes + J) : int(J + W))...};
}
template <int W>
inline Vec pair(Vec a, Vec b) {
  constexpr VecInts first = firstOfPair<W>(std::make_index_sequence<kVecLanes>{});
  constexpr VecInts second = secondOfPair<W>(std::make_index_sequence<kVecLanes>{});
  return __builtin_shuffle(a, b, first) + __builtin_shuffle(a, b, second);
}
}  // namespace fold
static_assert(kTileStates == 2 || kTileStates == 4 || kTileStates == 8, "foldTile folds 2, 4 or 8 states");
static_assert(kVecLanes % kTileStates == 0, "every state needs a segment of the folded vector");
// S (<= kTileStates) states' vectors folded; missing states count as zeros. Each level pairs neighbours at
// half the previous width: 2 states one level, 4 two, 8 three.
template <int S>
inline Vec foldTile(const Vec* v) {
  const auto at = [v](int s) { return s < S ? v[s] : Vec{}; };
  Vec level[kTileStates];
  for (int s = 0; s < kTileStates; ++s) level[s] = at(s);
  if constexpr (kTileStates >= 2)
    for (int s = 0; s < kTileStates / 2; ++s) level[s] = fold::pair<kVecLanes / 2>(level[2 * s], level[2 * s + 1]);
  if constexpr (kTileStates >= 4)
    for (int s = 0; s < kTileStates / 4; ++s) level[s] = fold::pair<kVecLanes / 4>(level[2 * s], level[2 * s + 1]);
  if constexpr (kTileStates >= 8)
    for (int s = 0; s < kTileStates / 8; ++s) level[s] = fold::pair<kVecLanes / 8>(level[2 * s], level[2 * s + 1]);
  return level[0];
}
// The tile state whose part sums segment q holds: pairing at half width, then at a quarter, ..., reverses q's bits.
constexpr int foldedState(int q) {
  int r = 0;
  for (int bit = 1; bit < kTileStates; bit <<= 1) r = (r << 1) | ((q & bit) ? 1 : 0);
  return r;
}

// B_t[n] and C_t[n] over the lanes: a broadcast of one value when the block reads one group (Mamba: always), a
// gather through the lanes' group offsets when its channels read several. `at(t)` resolves step t's rows once, so
// the tile's inner loop does no address arithmetic (and copies, not references, keep the compiler from
// reloading the parameters after every store).
struct OneGroupBC {
  const float *B, *C;
  Strides2 bStride, cStride;
  int b, offset;
  OneGroupBC(const ScanParams& p, int batch, int groupOffset)
      : B(static_cast<const float*>(p.B)), C(static_cast<const float*>(p.C)), bStride(p.bStride), cStride(p.cStride),
        b(batch), offset(groupOffset) {}
  struct Step {
    const float *Bt, *Ct;
    Vec B(int n, int /*lane0*/) const { return splat(Bt[n]); }
    Vec C(int n, int /*lane0*/) const { return splat(Ct[n]); }
  };
  Step at(int t) const { return {rowAt(B, bStride, b, t) + offset, rowAt(C, cStride, b, t) + offset}; }
};
struct PerLaneBC {
  const ScanParams& p;
  const BlockLanes& blk;
  const BlockConstants& k;
  struct Step {
    const float *Bt, *Ct;
    const BlockLanes& blk;
    const BlockConstants& k;
    Vec gather(const float* row, int n, int lane0) const {
      alignas(64) float v[kLanes];
      stateLanes(row, blk, k, n, v);
      return loadV(v + lane0);
    }
    Vec B(int n, int lane0) const { return gather(Bt, n, lane0); }
    Vec C(int n, int lane0) const { return gather(Ct, n, lane0); }
  };
  Step at(int t) const { return {rowAt(p.B, p.bStride, blk.b, t), rowAt(p.C, p.cStride, blk.b, t), blk, k}; }
};

// Where a tile's lane products of dB_t[n] and dC_t[n] (S states from n0) go: into the span's lane sums when the
// whole span reads one group — per step, N lines of kLanes for dC, then one folded line per tile of states for
// dB (LaneSumsLayout); horizontal sums per (t, n) later — else straight into each lane's own group of the
// task's partial rows.
// The span's first block writes each lane sum once (every (step, line, lane) belongs to exactly one tile), so it
// stores instead of adding and the sums need no clearing first.
// The span's lane sums over a chunk, kLanes floats a line: per step, a line per state for dC, then a folded line
// per tile of states for dB.
struct LaneSumsLayout {
  float* sums;
  int N, tiles;  // states, and tiles of states: ceil(N / kTileStates)
  static int tilesOf(int states) { return (states + kTileStates - 1) / kTileStates; }
  static size_t floats(int steps, int states) { return size_t(steps) * (states + tilesOf(states)) * kLanes; }
  float* cLine(int step, int n) const { return sums + (size_t(step) * (N + tiles) + n) * kLanes; }
  float* bLine(int step, int tile) const { return cLine(step, N + tile); }
};
template <bool kFirstBlock>
struct SpanLaneSums {
  LaneSumsLayout layout;
  static void add(float* q, Vec v) { storeV(q, kFirstBlock ? v : loadV(q) + v); }
  template <int S>
  void addC(int i, int n0, int lane0, const Vec* v) const {
    for (int s = 0; s < S; ++s) add(layout.cLine(i, n0 + s) + lane0, v[s]);
  }
  template <int S>
  void addB(int i, int n0, int lane0, const Vec* v) const {
    add(layout.bLine(i, n0 / kTileStates) + lane0, foldTile<S>(v));
  }
};
struct PerGroupSums {
  float* dB;  // the task's partial row at the chunk's first step
  float* dC;
  const BlockLanes& blk;
  const BlockConstants& k;
  int GN;
  void add(float* rows, int i, int n, int lane0, Vec v) const {
    float* row = rows + int64_t(i) * GN;
    for (int c = lane0; c < std::min(blk.width, lane0 + kVecLanes); ++c) row[k.groupOffset[c] + n] += v[c - lane0];
  }
  template <int S>
  void addB(int i, int n0, int lane0, const Vec* v) const {
    for (int s = 0; s < S; ++s) add(dB, i, n0 + s, lane0, v[s]);
  }
  template <int S>
  void addC(int i, int n0, int lane0, const Vec* v) const {
    for (int s = 0; s < S; ++s) add(dC, i, n0 + s, lane0, v[s]);
  }
};

}  // namespace backward
}  // namespace CONTINUA_CPU_ISA
}  // namespace continua::kernels
