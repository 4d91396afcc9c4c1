// The half-precision prefilter of RetrievalIndex.search (exported as toHalf / simsHalf by
// simkernel.cc); only in builds with AVX2+FMA+F16C.
#include "simk.h"

#if SIMK_AVX2
#include <cmath>

namespace simk {

// Half-precision copy of a gallery for the search prefilter of RetrievalIndex: reading 2 bytes
// per value instead of 4 halves the memory traffic of a one-query scan, which is memory-bound.
// err[j] bounds ‖g_j − ĝ_j‖ (rounded up), so the exact top k can be recovered (see metrics.ts).
bool toHalfRows(const float* src, int n, int d, uint16_t* dst, float* err) {
  for (int j = 0; j < n; j++) {
    double e = 0;
    for (int k = 0; k < d; k++) {
      const float v = src[(std::size_t)j * d + k];
      if (!(std::fabs(v) <= 65000.0f)) return false;
      const uint16_t h = (uint16_t)_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT);
      dst[(std::size_t)j * d + k] = h;
      const double diff = (double)v - (double)_cvtsh_ss(h);
      e += diff * diff;
    }
    err[j] = (float)(std::sqrt(e) * (1 + 1e-6) + 1e-30);
  }
  return true;
}

namespace {
inline __m256 loadHalf8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
}  // namespace

// out[j] ≈ <q, ĝ_j> for gallery rows [j0, j1), float32 accumulation.
void simsHalfRange(const float* q, int d, const uint16_t* h, float* out, int j0, int j1) {
  const int dv = d & ~7;
  int j = j0;
  for (; j + 4 <= j1; j += 4) {
    const uint16_t* h0 = h + (std::size_t)j * d;
    const uint16_t* h1 = h0 + d;
    const uint16_t* h2 = h1 + d;
    const uint16_t* h3 = h2 + d;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0; k < dv; k += 8) {
      const __m256 qv = _mm256_loadu_ps(q + k);
      a0 = _mm256_fmadd_ps(qv, loadHalf8(h0 + k), a0);
      a1 = _mm256_fmadd_ps(qv, loadHalf8(h1 + k), a1);
      a2 = _mm256_fmadd_ps(qv, loadHalf8(h2 + k), a2);
      a3 = _mm256_fmadd_ps(qv, loadHalf8(h3 + k), a3);
    }
    float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (int k = dv; k < d; k++) {
      s0 += q[k] * _cvtsh_ss(h0[k]);
      s1 += q[k] * _cvtsh_ss(h1[k]);
      s2 += q[k] * _cvtsh_ss(h2[k]);
      s3 += q[k] * _cvtsh_ss(h3[k]);
    }
    out[j] = s0;
    out[j + 1] = s1;
    out[j + 2] = s2;
    out[j + 3] = s3;
  }
  for (; j < j1; j++) {
    const uint16_t* hj = h + (std::size_t)j * d;
    __m256 acc = _mm256_setzero_ps();
    for (int k = 0; k < dv; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + k), loadHalf8(hj + k), acc);
    float s = hsum(acc);
    for (int k = dv; k < d; k++) s += q[k] * _cvtsh_ss(hj[k]);
    out[j] = s;
  }
}

}  // namespace simk
#endif
