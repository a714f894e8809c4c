#include "core/train/distributed.h"

#include "core/util/errors.h"

#if CONTINUA_HAS_GLOO  // set by core/CMakeLists.txt where Gloo's headers are found (with USE_C10D_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <cstdlib>

namespace continua::core {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int envInt(const char* name, const std::string& value) {
  try {
    size_t used = 0;
    const int v = std::stoi(value, &used);
    if (used == value.size()) return v;
  } catch (const std::exception&) {
  }
  throw ConfigError(std::string("--distributed: ") + name + " must be an integer, got '" + value + "'");
}

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

constexpr size_t kBucketElements = 25u * 1024 * 1024 / sizeof(float);

}  // namespace

std::string firstSlurmHost(const std::string& list) {
  const size_t comma = list.find(','), bracket = list.find('[');
  if (bracket == std::string::npos || (comma != std::string::npos && comma < bracket)) return list.substr(0, comma);
  std::string first = list.substr(bracket + 1);
  first = first.substr(0, first.find_first_of("-,]"));
  return list.substr(0, bracket) + first;
}

Rendezvous rendezvousFromEnvironment() {
  Rendezvous r;
  if (!env("RANK").empty() || !env("WORLD_SIZE").empty()) {
    for (const char* v : {"MASTER_ADDR", "RANK", "WORLD_SIZE"})
      if (env(v).empty()) throw ConfigError(std::string("--distributed: ") + v + " is not set (set MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, or run under srun)");
    r.masterAddress = env("MASTER_ADDR");
    r.rank = envInt("RANK", env("RANK"));
    r.worldSize = envInt("WORLD_SIZE", env("WORLD_SIZE"));
    r.source = "environment";
  } else if (!env("SLURM_PROCID").empty()) {
    r.rank = envInt("SLURM_PROCID", env("SLURM_PROCID"));
    r.worldSize = envInt("SLURM_NTASKS", env("SLURM_NTASKS").empty() ? "1" : env("SLURM_NTASKS"));
    r.masterAddress = env("MASTER_ADDR").empty() ? firstSlurmHost(env("SLURM_NODELIST")) : env("MASTER_ADDR");
    if (r.masterAddress.empty()) throw ConfigError("--distributed: SLURM_NODELIST is empty and MASTER_ADDR is not set");
    r.source = "slurm";
  } else {
    throw ConfigError("--distributed: no rendezvous: set MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE, or start the ranks with srun");
  }
  if (!env("MASTER_PORT").empty()) r.port = envInt("MASTER_PORT", env("MASTER_PORT"));
  if (r.worldSize < 1 || r.rank < 0 || r.rank >= r.worldSize)
    throw ConfigError("--distributed: rank " + std::to_string(r.rank) + " is not in 0.." + std::to_string(r.worldSize - 1));
  return r;
}

#if CONTINUA_HAS_GLOO

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

ProcessGroup::ProcessGroup(const Rendezvous& where, std::chrono::seconds timeout)
    : m_impl(std::make_unique<Impl>()), m_rank(where.rank), m_size(where.worldSize) {
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(where.port);
    o.isServer = where.rank == 0;
    o.numWorkers = where.worldSize;
    o.timeout = timeout;
    m_impl->store = c10::make_intrusive<c10d::TCPStore>(where.masterAddress, o);
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    options->timeout = timeout;
    m_impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(m_impl->store, where.rank, where.worldSize, options);
  } catch (const std::exception& e) {
    throw RankLost("rank " + std::to_string(where.rank) + " of " + std::to_string(where.worldSize) + " could not join the group at " +
                   where.masterAddress + ":" + std::to_string(where.port) + ": " + e.what());
  }
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::sum(const std::vector<torch::Tensor>& tensors) {
  if (m_size == 1) return;
  size_t first = 0;
  while (first < tensors.size()) {
    size_t last = first, elements = 0;
    while (last < tensors.size() && (elements == 0 || elements + size_t(tensors[last].numel()) <= kBucketElements))
      elements += size_t(tensors[last++].numel());
    std::vector<torch::Tensor> flat;
    for (size_t i = first; i < last; ++i) flat.push_back(tensors[i].detach().to(torch::kCPU, torch::kFloat).reshape({-1}));
    std::vector<torch::Tensor> bucket{torch::cat(flat)};
    try {
      m_impl->group->allreduce(bucket)->wait();
    } catch (const std::exception& e) {
      throw RankLost(std::string("a rank stopped answering during the gradient all-reduce: ") + e.what());
    }
    int64_t offset = 0;
    for (size_t i = first; i < last; ++i) {
      const int64_t n = tensors[i].numel();
      tensors[i].detach().copy_(bucket[0].slice(0, offset, offset + n).view(tensors[i].sizes()));
      offset += n;
    }
    first = last;
  }
}

