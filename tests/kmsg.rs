//! The kernel log: dmesg (syslog(2)), /dev/kmsg, `quiet` and `loglevel=`.

mod common;

use common::*;

fn boot(name: &str, extra: &[&str]) -> Guest {
    let initrd = build_initramfs(name, &[]);
    let mut g = Guest::boot_initramfs(&initrd, extra);
    g.wait_prompt();
    g
}

#[test]
fn dmesg_shows_the_boot_log() {
    let mut g = boot("kmsg-dmesg", &[]);
    let out = g.run("dmesg");
    assert!(out.contains("] Linux version "), "{out}");
    assert!(out.contains("] Run /init as init process"), "{out}");
    // Raw mode keeps the <level> prefixes.
    let raw = g.run("dmesg -r | head -1");
    assert!(raw.starts_with("<6>["), "{raw}");
    // Clearing empties what dmesg shows.
    g.run("dmesg -c >/dev/null");
    assert_eq!(g.run("dmesg | wc -l").trim(), "0");
}

#[test]
fn kmsg_reads_records_and_takes_writes() {
    let mut g = boot("kmsg-dev", &[]);
    let first = g.run("head -n 1 /dev/kmsg");
    assert!(
        first.starts_with("6,0,") && first.contains(";Linux version"),
        "{first}"
    );
    g.run("echo '<5>note-from-user' > /dev/kmsg");
    let out = g.run("dmesg -r | grep note-from-user");
    assert!(out.starts_with("<13>["), "{out}");
    let rec = g.run("grep -m1 note-from-user /dev/kmsg");
    assert!(rec.starts_with("13,"), "{rec}");
}

#[test]
fn quiet_keeps_info_off_the_console() {
    let mut g = boot("kmsg-quiet", &["quiet"]);
    let console = g.output();
    assert!(!console.contains("Linux version"), "{console}");
    // ... but in the log.
    assert!(g.run("dmesg").contains("Linux version"));
    // Warnings and worse still reach the console.
    g.send("echo '<3>an-error' > /dev/kmsg\n");
    g.expect("] an-error", std::time::Duration::from_secs(20));
}

#[test]
fn loglevel_and_console_level() {
    let mut g = boot("kmsg-level", &["loglevel=1"]);
    assert!(!g.output().contains("Linux version"));
    g.run("dmesg -n 8");
    g.send("echo '<6>now-shown' > /dev/kmsg\n");
    g.expect("] now-shown", std::time::Duration::from_secs(20));
}

#[test]
fn partial_syscalls_are_logged_once_off_the_console() {
    let mut g = boot("kmsg-syscalls", &[]);
    // The shell's ioctls (a partial syscall: the commands files do not
    // know are ENOTTY) are recorded once, at KERN_DEBUG, whatever the count.
    g.run("stty -a >/dev/null; stty -a >/dev/null");
    assert!(!g.output().contains("partial syscall"), "{}", g.output());
    let n = g.run("dmesg -r | grep -c '^<7>.*ruml: partial syscall ioctl (16): '");
    assert_eq!(n.trim(), "1");
}

/// syslog(2)'s READ sleeps until something is logged: a signal ends it
/// with EINTR, or with SA_RESTART it goes on and returns the new line.
#[test]
fn syslog_read_sleeps_and_signals_end_or_restart_it() {
    let dir = test_dir("kmsg-read-build");
    let bin = dir.join("syslogread");
    compile_c(
        &repo_root().join("tests/guest/syslogread.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs("kmsg-read", &[(bin.as_path(), "/bin/syslogread")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (out, status) = g.run_status_timeout("/bin/syslogread", std::time::Duration::from_secs(60));
    assert!(out.contains("unread 0"), "{out}");
    assert!(
        out.contains("read, signal without SA_RESTART: Interrupted system call"),
        "{out}"
    );
    assert!(
        out.contains("read, signal with SA_RESTART: got user-note 1"),
        "{out}"
    );
    assert!(out.contains("syslogread done"), "{out}");
    assert_eq!(status, 0, "{out}");
}
