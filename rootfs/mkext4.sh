#!/usr/bin/env bash
# Build an ext4 disk image for ruml (boot it with ubd0=OUT.img root=/dev/ubda)
# from the same tree as mkinitramfs.sh; /sbin/init is busybox init.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=rootfs/lib.sh
. "$here/lib.sh"

usage() {
    cat <<USAGE
usage: $ruml_prog OUT.img [SIZE] [--add HOSTPATH:GUESTPATH]... [--init FILE]

Builds OUT.img, an ext4 file system of SIZE (default 64M, any size mke2fs
accepts) holding the same tree as mkinitramfs.sh. /sbin/init is busybox init
(with /etc/inittab and /etc/init.d/rcS); /init is the initramfs script.

The file system type is ext4 unless RUML_FSTYPE names another one that
mke2fs knows (ext2, ext3). Must run as root (mknod). Needs busybox-static,
e2fsprogs.
USAGE
}

ruml_parse_args "$@"
case ${#RUML_POSITIONAL[@]} in
    1) size=64M ;;
    2) size=${RUML_POSITIONAL[1]} ;;
    *) usage >&2; exit 2 ;;
esac
out=$(ruml_abspath "${RUML_POSITIONAL[0]}")
command -v mke2fs >/dev/null || die "mke2fs not found; install it with: apt-get install e2fsprogs"
ruml_check_host
mkdir -p "$(dirname "$out")"

ruml_make_staging
ruml_build_tree "$RUML_STAGING" "$RUML_INIT"
ruml_apply_adds "$RUML_STAGING"
[ -L "$RUML_STAGING/sbin/init" ] || [ -e "$RUML_STAGING/sbin/init" ] ||
    ln -s /bin/busybox "$RUML_STAGING/sbin/init"

rm -f "$out"
: >"$out"
mke2fs -q -t "${RUML_FSTYPE:-ext4}" -b 4096 -L ruml-root -E root_owner=0:0 -d "$RUML_STAGING" -F "$out" "$size"
echo "$out"
