#!/usr/bin/env bash
# mmuemu_linux_errors.sh - bad input and hostile guests under `mmuemu run`.
#
# usage: mmuemu_linux_errors.sh MMUEMU RISCV64_CC X86_64_CC
#   MMUEMU      the mmuemu executable
#   RISCV64_CC  riscv64-linux-gnu-gcc (with a static glibc)
#   X86_64_CC   the x86-64 gcc (with a static glibc)
#
# Bad input (exit status 2, the CLI's status for bad input, and one line
# "mmuemu run: ..." on stderr naming the problem; never a crash):
#   a missing file, a directory, an empty file, a text file, a truncated
#   ELF header, an ELF32, a big-endian or AArch64 ELF, program headers
#   beyond the end of the file, a dynamically linked program, --arch
#   naming the other architecture.
# --trace-faults prints a line per page fault and --stats a JSON line.
# Hostile guests (tests/guest/linux_hostile.c, built here for both
# architectures), each under both architectures:
#   efault   wild pointers in system calls: each fails with EFAULT;
#   mmap1t   mmap of 1 TiB: ENOMEM;
#   oom      touching memory until the 64 MiB machine runs out: a clean
#            ENOMEM (exit 3) or the OOM killer (exit 137 with a report);
#   segv     store to address 16: exit 139 and a report with the address,
#            the access, the walk and the instruction;
#   noexec   a call into data: exit 139, a fetch fault;
#   sigill   exit 132;
#   abort    SIGABRT raised at itself: exit 134 and a report;
#   sigctx   a handler edits its saved context (skips the faulting load)
#            and returns; FP state survives; raise() with SA_RESETHAND;
#   kcow     read() into a .data page only read so far: the kernel side's
#            copy-on-write must be what the process reads afterwards.
set -u

mmuemu=${1:?usage: mmuemu_linux_errors.sh MMUEMU RISCV64_CC X86_64_CC}
rv_cc=${2:?usage: mmuemu_linux_errors.sh MMUEMU RISCV64_CC X86_64_CC}
x86_cc=${3:?usage: mmuemu_linux_errors.sh MMUEMU RISCV64_CC X86_64_CC}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

