// Optional native kernel for the exact kNN / evaluation engine: out = A · Bᵀ (row-major A: na×d,
// B: nb×d, out: na×nb), float32, split over threads. Built at install for the machine's own CPU
// (binding.gyp, -march=native), or prebuilt portable for a packaged app
// (scripts/prebuild-eval-kernel.mjs: an x86-64-v2 baseline and an x86-64-v3 AVX2 variant, chosen
// at load time by cpu(), cpu.cc); ../native.ts falls back to pure JS when none loads.
//
// Why native: measured on the 2-core dev machine, tfjs-backend-wasm reaches ~20 GFLOP/s per
// thread (~39 with two workers) because wasm SIMD is 128-bit without FMA; this AVX2+FMA kernel
// reaches ~120 GFLOP/s on two threads, which is what a SOP-scale evaluation (60k × 60k × 512)
// needs to finish in well under a minute.
//
// Every output element is computed by the same instruction sequence whatever its tile position
// (lane-wise FMA over d, one fixed horizontal reduction, then a scalar tail), so a similarity
// does not depend on the block shape it was computed in.
#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include <cmath>
#include <string>

#include "simk.h"

#if SIMK_AVX2
static const char* kKind = "avx2+fma+f16c";
#else
static const char* kKind = "scalar";
#endif

namespace {

using simk::cpuFeatures;
#if SIMK_AVX2
using simk::hsum;
using simk::simsHalfRange;
using simk::toHalfRows;
#endif

#if SIMK_AVX2
template <int MR, int NR>
inline void tile(const float* A, const float* B, int d, float* out, std::size_t ldo) {
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_ps();
  const int dv = d & ~7;
  for (int k = 0; k < dv; k += 8) {
    __m256 a[MR], b[NR];
    for (int i = 0; i < MR; i++) a[i] = _mm256_loadu_ps(A + (std::size_t)i * d + k);
    for (int j = 0; j < NR; j++) b[j] = _mm256_loadu_ps(B + (std::size_t)j * d + k);
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NR; j++) acc[i][j] = _mm256_fmadd_ps(a[i], b[j], acc[i][j]);
  }
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) {
      float s = hsum(acc[i][j]);
      const float* ai = A + (std::size_t)i * d;
      const float* bj = B + (std::size_t)j * d;
      for (int k = dv; k < d; k++) s += ai[k] * bj[k];
      out[(std::size_t)i * ldo + j] = s;
    }
}
#else
template <int MR, int NR>
inline void tile(const float* A, const float* B, int d, float* out, std::size_t ldo) {
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) {
      const float* ai = A + (std::size_t)i * d;
      const float* bj = B + (std::size_t)j * d;
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      const int dv = d & ~7;
      for (int k = 0; k < dv; k += 8)
        for (int l = 0; l < 8; l++) acc[l] += ai[k + l] * bj[k + l];
      float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      for (int k = dv; k < d; k++) s += ai[k] * bj[k];
      out[(std::size_t)i * ldo + j] = s;
    }
}
#endif

template <int MR>
inline void tileRow(int nr, const float* A, const float* B, int d, float* out, std::size_t ldo) {
  switch (nr) {
    case 4: tile<MR, 4>(A, B, d, out, ldo); break;
    case 3: tile<MR, 3>(A, B, d, out, ldo); break;
    case 2: tile<MR, 2>(A, B, d, out, ldo); break;
    default: tile<MR, 1>(A, B, d, out, ldo); break;
  }
}

// One thread's share: gallery rows [j0, j1) against every query row.
void simsRange(const float* A, int na, const float* B, int nb, int d, float* out, int j0, int j1) {
  // A block of 128 gallery rows (256 KB at d = 512) stays in L2 while all query tiles pass over it.
  const int JB = 128;
  for (int jb = j0; jb < j1; jb += JB) {
    const int je = jb + JB < j1 ? jb + JB : j1;
    for (int i = 0; i < na; i += 4) {
      const int mr = na - i < 4 ? na - i : 4;
      const float* Ai = A + (std::size_t)i * d;
      float* Oi = out + (std::size_t)i * nb;
      for (int j = jb; j < je; j += 4) {
        const int nr = je - j < 4 ? je - j : 4;
        const float* Bj = B + (std::size_t)j * d;
        switch (mr) {
          case 4: tileRow<4>(nr, Ai, Bj, d, Oi + j, nb); break;
          case 3: tileRow<3>(nr, Ai, Bj, d, Oi + j, nb); break;
          case 2: tileRow<2>(nr, Ai, Bj, d, Oi + j, nb); break;
          default: tileRow<1>(nr, Ai, Bj, d, Oi + j, nb); break;
        }
      }
    }
  }
}

