// A small, fast, portable random number generator (xoshiro256**, seeded through splitmix64). Unlike the
// standard library's distributions, its uniform and normal draws are the same on every platform, which keeps
// generated data and simulated intervals identical everywhere.
#pragma once

#include <cmath>
#include <cstdint>

namespace mm {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Normal() {  // Box-Muller, one value per call
    const double u1 = 1.0 - Uniform(), u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Poisson draw: inversion for small means, a rounded normal approximation above 30.
  int64_t Poisson(double mean) {
    if (!(mean > 0)) return 0;
    if (mean >= 30) {
      const double x = std::round(mean + std::sqrt(mean) * Normal());
      return x < 0 ? 0 : static_cast<int64_t>(x);
    }
    double p = std::exp(-mean), cdf = p, u = Uniform();
    int64_t k = 0;
    while (u > cdf && k < 1000) {
      ++k;
      p *= mean / static_cast<double>(k);
      cdf += p;
    }
    return k;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace mm
