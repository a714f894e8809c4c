#pragma once
// A paper's claims checked against stored runs. A claims file (JSON, docs/experiments/claims-*.json) lists,
// per claim, the paper, its wording, the command that produced the runs and a check comparing run groups
// (runs with one name = one configuration over seeds) on a quantity (run_groups.h's syntax):
//
//   {"title": "...", "claims": [{"paper": "MambaCL", "claim": "Mamba beats the Linear Transformer",
//     "command": "docs/experiments/run-cells.sh ...", "check": "greater", "margin": 0,
//     "a": {"group": "mcl-cpu mamba", "quantity": "test/accuracy"},
//     "b": {"group": "mcl-cpu linear-transformer", "quantity": "test/accuracy"}}]}
//
// Checks on the groups' means: greater (a − b > margin), less (a − b < −margin), close (|a − b| ≤ tolerance,
// or ≤ relative·|b|), above / below (a against "value"), ratio-above (a / b > "value": what a keeps of b),
// all-above (a > "value" in every seed), steadier (a's std over seeds < b's). A claim is "not run"
// when a group has no finished run in the selection and "too few seeds" below min_seeds (default 3).
#include "core/store/run_groups.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace continua::core {

struct ClaimSide {
  std::string group, quantity;
  Statistic value;
};

struct ClaimResult {
  std::string paper, claim, command, check, verdict;  // verdict: reproduced, not reproduced, not run, too few seeds
  ClaimSide a, b;
  bool hasB = false;
  std::string evidence;  // "a = 0.67 ± 0.01 (3) > b = 0.43 ± 0.05 (3) + 0"
};

// Parses and validates a claims file; throws ConfigError naming the file, the claim and the field.
nlohmann::json loadClaimsFile(const std::string& path);

// `runs`: the selection (finished runs count). Groups are looked up by run name. `curves`: a cache shared with
// the caller (a report draws from the same curves); without one the claims keep their own.
std::vector<ClaimResult> evaluateClaims(const nlohmann::json& claims, const RunStore& store, const std::vector<RunSummary>& runs,
                                        CurveCache* curves = nullptr);

}  // namespace continua::core