void ProcessGroup::publish(const std::string& key, const std::string& value) {
  m_impl->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
}

std::string ProcessGroup::fetch(const std::string& key) {
  try {
    const auto v = m_impl->store->get(key);
    return std::string(v.begin(), v.end());
  } catch (const std::exception& e) {
    throw RankLost("waiting for rank 0 (" + key + "): " + e.what());
  }
}

bool ProcessGroup::has(const std::string& key) {
  try {
    return m_impl->store->check({key});
  } catch (const std::exception&) {
    return false;
  }
}

#else  // no Gloo: the group cannot be formed, and says why

struct ProcessGroup::Impl {};

ProcessGroup::ProcessGroup(const Rendezvous& where, std::chrono::seconds) : m_rank(where.rank), m_size(where.worldSize) {
  throw ConfigError("--distributed: this build of Continua has no Gloo process group (install libgloo-dev and rebuild)");
}
ProcessGroup::~ProcessGroup() = default;
void ProcessGroup::sum(const std::vector<torch::Tensor>&) {}
void ProcessGroup::publish(const std::string&, const std::string&) {}
std::string ProcessGroup::fetch(const std::string& key) { throw RankLost("no process group to fetch " + key + " from"); }
bool ProcessGroup::has(const std::string&) { return false; }

#endif

torch::Generator shardGenerator(uint64_t seed, int64_t step, int64_t shard) {
  return at::detail::createCPUGenerator(mix(mix(seed) ^ mix(uint64_t(step) * 2 + 1) ^ (uint64_t(shard) << 40)));
}

StepOutcome computeGradients(TaskRunner& runner, torch::optim::Optimizer& optimizer, torch::Generator& gen, int64_t step,
                             double lambda, const nlohmann::json& config, ProcessGroup* group) {
  optimizer.zero_grad();
  const int64_t shards = config["optim"]["shards"];
  if (shards == 1 && !group) {
    TrainLoss loss = runner.trainLoss(step, gen, lambda);
    const double value = loss.total.item<double>();
    if (std::isfinite(value)) loss.total.backward();
    return {value, loss.metrics};
  }
  const int rank = group ? group->rank() : 0, ranks = group ? group->size() : 1;
  StepOutcome out;
  std::vector<double> sums;
  double lossSum = 0;
  for (int64_t shard = rank; shard < shards; shard += ranks) {
    torch::Generator g = shardGenerator(config["seed"].get<uint64_t>(), step, shard);
    TrainLoss loss = runner.trainLoss(step, g, lambda);
    lossSum += loss.total.item<double>();
    (loss.total / double(shards)).backward();
    if (out.metrics.empty()) {
      out.metrics = loss.metrics;
      sums.assign(loss.metrics.size(), 0.0);
    }
    for (size_t i = 0; i < sums.size() && i < loss.metrics.size(); ++i) sums[i] += loss.metrics[i].second;
  }
  if (group) {
    std::vector<torch::Tensor> grads;
    for (auto& p : runner.module().parameters()) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);  // every rank reduces the same tensors
      grads.push_back(p.grad());
    }
    std::vector<double> stats{lossSum};
    stats.insert(stats.end(), sums.begin(), sums.end());
    grads.push_back(torch::tensor(stats, torch::kFloat64));
    group->sum(grads);
    const torch::Tensor summed = grads.back().to(torch::kFloat64);
    lossSum = summed[0].item<double>();
    for (size_t i = 0; i < sums.size(); ++i) sums[i] = summed[int64_t(i) + 1].item<double>();
  }
  out.loss = lossSum / double(shards);
  for (size_t i = 0; i < sums.size(); ++i) out.metrics[i].second = sums[i] / double(shards);
  return out;
}

}  // namespace continua::core
