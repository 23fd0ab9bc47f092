#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer on the stable toolchain and runs each for
# SECONDS (default 60), one after another. Exits non-zero if any target finds an
# input that panics or breaks a check; the input is saved in fuzz/artifacts/<target>/.
# Copy it to fuzz/regressions/<target>/ so `cargo test --test fuzz_corpus` replays it.
#
#   fuzz/ci.sh [SECONDS]          e.g. fuzz/ci.sh 300 in CI
#
# Why no cargo-fuzz: it only adds these flags, and the sanitizer-free build it makes
# with `--sanitizer none` needs no nightly feature. The flags are the coverage
# instrumentation libFuzzer reads (SanitizerCoverage's inline 8-bit counters, the
# PC table and compare tracing), passed to every crate; `--target` keeps them off
# build scripts and proc macros, which run on the host and are not linked with
# libFuzzer. libfuzzer-sys compiles libFuzzer itself with the system C++ compiler.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
targets=(grammar slash_form slack_signature heroku_webhook oauth_callback interaction_payload event_body)
host="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/chatops-fuzz-target}"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
  -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
  -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares \
  -Cdebug-assertions -Coverflow-checks"

echo "== building ${#targets[@]} fuzz targets for $host"
cargo build --locked --release --target "$host" --bins

for target in "${targets[@]}"; do
  # New inputs go to a scratch copy, so the kept corpus stays small and reviewed.
  scratch="$(mktemp -d)"
  cp corpus/"$target"/* "$scratch"/
  mkdir -p artifacts/"$target"
  echo "== fuzzing $target for ${seconds}s"
  log="$scratch.log"
  status=0
  "$CARGO_TARGET_DIR/$host/release/$target" \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix=artifacts/"$target"/ \
    "$scratch" regressions/"$target" >"$log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+== ERROR|SUMMARY|thread .* panicked)' "$log" || true
  [ "$status" -eq 0 ] || tail -n 40 "$log"
  rm -f "$log"
  rm -rf "$scratch"
  if [ "$status" -ne 0 ]; then
    echo "!! $target failed (exit $status); the input is in fuzz/artifacts/$target/"
    exit "$status"
  fi
done
echo "== all ${#targets[@]} fuzz targets ran ${seconds}s each without a failure"
