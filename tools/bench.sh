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
    bench_glue
)
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target "${BENCHES[@]}" >/dev/null
# Other jobs on the machine move the absolute numbers: show the load.
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }
for b in "${BENCHES[@]}"; do
    echo "## $b"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), load average before: $(load)"
    echo
    "$BUILD/bench/$b" "$@"
    echo
    echo "load average after: $(load)"
    echo
done
