// Argument checks shared by every implementation: each failure names the field and what was expected.
#include "kernels/selective_scan.h"

#include <stdexcept>
#include <string>

namespace continua::kernels {
namespace {
void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("selective scan: " + message);
}
}  // namespace

void validateScanParams(const ScanParams& p) {
  require(p.batch >= 1, "batch must be >= 1, got " + std::to_string(p.batch));
  require(p.length >= 1, "length must be >= 1, got " + std::to_string(p.length));
  require(p.channels >= 1, "channels must be >= 1, got " + std::to_string(p.channels));
  require(p.states >= 1 && p.states <= 256, "states must be 1..256, got " + std::to_string(p.states));
  require(p.groups >= 1 && p.channels % p.groups == 0,
          "groups must divide channels (" + std::to_string(p.channels) + "), got " + std::to_string(p.groups));
  require(p.chunkLength >= 1, "chunkLength must be >= 1, got " + std::to_string(p.chunkLength));
  require(p.numThreads >= 1, "numThreads must be >= 1, got " + std::to_string(p.numThreads));
  require(p.u && p.delta && p.A && p.B && p.C, "u, delta, A, B and C are required");
}

}  // namespace continua::kernels
