#pragma once
// Numbers as text that reads back to the same double: the shortest round-trip form (std::to_chars), so an
// export keeps 1e-7 as 1e-07 rather than %f's 0.000000. Locale-free. Empty for NaN and infinities.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

namespace continua::core {

inline std::string shortestText(double v) {
  if (!std::isfinite(v)) return {};
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

// A number for people to read, `digits` significant figures ("%.3g": 0.000123, 1.2e+05, 0.5).
inline std::string significantText(double v, int digits = 3) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

}  // namespace continua::core
