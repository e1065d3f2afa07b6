#pragma once
// Counter-based randomness: every draw is a pure function of (seed, stream, counter), so the
// market path and the fault schedule depend only on the seed and the simulated time.

#include <cmath>
#include <cstdint>
#include <string_view>

namespace twinstar::venue::sim {

constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

constexpr std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b) noexcept { return mix64(a ^ mix64(b)); }
constexpr std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b, std::uint64_t c) noexcept {
  return hash_combine(hash_combine(a, b), c);
}

constexpr std::uint64_t hash_string(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return mix64(h);
}

// Uniform in [0, 1).
inline double unit_from(std::uint64_t h) noexcept { return static_cast<double>(h >> 11) * 0x1.0p-53; }

// Standard normal (Box-Muller on two derived uniforms).
inline double normal_from(std::uint64_t h) noexcept {
  const double u1 = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = unit_from(mix64(h));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace twinstar::venue::sim
