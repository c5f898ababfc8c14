//! /proc/sys tunables: read, written by root with Linux's value checks,
//! and acted on (hostname, fs.protected_symlinks, fs.protected_regular).

mod common;

use common::*;

#[test]
fn sysctls_are_read_written_and_honoured() {
    let initrd = build_initramfs("sysctl", &[]);
    let arg = format!("initrd={}", initrd.display());
    let mut g = Guest::boot(&["mem=256M", &arg]);
    g.wait_prompt();

    assert_eq!(g.run("cat /proc/sys/kernel/hostname").trim(), "(none)");
    g.run("echo sysbox > /proc/sys/kernel/hostname");
    assert_eq!(g.run("hostname").trim(), "sysbox");
    assert_eq!(
        g.run("sysctl fs.protected_symlinks").trim(),
        "fs.protected_symlinks = 1"
    );
    let bad = g.run("echo 3 > /proc/sys/fs/protected_regular; cat /proc/sys/fs/protected_regular");
    assert!(
        bad.contains("Invalid argument") && bad.trim_end().ends_with('0'),
        "{bad}"
    );

    // A link in sticky, world-writable /tmp owned by someone else is not
    // followed, not even by root, while fs.protected_symlinks is 1.
    g.run("ln -s /etc/passwd /tmp/l && chown -h nobody /tmp/l");
    let denied = g.run("cat /tmp/l 2>&1 | head -1");
    assert!(denied.contains("Permission denied"), "{denied}");
    g.run("echo 0 > /proc/sys/fs/protected_symlinks");
    assert!(g.run("head -1 /tmp/l").starts_with("root:"));

    // O_CREAT on someone else's file in /tmp with fs.protected_regular.
    g.run("touch /tmp/f && chown nobody /tmp/f");
    assert_eq!(g.run("echo a >> /tmp/f 2>&1; echo rc=$?").trim(), "rc=0");
    g.run("echo 1 > /proc/sys/fs/protected_regular");
    let denied = g.run("echo b >> /tmp/f 2>&1; echo rc=$?");
    assert!(
        denied.contains("Permission denied") && denied.contains("rc=1"),
        "{denied}"
    );
    // Opening without O_CREAT is not affected.
    assert_eq!(g.run("cat /tmp/f").trim(), "a");
    g.send("poweroff -f\n");
    g.wait_exit(std::time::Duration::from_secs(60))
        .expect("poweroff");
}
