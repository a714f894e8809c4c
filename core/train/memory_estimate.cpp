#include "core/train/memory_estimate.h"

#include "core/util/errors.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace continua::core {
using nlohmann::json;

namespace {

double gib(double bytes) { return bytes / double(1ull << 30); }

std::string gibText(double bytes) {
  char b[64];
  std::snprintf(b, sizeof b, bytes >= double(1ull << 30) * 100 ? "%.3g GiB" : "%.2f GiB", gib(bytes));
  return b;
}

// Tokens of one training sequence and the queries answered after it (MCL), or of one prompt (ICL).
std::pair<double, double> sequenceTokens(const json& c) {
  if (c["task"]["family"] == "icl") {
    const double d = c["icl"]["n_dims"], n = c["icl"]["n_points"];
    const std::string t = c["task"]["icl_task"];
    if (t == "mqar") return {2 * n + 1, 0};
    if (t == "chain_of_thought") return {3 * n, 0};
    (void)d;
    return {2 * n, 0};
  }
  const double classes = c["episode"]["tasks"].get<double>() * c["episode"]["classes_per_task"].get<double>();
  const double perExample = c["task"]["token_format"] == "joint" ? 1 : 2;
  return {classes * c["episode"]["shots"].get<double>() * perExample, classes * c["episode"]["test_shots"].get<double>()};
}

// Floats autograd keeps per token for one block of the family, at width D (and, for attention, the L x L rows).
double floatsPerTokenAndBlock(const std::string& kind, double D, double expand, double heads, double mlp, double L) {
  const double E = expand * D;
  if (kind == "mamba" || kind == "s4-mamba") return 14 * E + 2 * D;       // in_proj x/z, conv, silu, dt, B/C, gate, out
  if (kind == "attention") return 6 * D + 2 * heads * L;                  // q, k, v, merged, scores and softmax
  if (kind == "mlp" || kind == "moe") return (2 * mlp + 2) * D;            // fc, gelu, proj
  return 6 * D;                                                            // s4: kernel conv, gelu, glu
}

}  // namespace

std::string MemoryEstimate::describe() const { return gibText(stepBytes) + " for " + std::to_string(tokens) + "-token sequences"; }

MemoryEstimate estimateTrainingStep(const json& c) {
  const json& m = c["model"];
  const double D = m["d_model"], layers = m["layers"], expand = m["expand"], heads = m["heads"], mlp = m["mlp_multiple"];
  const double batch = c["optim"]["batch_size"];
  auto [stream, queries] = sequenceTokens(c);
  const double L = stream + queries;
  const std::string f = m["family"];
  // Blocks per layer of each family (core/models/sequence_model.h), attention's cost counted over the stream.
  double perToken = 0;
  if (f == "mamba") perToken = layers * floatsPerTokenAndBlock("mamba", D, expand, heads, mlp, L);
  else if (f == "mamba-moe") perToken = layers * (floatsPerTokenAndBlock("mamba", D, expand, heads, mlp, L) + floatsPerTokenAndBlock("moe", D, expand, heads, mlp, L));
  else if (f == "s4" || f == "s4-mamba") perToken = layers * floatsPerTokenAndBlock(f == "s4" ? "s4" : "s4-mamba", D, expand, heads, mlp, L);
  else if (f == "hybrid" || f == "mambaformer")
    perToken = (layers + 1) * 0.5 * (floatsPerTokenAndBlock("attention", D, expand, heads, mlp, L) + floatsPerTokenAndBlock("mamba", D, expand, heads, mlp, L));
  else perToken = layers * (floatsPerTokenAndBlock("attention", D, expand, heads, mlp, L) + floatsPerTokenAndBlock("mlp", D, expand, heads, mlp, L));
  perToken += 4 * D;  // norms, embeddings, head
  // Inputs: the prompt itself (ICL: tokens x d) or the episode's raw examples (MCL: at most a 32x32x3 image each).
  const double inputWidth = c["task"]["family"] == "icl" ? c["icl"]["n_dims"].get<double>() + 8 : 3072;
  const double maps = c["selectivity"]["lambda"].get<double>() > 0 ? layers * L * stream : 0;
  MemoryEstimate e;
  e.tokens = int64_t(L);
  e.stepBytes = 4.0 * batch * (2.0 * L * perToken + L * inputWidth + 2.0 * maps);  // x2: activations and their grads
  return e;
}

double availableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024.0;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? double(pages) * double(page) : 0.0;
}

void requireFitsInMemory(const json& c, double available) {
  if (available <= 0) return;  // unknown: nothing to compare against
  const MemoryEstimate e = estimateTrainingStep(c);
  if (e.stepBytes <= 0.8 * available) return;
  const std::string fields = c["task"]["family"] == "icl" ? "optim.batch_size, icl.n_points, icl.n_dims or model.d_model"
                                                          : "optim.batch_size, episode.tasks, episode.shots or model.d_model";
  throw ConfigError("this experiment cannot fit in memory: a training step needs about " + e.describe() +
                    ", and this machine has " + gibText(available) + " available; reduce " + fields);
}

}  // namespace continua::core