bool getF32(napi_env env, napi_value v, float** data, std::size_t* len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  napi_value ab;
  std::size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok) return false;
  if (type != napi_float32_array) return false;
  *data = static_cast<float*>(ptr);
  return true;
}

int64_t getInt(napi_env env, napi_value v) {
  int64_t x = -1;
  if (napi_get_value_int64(env, v, &x) != napi_ok) return -1;
  return x;
}

// sims(a: Float32Array, na, b: Float32Array, nb, d, out: Float32Array, threads): void
napi_value Sims(napi_env env, napi_callback_info info) {
  std::size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 7) {
    napi_throw_type_error(env, nullptr, "sims: expected 7 arguments");
    return nullptr;
  }
  float *A = nullptr, *B = nullptr, *O = nullptr;
  std::size_t la = 0, lb = 0, lo = 0;
  if (!getF32(env, argv[0], &A, &la) || !getF32(env, argv[2], &B, &lb) || !getF32(env, argv[5], &O, &lo)) {
    napi_throw_type_error(env, nullptr, "sims: a, b and out must be Float32Array");
    return nullptr;
  }
  const int64_t na = getInt(env, argv[1]), nb = getInt(env, argv[3]), d = getInt(env, argv[4]);
  int64_t threads = getInt(env, argv[6]);
  if (na < 0 || nb < 0 || d < 1 || (std::size_t)(na * d) > la || (std::size_t)(nb * d) > lb ||
      (std::size_t)(na * nb) > lo || na > INT32_MAX || nb > INT32_MAX || d > INT32_MAX) {
    napi_throw_range_error(env, nullptr, "sims: sizes do not match the arrays");
    return nullptr;
  }
  if (threads < 1) threads = 1;
  // Small problems are not worth a thread start (~30 µs).
  if ((double)na * (double)nb * (double)d < 2e6) threads = 1;
  if (threads > nb / 4) threads = nb / 4 > 0 ? nb / 4 : 1;
  if (threads == 1) {
    simsRange(A, (int)na, B, (int)nb, (int)d, O, 0, (int)nb);
  } else {
    std::vector<std::thread> pool;
    for (int64_t t = 0; t < threads; t++) {
      // Split on multiples of 4 so that tiles stay whole.
      const int j0 = (int)((nb * t / threads) & ~3LL);
      const int j1 = t == threads - 1 ? (int)nb : (int)((nb * (t + 1) / threads) & ~3LL);
      pool.emplace_back(simsRange, A, (int)na, B, (int)nb, (int)d, O, j0, j1);
    }
    for (auto& th : pool) th.join();
  }
  return nullptr;
}

// Rank counting of metrics.ts: for a query with positives sorted best first (similarity desc,
// gallery position asc) at [base, base+P), each negative at or above the weakest positive is
// placed by binary search and counted in front of the first positive it beats. Counts are added
// to cnt (the caller zeroes them), so a query's row may arrive in several pieces.
inline void place(float v, int j, const float* ts, const int32_t* tp, int P, int32_t* c) {
  int lo = 0, hi = P - 1;
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    const float s = ts[mid];
    if (v > s || (v == s && j < tp[mid])) hi = mid;
    else lo = mid + 1;
  }
  c[lo]++;
}

