#include "core/train/thread_choice.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

namespace continua::core {

namespace {

int affinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// A count >= 1 from the environment variable `name`, or 0 when it is unset or not such a count.
int countFrom(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return end && *end == '\0' && n >= 1 ? int(std::min(n, 4096L)) : 0;
}

// Runs sharing this machine's CPUs: a local sweep's (CONTINUA_CONCURRENT_RUNS), else the data-parallel ranks
// started on this node (LOCAL_WORLD_SIZE, as torchrun sets it), else this one.
int concurrentRuns() {
  if (const int n = countFrom("CONTINUA_CONCURRENT_RUNS")) return n;
  if (const int n = countFrom("LOCAL_WORLD_SIZE")) return n;
  return 1;
}

}  // namespace

int usableCpus() { return std::max(1, affinityCpus() / concurrentRuns()); }

int chooseThreadCount(int requested, double stepFlops, int cpus) {
  if (requested > 0) return requested;
  return stepFlops < kThreadedStepFlops ? 1 : std::max(1, cpus);
}

}  // namespace continua::core
