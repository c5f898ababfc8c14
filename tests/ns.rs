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

/// PID namespaces: tests/guest/pidns.c compared with the native run.
#[test]
fn pidns_matches_native() {
    compare_with_native("pidns", "pidns done");
}

/// busybox's `unshare -pf` in the guest: the shell is pid 1 of its new
/// pid namespace, and a proc mounted there lists only that namespace's
/// processes under their numbers in it. (`--mount-proc` needs a mount
/// namespace: the proc is mounted by hand.)
#[test]
fn busybox_unshare_pid() {
    let mut g = Guest::boot_busybox("ns-pid");
    // Short lines: the console wraps long ones.
    g.run("mkdir -p /mnt/p; cd /mnt");
    g.run("echo 'echo $$;mount -t proc p p;ls -1 p' > s");
    g.run("echo 'echo self=$(readlink p/self);umount p' >> s");
    let out = g.run("unshare -pf sh s");
    let lines: Vec<&str> = out.trim().lines().map(|l| l.trim()).collect();
    assert_eq!(lines.first(), Some(&"1"), "{out}");
    // The shell (1) and ls; nothing from the initial namespace (its init,
    // the outer shell, unshare).
    let pids: Vec<i32> = lines[1..].iter().filter_map(|l| l.parse().ok()).collect();
    assert!(
        pids.contains(&1) && pids.len() == 2 && pids.iter().all(|&p| p < 10),
        "{out}"
    );
    let me: i32 = lines
        .iter()
        .find_map(|l| l.strip_prefix("self="))
        .and_then(|s| s.parse().ok())
        .expect("self");
    assert!(me > 1 && me < 10, "{out}");
    // ps on a proc mounted over /proc for a moment (what `--mount-proc`
    // does in a mount namespace of its own): the shell as 1 and ps.
    g.run("echo 'mount -t proc p /proc;ps;umount /proc' > s");
    let out = g.run("unshare -pf sh s");
    let rows: Vec<(i32, &str)> = out
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let pid = w.next()?.parse().ok()?;
            Some((pid, w.last()?))
        })
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[0].0, 1, "{out}");
    assert!(rows[1].0 > 1 && rows[1].0 < 10, "{out}");
    // With a new user namespace too (`unshare -Urpf`): root and pid 1.
    let out = g.run("unshare -Urpf sh -c 'id -u;echo $$'");
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", "1"],
        "{out}"
    );
    // The outer shell is still in the initial namespace.
    let out = g.run("cd /; readlink /proc/self/ns/pid");
    assert!(out.contains("pid:[4026531836]"), "{out}");
}

/// The must-show: `unshare -Urpf --mount-proc sh -c 'id; ps'`
/// runs as root of a new user namespace, as pid 1 of a new pid namespace,
/// with a proc mounted over /proc in a new mount namespace that shows
/// only its own process (busybox sh runs the last command, ps, in its
/// place as pid 1); the outer /proc is untouched.
#[test]
fn unshare_urpf_mount_proc() {
    let mut g = Guest::boot_busybox("ns-mount-proc");
    let outer = g.run("readlink /proc/self/ns/pid; grep NSpid /proc/1/status");
    let out = g.run("unshare -Urpf --mount-proc sh -c 'id; ps'");
    assert!(out.contains("uid=0(root) gid=0(root)"), "{out}");
    let rows: Vec<(i32, String)> = out
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let pid = w.next()?.parse().ok()?;
            Some((pid, l.to_string()))
        })
        .collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0].0, 1, "{out}");
    assert!(rows[0].1.contains("ps"), "{out}");
    // Two commands in the namespace: the shell stays as pid 1 and ps is 2.
    let out = g.run("unshare -Urpf --mount-proc sh -c 'ps; true'");
    let pids: Vec<i32> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(pids, [1, 2], "{out}");
    // The outer namespace's /proc still lists every process (the
    // namespace's proc mount went with its mount namespace).
    let after = g.run("readlink /proc/self/ns/pid; grep NSpid /proc/1/status");
    assert_eq!(outer.trim(), after.trim(), "outer /proc changed");
    assert!(after.contains("pid:[4026531836]"), "{after}");
    assert!(g.run("grep -c ' /proc proc' /proc/mounts").trim() == "1");
}

/// Network namespaces: tests/guest/netns.c (a new namespace has only lo,
/// down; SIOCSIFFLAGS brings it up with 127.0.0.1; ports and abstract
/// AF_UNIX names are per namespace; setns back and forth) compared with
/// the native run.
#[test]
fn netns_matches_native() {
    compare_with_native("netns", "netns done");
}

/// busybox: `unshare -n ip link` shows only lo, down; `unshare -Urn` (a
/// user namespace owning the new network namespace) may bring it up; the
/// namespace's link in /proc differs from the initial one's number.
#[test]
fn busybox_unshare_net() {
    let mut g = Guest::boot_busybox("ns-net");
    let out = g.run("unshare -n ip link");
    let names: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(names.len(), 1, "{out}");
    assert!(names[0].starts_with("1: lo:"), "{out}");
    assert!(!names[0].contains("UP"), "{out}");
    let out = g.run("unshare -Urn sh -c 'ip link set lo up && ip addr show lo'");
    assert!(out.contains("127.0.0.1/8"), "{out}");
    assert!(out.contains("UP"), "{out}");
    let out = g.run("readlink /proc/self/ns/net; unshare -n readlink /proc/self/ns/net");
    let lines: Vec<&str> = out.trim().lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], "net:[4026531833]", "{out}");
    assert_ne!(lines[0], lines[1], "{out}");
    // The initial namespace keeps its interfaces.
    let out = g.run("ip link");
    assert!(out.contains("1: lo:"), "{out}");
}