// Row pass: block row r is query r (label qLabels[r], positives at posOff[r]..posOff[r+1]);
// block column jj is gallery item colStart + jj.
void countRows(const float* block, int w, int colStart, const int32_t* gLabels, const int32_t* qLabels, const int32_t* posOff,
               const float* posSim, const int32_t* posPos, int32_t* cnt, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const int base = posOff[r];
    const int P = posOff[r + 1] - base;
    if (P <= 0) continue;
    const float* row = block + (std::size_t)r * w;
    const float* ts = posSim + base;
    const int32_t* tp = posPos + base;
    int32_t* c = cnt + base;
    const float lowS = ts[P - 1];
    const int lowP = tp[P - 1];
    const int32_t ql = qLabels[r];
    for (int jj = 0; jj < w; jj++) {
      const float v = row[jj];
      const int j = colStart + jj;
      if (v < lowS || (v == lowS && j > lowP)) continue;
      if (gLabels[j] == ql) continue;
      place(v, j, ts, tp, P, c);
    }
  }
}

// Column pass (symmetric evaluation): block column jj ≥ firstCol is query colStart + jj, and
// block row r is gallery item rowStart + r; posOff is indexed by the global query index.
void countCols(const float* block, int nrows, int w, int rowStart, int colStart, const int32_t* gLabels, const int32_t* posOff,
               const float* posSim, const int32_t* posPos, int32_t* cnt, int c0, int c1) {
  for (int jj = c0; jj < c1; jj++) {
    const int q = colStart + jj;
    const int base = posOff[q];
    const int P = posOff[q + 1] - base;
    if (P <= 0) continue;
    const float* ts = posSim + base;
    const int32_t* tp = posPos + base;
    int32_t* c = cnt + base;
    const float lowS = ts[P - 1];
    const int lowP = tp[P - 1];
    const int32_t ql = gLabels[q];
    for (int r = 0; r < nrows; r++) {
      const float v = block[(std::size_t)r * w + jj];
      const int i = rowStart + r;
      if (v < lowS || (v == lowS && i > lowP)) continue;
      if (gLabels[i] == ql) continue;
      place(v, i, ts, tp, P, c);
    }
  }
}

bool getI32(napi_env env, napi_value v, int32_t** data, std::size_t* len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  napi_value ab;
  std::size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok) return false;
  if (type != napi_int32_array) return false;
  *data = static_cast<int32_t*>(ptr);
  return true;
}

template <typename F>
void runThreads(int64_t threads, int64_t items, F fn) {
  if (threads > items) threads = items > 0 ? items : 1;
  if (threads <= 1) {
    fn(0, (int)items);
    return;
  }
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; t++) pool.emplace_back(fn, (int)(items * t / threads), (int)(items * (t + 1) / threads));
  for (auto& th : pool) th.join();
}

bool getU16(napi_env env, napi_value v, uint16_t** data, std::size_t* len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  napi_value ab;
  std::size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok) return false;
  if (type != napi_uint16_array) return false;
  *data = static_cast<uint16_t*>(ptr);
  return true;
}

