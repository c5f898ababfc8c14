#!/usr/bin/env bash
# Install (or check for) the Debian packages that building guest images and
# running the tests need. As root it installs what is missing with apt-get;
# otherwise it names the missing packages and fails.
set -euo pipefail

pkgs=(busybox-static cpio e2fsprogs gcc libc6-dev)
# --with-uml: real UML and its tools (uml_mkcow, uml_moo, uml_mconsole) for the
# comparison, COW and mconsole tests and bench; --with-debian:
# debootstrap for rootfs/mkdebian.sh and the Debian boot test.
for a in "$@"; do
    case "$a" in
        --with-uml) pkgs+=(user-mode-linux uml-utilities) ;;
        --with-debian) pkgs+=(debootstrap) ;;
        *) echo "host-deps: unknown option $a" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "host-deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
else
    echo "host-deps: missing Debian packages: ${missing[*]}" >&2
    echo "host-deps: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
