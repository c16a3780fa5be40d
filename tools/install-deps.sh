#!/usr/bin/env bash
# Idempotent dependency installer for mmuemu on Debian 12 (bookworm).
#
# Installs the toolchain, cmocka, the cross compilers and qemu-user from
# bookworm, and Unicorn >= 2.1.4 plus Capstone 5 from Debian testing (forky)
# through an apt source pinned at priority 100, so that nothing else is ever
# taken from testing unless asked for with -t forky.
#
# Usage: tools/install-deps.sh [--quiet]
set -euo pipefail

need_sudo() { if [ "$(id -u)" -ne 0 ]; then echo sudo; fi; }
SUDO=$(need_sudo)
export DEBIAN_FRONTEND=noninteractive

BOOKWORM_PKGS=(build-essential cmake pkg-config libcmocka-dev
    gcc-riscv64-linux-gnu libc6-dev-riscv64-cross gcc-riscv64-unknown-elf
    qemu-user qemu-system-x86 qemu-system-misc python3 xz-utils)
FORKY_PKGS=(libunicorn-dev libcapstone-dev)

# Already satisfied?  Check versions without touching apt.
have_all() {
    local p
    for p in "${BOOKWORM_PKGS[@]}" "${FORKY_PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
    done
    pkg-config --atleast-version=2.1.4 unicorn 2>/dev/null || return 1
    pkg-config --atleast-version=5.0 capstone 2>/dev/null || return 1
    return 0
}

if have_all; then
    [ "${1:-}" = "--quiet" ] || echo "install-deps: all dependencies present"
    exit 0
fi

SRC=/etc/apt/sources.list.d/mmuemu-forky.sources
PIN=/etc/apt/preferences.d/mmuemu-forky
if [ ! -f "$SRC" ]; then
    $SUDO tee "$SRC" >/dev/null <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: forky
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi
if [ ! -f "$PIN" ]; then
    $SUDO tee "$PIN" >/dev/null <<'PREFS'
# mmuemu: take packages from Debian testing only when asked (-t forky).
Package: *
Pin: release n=forky
Pin-Priority: 100
PREFS
fi

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${BOOKWORM_PKGS[@]}" >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends -t forky "${FORKY_PKGS[@]}" >/dev/null

if ! pkg-config --atleast-version=2.1.4 unicorn; then
    echo "install-deps: Unicorn >= 2.1.4 required, found $(pkg-config --modversion unicorn 2>/dev/null || echo none)" >&2
    exit 1
fi
if ! pkg-config --atleast-version=5.0 capstone; then
    echo "install-deps: Capstone >= 5 required, found $(pkg-config --modversion capstone 2>/dev/null || echo none)" >&2
    exit 1
fi
echo "install-deps: unicorn $(pkg-config --modversion unicorn), capstone $(pkg-config --modversion capstone)"