napi_value Bool(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

// toHalf(src: Float32Array, n, d, dst: Uint16Array, err: Float32Array): boolean (false: unsupported
// CPU build or a value outside the half range)
napi_value ToHalf(napi_env env, napi_callback_info info) {
  std::size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float *src = nullptr, *err = nullptr;
  uint16_t* dst = nullptr;
  std::size_t ls = 0, le = 0, ld = 0;
  if (argc < 5 || !getF32(env, argv[0], &src, &ls) || !getU16(env, argv[3], &dst, &ld) || !getF32(env, argv[4], &err, &le)) {
    napi_throw_type_error(env, nullptr, "toHalf: expected (Float32Array, n, d, Uint16Array, Float32Array)");
    return nullptr;
  }
  const int64_t n = getInt(env, argv[1]), d = getInt(env, argv[2]);
  if (n < 0 || d < 1 || (std::size_t)(n * d) > ls || (std::size_t)(n * d) > ld || (std::size_t)n > le || n > INT32_MAX) {
    napi_throw_range_error(env, nullptr, "toHalf: sizes do not match the arrays");
    return nullptr;
  }
#if SIMK_AVX2
  return Bool(env, toHalfRows(src, (int)n, (int)d, dst, err));
#else
  return Bool(env, false);
#endif
}

// simsHalf(q: Float32Array, d, h: Uint16Array, n, out: Float32Array, threads): void
napi_value SimsHalf(napi_env env, napi_callback_info info) {
  std::size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  float *q = nullptr, *out = nullptr;
  uint16_t* h = nullptr;
  std::size_t lq = 0, lh = 0, lo = 0;
  if (argc < 6 || !getF32(env, argv[0], &q, &lq) || !getU16(env, argv[2], &h, &lh) || !getF32(env, argv[4], &out, &lo)) {
    napi_throw_type_error(env, nullptr, "simsHalf: expected (Float32Array, d, Uint16Array, n, Float32Array, threads)");
    return nullptr;
  }
  const int64_t d = getInt(env, argv[1]), n = getInt(env, argv[3]), threads = getInt(env, argv[5]);
  if (d < 1 || n < 0 || (std::size_t)d > lq || (std::size_t)(n * d) > lh || (std::size_t)n > lo || n > INT32_MAX) {
    napi_throw_range_error(env, nullptr, "simsHalf: sizes do not match the arrays");
    return nullptr;
  }
#if SIMK_AVX2
  int64_t t = (double)n * (double)d < 2e6 ? 1 : threads;
  runThreads(t, (n + 3) / 4, [&](int b0, int b1) {
    const int j0 = b0 * 4, j1 = b1 * 4 < n ? b1 * 4 : (int)n;
    simsHalfRange(q, (int)d, h, out, j0, j1);
  });
#else
  (void)threads;
  napi_throw_error(env, nullptr, "simsHalf: this build has no half-precision support");
#endif
  return nullptr;
}

struct Arrays {
  float *block = nullptr, *posSim = nullptr;
  int32_t *gLabels = nullptr, *posOff = nullptr, *posPos = nullptr, *cnt = nullptr;
  std::size_t lBlock = 0, lSim = 0, lG = 0, lOff = 0, lPos = 0, lCnt = 0;
};

bool checkOffsets(napi_env env, const int32_t* off, int64_t from, int64_t to, const Arrays& a) {
  for (int64_t r = from; r < to; r++)
    if (off[r] < 0 || off[r] > off[r + 1] || (std::size_t)off[r + 1] > a.lSim || (std::size_t)off[r + 1] > a.lPos ||
        (std::size_t)off[r + 1] > a.lCnt) {
      napi_throw_range_error(env, nullptr, "count: positive offsets are not non-decreasing within the arrays");
      return false;
    }
  return true;
}

// countBlock(block, nrows, w, colStart, gLabels, qLabels, posOff, posSim, posPos, cnt, threads)
napi_value CountBlock(napi_env env, napi_callback_info info) {
  std::size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 11) {
    napi_throw_type_error(env, nullptr, "countBlock: expected 11 arguments");
    return nullptr;
  }
  Arrays a;
  int32_t* qLabels = nullptr;
  std::size_t lQ = 0;
  if (!getF32(env, argv[0], &a.block, &a.lBlock) || !getI32(env, argv[4], &a.gLabels, &a.lG) || !getI32(env, argv[5], &qLabels, &lQ) ||
      !getI32(env, argv[6], &a.posOff, &a.lOff) || !getF32(env, argv[7], &a.posSim, &a.lSim) ||
      !getI32(env, argv[8], &a.posPos, &a.lPos) || !getI32(env, argv[9], &a.cnt, &a.lCnt)) {
    napi_throw_type_error(env, nullptr, "countBlock: wrong array types");
    return nullptr;
  }
  const int64_t nrows = getInt(env, argv[1]), w = getInt(env, argv[2]), colStart = getInt(env, argv[3]);
  const int64_t threads = getInt(env, argv[10]);
  if (nrows < 0 || w < 0 || colStart < 0 || (std::size_t)(nrows * w) > a.lBlock || (std::size_t)(colStart + w) > a.lG ||
      (std::size_t)nrows > lQ || (std::size_t)nrows + 1 > a.lOff || colStart + w > INT32_MAX) {
    napi_throw_range_error(env, nullptr, "countBlock: sizes do not match the arrays");
    return nullptr;
  }
  if (!checkOffsets(env, a.posOff, 0, nrows, a)) return nullptr;
  runThreads(threads, nrows, [&](int r0, int r1) {
    countRows(a.block, (int)w, (int)colStart, a.gLabels, qLabels, a.posOff, a.posSim, a.posPos, a.cnt, r0, r1);
  });
  return nullptr;
}

