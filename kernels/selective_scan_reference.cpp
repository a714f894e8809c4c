// Float64 reference of the selective scan: the recurrence written out with plain loops, every state kept.
// Slow on purpose; it is the yardstick for the CPU and CUDA kernels (tests, `continua-cli check-kernels`).
#include "kernels/selective_scan.h"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace continua::kernels {
namespace {

double softplus(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double silu(double x) { return x * sigmoid(x); }

struct RefView {  // typed accessors over a ScanParams whose tensors are all double
  const ScanParams& p;
  const double* at(const void* base, Strides2 s, int b, int t) const {
    return static_cast<const double*>(base) + b * s.batch + t * s.time;
  }
  double u(int b, int t, int d) const { return at(p.u, p.uStride, b, t)[d]; }
  double z(int b, int t, int d) const { return at(p.z, p.zStride, b, t)[d]; }
  double rawDelta(int b, int t, int d) const {
    double v = at(p.delta, p.deltaStride, b, t)[d];
    return p.deltaBias ? v + static_cast<const double*>(p.deltaBias)[d] : v;
  }
  double dt(int b, int t, int d) const {
    double v = rawDelta(b, t, d);
    return p.deltaSoftplus ? softplus(v) : v;
  }
  int group(int d) const { return d / (p.channels / p.groups); }
  double Bv(int b, int t, int d, int n) const { return at(p.B, p.bStride, b, t)[group(d) * p.states + n]; }
  double Cv(int b, int t, int d, int n) const { return at(p.C, p.cStride, b, t)[group(d) * p.states + n]; }
  double A(int d, int n) const { return static_cast<const double*>(p.A)[d * p.states + n]; }
  double Dskip(int d) const { return p.D ? static_cast<const double*>(p.D)[d] : 0.0; }
  double h0(int b, int d, int n) const {
    return p.initialState ? static_cast<const double*>(p.initialState)[(b * p.channels + d) * p.states + n] : 0.0;
  }
};

void requireDouble(const ScanParams& p) {
  if (p.dtype != ScanDType::Float64) throw std::invalid_argument("selective scan reference: dtype must be Float64");
  validateScanParams(p);
}

// States h[t][n] for one (b, d), t = 0..L-1.
std::vector<double> runStates(const RefView& v, int b, int d) {
  const ScanParams& p = v.p;
  std::vector<double> h(static_cast<size_t>(p.length) * p.states);
  for (int n = 0; n < p.states; ++n) {
    double state = v.h0(b, d, n);
    for (int t = 0; t < p.length; ++t) {
      double dt = v.dt(b, t, d);
      state = std::exp(dt * v.A(d, n)) * state + dt * v.Bv(b, t, d, n) * v.u(b, t, d);
      h[static_cast<size_t>(t) * p.states + n] = state;
    }
  }
  return h;
}

}  // namespace

void scanForwardReference(const ScanParams& p) {
  requireDouble(p);
  if (!p.out) throw std::invalid_argument("selective scan forward: out is required");
  RefView v{p};
  const int N = p.states;
  for (int b = 0; b < p.batch; ++b) {
    for (int d = 0; d < p.channels; ++d) {
      std::vector<double> h = runStates(v, b, d);
      for (int t = 0; t < p.length; ++t) {
        double y = v.Dskip(d) * v.u(b, t, d);
        for (int n = 0; n < N; ++n) y += v.Cv(b, t, d, n) * h[static_cast<size_t>(t) * N + n];
        if (p.z) y *= silu(v.z(b, t, d));
        static_cast<double*>(p.out)[b * p.outStride.batch + t * p.outStride.time + d] = y;
        bool chunkEnd = (t + 1) % p.chunkLength == 0 || t == p.length - 1;
        if (chunkEnd && p.chunkStates) {
          int k = t / p.chunkLength;
          double* dst = static_cast<double*>(p.chunkStates) +
                        ((static_cast<int64_t>(b) * p.numChunks() + k) * p.channels + d) * N;
          for (int n = 0; n < N; ++n) dst[n] = h[static_cast<size_t>(t) * N + n];
        }
      }
      if (p.finalState) {
        double* dst = static_cast<double*>(p.finalState) + (static_cast<int64_t>(b) * p.channels + d) * N;
        for (int n = 0; n < N; ++n) dst[n] = h[static_cast<size_t>(p.length - 1) * N + n];
      }
    }
  }
}

void scanBackwardReference(const ScanGradParams& p) {
  requireDouble(p);
  RefView v{p};
  const int N = p.states, L = p.length, Dch = p.channels, G = p.groups;
  auto* du = static_cast<double*>(p.du);
  auto* ddelta = static_cast<double*>(p.ddelta);
  auto* dA = static_cast<double*>(p.dA);
  auto* dB = static_cast<double*>(p.dB);
  auto* dC = static_cast<double*>(p.dC);
  std::fill(dA, dA + Dch * N, 0.0);
  std::fill(dB, dB + static_cast<int64_t>(p.batch) * L * G * N, 0.0);
  std::fill(dC, dC + static_cast<int64_t>(p.batch) * L * G * N, 0.0);
  if (p.dD) std::fill(static_cast<double*>(p.dD), static_cast<double*>(p.dD) + Dch, 0.0);
  if (p.dDeltaBias) std::fill(static_cast<double*>(p.dDeltaBias), static_cast<double*>(p.dDeltaBias) + Dch, 0.0);

  for (int b = 0; b < p.batch; ++b) {
    for (int d = 0; d < Dch; ++d) {
      std::vector<double> h = runStates(v, b, d);
      std::vector<double> g(N, 0.0);  // adjoint of h_t, carried backwards through time
      if (p.dFinalState)
        for (int n = 0; n < N; ++n) g[n] = static_cast<const double*>(p.dFinalState)[(static_cast<int64_t>(b) * Dch + d) * N + n];
      int gi = v.group(d);
      for (int t = L - 1; t >= 0; --t) {
        const double* dout = static_cast<const double*>(p.dout) + b * p.doutStride.batch + t * p.doutStride.time;
        double u = v.u(b, t, d), dt = v.dt(b, t, d);
        double dy = dout[d];
        int64_t row = (static_cast<int64_t>(b) * L + t) * Dch + d;
        if (p.z) {
          double y = v.Dskip(d) * u;
          for (int n = 0; n < N; ++n) y += v.Cv(b, t, d, n) * h[static_cast<size_t>(t) * N + n];
          double zt = v.z(b, t, d), s = sigmoid(zt);
          static_cast<double*>(p.dz)[row] = dy * y * s * (1.0 + zt * (1.0 - s));
          dy *= silu(zt);
        }
        double duAcc = v.Dskip(d) * dy, ddt = 0.0;
        for (int n = 0; n < N; ++n) {
          double ht = h[static_cast<size_t>(t) * N + n];
          double hprev = t > 0 ? h[static_cast<size_t>(t - 1) * N + n] : v.h0(b, d, n);
          double a = std::exp(dt * v.A(d, n));
          g[n] += v.Cv(b, t, d, n) * dy;
          int64_t bc = ((static_cast<int64_t>(b) * L + t) * G + gi) * N + n;
          dC[bc] += dy * ht;
          dB[bc] += g[n] * dt * u;
          duAcc += g[n] * dt * v.Bv(b, t, d, n);
          ddt += g[n] * (hprev * v.A(d, n) * a + v.Bv(b, t, d, n) * u);
          dA[d * N + n] += g[n] * hprev * dt * a;
          g[n] *= a;
        }
        du[row] = duAcc;
        if (p.dD) static_cast<double*>(p.dD)[d] += dy * u;
        if (p.deltaSoftplus) ddt *= sigmoid(v.rawDelta(b, t, d));
        ddelta[row] = ddt;
        if (p.dDeltaBias) static_cast<double*>(p.dDeltaBias)[d] += ddt;
      }
      if (p.dInitialState) {
        double* dst = static_cast<double*>(p.dInitialState) + (static_cast<int64_t>(b) * Dch + d) * N;
        for (int n = 0; n < N; ++n) dst[n] = g[n];
      }
    }
  }
}

void scanStepReference(const ScanStepParams& p) {
  if (p.dtype != ScanDType::Float64) throw std::invalid_argument("selective scan reference step: dtype must be Float64");
  const int N = p.states, Dch = p.channels, perGroup = Dch / p.groups;
  auto cd = [](const void* ptr) { return static_cast<const double*>(ptr); };
  for (int b = 0; b < p.batch; ++b) {
    for (int d = 0; d < Dch; ++d) {
      int64_t i = static_cast<int64_t>(b) * Dch + d;
      double u = cd(p.u)[i];
      double dt = cd(p.delta)[i] + (p.deltaBias ? cd(p.deltaBias)[d] : 0.0);
      if (p.deltaSoftplus) dt = softplus(dt);
      const double* Bt = cd(p.B) + (static_cast<int64_t>(b) * p.groups + d / perGroup) * N;
      const double* Ct = cd(p.C) + (static_cast<int64_t>(b) * p.groups + d / perGroup) * N;
      double* h = static_cast<double*>(p.state) + i * N;
      double y = p.D ? cd(p.D)[d] * u : 0.0;
      for (int n = 0; n < N; ++n) {
        h[n] = std::exp(dt * cd(p.A)[d * N + n]) * h[n] + dt * Bt[n] * u;
        y += Ct[n] * h[n];
      }
      if (p.z) y *= silu(cd(p.z)[i]);
      static_cast<double*>(p.out)[i] = y;
    }
  }
}

}  // namespace continua::kernels
