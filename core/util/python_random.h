#pragma once
// CPython's `random` module, as far as data splits need it: the Mersenne Twister seeded exactly as
// random.seed(n) seeds it (init_by_array over n's 32-bit words), getrandbits, and random.shuffle. With it a
// split that the reference code made with random.seed(0); random.shuffle(classes) (cl-as-seq's CIFAR-100,
// CASIA, MS-Celeb) is reproduced exactly, on any platform — std::shuffle's result differs between standard
// libraries. No LibTorch.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace continua::core {

class PythonRandom {
 public:
  explicit PythonRandom(uint64_t seed);  // random.seed(seed) for a non-negative integer
  uint32_t next32();                     // genrand_uint32
  uint32_t getrandbits(int k);           // k in 1..32
  uint64_t randbelow(uint64_t n);        // Random._randbelow_with_getrandbits, n in 1..2^32
  template <typename T>
  void shuffle(std::vector<T>& x) {      // random.shuffle
    for (std::size_t i = x.size(); i-- > 1;) std::swap(x[i], x[std::size_t(randbelow(i + 1))]);
  }

 private:
  void initGenrand(uint32_t s);
  void initByArray(const std::vector<uint32_t>& key);
  uint32_t m_state[624];
  int m_index = 625;
};

}  // namespace continua::core
