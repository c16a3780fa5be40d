#!/usr/bin/env bash
# Build a Release tree (build/release) and run every benchmark in BENCHES,
# one after the other. Arguments go to each benchmark (e.g. --quick,
# --runs 11). The tables are markdown; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh --quiet
BUILD=${MMUEMU_BENCH_BUILD:-build/release}
BENCHES=(
    bench_translate
)
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target "${BENCHES[@]}" >/dev/null
for b in "${BENCHES[@]}"; do
    echo "## $b"
    echo
    "$BUILD/bench/$b" "$@"
    echo
done
