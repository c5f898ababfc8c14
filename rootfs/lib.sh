# shellcheck shell=bash
# Shared code for building ruml guest root trees (sourced by mkinitramfs.sh
# and mkext4.sh; not meant to be run on its own).
#
# Everything comes from the host's Debian packages: the guest userland is
# Debian's static busybox (package busybox-static), plus whatever files the
# caller adds with --add (dynamically linked programs bring their shared
# libraries and the dynamic loader along).

BUSYBOX=${BUSYBOX:-/bin/busybox}

ruml_prog=$(basename "$0")

die() {
    echo "$ruml_prog: error: $*" >&2
    exit 1
}

# Check the tools a tree build needs, and that we may create device nodes.
ruml_check_host() {
    [ "$(id -u)" -eq 0 ] ||
        die "must run as root (device nodes /dev/console and /dev/null need mknod); try: sudo $0 ... or fakeroot $0 ..."
    [ -x "$BUSYBOX" ] ||
        die "$BUSYBOX not found; install it with: apt-get install busybox-static"
    # Debian's /bin/busybox from busybox-static is static; the dynamic one
    # from package busybox would need libraries we do not copy.
    if ruml_is_dynamic_elf "$BUSYBOX"; then
        die "$BUSYBOX is dynamically linked; install the static one with: apt-get install busybox-static"
    fi
}

# True if $1 is an ELF file with a program interpreter (i.e. dynamically linked).
ruml_is_dynamic_elf() {
    local f=$1 magic
    [ -f "$f" ] || return 1
    magic=$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')
    [ "$magic" = "7f454c46" ] || return 1
    # ldd prints "not a dynamic executable" (or "statically linked") for static ELFs.
    local out
    out=$(LC_ALL=C ldd "$f" 2>&1) || return 1
    case "$out" in
        *"not a dynamic executable"* | *"statically linked"*) return 1 ;;
    esac
    return 0
}

# Print the absolute paths of the shared libraries and loader $1 needs.
ruml_elf_deps() {
    LC_ALL=C ldd "$1" | awk '
        $2 == "=>" && $3 ~ /^\// { print $3; next }
        $1 ~ /^\// { print $1 }
    '
}

# ruml_copy HOSTPATH STAGING GUESTPATH: copy one file or directory into the
# tree, creating parent directories; dereferences a symlinked HOSTPATH.
ruml_copy() {
    local src=$1 root=$2 dst=$3
    case "$dst" in
        /*) ;;
        *) die "guest path '$dst' must be absolute" ;;
    esac
    mkdir -p "$root$(dirname "$dst")"
    if [ -d "$src" ]; then
        mkdir -p "$root$dst"
        cp -RL "$src/." "$root$dst/"
    else
        rm -f "$root$dst"
        cp -L "$src" "$root$dst"
    fi
}

# ruml_add HOSTPATH GUESTPATH STAGING: --add semantics.
ruml_add() {
    local src=$1 dst=$2 root=$3 lib
    [ -e "$src" ] || die "--add: $src does not exist"
    ruml_copy "$src" "$root" "$dst"
    if ruml_is_dynamic_elf "$src"; then
        while IFS= read -r lib; do
            [ -n "$lib" ] || continue
            [ -e "$root$lib" ] && continue
            ruml_copy "$lib" "$root" "$lib"
        done < <(ruml_elf_deps "$src")
    fi
}

ruml_default_init() {
    cat <<'EOF'
#!/bin/sh
# ruml initramfs /init: minimal setup, then an interactive shell on the console.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
exec /bin/sh
EOF
}

# ruml_build_tree STAGING [INITFILE]: populate STAGING with the base tree.
ruml_build_tree() {
    local root=$1 init=${2:-} d path name
    for d in bin sbin usr/bin usr/sbin lib dev proc sys tmp root etc mnt var run home \
        etc/init.d var/log; do
        mkdir -p "$root/$d"
    done
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"

    cp "$BUSYBOX" "$root/bin/busybox"
    chmod 0755 "$root/bin/busybox"

    # One symlink per applet at the path busybox lists (bin/, sbin/, usr/bin/,
    # usr/sbin/), and every applet in /bin too so /bin alone is a full toolbox.
    while IFS= read -r path; do
        path=${path#/}
        name=${path##*/}
        [ -n "$name" ] || continue
        [ "$path" = linuxrc ] && continue
        [ "$name" = busybox ] && continue
        mkdir -p "$root/$(dirname "$path")"
        [ -e "$root/$path" ] || [ -L "$root/$path" ] || ln -s /bin/busybox "$root/$path"
        [ -e "$root/bin/$name" ] || [ -L "$root/bin/$name" ] || ln -s /bin/busybox "$root/bin/$name"
    done < <("$BUSYBOX" --list-full)
    [ -L "$root/bin/sh" ] || [ -e "$root/bin/sh" ] || die "busybox has no sh applet"

    mknod -m 600 "$root/dev/console" c 5 1
    mknod -m 666 "$root/dev/null" c 1 3

    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
    echo ruml >"$root/etc/hostname"
    # For busybox init (/sbin/init, used when booting from a disk image).
    cat >"$root/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS
