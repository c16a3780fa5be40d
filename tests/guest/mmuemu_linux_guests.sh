#!/usr/bin/env bash
# mmuemu_linux_guests.sh - the Linux guest programs under `mmuemu run`.
#
# usage: mmuemu_linux_guests.sh MMUEMU GUEST_DIR [SOURCE_DIR]
#   MMUEMU      the mmuemu executable
#   GUEST_DIR   ${MMUEMU_GUEST_DIR}/linux: holds riscv64/<name>, x86_64/<name>
#   SOURCE_DIR  guests/linux of the source tree (default: found from here)
#
# Runs every program of SOURCE_DIR/cases.txt, for riscv64 and x86-64, as a
# hosted Linux process (every page mapped through page tables the model
# walks) and compares its stdout byte for byte with Linux's expected output
# (expected/<name>.<arch>.txt, else expected/<name>.txt: the files
# qemu_user_guests.sh checks qemu-user and the native run against; for
# `maps` that is Linux's own output, not qemu-user's deviation). The exit
# status must be 0, or 1 when the expected file's last line starts with
# FAIL. Each program runs twice: with every fill walking (--tlb off) and
# with a model TLB (skylake on x86-64, u54 on riscv64), where the OS
# model's invalidations must keep the output identical. A program not
# built is a failure, never a skip. Each run's stdout is kept as
# GUEST_DIR/<arch>/<name>.mmuemu.txt.
set -u

mmuemu=${1:?usage: mmuemu_linux_guests.sh MMUEMU GUEST_DIR [SOURCE_DIR]}
guest_dir=${2:?usage: mmuemu_linux_guests.sh MMUEMU GUEST_DIR [SOURCE_DIR]}
src_dir=${3:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../guests/linux" && pwd)}
cases=$src_dir/cases.txt
expected=$src_dir/expected
failures=0
passed=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

[ -x "$mmuemu" ] || { echo "FAIL: mmuemu $mmuemu not built" >&2; exit 1; }
[ -f "$cases" ] || { echo "FAIL: $cases missing" >&2; exit 1; }

err=$(mktemp)
trap 'rm -f "$err"' EXIT

linux_expected() { # name arch
    if [ -f "$expected/$1.$2.txt" ]; then
        echo "$expected/$1.$2.txt"
    else
        echo "$expected/$1.txt"
    fi
}

# run LABEL WANT OUT COMMAND...
run() {
    local label=$1 want=$2 out=$3
    shift 3
    [ -f "$want" ] || { fail "$label: no expected file $want"; return; }
    timeout 300 "$@" </dev/null 2>"$err" | head -c 1000000 >"$out"
    local rc=${PIPESTATUS[0]}
    local want_rc=0
    case "$(tail -n 1 "$want")" in FAIL*) want_rc=1 ;; esac
    if [ -s "$err" ]; then
        echo "--- $label stderr:"
        head -c 4000 "$err"
    fi
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$label: exit status $rc, want $want_rc"
    fi
    if ! cmp -s "$want" "$out"; then
        fail "$label: output differs from $want"
        diff -u "$want" "$out" | head -n 40
        return
    fi
    [ "$rc" -ne "$want_rc" ] || { echo "ok: $label"; passed=$((passed + 1)); }
}

# Programs that need what the OS model does not have yet run only under
# qemu-user (tests/guest/qemu_user_guests.sh). None at present.
needs_processes=" "

while read -r name args; do
    case "$name" in '' | '#'*) continue ;; esac
    case "$needs_processes" in *" $name "*)
        echo "not run under mmuemu yet (needs fork/wait4): $name"
        continue ;;
    esac
    for arch in riscv64 x86_64; do
        prog=$guest_dir/$arch/$name
        if [ ! -x "$prog" ]; then
            fail "$arch/$name not built (build target guest_linux)"
            continue
        fi
        case $arch in
        riscv64) tlb=u54 ;;
        x86_64) tlb=skylake ;;
        esac
        for t in off "$tlb"; do
            # shellcheck disable=SC2086 # args are blank-separated by design
            run "mmuemu $arch $name (tlb $t)" "$(linux_expected "$name" "$arch")" \
                "$prog.mmuemu.txt" "$mmuemu" run --tlb "$t" "$prog" $args
        done
    done
done <"$cases"

echo "$passed run(s) passed, $failures failed"
if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures mmuemu run(s) differ from Linux's output" >&2
    exit 1
fi
echo "ok: every Linux guest matches Linux's output under mmuemu"
