//! Resource limits and guards against one user exhausting the machine:
//! vfork under signals, rlimits (NOFILE, NPROC), nice permissions, exec
//! argument sizes, the /dev/shm tmpfs and the OOM killer's report.

mod common;

use common::*;
use std::time::Duration;

/// A pending SIGCHLD from an earlier child must not make vfork fail once
/// the child exists (xargs runs many short children with vfork).
#[test]
fn vfork_is_not_interrupted_by_sigchld() {
    let mut g = Guest::boot_busybox("limits-vfork");
    let (out, status) = g.run_status_timeout(
        "seq 1 30000 | xargs -n 100 /bin/true; echo rc=$?",
        Duration::from_secs(300),
    );
    assert!(out.contains("rc=0"), "{out}");
    assert!(!out.contains("Interrupted"), "{out}");
    assert_eq!(status, 0, "{out}");
    assert_eq!(g.run("echo alive").trim(), "alive");
}

/// RLIMIT_NOFILE rules (raising the hard limit, soft > hard, another
/// user's process), the fd table following the soft limit for every call
/// that allocates an fd, nice permissions and execve's argument sizes,
/// line for line as Linux.
#[test]
fn rlimits_nice_and_exec_sizes_match_native() {
    compare_with_native("limits", "limits done");
}

/// A process that touches memory until none is left is killed, the kernel
/// log says so as Linux does (naming it, with its sizes), and the shell
/// goes on.
#[test]
fn oom_kill_is_logged() {
    let dir = test_dir("limits-oom-build");
    let bin = dir.join("memhog");
    compile_c(
        &repo_root().join("tests/guest/memhog.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs("limits-oom", &[(bin.as_path(), "/bin/memhog")]);
    let mut g = Guest::boot(&["mem=64M", &format!("initrd={}", initrd.display())]);
    g.wait_prompt();
    let (out, status) = g.run_status_timeout("/bin/memhog", Duration::from_secs(300));
    assert!(out.contains("memhog: 16 MiB"), "{out}");
    assert_eq!(status, 128 + 9, "{out}");
    let log = g.run("dmesg | grep 'Out of memory'");
    assert!(
        log.contains("Out of memory: Killed process")
            && log.contains("(memhog) total-vm:")
            && log.contains("kB, anon-rss:"),
        "{log}"
    );
    assert_eq!(g.run("echo alive").trim(), "alive");
}

/// A fork bomb as nobody stops at RLIMIT_NPROC with EAGAIN, counting the
/// user's tasks; root is held only by kernel.threads-max (sized from RAM
/// as Linux: mem=256M gives 2048, and init's RLIMIT_NPROC is half that);
/// the shell keeps working after both.
#[test]
fn fork_bombs_are_bounded() {
    let dir = test_dir("limits-nproc-build");
    let bin = dir.join("limits");
    compile_c(
        &repo_root().join("tests/guest/limits.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs("limits-nproc", &[(bin.as_path(), "/bin/limits")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    assert_eq!(g.run("cat /proc/sys/kernel/threads-max").trim(), "2048");
    assert_eq!(g.run("cat /proc/sys/kernel/pid_max").trim(), "32768");
    assert_eq!(g.run("ulimit -u").trim(), "1024");
    let (out, status) = g.run_status_timeout("/bin/limits forkbomb 100", Duration::from_secs(300));
    assert!(out.contains("forks before EAGAIN: 99\n"), "{out}");
    assert!(out.contains("forkbomb cleaned up"), "{out}");
    assert_eq!(status, 0, "{out}");
    assert_eq!(g.run("echo alive").trim(), "alive");

    // Root: only threads-max (written lower here) stops it.
    g.run("echo 60 > /proc/sys/kernel/threads-max");
    assert_eq!(g.run("cat /proc/sys/kernel/threads-max").trim(), "60");
    let (out, status) = g.run_status_timeout("/bin/limits forkbomb 0", Duration::from_secs(300));
    assert!(out.contains("forks before EAGAIN: "), "{out}");
    assert!(out.contains("forkbomb cleaned up"), "{out}");
    assert_eq!(status, 0, "{out}");
    let (_, status) = g.run_status("echo 10 > /proc/sys/kernel/threads-max");
    assert_ne!(status, 0);
    g.run("echo 2048 > /proc/sys/kernel/threads-max");
    assert_eq!(
        g.run("echo alive; ls /bin/limits").trim(),
        "alive\n/bin/limits"
    );
}

/// /dev/shm is its own tmpfs of half the RAM (mode 1777, nosuid, nodev):
/// nobody filling it gets ENOSPC at that size, and the rest of the system
/// still has memory.
#[test]
fn dev_shm_is_a_bounded_tmpfs() {
    let dir = test_dir("limits-shm-build");
    let bin = dir.join("limits");
    compile_c(
        &repo_root().join("tests/guest/limits.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs("limits-shm", &[(bin.as_path(), "/bin/limits")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let mounts = g.run("grep ' /dev/shm ' /proc/mounts");
    assert!(
        mounts.contains("tmpfs /dev/shm tmpfs rw,nosuid,nodev,relatime"),
        "{mounts}"
    );
    assert_eq!(g.run("stat -c %a /dev/shm").trim(), "1777");
    let (out, status) = g.run_status_timeout("/bin/limits fillshm", Duration::from_secs(300));
    assert_eq!(status, 0, "{out}");
    let mb: u64 = out
        .split("wrote ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(out.contains("then ENOSPC"), "{out}");
    // Half of 256M, less what a page or two of metadata may take.
    assert!((120..=128).contains(&mb), "{out}");
    // The rest of the system still has memory for files and programs.
    let (out, status) = g.run_status("dd if=/dev/zero of=/tmp/f bs=1M count=32 && echo ok");
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("ok"), "{out}");
    g.run("rm /dev/shm/fill /tmp/f");
    assert_eq!(g.run("echo alive").trim(), "alive");
}
