#!/usr/bin/env bash
# The main job on the bundled default: builds mmuemu, generates the bundled
# example x86-64 page-table image and runs `mmuemu translate` over the
# example ops (accesses that succeed and accesses that fault, with A/D
# updates written back to the image).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh --quiet
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target mmuemu >/dev/null
out=build/release/examples
mkdir -p "$out"
args=$(./build/release/mmuemu example-image --arch x86_64 --out "$out/x86_64.img")
# shellcheck disable=SC2086
./build/release/mmuemu translate --arch x86_64 --mem "$out/x86_64.img" $args \
    --mem-out "$out/x86_64.after.img" examples/x86_64.ops
