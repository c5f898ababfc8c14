//! A real distribution: Debian bookworm built by rootfs/mkdebian.sh
//! (debootstrap, sysvinit) boots from its ext4 image to a login prompt on
//! the console, runs its own tools (dpkg, useradd, su, perl), and powers
//! off through its shutdown scripts, leaving a clean filesystem.
//!
//! Needs debootstrap and the Debian mirror; when either is missing the
//! test says so and skips (rootfs/host-deps.sh --with-debian installs it).

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(120);

#[test]
fn debian_boots_to_login_and_powers_off() {
    if !Path::new("/usr/sbin/debootstrap").exists() {
        eprintln!("skipping: debootstrap is not installed (rootfs/host-deps.sh --with-debian)");
        return;
    }
    let dir = test_dir("debian");
    let img = dir.join("debian.img");
    let out = Command::new(repo_root().join("rootfs/mkdebian.sh"))
        .arg(&img)
        .arg("1G")
        .output()
        .expect("running rootfs/mkdebian.sh");
    if !out.status.success() {
        // debootstrap runs on the host: its failure is the mirror's or
        // the network's, not the kernel's.
        eprintln!(
            "skipping: rootfs/mkdebian.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=512M", &ubd]);
    // sysvinit's rcS: fsck of the root, remount rw, local mounts; then
    // runlevel 2 and a getty on the console.
    g.expect("INIT: Entering runlevel: 2", LONG);
    g.expect("login: ", LONG);
    g.send("root\n");
    g.expect("# ", LONG);
    g.send("export PS1='# '; bind 'set enable-bracketed-paste off' 2>/dev/null\n");
    g.wait_prompt();
    assert!(g.run("cat /etc/debian_version").trim().starts_with("12."));
    let ps = g.run("ps -e -o comm");
    assert!(ps.contains("init") && ps.contains("bash"), "{ps}");
    let mounts = g.run("grep ' / ' /proc/mounts");
    assert!(mounts.contains("rw,relatime,errors=remount-ro"), "{mounts}");
    let pkgs: usize = g.run("dpkg -l | grep -c ^ii").trim().parse().unwrap();
    assert!(pkgs > 50, "{pkgs} packages");
    assert_eq!(g.run("perl -e 'print 6*7, qq(\\n)'").trim(), "42");
    // Users and permissions with Debian's own tools.
    g.run("useradd -m bob");
    let bob = g.run("su - bob -c 'id -u; echo mine > ~/f; cat ~/f; touch /etc/x' 2>&1");
    assert!(bob.contains("1000") && bob.contains("mine"), "{bob}");
    assert!(bob.contains("Permission denied"), "{bob}");
    g.run("echo kept > /root/kept");
    g.send("poweroff\n");
    let st = g
        .wait_exit(LONG)
        .unwrap_or_else(|| panic!("Debian did not power off:\n{}", g.output()));
    assert_eq!(st.code(), Some(0), "{}", g.output());
    let (code, fsck) = e2fsck(&img);
    assert_eq!(code, 0, "{fsck}");
    assert_eq!(debugfs_cat(&img, "/root/kept"), b"kept\n");
    assert_eq!(debugfs_cat(&img, "/home/bob/f"), b"mine\n");
    boot_as_unprivileged_host_user(&img);
}

/// The same image booted by an unprivileged host user (uid 65534, when the
/// tests run as root): Debian comes up, its guest processes live in
/// confined host processes (no_new_privs, seccomp), and it powers off
/// cleanly.
fn boot_as_unprivileged_host_user(img: &Path) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return; // the boot above already ran unprivileged
    }
    std::os::unix::fs::chown(img, Some(UNPRIVILEGED_UID), Some(UNPRIVILEGED_UID))
        .expect("chown image");
    let ubd = format!("ubd0={}", img.display());
    let mut g = boot_unprivileged(&["mem=512M", &ubd]);
    g.expect("login: ", LONG);
    g.send("root\n");
    g.expect("# ", LONG);
    g.send("export PS1='# '; bind 'set enable-bracketed-paste off' 2>/dev/null\n");
    g.wait_prompt();
    assert_eq!(g.run("cat /root/kept").trim(), "kept");
    let bob = g.run("su - bob -c 'cat ~/f; id -u'");
    assert!(bob.contains("mine") && bob.contains("1000"), "{bob}");
    assert_confined_unprivileged(g.pid(), 3);
    g.send("poweroff\n");
    let st = g
        .wait_exit(LONG)
        .unwrap_or_else(|| panic!("Debian did not power off:\n{}", g.output()));
    assert_eq!(st.code(), Some(0), "{}", g.output());
    let (code, fsck) = e2fsck(img);
    assert_eq!(code, 0, "{fsck}");
}
