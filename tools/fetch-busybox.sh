#!/usr/bin/env bash
# fetch-busybox.sh - fetch Debian's busybox-static for amd64 and riscv64.
#
# usage: tools/fetch-busybox.sh CACHE_DIR
#
# Unpacks busybox-static into CACHE_DIR/amd64/ (from bookworm) and
# CACHE_DIR/riscv64/ (from trixie: bookworm has no riscv64 port) and prints
# the path of each bin/busybox. An architecture already unpacked is left as
# it is, so a second run needs no network.
#
# The host's apt is not touched: apt-get runs with a private configuration
# (APT_CONFIG naming a file that moves Dir::Etc, Dir::State, Dir::Cache and
# Dir::Log under CACHE_DIR/apt/<arch>/, so no file of /etc/apt, the host's
# package lists or its dpkg status is read or written) and a single
# architecture. The archive is verified the ordinary way, with the Debian
# archive keyring installed on the host (debian-archive-keyring; bookworm's
# 2023.3+deb12u2 already holds the trixie keys, and trixie's InRelease is
# also signed with the bookworm automatic key). No [trusted=yes].
#
# Environment: BUSYBOX_MIRROR (default http://deb.debian.org/debian),
# BUSYBOX_KEYRING (default /usr/share/keyrings/debian-archive-keyring.gpg),
# BUSYBOX_AMD64_SUITE (bookworm), BUSYBOX_RISCV64_SUITE (trixie).
set -euo pipefail

cache=${1:?usage: fetch-busybox.sh CACHE_DIR}
mirror=${BUSYBOX_MIRROR:-http://deb.debian.org/debian}
keyring=${BUSYBOX_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

die() {
    echo "fetch-busybox: $*" >&2
    exit 1
}

for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian host needed)"
done
[ -r "$keyring" ] || die "$keyring missing (install debian-archive-keyring)"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# fetch ARCH SUITE: unpack busybox-static for ARCH from SUITE.
fetch() {
    local arch=$1 suite=$2
    local dest=$cache/$arch root=$cache/apt/$arch
    if [ -x "$dest/bin/busybox" ]; then
        echo "$dest/bin/busybox"
        return
    fi
    mkdir -p "$root/etc/apt.conf.d" "$root/etc/preferences.d" \
        "$root/etc/sources.list.d" "$root/etc/trusted.gpg.d" \
        "$root/state/lists/partial" "$root/cache/archives/partial" \
        "$root/log" "$root/download"
    : >"$root/state/status"
    echo "deb [arch=$arch signed-by=$keyring] $mirror $suite main" \
        >"$root/etc/sources.list"
    cat >"$root/apt.conf" <<EOF
Dir::Etc "$root/etc";
Dir::Etc::main "apt.conf";
Dir::Etc::Parts "apt.conf.d";
Dir::Etc::SourceList "sources.list";
Dir::Etc::SourceParts "sources.list.d";
Dir::Etc::Preferences "preferences";
Dir::Etc::PreferencesParts "preferences.d";
Dir::Etc::Trusted "trusted.gpg";
Dir::Etc::TrustedParts "trusted.gpg.d";
Dir::State "$root/state";
Dir::State::Lists "lists";
Dir::State::status "$root/state/status";
Dir::Cache "$root/cache";
Dir::Log "$root/log";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
Acquire::Languages "none";
Acquire::Retries "3";
EOF
    echo "fetch-busybox: $arch: apt-get update ($suite)" >&2
    APT_CONFIG=$root/apt.conf apt-get -q update >&2 ||
        die "$arch: apt-get update failed"
    rm -f "$root/download"/busybox-static_*.deb
    # As root, apt downloads as the user _apt: let it write there.
    if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
        chown _apt "$root/download"
    fi
    (cd "$root/download" &&
        APT_CONFIG=$root/apt.conf apt-get -q \
            download "busybox-static:$arch" >&2) ||
        die "$arch: apt-get download busybox-static failed"
    local deb
    deb=$(ls "$root/download"/busybox-static_*_"$arch".deb) ||
        die "$arch: no .deb downloaded"
    local version
    version=$(dpkg-deb -f "$deb" Version)
    rm -rf "$dest.tmp"
    mkdir -p "$dest.tmp"
    dpkg-deb -x "$deb" "$dest.tmp"
    # trixie's package is merged-/usr: usr/bin/busybox, no bin/.
    if [ ! -e "$dest.tmp/bin/busybox" ] &&
        [ -x "$dest.tmp/usr/bin/busybox" ]; then
        mkdir -p "$dest.tmp/bin"
        ln -s ../usr/bin/busybox "$dest.tmp/bin/busybox"
    fi
    [ -x "$dest.tmp/bin/busybox" ] || die "$arch: $deb holds no busybox"
    echo "$version" >"$dest.tmp/VERSION"
    echo "$suite" >"$dest.tmp/SUITE"
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
    # The package lists (~125 MiB a suite) are needed only for this
    # download: drop them once the package is unpacked.
    rm -rf "$root/state/lists" "$root/cache"
    echo "fetch-busybox: $arch: busybox-static $version from $suite" >&2
    echo "$dest/bin/busybox"
}

fetch amd64 "${BUSYBOX_AMD64_SUITE:-bookworm}"
fetch riscv64 "${BUSYBOX_RISCV64_SUITE:-trixie}"
