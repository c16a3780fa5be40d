#!/usr/bin/env bash
# qemu_user_guests.sh - reference runs of the Linux guest programs.
#
# usage: qemu_user_guests.sh GUEST_DIR [SOURCE_DIR]
#   GUEST_DIR   ${MMUEMU_GUEST_DIR}/linux: holds riscv64/<name>, x86_64/<name>
#   SOURCE_DIR  guests/linux of the source tree (default: found from here)
#
# Runs every program of SOURCE_DIR/cases.txt under qemu-riscv64 and
# qemu-x86_64 (and natively when the host is x86-64, the real kernel being
# the best reference there), keeps each stdout as
# GUEST_DIR/<arch>/<name>.{qemu,native}.txt, and compares it byte for byte
# with the expected file:
#   Linux (native, and mmuemu):  expected/<name>.<arch>.txt, else
#                                expected/<name>.txt
#   qemu-user:                   expected/qemu-deviations/<name>.<arch>.txt
#                                when qemu-user 7.2 is known to differ from
#                                Linux there, else the Linux file
# The exit status must be 0, or 1 when the expected file's last line starts
# with FAIL. qemu-user missing or a program not built is a failure, never a
# skip.
set -u

guest_dir=${1:?usage: qemu_user_guests.sh GUEST_DIR [SOURCE_DIR]}
src_dir=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../guests/linux" && pwd)}
cases=$src_dir/cases.txt
expected=$src_dir/expected
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

[ -f "$cases" ] || { echo "FAIL: $cases missing" >&2; exit 1; }
for q in qemu-riscv64 qemu-x86_64; do
    if ! command -v "$q" >/dev/null; then
        echo "FAIL: $q not found (tools/install-deps.sh installs it)" >&2
        exit 1
    fi
done

linux_expected() { # name arch
    if [ -f "$expected/$1.$2.txt" ]; then
        echo "$expected/$1.$2.txt"
    else
        echo "$expected/$1.txt"
    fi
}

qemu_expected() { # name arch
    if [ -f "$expected/qemu-deviations/$1.$2.txt" ]; then
        echo "$expected/qemu-deviations/$1.$2.txt"
    else
        linux_expected "$1" "$2"
    fi
}

err=$(mktemp)
trap 'rm -f "$err"' EXIT

# run LABEL WANT_FILE OUT_FILE COMMAND...
run() {
    local label=$1 want=$2 out=$3
    shift 3
    [ -f "$want" ] || { fail "$label: no expected file $want"; return; }
    timeout 120 "$@" >"$out" 2>"$err" </dev/null
    local rc=$?
    local want_rc=0
    case "$(tail -n 1 "$want")" in FAIL*) want_rc=1 ;; esac
    if [ -s "$err" ]; then
        echo "--- $label stderr:"
        cat "$err"
    fi
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$label: exit status $rc, want $want_rc"
    fi
    if ! cmp -s "$want" "$out"; then
        fail "$label: output differs from $want"
        diff -u "$want" "$out" | head -n 40
        return
    fi
    [ "$rc" -ne "$want_rc" ] || echo "ok: $label"
}

native=no
[ "$(uname -m)" = x86_64 ] && native=yes

while read -r name args; do
    case "$name" in '' | '#'*) continue ;; esac
    # shellcheck disable=SC2086 # args are blank-separated by design
    for arch in riscv64 x86_64; do
        prog=$guest_dir/$arch/$name
        if [ ! -x "$prog" ]; then
            fail "$arch/$name not built (build target guest_linux)"
            continue
        fi
        run "qemu-$arch $name" "$(qemu_expected "$name" "$arch")" \
            "$prog.qemu.txt" "qemu-$arch" "$prog" $args
        if [ "$arch" = x86_64 ] && [ "$native" = yes ]; then
            run "native $name" "$(linux_expected "$name" "$arch")" \
                "$prog.native.txt" "$prog" $args
        fi
    done
done <"$cases"

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures run(s) differ from the reference" >&2
    exit 1
fi
echo "ok: every Linux guest matches its reference output"
