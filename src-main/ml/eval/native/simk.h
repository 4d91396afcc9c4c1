// Shared by the translation units of the native evaluation kernel (simkernel.cc: the N-API
// module and the float32 kernels; half.cc: the half-precision prefilter; cpu.cc: the CPU check).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define SIMK_AVX2 1
#else
#define SIMK_AVX2 0
#endif

namespace simk {

#if SIMK_AVX2
// The one fixed horizontal reduction every similarity ends with (see simkernel.cc).
inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  __m128 sh = _mm_movehdup_ps(lo);
  __m128 s = _mm_add_ps(lo, sh);
  sh = _mm_movehl_ps(sh, s);
  s = _mm_add_ss(s, sh);
  return _mm_cvtss_f32(s);
}

// Half-precision rows and err[j] ≥ ‖row_j − half(row_j)‖; false for a value outside the range.
bool toHalfRows(const float* src, int n, int d, uint16_t* dst, float* err);

// out[j] ≈ <q, half row j> for rows [j0, j1), float32 accumulation.
void simsHalfRange(const float* q, int d, const uint16_t* h, float* out, int j0, int j1);
#endif

// The AVX features of the CPU this runs on, e.g. "avx avx2 fma f16c" (see cpu.cc).
std::string cpuFeatures();

}  // namespace simk
