// libFuzzer target for what reads untrusted experiment text: the parser (size and nesting bounds), defaults,
// validation with its messages, and `--set key=value` overrides. Any crash, sanitizer report, hang or
// unbounded allocation is a bug; foreseeable bad input must end as a ConfigError. Built with clang by
// tests/fuzz/CMakeLists.txt and run for a fixed time by the ctest `fuzz_experiment_parser`.
#include "core/config/experiment_schema.h"
#include "core/config/experiment_text.h"
#include "core/util/errors.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The first line, when it looks like key=value, is also tried as an override.
  const size_t newline = text.find('\n');
  try {
    nlohmann::json config = continua::core::withDefaults(continua::core::parseExperimentText(text, "fuzz input"));
    if (newline != std::string::npos && text.find('=') < newline) continua::core::applyOverride(config, text.substr(0, newline));
    const auto issues = continua::core::validateExperiment(config);
    (void)continua::core::formatIssues(issues);
    (void)continua::core::flattenConfig(config);
  } catch (const continua::core::ConfigError&) {
  }
  return 0;
}
