#!/usr/bin/env bash
# bench_linux.sh - hosted Linux workloads: mmuemu against qemu-user (and the
# host itself for x86-64), the same static binaries, wall-clock medians.
#
# usage: bench/bench_linux.sh [--runs N] [--quick] [BUILD_DIR]
#   BUILD_DIR  a configured and built tree (mmuemu, guest_linux; default
#              build/release); Debian's busybox-static is taken from
#              BUILD_DIR/busybox-cache or MMUEMU_BUSYBOX_CACHE (fetched
#              there by tools/fetch-busybox.sh when missing)
#   --runs N   runs per cell (default 3; the median is shown)
#   --quick    1 run per cell, smaller inputs (a smoke test)
#
# Workloads (those of the reference figures in the shared LINUX-ABI.md):
#   sh loop      busybox sh: a while loop of 100,000 iterations
#   md5sum       busybox md5sum of 64 MiB from a pipe (/dev/zero)
#   sort         busybox sort of a 10 MB file (deterministic random lines)
#   compute      guests/linux compute 16: 16 MiB qsort + SHA-256 (C)
#   demand       guests/linux demand 256: touch 256 MiB page by page
#   true x20     busybox true, 20 processes (per-process cost)
#   fork x300    busybox sh: 300 subshells, one fork + exit + wait each
#                (processes on the MMU: COW fork, address-space switch)
# mmuemu runs with its defaults (1 GiB guest RAM, no model TLB: every
# Unicorn TLB miss walks the page tables). Input files live in a temporary
# directory removed at exit; outputs go to /dev/null. The load average is
# printed before and after: other jobs on the machine move the numbers.
set -euo pipefail

runs=3
quick=no
build=
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --quick) quick=yes; runs=1; shift ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) build=$1; shift ;;
    esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
build=${build:-$here/build/release}
build=$(cd "$build" && pwd)
mmuemu=$build/mmuemu
guests=$build/guests/linux
cache=${MMUEMU_BUSYBOX_CACHE:-$build/busybox-cache}
[ -x "$mmuemu" ] || { echo "bench_linux: $mmuemu not built" >&2; exit 1; }
[ -x "$guests/x86_64/compute" ] ||
    { echo "bench_linux: guests not built (target guest_linux)" >&2; exit 1; }
bash "$here/tools/fetch-busybox.sh" "$cache" >/dev/null
for q in qemu-x86_64 qemu-riscv64; do
    command -v "$q" >/dev/null || { echo "bench_linux: $q missing" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
loops=100000 md5_mib=64 sort_lines=590000 compute_mib=16 demand_mib=256
forks=300
if [ "$quick" = yes ]; then
    loops=10000 md5_mib=8 sort_lines=60000 compute_mib=2 demand_mib=32
    forks=30
fi
# ~17 bytes a line: 590,000 lines is 10 MB.
awk -v n="$sort_lines" 'BEGIN { srand(1);
    for (i = 0; i < n; i++) printf "%08x%08x\n", int(rand() * 4294967296), i }' \
    >"$tmp/sort.in"

# seconds COMMAND...: wall-clock seconds of one run (stdout discarded).
seconds() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}

# median RUNNER... : median over $runs runs of the workload in $wl.
median() {
    local i times=()
    for ((i = 0; i < runs; i++)); do
        times+=("$(seconds workload "$@")")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 }
        END { printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# workload RUNNER...: run $wl for $arch with the runner prefix (may be
# empty for native).
workload() {
    local bb=$cache/$deb/bin/busybox g=$guests/$arch
    case $wl in
    sh) "$@" "$bb" sh -c "i=0; while [ \$i -lt $loops ]; do i=\$((i+1)); done" ;;
    md5) head -c $((md5_mib << 20)) /dev/zero | "$@" "$bb" md5sum ;;
    sort) "$@" "$bb" sort "$tmp/sort.in" ;;
    compute) "$@" "$g/compute" "$compute_mib" ;;
    demand) "$@" "$g/demand" "$demand_mib" ;;
    true) for _ in $(seq 20); do "$@" "$bb" true; done ;;
    fork) "$@" "$bb" sh -c "i=0; while [ \$i -lt $forks ]; do (i=1); i=\$((i+1)); done" ;;
    esac
}

names=(sh md5 sort compute demand true fork)
labels=("sh loop ($loops)" "md5sum $md5_mib MiB" "sort $(du -h "$tmp/sort.in" | cut -f1)"
        "compute $compute_mib MiB" "demand $demand_mib MiB" "true x20"
        "fork x$forks")

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $runs run(s) per cell, load average before: $(load)"
echo
echo "| workload | native amd64 | qemu-x86_64 | mmuemu x86_64 | qemu-riscv64 | mmuemu riscv64 |"
echo "|---|---|---|---|---|---|"
native=no
[ "$(uname -m)" = x86_64 ] && native=yes
for i in "${!names[@]}"; do
    wl=${names[$i]}
    row="| ${labels[$i]}"
    arch=x86_64 deb=amd64
    if [ "$native" = yes ]; then row="$row | $(median env) s"; else row="$row | -"; fi
    row="$row | $(median qemu-x86_64) s | $(median "$mmuemu" run) s"
    arch=riscv64 deb=riscv64
    row="$row | $(median qemu-riscv64) s | $(median "$mmuemu" run) s |"
    echo "$row"
done
echo
echo "load average after: $(load)"
