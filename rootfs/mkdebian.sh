#!/usr/bin/env bash
# Build a Debian (bookworm) disk image for ruml with debootstrap: a minimal
# system with sysvinit (or, with --init systemd, systemd) as init, a getty
# on the console (/dev/tty0, what con0 is), root without a password, and
# an fstab for /dev/ubda.
# Boot it with: ./vmlinux ubd0=OUT.img mem=512M
set -euo pipefail

prog=$(basename "$0")
die() {
    echo "$prog: error: $*" >&2
    exit 1
}

usage() {
    cat <<USAGE
usage: $prog OUT.img [SIZE] [--init sysvinit|systemd] [--include PKG,PKG...]
       [--suite SUITE] [--mirror URL] [--cache DIR]

Builds OUT.img, an ext4 file system of SIZE (default 1G) holding Debian
SUITE (default bookworm, variant minbase) with procps and an init:
sysvinit-core (the default) or, with --init systemd, systemd-sysv with
dbus and libpam-systemd (journald, logind, a getty@tty0 unit on the
console); plus the packages named by --include. Needs root, debootstrap
(apt-get install debootstrap), e2fsprogs, and access to the mirror
(default http://deb.debian.org/debian; RUML_DEBIAN_MIRROR also sets it).
--cache keeps downloaded packages in DIR for the next build.

In the guest: log in as root (no password) on the console; 'poweroff'
shuts down cleanly and vmlinux exits.
USAGE
}

size=1G
include=
suite=bookworm
mirror=${RUML_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=
init=sysvinit
pos=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --include) include=$2; shift 2 ;;
        --suite) suite=$2; shift 2 ;;
        --mirror) mirror=$2; shift 2 ;;
        --cache) cache=$2; shift 2 ;;
        --init) init=$2; shift 2 ;;
        -*) usage >&2; exit 2 ;;
        *) pos+=("$1"); shift ;;
    esac
done
case ${#pos[@]} in
    1) ;;
    2) size=${pos[1]} ;;
    *) usage >&2; exit 2 ;;
esac
out=${pos[0]}
case $init in
    sysvinit) pkgs=sysvinit-core,procps ;;
    systemd) pkgs=systemd-sysv,dbus,libpam-systemd,procps ;;
    *) die "--init: '$init' is neither sysvinit nor systemd" ;;
esac
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap creates device nodes and owners)"
command -v debootstrap >/dev/null || die "debootstrap not found; install it with: apt-get install debootstrap"
command -v mke2fs >/dev/null || die "mke2fs not found; install it with: apt-get install e2fsprogs"

staging=$(mktemp -d "${TMPDIR:-/tmp}/ruml-debian.XXXXXX")
trap 'rm -rf "$staging"' EXIT

[ -n "$include" ] && pkgs="$pkgs,$include"
cache_args=()
if [ -n "$cache" ]; then
    mkdir -p "$cache"
    cache_args=(--cache-dir="$(cd "$cache" && pwd)")
fi
debootstrap --variant=minbase --include="$pkgs" "${cache_args[@]}" "$suite" "$staging" "$mirror" >&2

# The console is con0, /dev/tty0 in the guest (as in UML): one getty
# there, none on the virtual consoles a PC would have.
if [ "$init" = sysvinit ]; then
    sed -i -e 's|^1:2345:respawn:/sbin/getty .*|0:2345:respawn:/sbin/getty --noclear 38400 tty0|' \
        -e 's|^\([2-6]\):23:respawn|#\1:23:respawn|' "$staging/etc/inittab"
    grep -q 'getty.*tty0' "$staging/etc/inittab" || die "no console getty in /etc/inittab"
else
    # getty@.service (agetty on /dev/%I) for tty0 only; logind starts no
    # gettys on VTs (there are none).
    wants="$staging/etc/systemd/system/getty.target.wants"
    mkdir -p "$wants"
    rm -f "$wants"/getty@*.service
    ln -s /lib/systemd/system/getty@.service "$wants/getty@tty0.service"
    sed -i 's/^#\?NAutoVTs=.*/NAutoVTs=0/; s/^#\?ReserveVT=.*/ReserveVT=0/' "$staging/etc/systemd/logind.conf"
fi
# Root logs in without a password (a disposable guest; set one with passwd).
sed -i 's/^root:[^:]*:/root::/' "$staging/etc/shadow"
echo ruml-debian >"$staging/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\truml-debian\n' >"$staging/etc/hosts"
cat >"$staging/etc/fstab" <<'EOF'
# <file system> <mount point> <type> <options>         <dump> <pass>
/dev/ubda       /             ext4   errors=remount-ro 0      1
EOF
rm -rf "$staging/var/cache/apt/archives/"*.deb

rm -f "$out"
mkdir -p "$(dirname "$out")"
: >"$out"
mke2fs -q -t ext4 -L ruml-debian -d "$staging" -F "$out" "$size"
echo "$out"
