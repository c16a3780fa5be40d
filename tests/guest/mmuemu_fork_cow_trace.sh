#!/usr/bin/env bash
# mmuemu_fork_cow_trace.sh - one copy-on-write fault per page written after
# fork(), in the process that wrote it, as `mmuemu run --trace-faults`
# reports them.
#
# usage: mmuemu_fork_cow_trace.sh MMUEMU GUEST_DIR
#   MMUEMU      the mmuemu executable
#   GUEST_DIR   ${MMUEMU_GUEST_DIR}/linux: holds riscv64/fork_cow and
#               x86_64/fork_cow (guests/linux/fork_cow.c)
#
# For each architecture, runs `mmuemu run --trace-faults fork_cow --pages`.
# fork_cow writes every page of its private regions (.data, heap, stack,
# 64 anonymous pages) before fork(), then the child writes them all, then
# the parent does; with --pages each side prints, after its writes,
#     pages <child|parent> pid=<pid> <region> 0x<first page> <count>
# Checked, for every page so listed:
#   - the process that wrote it has exactly one fault line for that page,
#     and its kind is a write-protect fault: "cow" (the page was copied)
#     or "wp_reuse" (the other process had already copied it, so this one
#     was the page's last user and got it made writable; Linux's
#     do_wp_page());
#   - over the two processes, the page was copied exactly once (one "cow").
# And fork_cow's stdout, apart from its "pages" lines, is the expected
# guests/linux/expected/fork_cow.txt; the exit status is 0.
#
# TRACE FORMAT (os/run_report.c run_trace_fault / run_trace_kfault):
#     mmuemu: page fault pid=<N> 0x<addr> <access> pc 0x<pc>: <kind>
#     mmuemu: page fault pid=<N> 0x<addr> <access> in <syscall>(): <kind>
# the second for a fault the kernel side of a system call takes on user
# memory (a page first written by read() into a buffer still shows its
# one fault). The parser takes: pid from "pid=N", the address as the
# first 0x token not preceded by "pc", the kind as the first word after
# the last ": ".
set -u

usage="usage: mmuemu_fork_cow_trace.sh MMUEMU GUEST_DIR"
mmuemu=${1:?$usage}
guest_dir=${2:?$usage}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
expected=$here/../../guests/linux/expected/fork_cow.txt
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

[ -x "$mmuemu" ] || { echo "FAIL: mmuemu $mmuemu not built" >&2; exit 1; }

out=$(mktemp)
trace=$(mktemp)
trap 'rm -f "$out" "$trace"' EXIT

# check_arch ARCH: run and check one architecture.
check_arch() {
    local arch=$1 prog=$guest_dir/$1/fork_cow
    [ -x "$prog" ] || { fail "$arch: $prog not built"; return; }
    timeout 300 "$mmuemu" run --trace-faults "$prog" --pages \
        >"$out" 2>"$trace" </dev/null
    local rc=$?
    [ "$rc" -eq 0 ] || fail "$arch: fork_cow exit status $rc"
    if ! grep -v '^pages ' "$out" | cmp -s "$expected" -; then
        fail "$arch: fork_cow output differs from $expected"
        grep -v '^pages ' "$out" | diff -u "$expected" - | head -n 20
    fi
    local nlines
    nlines=$(grep -c '^mmuemu: page fault' "$trace")
    if [ "$nlines" -eq 0 ]; then
        fail "$arch: no page fault lines in the trace"
        head -c 2000 "$trace"
        return
    fi
    if grep '^mmuemu: page fault' "$trace" | grep -qv 'pid=[0-9]'; then
        fail "$arch: trace lines without a pid= field (the assumed format," \
            "see the top of this script); first line:" \
            "$(grep -m 1 '^mmuemu: page fault' "$trace")"
        return
    fi

    # faults["pid page"] = kinds seen, space-separated
    local -A faults=()
    local line pid addr kind prev tok page
    local forked=no
    while IFS= read -r line; do
        # only the faults after fork() (fork_cow marks it on stderr)
        [ "$line" = "fork_cow: fork" ] && forked=yes
        [ $forked = yes ] || continue
        case $line in "mmuemu: page fault"*) ;; *) continue ;; esac
        pid=${line#*pid=}
        pid=${pid%%[!0-9]*}
        addr='' prev=''
        for tok in $line; do
            if [[ $tok == 0x* && $prev != pc && -z $addr ]]; then
                addr=${tok%:}
            fi
            prev=$tok
        done
        kind=${line##*: }
        kind=${kind%% *}
        [ -n "$addr" ] || { fail "$arch: no address in '$line'"; continue; }
        page=$(((addr) & ~4095))
        faults["$pid $page"]+="$kind "
    done <"$trace"
    if [ $forked = no ]; then
        fail "$arch: no 'fork_cow: fork' mark on stderr"
        return
    fi

    local -A copies=() listed=()
    local side region first count i n got bad=0 pages=0 rest
    while read -r _ side pid rest; do
        pid=${pid#pid=}
        count=${rest##* }
        rest=${rest% *}
        first=${rest##* }
        region=${rest% *}
        for ((i = 0; i < count; i++)); do
            page=$((first + i * 4096))
            pages=$((pages + 1))
            listed[$page]=1
            got=${faults["$pid $page"]:-}
            n=$(wc -w <<<"$got")
            if [ "$n" -ne 1 ] || [[ $got != "cow " && $got != "wp_reuse " ]]
            then
                bad=$((bad + 1))
                [ "$bad" -le 10 ] && printf '%s: %s %s page 0x%x: %s\n' \
                    "$arch" "$side" "$region" "$page" \
                    "${got:-no fault} (want one cow or wp_reuse)"
            fi
            [ "$got" = "cow " ] && copies[$page]=$((${copies[$page]:-0} + 1))
        done
    done < <(grep '^pages ' "$out")
    [ "$pages" -gt 0 ] || { fail "$arch: fork_cow printed no pages lines"; return; }
    [ "$bad" -eq 0 ] ||
        fail "$arch: $bad written page(s) without exactly one write-protect" \
            "fault in the writing process"
    local once=0
    for page in "${!listed[@]}"; do
        [ "${copies[$page]:-0}" -eq 1 ] && once=$((once + 1))
    done
    [ "$once" -eq "${#listed[@]}" ] ||
        fail "$arch: $((${#listed[@]} - once)) of ${#listed[@]} page(s) not" \
            "copied exactly once over the two processes"
    [ "$bad" -eq 0 ] && [ "$once" -eq "${#listed[@]}" ] &&
        echo "ok: $arch: $pages written page(s), one write-protect fault each" \
            "in the writer, ${#listed[@]} page(s) copied once"
}

for arch in riscv64 x86_64; do
    check_arch "$arch"
done

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures fork/COW trace check(s) failed" >&2
    exit 1
fi
echo "ok: every page written after fork took one COW fault in its writer"
