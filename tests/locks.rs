//! File locks: tests/guest/locks.c (POSIX, OFD and flock locks between
//! processes) against a native run, and flock(1) serializing two shells
//! in a booted guest with /proc/locks showing the lock.

mod common;

use common::*;
use std::path::Path;
use std::time::Duration;

#[test]
fn file_locks_match_native() {
    compare_with_native("locks", "locks done");
}

/// util-linux's flock(1) (Debian's static busybox has no flock applet),
/// brought in with its glibc.
#[test]
fn flock_command_serializes_shells() {
    let flock = Path::new("/usr/bin/flock");
    assert!(
        flock.is_file(),
        "needs util-linux's /usr/bin/flock on the host"
    );
    // The first holder announces it has the lock, then keeps it a while;
    // the second must wait for it, so "a" comes before "b" however slow
    // the machine is.
    let script = test_dir("locks-flock-script").join("flocktest");
    std::fs::write(
        &script,
        "#!/bin/sh\n\
         mkdir -p /tmp\n\
         (flock /tmp/l -c 'touch /tmp/held; sleep 2; echo a') &\n\
         while [ ! -e /tmp/held ]; do usleep 10000; done\n\
         grep -c 'FLOCK  ADVISORY  WRITE' /proc/locks\n\
         flock /tmp/l -c 'echo b'\n\
         wait\n\
         cat /proc/locks\n\
         echo end\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let initrd = build_initramfs(
        "locks-flock",
        &[
            (flock, "/usr/bin/flock"),
            (script.as_path(), "/bin/flocktest"),
        ],
    );
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let out = g.run_status_timeout("flocktest", Duration::from_secs(120));
    let lines: Vec<&str> = out.0.lines().map(|l| l.trim_end()).collect();
    assert_eq!(lines, vec!["1", "a", "b", "end"], "{}", out.0);
    // A lock taken with a file kept open shows in Linux's format.
    let ino = g.run("stat -c %i /tmp/l");
    let ino = ino.trim();
    let out = g.run("exec 9>>/tmp/l; flock -s 9; cat /proc/locks; exec 9>&-");
    let out = out + &g.run("cat /proc/locks; echo end");
    let line = out.lines().next().unwrap_or("").trim_end().to_string();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&fields[..4], &["1:", "FLOCK", "ADVISORY", "READ"], "{out}");
    assert!(fields[5].ends_with(&format!(":{ino}")), "{out}");
    assert_eq!(&fields[6..], &["0", "EOF"], "{out}");
    assert_eq!(out.lines().nth(1).map(str::trim_end), Some("end"), "{out}");
}

/// dnotify (F_NOTIFY) and F_SETSIG/F_GETSIG: which changes signal a
/// watched directory, with which siginfo, and when marks go.
#[test]
fn dnotify_matches_native() {
    compare_with_native("dnotify", "dnotify done");
}

/// O_DIRECT alignment on ext4: the guest's file lies on a fresh ext4
/// disk (ubd1), the native run's on the host's /tmp (ext4).
#[test]
fn odirect_alignment_matches_native() {
    let img = test_dir("odirect-disk").join("disk.img");
    let _ = std::fs::remove_file(&img);
    let st = std::process::Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4"])
        .arg(&img)
        .arg("16M")
        .status()
        .expect("mke2fs");
    assert!(st.success());
    let ubd = format!("ubd1={}", img.display());
    compare_with_native_booted("odirect", "odirect done", &[ubd.as_str()]);
}

/// File leases: refusals, SIGIO to the holder, openers waiting for the
/// holder to give up or downgrade, EWOULDBLOCK for O_NONBLOCK openers.
#[test]
fn leases_match_native() {
    compare_with_native("leases", "leases done");
}
