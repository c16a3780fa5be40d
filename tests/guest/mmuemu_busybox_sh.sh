#!/usr/bin/env bash
# mmuemu_busybox_sh.sh - the busybox sh scripts under `mmuemu run`.
#
# usage: mmuemu_busybox_sh.sh MMUEMU CACHE_DIR REF_DIR [SOURCE_DIR]
#   MMUEMU      the mmuemu executable
#   CACHE_DIR   where tools/fetch-busybox.sh keeps amd64/ and riscv64/
#   REF_DIR     where qemu_user_busybox_sh.sh stored the qemu-user runs
#               (REF_DIR/<arch>/sh/<name>.qemu.{txt,rc}) and the PATH
#               directory REF_DIR/<arch>/sh-path; when one is missing that
#               script runs first, so qemu-user missing is a failure, never
#               a skip
#   SOURCE_DIR  guests/linux/busybox of the source tree (default: found
#               from here)
#
# Each script of SOURCE_DIR/sh_cases/ runs as `mmuemu run --rw BUSYBOX sh
# script.sh ARGS` for amd64 and riscv64, in a fresh scratch directory with
# the same environment as the reference (busybox_sh_lib.sh): LC_ALL=C and
# PATH=REF_DIR/<arch>/sh-path. Under mmuemu busybox's re-exec through
# /proc/self/exe must work; the PATH entries are there only so that the
# environment is the reference's (a riscv64 wrapper there is a host
# program mmuemu cannot run). stdout must equal qemu-user's byte for byte
# and the exit status must equal qemu-user's; stderr is shown on failure.
# Cases whose header says "# tlb: generic" run a second time with
# `--tlb generic`. The stdout is kept as REF_DIR/<arch>/sh/<name>.mmuemu.txt
# (.mmuemu-tlb.txt for the TLB run).
set -u

usage="usage: mmuemu_busybox_sh.sh MMUEMU CACHE_DIR REF_DIR [SOURCE_DIR]"
mmuemu=${1:?$usage}
cache=${2:?$usage}
ref_dir=${3:?$usage}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src_dir=${4:-$here/../../guests/linux/busybox}
src_dir=$(cd "$src_dir" && pwd)
cases=$src_dir/sh_cases
# shellcheck source=busybox_sh_lib.sh
. "$here/busybox_sh_lib.sh"
mmuemu=$(cd "$(dirname "$mmuemu")" && pwd)/$(basename "$mmuemu")
mkdir -p "$cache" "$ref_dir"
cache=$(cd "$cache" && pwd)
ref_dir=$(cd "$ref_dir" && pwd)
failures=0
passed=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

[ -x "$mmuemu" ] || { echo "FAIL: mmuemu $mmuemu not built" >&2; exit 1; }

# The references: complete, or made now.
need_ref=no
for arch in amd64 riscv64; do
    [ -d "$ref_dir/$arch/sh-path" ] || need_ref=yes
    while read -r name; do
        [ -s "$ref_dir/$arch/sh/$name.qemu.rc" ] || need_ref=yes
    done < <(bbsh_cases "$cases")
done
if [ "$need_ref" = yes ]; then
    echo "qemu-user references missing in $ref_dir: running them first"
    bash "$here/qemu_user_busybox_sh.sh" "$cache" "$ref_dir" "$src_dir" \
        >/dev/null ||
        { echo "FAIL: the qemu-user reference runs failed" \
            "(see qemu_user_busybox_sh.sh)" >&2; exit 1; }
fi

err=$(mktemp)
trap 'rm -f "$err"' EXIT

# one ARCH NAME SUFFIX MMUEMU_OPTIONS...: run case NAME once, compare.
one() {
    local arch=$1 name=$2 suffix=$3
    shift 3
    local bb=$cache/$arch/bin/busybox
    local want=$ref_dir/$arch/sh/$name.qemu.txt
    local want_rc
    want_rc=$(cat "$ref_dir/$arch/sh/$name.qemu.rc")
    local out=$ref_dir/$arch/sh/$name.$suffix.txt
    local label="mmuemu${*:+ $*} $arch busybox sh $name"
    [ -x "$bb" ] || { fail "$label: $bb missing"; return; }
    bbsh_run "$cases" "$name" "$ref_dir/$arch/sh-path" "$out" "$err" \
        "$mmuemu" run --rw "$@" "$bb"
    local rc=$? bad=
    [ "$rc" -eq "$want_rc" ] || bad="exit status $rc, qemu-user's $want_rc"
    if ! cmp -s "$want" "$out"; then
        bad="${bad:+$bad; }stdout differs from qemu-user's ($want)"
    fi
    if [ -n "$bad" ]; then
        fail "$label: $bad"
        diff -u "$want" "$out" | head -n 30
        if [ -s "$err" ]; then
            echo "--- $label stderr:"
            head -c 3000 "$err"
        fi
        return
    fi
    echo "ok: $label (status $rc)"
    passed=$((passed + 1))
}

for arch in amd64 riscv64; do
    while read -r name; do
        one "$arch" "$name" mmuemu
        if [ "$(bbsh_header "$cases/$name.sh" tlb)" = generic ]; then
            one "$arch" "$name" mmuemu-tlb --tlb generic
        fi
    done < <(bbsh_cases "$cases")
done

echo "$passed run(s) passed, $failures failed"
if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures busybox sh run(s) differ from qemu-user" >&2
    exit 1
fi
echo "ok: every busybox sh script matches qemu-user under mmuemu"
