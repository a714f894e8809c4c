#include "core/util/python_random.h"

#include <algorithm>

namespace continua::core {
namespace {
constexpr int kN = 624, kM = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfU, kUpper = 0x80000000U, kLower = 0x7fffffffU;
}  // namespace

PythonRandom::PythonRandom(uint64_t seed) {
  // random_seed(): the absolute value's 32-bit words, least significant first; 0 is one word of 0.
  std::vector<uint32_t> key;
  do {
    key.push_back(uint32_t(seed & 0xffffffffU));
    seed >>= 32;
  } while (seed != 0);
  initByArray(key);
}

void PythonRandom::initGenrand(uint32_t s) {
  m_state[0] = s;
  for (int i = 1; i < kN; ++i) m_state[i] = 1812433253U * (m_state[i - 1] ^ (m_state[i - 1] >> 30)) + uint32_t(i);
  m_index = kN;
}

void PythonRandom::initByArray(const std::vector<uint32_t>& key) {
  initGenrand(19650218U);
  int i = 1;
  size_t j = 0;
  for (size_t k = std::max<size_t>(kN, key.size()); k; --k) {
    m_state[i] = (m_state[i] ^ ((m_state[i - 1] ^ (m_state[i - 1] >> 30)) * 1664525U)) + key[j] + uint32_t(j);
    ++i;
    ++j;
    if (i >= kN) { m_state[0] = m_state[kN - 1]; i = 1; }
    if (j >= key.size()) j = 0;
  }
  for (int k = kN - 1; k; --k) {
    m_state[i] = (m_state[i] ^ ((m_state[i - 1] ^ (m_state[i - 1] >> 30)) * 1566083941U)) - uint32_t(i);
    ++i;
    if (i >= kN) { m_state[0] = m_state[kN - 1]; i = 1; }
  }
  m_state[0] = 0x80000000U;
  m_index = kN;
}

uint32_t PythonRandom::next32() {
  if (m_index >= kN) {
    for (int k = 0; k < kN; ++k) {
      const uint32_t y = (m_state[k] & kUpper) | (m_state[(k + 1) % kN] & kLower);
      m_state[k] = m_state[(k + kM) % kN] ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
    }
    m_index = 0;
  }
  uint32_t y = m_state[m_index++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

uint32_t PythonRandom::getrandbits(int k) { return next32() >> (32 - k); }

uint64_t PythonRandom::randbelow(uint64_t n) {
  int k = 0;  // n.bit_length()
  for (uint64_t v = n; v; v >>= 1) ++k;
  uint64_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

}  // namespace continua::core
