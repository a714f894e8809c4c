#pragma once
// Experiment documents from text (files, the editor, the run store), parsed defensively: bounded size and
// nesting (nlohmann's recursive parser overflowed the stack on 200,000 nested '['), and every parse error as
// a ConfigError naming the source, line and column. No LibTorch.
#include <nlohmann/json.hpp>

#include <string>

namespace continua::core {

constexpr size_t kMaxExperimentBytes = 4u << 20;  // 4 MiB: an experiment is a few KiB
constexpr int kMaxExperimentDepth = 32;           // the schema nests 2 deep; lists add 1

// Throws ConfigError("SOURCE: ...") for text that is too large, nested too deep, or not JSON.
nlohmann::json parseExperimentText(const std::string& text, const std::string& source);
nlohmann::json readExperimentFile(const std::string& path);

}  // namespace continua::core
