#!/usr/bin/env bash
# qemu_user_busybox.sh - reference runs of Debian's busybox-static applets.
#
# usage: qemu_user_busybox.sh CACHE_DIR OUT_DIR [SOURCE_DIR]
#   CACHE_DIR   where tools/fetch-busybox.sh keeps amd64/ and riscv64/
#               (fetched here on first use: that needs the network)
#   OUT_DIR     the outputs are stored as OUT_DIR/<arch>/<name>.qemu.txt
#               (and <name>.native.txt for amd64 on an x86-64 host)
#   SOURCE_DIR  guests/linux/busybox of the source tree (default: found
#               from here)
#
# Runs each case of SOURCE_DIR/cases.txt (echo, cat, wc, md5sum, sha256sum,
# sort, seq, ls, head, tail, tr, od on the fixed files of inputs/) under
# qemu-x86_64 and qemu-riscv64, and natively on an x86-64 host, and checks
# the exit status is 0 and stdout equals expected/<name>.<arch>.txt or
# expected/<name>.txt. The stored outputs are the references the run under
# mmuemu is compared with. qemu-user missing is a failure, never a skip.
set -u

cache=${1:?usage: qemu_user_busybox.sh CACHE_DIR OUT_DIR [SOURCE_DIR]}
out_dir=${2:?usage: qemu_user_busybox.sh CACHE_DIR OUT_DIR [SOURCE_DIR]}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src_dir=${3:-$here/../../guests/linux/busybox}
src_dir=$(cd "$src_dir" && pwd)
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

for q in qemu-riscv64 qemu-x86_64; do
    if ! command -v "$q" >/dev/null; then
        echo "FAIL: $q not found (tools/install-deps.sh installs it)" >&2
        exit 1
    fi
done
bash "$here/../../tools/fetch-busybox.sh" "$cache" >/dev/null ||
    { echo "FAIL: tools/fetch-busybox.sh $cache failed" >&2; exit 1; }
for arch in amd64 riscv64; do
    echo "busybox $arch: $(cat "$cache/$arch/VERSION")" \
        "($(cat "$cache/$arch/SUITE"))"
done

err=$(mktemp)
trap 'rm -f "$err"' EXIT

# run LABEL WANT OUT STDIN COMMAND...
run() {
    local label=$1 want=$2 out=$3 in=$4
    shift 4
    [ -f "$want" ] || { fail "$label: no expected file $want"; return; }
    (cd "$src_dir/inputs" && timeout 60 env -i LC_ALL=C "$@") \
        <"$in" >"$out" 2>"$err"
    local rc=$?
    if [ -s "$err" ]; then
        echo "--- $label stderr:"
        cat "$err"
    fi
    [ "$rc" -eq 0 ] || { fail "$label: exit status $rc"; return; }
    if ! cmp -s "$want" "$out"; then
        fail "$label: output differs from $want"
        diff -u "$want" "$out" | head -n 40
        return
    fi
    echo "ok: $label"
}

native=no
[ "$(uname -m)" = x86_64 ] && native=yes

while IFS='|' read -r name in cmd; do
    name=$(echo "$name" | tr -d '[:blank:]')
    case "$name" in '' | '#'*) continue ;; esac
    in=$(echo "$in" | tr -d '[:blank:]')
    read -r -a argv <<<"$cmd"
    if [ "$in" = - ]; then in=/dev/null; else in=$src_dir/inputs/$in; fi
    for arch in amd64 riscv64; do
        bb=$cache/$arch/bin/busybox
        want=$src_dir/expected/$name.txt
        [ -f "$src_dir/expected/$name.$arch.txt" ] &&
            want=$src_dir/expected/$name.$arch.txt
        mkdir -p "$out_dir/$arch"
        case $arch in
        amd64) qemu=$(command -v qemu-x86_64) ;;
        riscv64) qemu=$(command -v qemu-riscv64) ;;
        esac
        run "${qemu##*/} busybox $name" "$want" \
            "$out_dir/$arch/$name.qemu.txt" "$in" "$qemu" "$bb" "${argv[@]}"
        if [ "$arch" = amd64 ] && [ "$native" = yes ]; then
            run "native busybox $name" "$want" \
                "$out_dir/$arch/$name.native.txt" "$in" "$bb" "${argv[@]}"
        fi
    done
done <"$src_dir/cases.txt"

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures busybox run(s) differ from the reference" >&2
    exit 1
fi
echo "ok: every busybox applet matches its reference output"
