#include "core/config/experiment_text.h"

#include "core/util/errors.h"

#include <fstream>
#include <sstream>

namespace continua::core {

namespace {

// Deepest [ / { nesting outside strings, stopping as soon as it passes `limit` (so the scan is linear and
// needs no stack). Returns the offset where the limit was passed, or npos.
size_t nestingBeyond(const std::string& text, int limit) {
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\') ++i;
      else if (c == '"') inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

std::pair<size_t, size_t> lineAndColumn(const std::string& text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') { ++line; col = 1; }
    else ++col;
  }
  return {line, col};
}

}  // namespace

nlohmann::json parseExperimentText(const std::string& text, const std::string& source) {
  if (text.size() > kMaxExperimentBytes)
    throw ConfigError(source + ": " + std::to_string(text.size()) + " bytes is too large for an experiment (at most " +
                      std::to_string(kMaxExperimentBytes) + ")");
  if (const size_t at = nestingBeyond(text, kMaxExperimentDepth); at != std::string::npos) {
    auto [line, col] = lineAndColumn(text, at);
    throw ConfigError(source + ": nested deeper than " + std::to_string(kMaxExperimentDepth) + " levels at line " +
                      std::to_string(line) + ", column " + std::to_string(col) + " (an experiment nests 2 or 3 deep)");
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    auto [line, col] = lineAndColumn(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    const auto colon = what.find("syntax error");
    throw ConfigError(source + ": not valid JSON at line " + std::to_string(line) + ", column " + std::to_string(col) +
                      (colon != std::string::npos ? " (" + what.substr(colon) + ")" : ""));
  } catch (const nlohmann::json::exception& e) {  // e.g. a number too large for a double (found by the fuzzer)
    throw ConfigError(source + ": not a usable JSON document: " + std::string(e.what()));
  }
}

nlohmann::json readExperimentFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot be opened (does it exist?)");
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size > std::streamoff(kMaxExperimentBytes))
    throw ConfigError(path + ": " + std::to_string(size) + " bytes is too large for an experiment (at most " +
                      std::to_string(kMaxExperimentBytes) + ")");
  in.seekg(0);
  std::ostringstream s;
  s << in.rdbuf();
  return parseExperimentText(s.str(), path);
}

}  // namespace continua::core
