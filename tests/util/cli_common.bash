# cli_common.bash - what the tests/cli scripts share: arguments, a temporary
# directory removed on exit, fail/translate/expect helpers and the check
# counter. Sourced (not a test itself): . "$SRC/tests/util/cli_common.bash"
# after `set -euo pipefail`; uses $1 (path of mmuemu) and $2 (source dir).
# shellcheck shell=bash disable=SC2034
set -euo pipefail

MMUEMU=$1
SRC=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checks=0

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# translate ARGS... (ops on stdin or as an argument): output in $tmp/got.
translate() {
    local rc=0
    "$MMUEMU" translate "$@" >"$tmp/got" || rc=$?
    [ "$rc" -eq 0 ] || fail "exit status $rc from: mmuemu translate $*"
}

