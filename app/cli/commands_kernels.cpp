// check-kernels and bench: the Qt-free way to prove the kernels right and fast on a new machine.
#include "app/cli/commands.h"
#include "core/bench/bench.h"
#include "core/check/kernel_check.h"
#include "core/util/table.h"
#include "kernels/cpu_dispatch.h"

#include <cstdio>
#include <iostream>
#include <random>
#include <sstream>

namespace continua::app {
namespace {

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", v);
  return buf;
}

struct CheckKernelsOptions {
  bool skipCuda = false;
  bool emulateCuda = false;
};

int runCheckKernels(const CheckKernelsOptions& opts) {
  using namespace continua::core;
  const uint64_t seed = std::random_device{}();
  std::cout << "Selective-scan parity against the float64 reference (seed " << seed << "); the CPU kernels run the "
            << kernels::cpuIsaName(kernels::activeCpuIsa()) << " build here, every build this processor supports is checked\n\n";
  TextTable table({"case", "device", "dtype", "quantity", "rel. error", "bound", "result"});
  int failures = 0;
  auto add = [&](const std::vector<CheckRow>& rows) {
    for (const CheckRow& r : rows) {
      failures += r.passed() ? 0 : 1;
      table.addRow({r.caseName, r.device, r.dtype, r.quantity, sci(r.error), sci(r.bound), r.passed() ? "ok" : "FAIL"});
    }
  };
  const bool gpu = !opts.skipCuda && cudaAvailable();
  std::vector<std::string> devices;  // every build of the CPU kernels this processor can run
  for (kernels::CpuIsa isa : kernels::supportedCpuIsas()) devices.push_back("cpu/" + kernels::cpuIsaName(isa));
  if (gpu) devices.push_back("cuda");
  if (opts.emulateCuda) devices.push_back("cuda-emulated");
  for (const ScanCase& c : standardScanCases()) {
    if (c.checksReference) add(checkReferenceAgreement(c, seed));
    for (const std::string& dev : devices) {
      add(checkScanCase(c, dev, "float32", seed));
      if (dev.rfind("cpu", 0) != 0) add(checkScanCase(c, dev, "bfloat16", seed));
      add(checkScanStreaming(c, dev, seed));
    }
  }
  table.print(std::cout);
  if (!gpu) {
    std::cout << "\nCUDA: skipped (" << (opts.skipCuda ? "--no-cuda" : "no GPU visible") << ")";
    if (!opts.emulateCuda) std::cout << "; --emulate-cuda checks the CUDA kernels' source on this CPU";
    std::cout << "\n";
  }
  std::cout << "\n" << failures << " failed\n";
  return failures == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void registerKernelCommands(CLI::App& app) {
  auto* check = app.add_subcommand("check-kernels", "Check every kernel against the float64 reference (exit 1 on failure)");
  static CheckKernelsOptions checkOpts;
  check->add_flag("--no-cuda", checkOpts.skipCuda, "Skip the CUDA kernels even when a GPU is present");
  check->add_flag("--emulate-cuda", checkOpts.emulateCuda,
                  "Also run the CUDA kernels' source on the CPU under a SIMT emulator (slow; no GPU needed)");
  check->callback([] { setExitCode(runCheckKernels(checkOpts)); });

  auto* bench = app.add_subcommand("bench", "Benchmarks that print tables (and write JSON)");
  bench->require_subcommand(1);
  auto* scan = bench->add_subcommand("scan", "Selective scan: kernels against the LibTorch-ops reference");
  static core::ScanBenchOptions scanOpts;
  scan->add_option("--json", scanOpts.jsonPath, "Also write the results to this JSON file");
  scan->add_option("--threads", scanOpts.threads, "Intra-op threads (default: 1)");
  scan->add_option("--repeats", scanOpts.repeats, "Timed repetitions per cell (median reported)");
  scan->add_option("--rounds", scanOpts.rounds,
                   "Time the whole grid (and the roofline) this many times, round after round, and report medians; "
                   "speed-ups are taken within a round (default: 1; use 3 or more on a shared machine)")
      ->check(CLI::Range(1, 100));
  scan->add_option("--shape", scanOpts.shape, "One shape instead of the grid: B L D N")->expected(4);
  scan->add_flag("--quick", scanOpts.quick, "Small grid (seconds, for smoke tests)");
  scan->add_flag("--no-reference", scanOpts.skipReference, "Skip the LibTorch-ops references");
  scan->add_flag("--slice-reference", scanOpts.sliceReference,
                 "Also the per-step-slice LibTorch loop of selective_scan_ref (its backward is O(L^2): minutes)");
  scan->add_option("--device", scanOpts.device, "cpu, cuda or all (default: all that are present)")
      ->check(CLI::IsMember({"cpu", "cuda", "all"}));
  scan->callback([] { setExitCode(core::runScanBenchmark(scanOpts, std::cout)); });

  auto* train = bench->add_subcommand("train", "Meta-training throughput and memory per model; streaming memory vs length");
  static core::TrainBenchOptions trainOpts;
  train->add_option("--json", trainOpts.jsonPath, "Also write the results to this JSON file");
  train->add_option("--threads", trainOpts.threads, "Intra-op thread counts, comma-separated (default: 1)")->delimiter(',');
  train->add_option("--steps", trainOpts.steps, "Timed training steps per cell");
  train->add_option("--rounds", trainOpts.rounds,
                    "Measure every cell this many times, round-robin, and report medians; ratios are taken within a "
                    "round (default: 1; use 3 or more on a shared machine)")
      ->check(CLI::Range(1, 100));
  train->add_option("--tasks", trainOpts.tasks, "Tasks per episode, comma-separated (default: 10)")->delimiter(',');
  train->add_option("--models", trainOpts.models, "Model families, comma-separated (default: all)")->delimiter(',');
  train->add_option("--batch", trainOpts.batch, "Episodes per step (default: 8)");
  train->add_flag("--selectivity", trainOpts.selectivity, "Also every model with selectivity.lambda = 1");
  train->add_flag("!--no-stream", trainOpts.stream, "Skip the streaming-memory table");
  train->add_flag("--quick", trainOpts.quick, "Two models, short streams (seconds, for smoke tests)");
  train->add_option("--ranks", trainOpts.ranks, "Data-parallel scaling over Gloo for these rank counts, e.g. 1,2 (threads per rank: the first --threads)")
      ->delimiter(',');
  train->callback([] { setExitCode(core::runTrainBenchmark(trainOpts, std::cout)); });
}

}  // namespace continua::app
