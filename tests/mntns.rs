//! Mount namespaces: the guest program `tests/guest/mntns.c` compared with
//! the native run (isolation, shared/slave/private/unbindable
//! propagation, mountinfo's optional fields, setns's errors, the less
//! privileged copy, pivot_root), `tests/guest/sandbox_mounts.c` (what
//! systemd's service sandboxes need), and busybox's `unshare -m`.

mod common;

use common::*;

#[test]
fn mntns_matches_native() {
    compare_with_native("mntns", "mntns done");
}

/// What systemd's sandboxes and dbus-daemon need (tests/guest/
/// sandbox_mounts.c): mountinfo fresh after a rewind, rbind of a tree
/// into itself, mount points that belong to one mount, capget's version
/// probe, PR_GET/SET_KEEPCAPS.
#[test]
fn sandbox_mounts_match_native() {
    compare_with_native("sandbox_mounts", "sandbox_mounts done");
}

/// A tmpfs mounted inside `unshare -m` is in that namespace's
/// /proc/self/mounts and nowhere else; busybox's --propagation sets the
/// copy's type.
#[test]
fn busybox_unshare_m() {
    let mut g = Guest::boot_busybox("mntns-busybox");
    g.run("mkdir -p /mnt");
    let out = g.run("unshare -m sh -c 'mount -t tmpfs t /mnt; grep /mnt /proc/self/mounts'");
    assert!(out.contains("t /mnt tmpfs rw,relatime"), "{out}");
    let out = g.run("grep -c /mnt /proc/self/mounts; readlink /proc/self/ns/mnt");
    assert_eq!(
        out.trim().lines().collect::<Vec<_>>(),
        ["0", "mnt:[4026531832]"],
        "{out}"
    );
    // A shared mount: a mount made inside a namespace copied with
    // --propagation shared comes back out.
    g.run("mount -t tmpfs s /mnt; mount --make-shared /mnt; mkdir /mnt/in");
    g.run("unshare -m --propagation shared mount -t tmpfs u /mnt/in");
    let out = g.run("grep -c /mnt/in /proc/self/mounts");
    assert_eq!(out.trim(), "1", "{out}");
    let out = g.run("grep /mnt /proc/self/mountinfo | grep -c shared:");
    assert_eq!(out.trim(), "2", "{out}");
    g.run("umount /mnt/in; umount /mnt");
}
