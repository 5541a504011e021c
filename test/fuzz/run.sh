#!/usr/bin/env bash
# Builds fuzz_decode with clang-14 (libFuzzer + ASan + UBSan) and fuzzes the
# page decoders for SECONDS seconds on a copy of the seed corpus.
#
#   test/fuzz/run.sh 60
#
# Exits non-zero when the build fails or the fuzzer finds a crash, a leak, an
# uncaught exception, a broken invariant or a timeout; the reproducer is then
# kept in $VTJ_FUZZ_ARTIFACTS (default: a temporary folder, printed).
# Env: VTJ_FUZZ_BUILD (build folder), CXX_FUZZ (default clang++-14),
# VTJ_FUZZ_JOBS (parallel fuzzing processes, default 1).
set -euo pipefail

SECONDS_TO_RUN="${1:-60}"
case "$SECONDS_TO_RUN" in
  ''|*[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CXX_FUZZ="${CXX_FUZZ:-clang++-14}"
BUILD="${VTJ_FUZZ_BUILD:-$ROOT/build/fuzz-clang}"
JOBS="${VTJ_FUZZ_JOBS:-1}"

if ! command -v "$CXX_FUZZ" >/dev/null 2>&1; then
  echo "fuzz: $CXX_FUZZ not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DPG_VTJ_FUZZ=ON \
  -DPG_VTJ_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target fuzz_decode -j2

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vtj-fuzz.XXXXXX")"
ARTIFACTS="${VTJ_FUZZ_ARTIFACTS:-$WORK/artifacts}"
mkdir -p "$WORK/corpus" "$ARTIFACTS"
cp "$ROOT"/test/fuzz/corpus/*.json "$WORK/corpus/"

echo "fuzz: fuzz_decode for ${SECONDS_TO_RUN}s, corpus copy in $WORK/corpus, artifacts in $ARTIFACTS"
EXTRA=()
if [ "$JOBS" -gt 1 ]; then EXTRA=(-jobs="$JOBS" -workers="$JOBS"); fi
status=0
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
"$BUILD/test/fuzz/fuzz_decode" "$WORK/corpus" \
  -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 -max_len=32768 \
  -artifact_prefix="$ARTIFACTS/" -dict="$ROOT/test/fuzz/vtj.dict" -print_final_stats=1 "${EXTRA[@]}" >"$WORK/fuzz.log" 2>&1 || status=$?
tail -n 40 "$WORK/fuzz.log"

if [ "$status" -ne 0 ] || [ -n "$(ls -A "$ARTIFACTS")" ]; then
  echo "fuzz: FAILED (exit $status); reproducers:" >&2
  ls -l "$ARTIFACTS" >&2 || true
  exit 1
fi
rm -rf "$WORK/corpus"
echo "fuzz: log kept in $WORK/fuzz.log"
echo "fuzz: no crash in ${SECONDS_TO_RUN}s"
