#pragma once
// SHA-256 (FIPS 180-4) of a byte string, as lowercase hex. Used to fingerprint checkpoint files.
#include <string>

namespace continua::core {
std::string sha256Hex(const std::string& data);
}
