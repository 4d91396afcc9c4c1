# The optional native similarity kernel of the evaluation (src-main/ml/eval/native/simkernel.cc,
# plain N-API, so one build serves Node and Electron). Built at install by
# scripts/build-eval-kernel.mjs; never at run time. simk_march defaults to the build machine's
# CPU (install-time builds run where they are used); a packager building a portable prebuilt
# passes e.g. --simk_march=x86-64-v3 (AVX2+FMA+F16C) or x86-64 (scalar).
{
  "variables": { "simk_march%": "native" },
  "targets": [
    {
      "target_name": "simkernel",
      "sources": [
        "src-main/ml/eval/native/simkernel.cc",
        "src-main/ml/eval/native/half.cc",
        "src-main/ml/eval/native/cpu.cc"
      ],
      "cflags_cc": ["-O3", "-std=c++17", "-pthread", "-march=<(simk_march)"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-march=<(simk_march)"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/O2"] } }
    }
  ]
}