// countBlockT(block, nrows, w, rowStart, colStart, firstCol, gLabels, posOff, posSim, posPos, cnt, threads)
napi_value CountBlockT(napi_env env, napi_callback_info info) {
  std::size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 12) {
    napi_throw_type_error(env, nullptr, "countBlockT: expected 12 arguments");
    return nullptr;
  }
  Arrays a;
  if (!getF32(env, argv[0], &a.block, &a.lBlock) || !getI32(env, argv[6], &a.gLabels, &a.lG) || !getI32(env, argv[7], &a.posOff, &a.lOff) ||
      !getF32(env, argv[8], &a.posSim, &a.lSim) || !getI32(env, argv[9], &a.posPos, &a.lPos) || !getI32(env, argv[10], &a.cnt, &a.lCnt)) {
    napi_throw_type_error(env, nullptr, "countBlockT: wrong array types");
    return nullptr;
  }
  const int64_t nrows = getInt(env, argv[1]), w = getInt(env, argv[2]), rowStart = getInt(env, argv[3]);
  const int64_t colStart = getInt(env, argv[4]), firstCol = getInt(env, argv[5]), threads = getInt(env, argv[11]);
  if (nrows < 0 || w < 0 || rowStart < 0 || colStart < 0 || firstCol < 0 || firstCol > w || (std::size_t)(nrows * w) > a.lBlock ||
      (std::size_t)(rowStart + nrows) > a.lG || (std::size_t)(colStart + w) > a.lG || (std::size_t)(colStart + w) + 1 > a.lOff ||
      colStart + w > INT32_MAX) {
    napi_throw_range_error(env, nullptr, "countBlockT: sizes do not match the arrays");
    return nullptr;
  }
  if (!checkOffsets(env, a.posOff, colStart + firstCol, colStart + w, a)) return nullptr;
  runThreads(threads, w - firstCol, [&](int c0, int c1) {
    countCols(a.block, (int)nrows, (int)w, (int)rowStart, (int)colStart, a.gLabels, a.posOff, a.posSim, a.posPos, a.cnt,
              (int)firstCol + c0, (int)firstCol + c1);
  });
  return nullptr;
}

napi_value Kind(napi_env env, napi_callback_info) {
  napi_value s;
  napi_create_string_utf8(env, kKind, NAPI_AUTO_LENGTH, &s);
  return s;
}

napi_value Cpu(napi_env env, napi_callback_info) {
  const std::string s = cpuFeatures();
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sims", NAPI_AUTO_LENGTH, Sims, nullptr, &fn);
  napi_set_named_property(env, exports, "sims", fn);
  napi_create_function(env, "countBlock", NAPI_AUTO_LENGTH, CountBlock, nullptr, &fn);
  napi_set_named_property(env, exports, "countBlock", fn);
  napi_create_function(env, "countBlockT", NAPI_AUTO_LENGTH, CountBlockT, nullptr, &fn);
  napi_set_named_property(env, exports, "countBlockT", fn);
  napi_create_function(env, "toHalf", NAPI_AUTO_LENGTH, ToHalf, nullptr, &fn);
  napi_set_named_property(env, exports, "toHalf", fn);
  napi_create_function(env, "simsHalf", NAPI_AUTO_LENGTH, SimsHalf, nullptr, &fn);
  napi_set_named_property(env, exports, "simsHalf", fn);
  napi_create_function(env, "kind", NAPI_AUTO_LENGTH, Kind, nullptr, &fn);
  napi_set_named_property(env, exports, "kind", fn);
  napi_create_function(env, "cpu", NAPI_AUTO_LENGTH, Cpu, nullptr, &fn);
  napi_set_named_property(env, exports, "cpu", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
