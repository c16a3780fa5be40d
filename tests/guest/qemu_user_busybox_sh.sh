#!/usr/bin/env bash
# qemu_user_busybox_sh.sh - reference runs of the busybox sh scripts.
#
# usage: qemu_user_busybox_sh.sh CACHE_DIR OUT_DIR [SOURCE_DIR]
#   CACHE_DIR   where tools/fetch-busybox.sh keeps amd64/ and riscv64/
#               (fetched here on first use: that needs the network)
#   OUT_DIR     outputs: OUT_DIR/<arch>/sh/<name>.qemu.txt (stdout) and
#               <name>.qemu.rc (exit status), <name>.native.txt for amd64
#               on an x86-64 host; OUT_DIR/<arch>/sh-path is the PATH of
#               every run (see busybox_sh_lib.sh)
#   SOURCE_DIR  guests/linux/busybox of the source tree (default: found
#               from here)
#
# Each script of SOURCE_DIR/sh_cases/ (pipelines, subshells, command
# substitution, loops, xargs, here-documents, redirections, exit statuses,
# background jobs, kill, trap, set -e, read, test, arithmetic, script
# files, exec, env, umask) runs as `busybox sh script.sh` under
# qemu-x86_64 and qemu-riscv64, and natively on an x86-64 host; stdout
# must equal the expected file and the exit status the script's "# status:"
# (busybox_sh_lib.sh has the conventions). These runs are the references
# mmuemu_busybox_sh.sh compares with. qemu-user missing is a failure, never
# a skip.
#
# The riscv64 route to a new applet process: busybox execs /proc/self/exe,
# which fails under qemu-riscv64 (ENOEXEC); ash then searches PATH and finds
# the wrapper of sh-path, which runs `qemu-riscv64 -0 APPLET BUSYBOX ARGS`
# (and logs the applet name in sh-path/.execs). xargs and env exec through
# glibc's execvp() instead, and on ENOEXEC it runs the file as a script with
# /bin/sh, which drops argv[0] (the applet's name) and runs the host's
# shell on the busybox binary. So each riscv64 run is started by
# `unshare --user --map-root-user --mount` with an empty, non-executable
# file bind-mounted over /bin/sh in that private mount namespace (the
# `env -i` comes after, so the namespace's shell adds nothing to the
# environment): execvp's fallback then fails (EACCES), busybox searches
# PATH, and the wrapper runs the applet. The wrapper is a small host
# program (busybox_applet_wrap.c, built here with gcc) so that argv[0] and
# the environment pass through unchanged.
# Nothing outside that namespace changes; unprivileged user namespaces (or
# root) are needed, and their absence is a failure.
set -u

usage="usage: qemu_user_busybox_sh.sh CACHE_DIR OUT_DIR [SOURCE_DIR]"
cache=${1:?$usage}
out_dir=${2:?$usage}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src_dir=${3:-$here/../../guests/linux/busybox}
src_dir=$(cd "$src_dir" && pwd)
cases=$src_dir/sh_cases
# shellcheck source=busybox_sh_lib.sh
. "$here/busybox_sh_lib.sh"
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

need() { # command -> its absolute path, or exit
    local p
    p=$(command -v "$1") || {
        echo "FAIL: $1 not found${2:+ ($2)}" >&2
        exit 1
    }
    echo "$p"
}
qemu_riscv64=$(need qemu-riscv64 "tools/install-deps.sh installs it")
qemu_x86_64=$(need qemu-x86_64 "tools/install-deps.sh installs it")
unshare=$(need unshare "util-linux")
mount=$(need mount "util-linux")
cc=$(need gcc "builds the applet wrapper")
[ -d "$cases" ] || { echo "FAIL: $cases missing" >&2; exit 1; }
bash "$here/../../tools/fetch-busybox.sh" "$cache" >/dev/null ||
    { echo "FAIL: tools/fetch-busybox.sh $cache failed" >&2; exit 1; }
mkdir -p "$out_dir"
cache=$(cd "$cache" && pwd)
out_dir=$(cd "$out_dir" && pwd)
for arch in amd64 riscv64; do
    echo "busybox $arch: $(cat "$cache/$arch/VERSION")" \
        "($(cat "$cache/$arch/SUITE"))"
done

native=no
[ "$(uname -m)" = x86_64 ] && native=yes

