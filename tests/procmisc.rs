//! Process and memory odds and ends: SIGBUS past the end of a mapped file
//! (tmpfs and the ext4 root, compared with a native run), the formats of
//! /proc/PID/limits, smaps and smaps_rollup, and /proc/sysrq-trigger.
//! Each test builds and boots its own image.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const RUN_TIMEOUT: Duration = Duration::from_secs(120);
const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// tests/guest/procmisc.c built (dynamic glibc) into `test_dir(name)`.
fn build_guest_prog(name: &str) -> PathBuf {
    let dir = test_dir(name);
    let bin = dir.join("procmisc");
    compile_c(&repo_root().join("tests/guest/procmisc.c"), &bin, &[]);
    bin
}

/// Boot a fresh ext4 image holding `adds`, read-write, at the prompt.
fn boot_ext4(name: &str, adds: &[(&Path, &str)]) -> (Guest, PathBuf) {
    let img = build_ext4(name, "ext4", "64M", adds);
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", ubd.as_str()]);
    g.wait_prompt();
    (g, img)
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(|l| l.trim_end().to_string()).collect()
}

#[test]
fn sigbus_past_eof_matches_native_on_tmpfs_and_ext4() {
    let bin = build_guest_prog("procmisc-bus-build");
    let host_dir = test_dir("procmisc-bus-native");
    let native = Command::new(&bin)
        .arg(&host_dir)
        .stdin(Stdio::null())
        .output()
        .expect("running procmisc natively");
    let want = String::from_utf8_lossy(&native.stdout).into_owned();
    assert!(
        native.status.success() && want.contains("procmisc done"),
        "native run failed:\n{want}"
    );
    assert!(want.contains("read past eof: sig SIGBUS code BUS_ADRERR addr exact"));

    let (mut g, _img) = boot_ext4("procmisc-bus", &[(bin.as_path(), "/bin/procmisc")]);
    g.run("mkdir -p /tmpfs /root/pm && mount -t tmpfs none /tmpfs");
    for dir in ["/tmpfs", "/root/pm"] {
        let (got, status) = g.run_status_timeout(&format!("/bin/procmisc {dir}"), RUN_TIMEOUT);
        assert_eq!(
            lines(&got),
            lines(&want),
            "on {dir} (exit status {status}); native:\n{want}\nguest:\n{got}"
        );
        assert_eq!(status, 0);
    }
    g.send("poweroff -f\n");
    g.wait_exit(EXIT_TIMEOUT);
}
