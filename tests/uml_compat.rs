//! Disk images are interchangeable with real UML (Debian's linux.uml): an
//! ext4 image ruml wrote boots in UML, and what UML wrote reads back in
//! ruml; e2fsck stays clean in between.
//!
//! linux.uml 6.1 cannot start init on hosts with AMX (its FP register buffer
//! is smaller than the host's XSAVE area); bench/uml/xstate_shim.c, loaded
//! with LD_PRELOAD, pads that one ptrace call. See docs/performance.md.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

fn fsck_clean(img: &Path) {
    let (code, out) = e2fsck(img);
    assert_eq!(code, 0, "e2fsck -fn after the last boot:\n{out}");
}

fn power_off(g: &mut Guest, who: &str) {
    g.send("sync; poweroff -f\n");
    let st = g
        .wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|| panic!("{who} did not exit:\n{}", g.output()));
    assert!(st.success(), "{who} exit status {st:?}:\n{}", g.output());
}

#[test]
fn ext4_images_move_between_ruml_and_uml() {
    if !Path::new(UML).exists() {
        eprintln!("skipping: {UML} is not installed (apt-get install user-mode-linux)");
        return;
    }
    let img = build_ext4("umlcompat", "ext4", "64M", &[]);
    let ubd = format!("ubd0={}", img.display());

    // ruml writes.
    let mut g = Guest::boot(&["mem=256M", &ubd, "rw"]);
    g.wait_prompt();
    g.run("mkdir -p /data && seq 1 2000 > /data/from-ruml && ln -s from-ruml /data/link");
    assert_eq!(
        g.run("md5sum < /data/from-ruml")
            .split_whitespace()
            .next()
            .map(str::to_string),
        Some(seq_md5())
    );
    power_off(&mut g, "ruml");
    fsck_clean(&img);

    // UML reads it and writes too.
    let mut u = Guest::boot_uml("uml-shim", &["mem=128M", &ubd, "root=/dev/ubda", "rw"]);
    u.wait_prompt();
    assert_eq!(
        u.run("md5sum < /data/link")
            .split_whitespace()
            .next()
            .map(str::to_string),
        Some(seq_md5())
    );
    u.run("echo written-by-uml > /data/from-uml && mkdir /data/dir-uml");
    // A clean unmount: UML leaves its journal to replay otherwise.
    u.run("sync; mount -o remount,ro /");
    power_off(&mut u, "linux.uml");
    fsck_clean(&img);

    // ruml reads what UML wrote.
    let mut g = Guest::boot(&["mem=256M", &ubd, "rw"]);
    g.wait_prompt();
    assert_eq!(g.run("cat /data/from-uml").trim(), "written-by-uml");
    assert_eq!(g.run("test -d /data/dir-uml && echo dir").trim(), "dir");
    power_off(&mut g, "ruml");
    fsck_clean(&img);
}

/// md5 of `seq 1 2000`, computed on the host.
fn seq_md5() -> String {
    let out = Command::new("sh")
        .args(["-c", "seq 1 2000 | md5sum"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}
