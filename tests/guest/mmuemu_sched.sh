#!/usr/bin/env bash
# mmuemu_sched.sh - the scheduler of `mmuemu run` (os/run_sched.c).
#
# usage: mmuemu_sched.sh MMUEMU GUEST_DIR
#   MMUEMU      the mmuemu executable
#   GUEST_DIR   ${MMUEMU_GUEST_DIR}/linux (riscv64/ and x86_64/ guests)
#
# guests/linux/sched_spin.c: parent and child ping-pong a counter through
# MAP_SHARED memory by spinning, with no system call in the loop, so only
# preemption by the instruction slice lets it finish. For each
# architecture, with the model TLB on (--tlb generic) and --stats:
#   - the output is the expected one and the status 0, with the default
#     slice and with --slice 5000;
#   - it was preempted (preemptions >= the rounds) and the slice counted
#     at least a slice's worth of instructions per preemption;
#   - switching processes kept the other's model-TLB entries: each process
#     has a PCID / ASID of its own, so the only tag flushes are the two of
#     the spaces' first use (the first process and the child), whatever
#     the number of switches (MOV CR3 / CSRW satp without a flush).
set -u

mmuemu=${1:?usage: mmuemu_sched.sh MMUEMU GUEST_DIR}
guest_dir=${2:?usage: mmuemu_sched.sh MMUEMU GUEST_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
expected=$here/../../guests/linux/expected/sched_spin.txt
rounds=20
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# stat NAME FILE: the number after "NAME": in the --stats line.
stat() {
    grep -o "\"$1\":[0-9]*" "$2" | head -n 1 | cut -d: -f2
}

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

for arch in x86_64 riscv64; do
    prog=$guest_dir/$arch/sched_spin
    [ -x "$prog" ] || { fail "$arch: $prog not built"; continue; }
    for slice in default 5000; do
        opt=()
        [ "$slice" = default ] || opt=(--slice "$slice")
        label="$arch sched_spin (slice $slice)"
        timeout 300 "$mmuemu" run --tlb generic --stats "${opt[@]}" \
            "$prog" "$rounds" >"$out" 2>"$err" </dev/null
        rc=$?
        if [ "$rc" -ne 0 ] || ! cmp -s "$expected" "$out"; then
            fail "$label: status $rc or output differs"
            head -c 2000 "$out" "$err" >&2
            continue
        fi
        sw=$(stat switches "$err") pre=$(stat preemptions "$err")
        tf=$(stat tag_flushes "$err") insns=$(stat slice_insns "$err")
        min_insns=$((pre * ${slice/default/1000000}))
        if [ -z "$pre" ] || [ "$pre" -lt "$rounds" ] ||
            [ "$insns" -lt "$min_insns" ]; then
            fail "$label: preemptions $pre, slice instructions $insns"
            continue
        fi
        if [ "$tf" -ne 2 ]; then
            fail "$label: $tf tag flushes over $sw switches (want 2)"
            continue
        fi
        echo "ok: $label: $sw switches, $pre preemptions, $tf tag flushes"
    done
done

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures scheduler check(s) failed" >&2
    exit 1
fi
echo "ok: every scheduler check passed"
