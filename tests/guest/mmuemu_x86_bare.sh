#!/usr/bin/env bash
# mmuemu_x86_bare.sh MMUEMU KERNEL QEMU_TRANSCRIPT
# Runs the x86 bare guest (multiboot v1, guests/bare/x86) under
# `mmuemu run --machine bare` and compares its serial transcript byte for
# byte with QEMU's (qemu_x86_bare.sh writes QEMU_TRANSCRIPT; when it is
# missing this script runs that script first, so QEMU missing is a
# failure, never a skip). The run is repeated with the model TLB on
# (--tlb skylake): a guest that invalidates as the SDM asks must not see
# a difference. Passes when every run exits with status 1 (the guest
# wrote 0 to isa-debug-exit: (0 << 1) | 1), ends with PASS, and matches.
#
# Where QEMU 7.2 (-cpu max) deviates from the SDM the guest does not print
# the deviating value, so the transcripts can still be equal:
#   - #PF for a reserved bit: the SDM sets RSVD together with P (4.7: RSVD
#     is only reported for a present entry); QEMU's do_fault_rsvd reports
#     RSVD without P. The guest prints "err&~P" for those lines; the
#     "observe" command-line word makes it print the raw error code too
#     (this script shows mmuemu's raw values: P = 1).
#   - mem_upper in the multiboot information: QEMU with SeaBIOS keeps the
#     top 128 KiB out of the map; mmuemu's machine reports the same value
#     (RAM - 1 MiB - 128 KiB) but the guest prints it only when observing.
# The transcript also depends on CPUID: mmuemu reports what QEMU 7.2's
# -cpu max does for paging (NX, 1 GiB pages, SMEP, SMAP, PKU, LA57,
# MAXPHYADDR 40), so both runs take the same checks, 4- and 5-level.
set -u
mmuemu=${1:?usage: mmuemu_x86_bare.sh MMUEMU KERNEL QEMU_TRANSCRIPT}
kernel=${2:?usage: mmuemu_x86_bare.sh MMUEMU KERNEL QEMU_TRANSCRIPT}
qemu_txt=${3:?usage: mmuemu_x86_bare.sh MMUEMU KERNEL QEMU_TRANSCRIPT}
here=$(cd "$(dirname "$0")" && pwd)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[ -x "$mmuemu" ] || fail "mmuemu $mmuemu not built"
[ -f "$kernel" ] || fail "kernel $kernel not built (target guest_x86_bare)"
if [ ! -s "$qemu_txt" ]; then
  echo "QEMU transcript $qemu_txt missing: running QEMU first"
  bash "$here/qemu_x86_bare.sh" "$kernel" "$qemu_txt" >/dev/null ||
    fail "the QEMU reference run failed (see qemu_x86_bare.sh)"
fi

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# run NAME ARGS...: one run under mmuemu, compared with QEMU's transcript.
run() {
  local name=$1
  shift
  timeout 120 "$mmuemu" run --machine bare "$@" "$kernel" 2>"$err" |
    head -c 200000 >"$out"
  local status=${PIPESTATUS[0]}
  if [ "$status" -ne 1 ]; then
    head -c 4000 "$err" >&2
    fail "$name: mmuemu exit status $status (want 1: guest wrote 0 to 0xf4)"
  fi
  if ! cmp -s "$out" "$qemu_txt"; then
    diff "$qemu_txt" "$out" | head -n 40 >&2
    fail "$name: transcript differs from QEMU's ($qemu_txt; < QEMU, > mmuemu)"
  fi
  echo "ok: $name: $(wc -l <"$out") lines identical to QEMU's"
}

run "model TLB off"
run "model TLB skylake" --tlb skylake

# The raw values behind the masked lines (informational, not compared).
timeout 120 "$mmuemu" run --machine bare --cmdline observe "$kernel" \
  2>"$err" | head -c 200000 >"$out"
status=${PIPESTATUS[0]}
[ "$status" -eq 1 ] || fail "observe run: mmuemu exit status $status"
grep '^observe:' "$out" | sort | uniq -c | head -n 20
exit 0
