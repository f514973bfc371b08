#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with afl-fuzz (Debian package afl++) over SharpFuzz's instrumentation:
#   RxHttp.Fuzz/afl.sh <target> [seconds=600]
# Builds RxHttp.Fuzz, instruments a copy of RxHttp.dll with the sharpfuzz dotnet tool (SharpFuzz.CommandLine 2.3.0),
# starts from the target's seeds, and copies every crash afl saves to fuzz-findings/<target>/ (replay them with
# `dotnet run --project RxHttp.Fuzz -c Release -- repro <target> <file>` and check them in under
# RxHttp.Tests/Fuzz/Regressions/<target>/ once fixed).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: RxHttp.Fuzz/afl.sh <target> [seconds]}
seconds=${2:-600}
work=${AFL_WORK:-/tmp/rxhttp-afl}

command -v afl-fuzz >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"; $sudo apt-get install -y -qq --no-install-recommends afl++; }
[ -x "$work/tool/sharpfuzz" ] || dotnet tool install --tool-path "$work/tool" SharpFuzz.CommandLine --version 2.3.0

rm -rf "$work/bin" "$work/$target"
dotnet build RxHttp.Fuzz -c Release -o "$work/bin" >/dev/null
"$work/tool/sharpfuzz" "$work/bin/RxHttp.dll"
dotnet "$work/bin/RxHttp.Fuzz.dll" seeds "$target" "$work/$target/in"

export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
timeout --preserve-status "$seconds" afl-fuzz -i "$work/$target/in" -o "$work/$target/out" -t 10000 -m none \
  -- dotnet "$work/bin/RxHttp.Fuzz.dll" afl "$target" >"$work/$target/afl.log" 2>&1 || true

stats="$work/$target/out/default/fuzzer_stats"
grep -E '^(execs_done|corpus_count|saved_crashes|saved_hangs|bitmap_cvg)' "$stats" || true
mkdir -p "fuzz-findings/$target"
find "$work/$target/out/default/crashes" -type f -name 'id:*' -exec cp {} "fuzz-findings/$target/" \; 2>/dev/null || true
echo "crashes copied to fuzz-findings/$target/: $(find "fuzz-findings/$target" -type f | wc -l)"