# make_path ARCH BUSYBOX QEMU DIR: DIR gets one entry per applet: a symlink
# to BUSYBOX when the host runs it natively, else a symlink to a build of
# busybox_applet_wrap.c that runs BUSYBOX under QEMU with argv[0] the
# applet's name and logs the applet in DIR/.execs.
make_path() {
    local arch=$1 bb=$2 qemu=$3 dir=$4 applets a target=$2
    rm -rf "$dir"
    mkdir -p "$dir"
    applets=$("$qemu" "$bb" --list) || return 1
    [ -n "$applets" ] || return 1
    if [ "$arch" != amd64 ] || [ "$native" != yes ]; then
        target=$dir/.wrap
        "$cc" -O2 -o "$target" "$here/busybox_applet_wrap.c" \
            -DWRAP_QEMU="\"$qemu\"" -DWRAP_BUSYBOX="\"$bb\"" \
            -DWRAP_LOG="\"$dir/.execs\"" || return 1
    fi
    for a in $applets; do
        case $a in */* | .* | '[' | '[[') continue ;; esac
        ln -s "$target" "$dir/$a"
    done
    : >"$dir/.execs"
}

err=$(mktemp)
nox=$(mktemp) # the stand-in for /bin/sh: empty, mode 0600
trap 'rm -f "$err" "$nox"' EXIT

# The namespace works, and hides /bin/sh there.
# shellcheck disable=SC2016 # $1/$@ are the inner shell's
in_ns=("$unshare" --user --map-root-user --mount "$BASH" -c
    '"$1" --bind "$2" /bin/sh && shift 2 && exec "$@"' ns "$mount" "$nox")
if ! "${in_ns[@]}" "$BASH" -c '[ ! -x /bin/sh ]' 2>"$err"; then
    echo "FAIL: cannot hide /bin/sh in a private mount namespace" \
        "(unshare --user --map-root-user --mount):" >&2
    cat "$err" >&2
    exit 1
fi

# check LABEL WANT WANT_RC OUT RC: compare one run with the expectations.
check() {
    local label=$1 want=$2 want_rc=$3 out=$4 rc=$5
    local ok=yes
    if [ -s "$err" ]; then
        echo "--- $label stderr:"
        head -c 4000 "$err"
    fi
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$label: exit status $rc, want $want_rc"
        ok=no
    fi
    if ! cmp -s "$want" "$out"; then
        fail "$label: output differs from $want"
        diff -u "$want" "$out" | head -n 40
        ok=no
    fi
    [ "$ok" = yes ]
}

for arch in amd64 riscv64; do
    bb=$cache/$arch/bin/busybox
    case $arch in
    amd64) qemu=$qemu_x86_64 ;;
    riscv64) qemu=$qemu_riscv64 ;;
    esac
    path_dir=$out_dir/$arch/sh-path
    mkdir -p "$out_dir/$arch/sh"
    make_path "$arch" "$bb" "$qemu" "$path_dir" ||
        { fail "$arch: cannot list the applets of $bb"; continue; }
    while read -r name; do
        want=$(bbsh_expected "$cases" "$name" "$arch")
        want_rc=$(bbsh_header "$cases/$name.sh" status)
        want_rc=${want_rc:-0}
        [ -f "$want" ] || { fail "$arch $name: no expected file $want"; continue; }
        out=$out_dir/$arch/sh/$name.qemu.txt
        label="${qemu##*/} busybox sh $name"
        : >"$path_dir/.execs"
        # shellcheck disable=SC2034 # read by bbsh_run (busybox_sh_lib.sh)
        BBSH_PREFIX=()
        [ "$arch" = riscv64 ] && BBSH_PREFIX=("${in_ns[@]}")
        bbsh_run "$cases" "$name" "$path_dir" "$out" "$err" "$qemu" "$bb"
        rc=$?
        BBSH_PREFIX=()
        echo "$rc" >"$out_dir/$arch/sh/$name.qemu.rc"
        execs=$(wc -l <"$path_dir/.execs")
        if check "$label" "$want" "$want_rc" "$out" "$rc"; then
            echo "ok: $label (status $rc; $execs applet exec(s) through the" \
                "PATH wrappers)"
        fi
        if [ "$arch" = amd64 ] && [ "$native" = yes ]; then
            out=$out_dir/$arch/sh/$name.native.txt
            bbsh_run "$cases" "$name" "$path_dir" "$out" "$err" "$bb"
            rc=$?
            check "native busybox sh $name" "$want" "$want_rc" "$out" "$rc" &&
                echo "ok: native busybox sh $name (status $rc)"
        fi
    done < <(bbsh_cases "$cases")
done

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures busybox sh run(s) differ from the reference" >&2
    exit 1
fi
echo "ok: every busybox sh script matches its reference output and status"
