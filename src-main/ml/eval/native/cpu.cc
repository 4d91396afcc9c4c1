// cpu() of the native kernel: which AVX features the running CPU and OS offer.
#include "simk.h"

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#define SIMK_GNU_CPUID 1
#endif

namespace simk {

// The AVX features of the CPU this runs on (not the ones this build was compiled for), for the
// loader to choose between portable prebuilt variants: the baseline build answers whether the
// x86-64-v3 build (AVX2+FMA+F16C) may be loaded without faulting. Plain CPUID/XGETBV, so the
// function itself needs no AVX. "" on other architectures.
std::string cpuFeatures() {
  unsigned r1[4] = {0, 0, 0, 0};  // leaf 1: eax, ebx, ecx, edx
  unsigned r7[4] = {0, 0, 0, 0};  // leaf 7, subleaf 0
  unsigned long long xcr0 = 0;
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
  int a[4];
  __cpuid(a, 0);
  const int maxLeaf = a[0];
  __cpuid(a, 1);
  for (int i = 0; i < 4; i++) r1[i] = (unsigned)a[i];
  if (maxLeaf >= 7) {
    __cpuidex(a, 7, 0);
    for (int i = 0; i < 4; i++) r7[i] = (unsigned)a[i];
  }
  if (r1[2] & (1u << 27)) xcr0 = _xgetbv(0);
#elif defined(SIMK_GNU_CPUID)
  const unsigned maxLeaf = __get_cpuid_max(0, nullptr);
  if (maxLeaf >= 1) __cpuid(1, r1[0], r1[1], r1[2], r1[3]);
  if (maxLeaf >= 7) __cpuid_count(7, 0, r7[0], r7[1], r7[2], r7[3]);
  if (r1[2] & (1u << 27)) {  // OSXSAVE: XGETBV is usable
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = ((unsigned long long)hi << 32) | lo;
  }
#endif
  // The OS must save the YMM registers (XCR0 bits 1 and 2) for any AVX instruction to be safe.
  const bool osAvx = (xcr0 & 0x6) == 0x6;
  std::string s;
  if (osAvx && (r1[2] & (1u << 28))) s += "avx ";
  if (osAvx && (r7[1] & (1u << 5))) s += "avx2 ";
  if (osAvx && (r1[2] & (1u << 12))) s += "fma ";
  if (osAvx && (r1[2] & (1u << 29))) s += "f16c ";
  if (!s.empty()) s.pop_back();
  return s;
}

}  // namespace simk
