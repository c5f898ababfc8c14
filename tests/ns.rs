//! Namespaces: a guest program compared with the native run (UTS
//! isolation, user namespaces' maps and errnos, setns through
//! /proc/PID/ns fds, NS_GET_* ioctls, clone and unshare flag checks).

mod common;

use common::*;

#[test]
fn ns_matches_native() {
    compare_with_native("ns", "ns done");
}

/// busybox's unshare and nsenter in the guest: a new UTS namespace keeps
/// its hostname to itself, `unshare -Ur` maps root to root in a new user
/// namespace, nsenter joins another process's namespace through its
/// /proc/PID/ns link, and the initial namespaces have Linux's numbers.
#[test]
fn busybox_unshare_and_nsenter() {
    let mut g = Guest::boot_busybox("ns-busybox");
    g.run("hostname outer");
    let out = g.run("unshare -u sh -c 'hostname inner; cat /proc/sys/kernel/hostname'; hostname");
    assert_eq!(
        out.trim().lines().collect::<Vec<_>>(),
        ["inner", "outer"],
        "{out}"
    );
    g.run("cd /proc");
    let out = g.run("unshare -Ur sh -c 'id -u;id -g;cat self/uid_map self/setgroups'");
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(words, ["0", "0", "0", "0", "1", "deny"], "{out}");
    g.run("cd /");
    let out = g.run("for n in uts user pid_for_children; do readlink /proc/self/ns/$n; done");
    assert_eq!(
        out.trim().lines().collect::<Vec<_>>(),
        ["uts:[4026531838]", "user:[4026531837]", "pid:[4026531836]"],
        "{out}"
    );
    g.run("unshare -u sh -c 'hostname bg; sleep 60' & sleep 1");
    let out = g.run("nsenter -t $! -u hostname; hostname");
    assert_eq!(
        out.trim().lines().collect::<Vec<_>>(),
        ["bg", "outer"],
        "{out}"
    );
    g.run("kill %1");
}
