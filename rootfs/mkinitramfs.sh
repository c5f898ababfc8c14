#!/usr/bin/env bash
# Build a gzip-compressed newc cpio initramfs for ruml from Debian's static
# busybox. See usage() or README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=rootfs/lib.sh
. "$here/lib.sh"

usage() {
    cat <<USAGE
usage: $ruml_prog OUT [--add HOSTPATH:GUESTPATH]... [--init FILE]

Builds OUT, a gzip-compressed newc cpio archive (owner root:root) holding
Debian's static busybox (/bin/busybox) with a symlink per applet, the usual
directories, /dev/console and /dev/null, /etc/{passwd,group,hostname} and an
/init script that mounts /proc and /sys and execs /bin/sh on the console.

  --add HOST:GUEST  copy HOST (file or directory) to GUEST; a dynamically
                    linked ELF brings its shared libraries and loader along
  --init FILE       use FILE as /init instead of the default script

Must run as root (mknod). Needs busybox-static, cpio, gzip.
USAGE
}

ruml_parse_args "$@"
[ ${#RUML_POSITIONAL[@]} -eq 1 ] || { usage >&2; exit 2; }
out=$(ruml_abspath "${RUML_POSITIONAL[0]}")
command -v cpio >/dev/null || die "cpio not found; install it with: apt-get install cpio"
command -v gzip >/dev/null || die "gzip not found; install it with: apt-get install gzip"
ruml_check_host
mkdir -p "$(dirname "$out")"

ruml_make_staging
ruml_build_tree "$RUML_STAGING" "$RUML_INIT"
ruml_apply_adds "$RUML_STAGING"

tmp_out="$out.tmp.$$"
(
    cd "$RUML_STAGING"
    # Sorted for a reproducible archive; "." itself is left out.
    find . -mindepth 1 -print | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 | gzip -9 -n
) >"$tmp_out"
mv -f "$tmp_out" "$out"
echo "$out"
