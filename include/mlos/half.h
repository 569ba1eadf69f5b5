// 16-bit floating-point storage types. Arithmetic happens in float; these only store bits.
// Conversions round to nearest even and keep NaN and infinity.
#pragma once

#include <cstdint>
#include <cstring>

namespace mlos {

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// IEEE 754 binary16.
struct Float16 {
  uint16_t bits = 0;

  Float16() = default;
  explicit Float16(float f) : bits(FromFloat(f)) {}
  operator float() const { return ToFloat(bits); }  // NOLINT: numeric-like

  static uint16_t FromFloat(float f) {
    uint32_t x = FloatBits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t mag = x & 0x7fffffffu;
    if (mag >= 0x7f800000u) {  // inf or nan
      return static_cast<uint16_t>(sign | 0x7c00u | (mag > 0x7f800000u ? 0x200u : 0u));
    }
    if (mag >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
    if (mag < 0x38800000u) {  // subnormal or zero in half
      // Add 0.5 in float arithmetic so the hardware does the rounding.
      float m = BitsFloat(mag) + 0.5f;
      return static_cast<uint16_t>(sign | (FloatBits(m) - 0x3f000000u));
    }
    uint32_t odd = (mag >> 13) & 1u;
    mag += 0xc8000fffu + odd;  // rebias exponent (-112 << 23) and round to nearest even
    return static_cast<uint16_t>(sign | (mag >> 13));
  }

  static float ToFloat(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0) {
      if (man == 0) return BitsFloat(sign);
      float v = static_cast<float>(man) * (1.0f / 16777216.0f);  // man * 2^-24
      return sign ? -v : v;
    }
    if (exp == 31) return BitsFloat(sign | 0x7f800000u | (man << 13));
    return BitsFloat(sign | ((exp + 112) << 23) | (man << 13));
  }
};

// bfloat16: the top half of a float32.
struct BFloat16 {
  uint16_t bits = 0;

  BFloat16() = default;
  explicit BFloat16(float f) : bits(FromFloat(f)) {}
  operator float() const { return ToFloat(bits); }  // NOLINT: numeric-like

  static uint16_t FromFloat(float f) {
    uint32_t x = FloatBits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // nan
    x += 0x7fffu + ((x >> 16) & 1u);  // round to nearest even
    return static_cast<uint16_t>(x >> 16);
  }
  static float ToFloat(uint16_t b) { return BitsFloat(static_cast<uint32_t>(b) << 16); }
};

}  // namespace mlos
