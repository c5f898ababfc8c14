//! vmlinux must not leave host processes behind when it is killed, and must
//! reject a malformed command line before booting.

mod common;

use common::*;
use std::time::{Duration, Instant};

fn killed_leaves_nothing_behind(name: &str, sig: i32) {
    let initrd = build_initramfs(name, &[]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    g.run("sleep 1000 &");
    // Make sure the sleep has started.
    assert_eq!(g.run("echo started").trim(), "started");

    let before = host_descendants(g.pid());
    eprintln!(
        "vmlinux {} has {} host descendant(s): {:?}",
        g.pid(),
        before.len(),
        before
    );

    g.kill(sig);
    let status = g.wait_exit(Duration::from_secs(30));
    assert!(
        status.is_some(),
        "vmlinux did not exit after signal {}",
        sig
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: Vec<_> = before.iter().filter(|p| still_alive(p)).collect();
        if alive.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let report = format!("{:?}", alive);
            // Do not leave them running on the CI machine.
            for p in &alive {
                if still_alive(p) {
                    // SAFETY: kill(2) on a pid we just checked is that same process.
                    unsafe {
                        libc::kill(p.pid, libc::SIGKILL);
                    }
                }
            }
            panic!(
                "host processes left behind {} s after vmlinux died from signal {}: {:?}",
                10, sig, report
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigkill_leaves_no_host_processes() {
    killed_leaves_nothing_behind("lifecycle-kill", libc::SIGKILL);
}

#[test]
fn sigterm_leaves_no_host_processes() {
    killed_leaves_nothing_behind("lifecycle-term", libc::SIGTERM);
}

fn rejected(args: &[&str]) {
    let mut g = Guest::boot(args);
    let status = g
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("vmlinux {:?} did not exit; output:\n{}", args, g.output()));
    assert_eq!(
        status.code(),
        Some(2),
        "vmlinux {:?}: {:?}; output:\n{}",
        args,
        status,
        g.output()
    );
    let err = g.stderr_output();
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "vmlinux {:?} should print one line on stderr, printed:\n{}",
        args,
        err
    );
}

#[test]
fn malformed_mem_is_rejected() {
    let initrd = build_initramfs("bad-mem", &[]);
    rejected(&["mem=abc", &format!("initrd={}", initrd.display())]);
}

/// A word that is not UTF-8 is an error (exit 2, one line), not a panic.
#[test]
fn non_utf8_word_is_rejected() {
    use std::os::unix::ffi::OsStrExt;
    let out = std::process::Command::new(vmlinux())
        .arg(std::ffi::OsStr::from_bytes(b"mem=\xff"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(err.contains("not valid UTF-8"), "stderr: {err}");
}

#[test]
fn missing_initrd_is_rejected() {
    rejected(&["mem=256M", "initrd=/nonexistent"]);
}
