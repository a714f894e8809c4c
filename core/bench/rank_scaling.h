#pragma once
// `bench train --ranks 1,2,...`: data-parallel scaling. For each rank count R, R forked processes form a Gloo
// group on loopback and train as `run --distributed` does (one shard of `batch` episodes per rank per step,
// gradients summed); the table gives the global episodes/s of the median step and the scaling efficiency
// episodes/s(R) / (R x episodes/s(1)), with the intra-op threads per rank stated.
#include "core/bench/bench.h"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace continua::core {

void printRankScaling(const TrainBenchOptions& options, const std::vector<std::string>& families, std::ostream& out,
                      nlohmann::json& results);

}  // namespace continua::core
