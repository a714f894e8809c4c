#pragma once
// SHA-256 (FIPS 180-4), incremental, as lowercase hex. Fingerprints checkpoint files, which are hashed as
// they are read (never held whole in memory).
#include <cstddef>
#include <cstdint>
#include <string>

namespace continua::core {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t bytes);
  std::string hexDigest();  // finishes the hash; call once

 private:
  void block(const uint8_t* p);
  uint32_t m_h[8];
  uint8_t m_buffer[64];
  size_t m_buffered = 0;
  uint64_t m_bytes = 0;
};

std::string sha256Hex(const std::string& data);
// The file's hash, read in 1 MiB pieces; throws DataError when it cannot be read.
std::string sha256OfFile(const std::string& path);

}  // namespace continua::core
