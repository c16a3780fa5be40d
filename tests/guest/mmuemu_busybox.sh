#!/usr/bin/env bash
# mmuemu_busybox.sh - Debian's busybox-static applets under `mmuemu run`.
#
# usage: mmuemu_busybox.sh MMUEMU CACHE_DIR REF_DIR [SOURCE_DIR]
#   MMUEMU      the mmuemu executable
#   CACHE_DIR   where tools/fetch-busybox.sh keeps amd64/ and riscv64/
#   REF_DIR     where qemu_user_busybox.sh stored the qemu-user outputs
#               (REF_DIR/<arch>/<name>.qemu.txt); when one is missing that
#               script runs first, so qemu-user missing is a failure, never
#               a skip
#   SOURCE_DIR  guests/linux/busybox of the source tree (default: found
#               from here)
#
# Each case of SOURCE_DIR/cases.txt (name | stdin | applet and arguments)
# runs in SOURCE_DIR/inputs with the environment LC_ALL=C, as the
# qemu-user reference did, for amd64 and riscv64; its exit status must be
# 0 and its stdout must equal qemu-user's byte for byte (and so the
# expected file the reference was checked against). The stdout is kept as
# REF_DIR/<arch>/<name>.mmuemu.txt.
set -u

mmuemu=${1:?usage: mmuemu_busybox.sh MMUEMU CACHE_DIR REF_DIR [SOURCE_DIR]}
cache=${2:?usage: mmuemu_busybox.sh MMUEMU CACHE_DIR REF_DIR [SOURCE_DIR]}
ref_dir=${3:?usage: mmuemu_busybox.sh MMUEMU CACHE_DIR REF_DIR [SOURCE_DIR]}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src_dir=${4:-$here/../../guests/linux/busybox}
src_dir=$(cd "$src_dir" && pwd)
mmuemu=$(cd "$(dirname "$mmuemu")" && pwd)/$(basename "$mmuemu")
# Absolute paths: the runs happen in SOURCE_DIR/inputs.
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
while IFS='|' read -r name _; do
    name=$(echo "$name" | tr -d '[:blank:]')
    case "$name" in '' | '#'*) continue ;; esac
    for arch in amd64 riscv64; do
        [ -s "$ref_dir/$arch/$name.qemu.txt" ] || need_ref=yes
    done
done <"$src_dir/cases.txt"
if [ "$need_ref" = yes ]; then
    echo "qemu-user references missing in $ref_dir: running them first"
    bash "$here/qemu_user_busybox.sh" "$cache" "$ref_dir" "$src_dir" \
        >/dev/null ||
        { echo "FAIL: the qemu-user reference runs failed" \
            "(see qemu_user_busybox.sh)" >&2; exit 1; }
fi

err=$(mktemp)
trap 'rm -f "$err"' EXIT

while IFS='|' read -r name in cmd; do
    name=$(echo "$name" | tr -d '[:blank:]')
    case "$name" in '' | '#'*) continue ;; esac
    in=$(echo "$in" | tr -d '[:blank:]')
    read -r -a argv <<<"$cmd"
    if [ "$in" = - ]; then in=/dev/null; else in=$src_dir/inputs/$in; fi
    for arch in amd64 riscv64; do
        bb=$cache/$arch/bin/busybox
        want=$ref_dir/$arch/$name.qemu.txt
        out=$ref_dir/$arch/$name.mmuemu.txt
        label="mmuemu $arch busybox $name"
        [ -x "$bb" ] || { fail "$label: $bb missing"; continue; }
        (cd "$src_dir/inputs" &&
            timeout 120 env -i LC_ALL=C "$mmuemu" run "$bb" "${argv[@]}") \
            <"$in" 2>"$err" | head -c 1000000 >"$out"
        rc=${PIPESTATUS[0]}
        if [ -s "$err" ]; then
            echo "--- $label stderr:"
            head -c 4000 "$err"
        fi
        [ "$rc" -eq 0 ] || { fail "$label: exit status $rc"; continue; }
        if ! cmp -s "$want" "$out"; then
            fail "$label: output differs from qemu-user's ($want)"
            diff -u "$want" "$out" | head -n 40
            continue
        fi
        echo "ok: $label"
        passed=$((passed + 1))
    done
done <"$src_dir/cases.txt"

echo "$passed run(s) passed, $failures failed"
if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures busybox run(s) differ from qemu-user" >&2
    exit 1
fi
echo "ok: every busybox applet matches qemu-user under mmuemu"
