#!/usr/bin/env bash
# The main job on the bundled default: builds mmuemu and the bundled guest
# programs, then runs the `hello` guest (a static glibc program built from
# guests/linux) for x86-64 and riscv64 under `mmuemu run`, every page
# mapped through page tables the model walks, with the fault/TLB/walk
# statistics at exit. Extra arguments go to the guest. Then fork_cow on
# riscv64 with --trace-faults, showing the copy-on-write faults of the two
# processes after fork (pid=100 the parent, pid=101 the child).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh --quiet
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target mmuemu guest_linux >/dev/null
for arch in x86_64 riscv64; do
    echo "== mmuemu run --tlb generic --stats guests/linux/$arch/hello"
    ./build/release/mmuemu run --tlb generic --stats \
        "build/release/guests/linux/$arch/hello" "${@:-from mmuemu}"
done
echo "== mmuemu run --trace-faults guests/linux/riscv64/fork_cow" \
    "(the faults after fork)"
./build/release/mmuemu run --trace-faults \
    build/release/guests/linux/riscv64/fork_cow --pages 2>&1 |
    sed -n '/^fork_cow: fork$/,$p' | grep -E 'cow|wp_reuse|^[a-z]' |
    grep -v '^pages ' | head -n 24
