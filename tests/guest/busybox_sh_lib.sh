# shellcheck shell=bash
# busybox_sh_lib.sh - shared by qemu_user_busybox_sh.sh (the reference
# runs) and mmuemu_busybox_sh.sh (the runs under mmuemu) of the busybox sh
# scripts of guests/linux/busybox/sh_cases/. Sourced, not run.
#
# A case is sh_cases/<name>.sh. Its header comments may say
#   # status: N      the exit status it must end with (default 0)
#   # args: WORDS    its arguments (split by this shell: quotes work)
#   # tlb: generic   also run under mmuemu with --tlb generic
# Its stdout must equal sh_cases/expected/<name>.<arch>.txt if that exists,
# else sh_cases/expected/<name>.txt (arch = amd64 | riscv64).
#
# Every run, reference or mmuemu, is the same: the script is copied as
# script.sh into a fresh scratch directory, which is the working directory,
# and started as `busybox sh script.sh ARGS` with stdin /dev/null, umask
# 022, SIGPIPE at its default action and the environment
#   LC_ALL=C PATH=<OUT>/<arch>/sh-path
# sh-path holds one entry per applet of that busybox (made by
# bbsh_make_path): busybox re-executes itself through /proc/self/exe to run
# an applet in a new process, and only when that fails does it search PATH.
# Under mmuemu the re-exec succeeds. Under qemu-user it succeeds for amd64
# (qemu-x86_64 execs the amd64 busybox, which the host runs natively) but
# not for riscv64 (the host cannot exec a riscv64 ELF: ENOEXEC, no
# binfmt_misc here): there PATH leads to a wrapper that runs the same
# busybox applet under qemu-riscv64 again, so every process of the
# reference is the same busybox binary, never one of the host's commands.
# See qemu_user_busybox_sh.sh for the /bin/sh detail of that route.

# bbsh_cases SH_CASES_DIR: the case names, sorted.
bbsh_cases() {
    local f
    for f in "$1"/*.sh; do
        [ -f "$f" ] || continue
        f=${f##*/}
        echo "${f%.sh}"
    done | LC_ALL=C sort
}

# bbsh_header FILE KEY: the value of the "# KEY: value" header line.
bbsh_header() {
    sed -n "s/^# $2: *//p" "$1" | head -n 1
}

# bbsh_expected SH_CASES_DIR NAME ARCH: the expected stdout's file.
bbsh_expected() {
    if [ -f "$1/expected/$2.$3.txt" ]; then
        echo "$1/expected/$2.$3.txt"
    else
        echo "$1/expected/$2.txt"
    fi
}

# Commands to put before the `env -i` of each run (the riscv64 reference
# starts its private mount namespace there).
BBSH_PREFIX=()

# bbsh_run SH_CASES_DIR NAME PATH_DIR OUT ERR LAUNCHER...
# Run case NAME as `LAUNCHER... sh script.sh ARGS` (LAUNCHER ends with the
# busybox, e.g. "/usr/bin/qemu-riscv64 BUSYBOX" or "mmuemu run --rw
# BUSYBOX"; absolute paths, as PATH is the applets' directory) in a fresh
# scratch directory next to OUT, under `timeout 120`.
# stdout goes to OUT (at most 1 MB kept), stderr to ERR.
# @return the exit status of the run (124 on a timeout).
bbsh_run() {
    local cases=$1 name=$2 path_dir=$3 out=$4 err=$5
    shift 5
    local args scratch rc
    args=$(bbsh_header "$cases/$name.sh" args)
    local -a argv=()
    [ -n "$args" ] && eval "argv=($args)"
    scratch=$(mktemp -d "${out%/*}/scratch.$name.XXXXXX") || return 125
    cp "$cases/$name.sh" "$scratch/script.sh"
    (
        cd "$scratch" || exit 125
        umask 022
        exec timeout 120 "${BBSH_PREFIX[@]}" env -i --default-signal=PIPE \
            LC_ALL=C PATH="$path_dir" "$@" sh script.sh "${argv[@]}"
    ) </dev/null 2>"$err" | head -c 1000000 >"$out"
    rc=${PIPESTATUS[0]}
    rm -rf "$scratch"
    return "$rc"
}