[ -x "$mmuemu" ] || { echo "FAIL: mmuemu $mmuemu not built" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
err=$tmp/err

for arch in riscv64 x86_64; do
    cc=$rv_cc
    [ "$arch" = x86_64 ] && cc=$x86_cc
    if ! "$cc" -std=c11 -O2 -static -o "$tmp/hostile-$arch" \
        "$here/linux_hostile.c" 2>"$err"; then
        cat "$err" >&2
        echo "FAIL: $cc cannot build linux_hostile.c" >&2
        exit 1
    fi
done

# mm ARGS...: run mmuemu, stdout and stderr kept, status in $rc.
mm() {
    timeout 120 "$mmuemu" "$@" </dev/null 2>"$err" | head -c 100000 >"$out"
    rc=${PIPESTATUS[0]}
}

# bad NAME ARGS...: must exit 2 with one "mmuemu run:" line on stderr.
bad() {
    local name=$1
    shift
    mm run "$@"
    if [ "$rc" -ne 2 ]; then
        fail "$name: exit status $rc, want 2"
        head -c 2000 "$err" >&2
        return
    fi
    if [ "$(wc -l <"$err")" -ne 1 ] || ! grep -q '^mmuemu run: ' "$err"; then
        fail "$name: want one 'mmuemu run: ...' line on stderr, got:"
        head -c 2000 "$err" >&2
        return
    fi
    echo "ok: $name -> $(cat "$err")"
}

rv=$tmp/hostile-riscv64
x86=$tmp/hostile-x86_64
mkdir "$tmp/dir"
: >"$tmp/empty"
echo "just some text, long enough to hold an ELF header's size" >"$tmp/text"
head -c 40 "$x86" >"$tmp/truncated"
# patch FILE OFFSET HEXBYTES: a copy of $x86 with bytes replaced.
patch() {
    cp "$x86" "$1"
    printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
patch "$tmp/elf32" 4 '\001'
patch "$tmp/bigendian" 5 '\002'
patch "$tmp/aarch64" 18 '\267\000'
patch "$tmp/phoff" 32 '\377\377\377\377\000\000\000\000'
dynamic=$(type -P true)

bad "missing file" "$tmp/nothing-here"
bad "directory" "$tmp/dir"
bad "empty file" "$tmp/empty"
bad "text file" "$tmp/text"
bad "truncated ELF header" "$tmp/truncated"
bad "ELF32" "$tmp/elf32"
bad "big-endian ELF" "$tmp/bigendian"
bad "AArch64 ELF" "$tmp/aarch64"
bad "program headers beyond the file" "$tmp/phoff"
bad "dynamically linked program ($dynamic)" "$dynamic"
bad "--arch riscv64 for an x86-64 ELF" --arch riscv64 "$x86"
bad "unknown option" --frobnicate "$x86"

# guest PROG ARGS...: a hostile run.
for arch in riscv64 x86_64; do
    prog=$tmp/hostile-$arch

    mm run "$prog" efault
    if [ "$rc" -ne 0 ] || [ "$(tail -n 1 "$out")" != ok ]; then
        fail "$arch efault: status $rc"
        cat "$out" >&2
        head -c 2000 "$err" >&2
    else
        echo "ok: $arch efault ($(grep -c 'EFAULT: ok' "$out") checks)"
    fi

    for name in kcow sigctx; do
        mm run "$prog" "$name"
        if [ "$rc" -ne 0 ] || grep -q FAIL "$out"; then
            fail "$arch $name: status $rc: $(cat "$out")"
            head -c 2000 "$err" >&2
        else
            echo "ok: $arch $name: $(tr '\n' ' ' <"$out")"
        fi
    done

    mm run --trace-faults --stats "$prog" kcow
    nfaults=$(grep -cE '^mmuemu: page fault pid=[0-9]+ 0x[0-9a-f]{16} (read|write|fetch) ' \
        "$err")
    # kcow's read() into a page only read so far: the kernel side's
    # copy-on-write, traced as a fault of that call
    kfaults=$(grep -cE '^mmuemu: page fault pid=[0-9]+ 0x[0-9a-f]{16} write in read\(\): cow$' \
        "$err")
    if [ "$rc" -eq 0 ] && [ "$nfaults" -gt 0 ] && [ "$kfaults" -ge 1 ] &&
        tail -n 1 "$err" | grep -q '^{"stats":{"exit_status":0,"page_faults":'
    then
        echo "ok: $arch --trace-faults ($nfaults faults, $kfaults in read()) and --stats"
    else
        fail "$arch --trace-faults/--stats: status $rc"
        head -c 2000 "$err" >&2
    fi

    mm run "$prog" mmap1t
    if [ "$rc" -ne 0 ]; then
        fail "$arch mmap1t: status $rc: $(cat "$out")"
    else
        echo "ok: $arch mmap1t: $(cat "$out")"
    fi

    mm run --ram 64 "$prog" oom
    if [ "$rc" -eq 3 ] && grep -q '^mmap: ENOMEM$' "$out"; then
        echo "ok: $arch oom: mmap failed with ENOMEM"
    elif [ "$rc" -eq 137 ] && grep -q 'SIGKILL' "$err"; then
        echo "ok: $arch oom: OOM-killed ($(head -n 1 "$err"))"
    else
        fail "$arch oom: status $rc"
        cat "$out" >&2
        head -c 2000 "$err" >&2
    fi

    for what in segv:139:write:0x10 noexec:139:fetch: sigill:132:: \
        abort:134::; do
        IFS=: read -r name want access addr <<<"$what"
        mm run "$prog" "$name"
        local_ok=yes
        [ "$rc" -eq "$want" ] || local_ok=no
        grep -q 'process killed by' "$err" || local_ok=no
        [ "$name" = abort ] || grep -q 'instruction: ' "$err" || local_ok=no
        if [ -n "$access" ]; then
            grep -q "fault: $access of $addr" "$err" || local_ok=no
            grep -q 'walk' "$err" || local_ok=no
        fi
        if [ "$local_ok" = yes ]; then
            echo "ok: $arch $name: status $rc"
            sed 's/^/    /' "$err"
        else
            fail "$arch $name: status $rc (want $want) or report incomplete"
            head -c 3000 "$err" >&2
        fi
    done
done

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures error case(s) misbehaved" >&2
    exit 1
fi
echo "ok: bad input is refused and hostile guests are contained"
