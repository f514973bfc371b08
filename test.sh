#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the independent Debian peers the interop tests talk to
# (idempotent), runs the NUnit tests, and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

need=()
# clang and zlib1g-dev: the NativeAOT publish of RxHttp.AotSmoke (Aot/NativeAotTests) links with them; microsocks: the
# SOCKS5 peer of Connectors/SocksProxyTests.
for pkg in tinyproxy microsocks tmux python3-websockets python3-aiohttp clang zlib1g-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing test peers: ${need[*]}"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

rm -rf TestResults
mkdir -p TestResults
export RXHTTP_UNOBSERVED_REPORT="$PWD/TestResults/unobserved.txt"
# Release unless the caller names a configuration (./test.sh -c Debug runs the tiny-read-buffer Debug build).
config=(-c Release)
for a in "$@"; do case "$a" in -c|--configuration|-c=*|--configuration=*) config=() ;; esac; done
# A test host that hangs is stopped after 5 minutes without a finished test, and the blame collector's sequence file
# (TestResults/*/Sequence_*.xml) names the test that was running: a hang becomes a named failure, not a CI timeout.
dotnet test RxHttp.Tests/RxHttp.Tests.csproj "${config[@]}" --blame-hang-timeout 5m --blame-hang-dump-type none --logger "trx;LogFileName=results.trx" --logger "console;verbosity=minimal" \
  --results-directory TestResults "$@"
rc=$?

trx=TestResults/results.trx
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$(get passed); failed=$(get failed); total=$(get total); executed=$(get executed)
  skipped=$(( ${total:-0} - ${executed:-0} ))
  failed=${failed:-0}
  # An aborted run (a crashed or hung test host) can leave a trx with no failure counted: it is a failure.
  if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  if [ -f TestResults/unobserved.txt ]; then
    echo "Unobserved task exceptions: $(cat TestResults/unobserved.txt)"
    failed=$((failed + 1)); [ $rc -eq 0 ] && rc=1
  fi
  echo "${passed:-0} passed, ${failed} failed, ${skipped} skipped"
else
  echo "0 passed, 1 failed"
  [ $rc -eq 0 ] && rc=1
fi
exit $rc
