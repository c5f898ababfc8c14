//! Boot-time behaviour of init: PID 1's special cases, reboot, the command
//! line words that reach init, and Linux's fallbacks.

mod common;

use common::*;
use std::time::Duration;

const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn init_exiting_is_a_kernel_panic() {
    let initrd = build_initramfs("initexit", &[]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    g.send("exit 3\n");
    let st = g
        .wait_exit(EXIT_TIMEOUT)
        .expect("vmlinux did not exit after init exited");
    assert_eq!(st.code(), Some(1), "a panic exits non-zero");
    let out = g.output();
    assert!(
        out.contains("Kernel panic - not syncing: Attempted to kill init!"),
        "{out}"
    );
    assert!(out.contains("exitcode=0x00000300"), "{out}");
}

/// `panic=N`: after a panic vmlinux boots again (by exec'ing itself, as
/// UML does) after N seconds, with the same words, in the same host
/// process, and leaves no host process of the first boot behind.
#[test]
fn panic_timeout_boots_again() {
    let initrd = build_initramfs("panicboot", &[]);
    let mut g = Guest::boot_initramfs(&initrd, &["panic=1"]);
    g.wait_prompt();
    g.send("exit 3\n");
    g.expect("Rebooting in 1 seconds..", RUN_TIMEOUT);
    // The second boot reaches a shell that works.
    g.wait_prompt();
    assert_eq!(g.run("echo second boot").trim(), "second boot");
    let out = g.output();
    assert_eq!(out.matches("Linux version").count(), 2, "{out}");
    // The zygote and the shell of this boot: the first boot's host
    // processes were killed before the exec.
    let procs = host_descendants(g.pid());
    assert!(procs.len() <= 4, "{procs:?}");
    g.send("poweroff -f\n");
    let st = g.wait_exit(EXIT_TIMEOUT).expect("poweroff");
    assert_eq!(st.code(), Some(0), "{}", g.output());
}

#[test]
fn reboot_boots_again_in_the_same_process() {
    let initrd = build_initramfs("reboot", &[]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let pid = g.pid();
    assert_eq!(g.run("echo $$").trim(), "1");
    g.send("reboot -f\n");
    g.expect("Restarting system", EXIT_TIMEOUT);
    g.expect("Run /init as init process", EXIT_TIMEOUT);
    g.wait_prompt();
    assert_eq!(g.run("echo back").trim(), "back");
    assert_eq!(g.pid(), pid);
    g.send("poweroff -f\n");
    let st = g.wait_exit(EXIT_TIMEOUT).expect("no exit after poweroff");
    assert_eq!(st.code(), Some(0));
}

#[test]
fn unknown_words_reach_init_as_args_and_environment() {
    let dir = test_dir("initargs-src");
    let script = dir.join("init");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"ARGS[$*] FOO[$FOO] PID[$$]\"\nexec /bin/sh\n",
    )
    .unwrap();
    let initrd = build_initramfs_with("initargs", &[], Some(&script));
    let mut g = Guest::boot_initramfs(&initrd, &["FOO=bar", "single"]);
    g.expect("ARGS[single] FOO[bar] PID[1]", BOOT_TIMEOUT);
}

#[test]
fn missing_rdinit_falls_back_like_linux() {
    let initrd = build_initramfs("rdinit", &[]);
    let mut g = Guest::boot_initramfs(&initrd, &["rdinit=/nonexistent"]);
    g.expect("Failed to execute /nonexistent (error -2)", BOOT_TIMEOUT);
    // /sbin/init is busybox init here; /bin/sh would do too. Either way
    // the system comes up.
    g.expect("Run /sbin/init as init process", BOOT_TIMEOUT);
}

#[test]
fn a_console_line_named_alone_wins_over_con_default() {
    // UML's everyday words: con0 is the terminal, every other line null,
    // whatever the order.
    let initrd = build_initramfs("conorder", &[]);
    let i = format!("initrd={}", initrd.display());
    let mut g = Guest::boot(&["mem=256M", &i, "con0=fd:0,fd:1", "con=null"]);
    g.wait_prompt();
    assert_eq!(g.run("echo on-con0").trim(), "on-con0");
}

#[test]
fn busybox_init_respawns_the_shell_and_powers_off_gracefully() {
    // busybox init waits for SIGCHLD and SIGUSR2 with sigtimedwait while
    // they are blocked: they must be queued even for PID 1.
    let img = build_ext4("bbinit", "ext4", "32M", &[]);
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", &ubd]);
    g.wait_prompt();
    let first = g.run("echo $$");
    // The session leader's exit hangs up the console, which discards
    // typed-ahead input as Linux does: wait for the new shell first.
    g.send("exit\n");
    g.expect("Enter 'help'", EXIT_TIMEOUT);
    g.wait_prompt();
    let second = g.run("echo $$");
    assert_ne!(
        first.trim(),
        second.trim(),
        "a new shell should have been started"
    );
    g.send("poweroff\n");
    g.expect("Requesting system poweroff", EXIT_TIMEOUT);
    let st = g.wait_exit(EXIT_TIMEOUT).expect("no exit after poweroff");
    assert_eq!(st.code(), Some(0));
    let (code, out) = e2fsck(&img);
    assert_eq!(code, 0, "{out}");
}