::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
EOF
    cat >"$root/etc/init.d/rcS" <<'EOF'
#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
# The kernel mounts a disk root read-only (unless booted with rw), as Linux
# does; like a distribution's boot scripts, make it writable here. On a
# read-only device (ubd0r=) this fails and the root stays read-only.
mount -o remount,rw / 2>/dev/null
hostname -F /etc/hostname 2>/dev/null
EOF
    chmod 0755 "$root/etc/init.d/rcS"

    if [ -n "$init" ]; then
        [ -f "$init" ] || die "--init: $init is not a file"
        cp -L "$init" "$root/init"
    else
        ruml_default_init >"$root/init"
    fi
    chmod 0755 "$root/init"
}

# Argument parsing shared by the scripts. Sets RUML_ADDS (array of
# HOST:GUEST), RUML_INIT and RUML_POSITIONAL (array).
ruml_parse_args() {
    RUML_ADDS=()
    RUML_INIT=
    RUML_POSITIONAL=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --add)
                [ $# -ge 2 ] || die "--add needs HOSTPATH:GUESTPATH"
                RUML_ADDS+=("$2")
                shift 2
                ;;
            --add=*)
                RUML_ADDS+=("${1#--add=}")
                shift
                ;;
            --init)
                [ $# -ge 2 ] || die "--init needs FILE"
                RUML_INIT=$2
                shift 2
                ;;
            --init=*)
                RUML_INIT=${1#--init=}
                shift
                ;;
            -h | --help)
                usage
                exit 0
                ;;
            --)
                shift
                RUML_POSITIONAL+=("$@")
                break
                ;;
            -*)
                die "unknown option $1 (see --help)"
                ;;
            *)
                RUML_POSITIONAL+=("$1")
                shift
                ;;
        esac
    done
}

# Apply every --add to STAGING.
ruml_apply_adds() {
    local root=$1 spec host guest
    for spec in ${RUML_ADDS[@]+"${RUML_ADDS[@]}"}; do
        case "$spec" in
            *:*) ;;
            *) die "--add $spec: expected HOSTPATH:GUESTPATH" ;;
        esac
        host=${spec%:*}
        guest=${spec##*:}
        [ -n "$host" ] && [ -n "$guest" ] || die "--add $spec: expected HOSTPATH:GUESTPATH"
        ruml_add "$host" "$guest" "$root"
    done
}

# Create a staging directory that is removed when the script exits.
ruml_make_staging() {
    RUML_STAGING=$(mktemp -d "${TMPDIR:-/tmp}/ruml-rootfs.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$RUML_STAGING'" EXIT
}

# Absolute form of a (possibly not yet existing) output path.
ruml_abspath() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$(pwd)" "$1" ;;
    esac
}
