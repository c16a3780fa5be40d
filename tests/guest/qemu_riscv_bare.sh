#!/usr/bin/env bash
# qemu_riscv_bare.sh - run the bare-metal RISC-V guest under QEMU (the
# reference) and check that it passes.
#
# usage: qemu_riscv_bare.sh GUEST_ELF TRANSCRIPT_OUT
#
# Boots GUEST_ELF the way the guest expects (virt, -bios none: M-mode at
# 0x80000000), writes everything it prints on the UART to TRANSCRIPT_OUT
# (carriage returns dropped) for the glue test to compare the model's run
# against, and passes when the last line is PASS and QEMU exits 0 through
# the test finisher. QEMU missing is a failure, never a skip.
set -u

elf=${1:?usage: qemu_riscv_bare.sh GUEST_ELF TRANSCRIPT_OUT}
out=${2:?usage: qemu_riscv_bare.sh GUEST_ELF TRANSCRIPT_OUT}
qemu=${QEMU_SYSTEM_RISCV64:-qemu-system-riscv64}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

command -v "$qemu" >/dev/null || fail "$qemu not found (run tools/install-deps.sh)"
[ -f "$elf" ] || fail "guest $elf not built (build target guest_riscv_bare)"

raw=$(mktemp)
err=$(mktemp)
trap 'rm -f "$raw" "$err"' EXIT

timeout 60 "$qemu" -machine virt -bios none -kernel "$elf" -nographic \
    -monitor none -serial stdio </dev/null >"$raw" 2>"$err"
rc=$?
tr -d '\r' <"$raw" >"$out"

cat "$out"
if [ -s "$err" ]; then
    echo "--- qemu stderr:"
    cat "$err"
fi
[ "$rc" -ne 124 ] || fail "QEMU timed out after 60 s"
[ "$(tail -n 1 "$out")" = "PASS" ] || fail "last line is not PASS"
[ "$rc" -eq 0 ] || fail "QEMU exit status $rc, want 0"
echo "ok: guest passed under QEMU (exit 0); transcript in $out"
