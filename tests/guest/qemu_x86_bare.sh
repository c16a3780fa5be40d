#!/usr/bin/env bash
# qemu_x86_bare.sh KERNEL TRANSCRIPT [EXTRA-QEMU-ARGS...]
# Boots the x86 bare guest (multiboot v1) under QEMU with -cpu max, saves
# the serial transcript (CR stripped) to TRANSCRIPT for a later comparison
# with the run under mmuemu, and passes if the last line is PASS and QEMU
# left through isa-debug-exit with status 1 (= (0 << 1) | 1; the guest
# writes 1 on failure, giving 3). Fails loudly if QEMU is missing.
set -u
kernel=${1:?usage: qemu_x86_bare.sh KERNEL TRANSCRIPT}
transcript=${2:?usage: qemu_x86_bare.sh KERNEL TRANSCRIPT}
shift 2
qemu=${QEMU_X86:-qemu-system-x86_64}

if ! command -v "$qemu" >/dev/null; then
  echo "FAIL: $qemu not found (tools/install-deps.sh installs it)" >&2
  exit 1
fi
if [ ! -f "$kernel" ]; then
  echo "FAIL: kernel $kernel not built" >&2
  exit 1
fi

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
timeout 60 "$qemu" -kernel "$kernel" -nographic -monitor none \
  -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
  -cpu max -m 128 "$@" >"$raw" 2>&1 </dev/null
status=$?
# The transcript starts at the guest's banner (SeaBIOS and iPXE print to
# the same serial port first).
tr -d '\r' <"$raw" | sed -n 's/.*\(mmuemu x86 bare guest\)/\1/; /^mmuemu x86 bare guest/,$p' \
  >"$transcript"
cat "$transcript"

last=$(grep -v '^$' "$transcript" | tail -n 1)
if [ "$status" -ne 1 ]; then
  echo "FAIL: QEMU exit status $status (want 1: guest wrote 0 to port 0xf4)" >&2
  exit 1
fi
if [ "$last" != "PASS" ]; then
  echo "FAIL: last line '$last' (want PASS)" >&2
  exit 1
fi
echo "ok: transcript in $transcript"
