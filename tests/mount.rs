//! Mounting as Linux does it: /proc/mounts and mountinfo, per-mount flags
//! (ro, nosuid, nodev, noexec, atime policy), tmpfs and ext4 options,
//! remounts, bind mounts, statfs, access times; compared with real UML (linux.uml) on
//! the same image. Also rootflags= and the periodic ext4 commit.

mod common;

use common::*;
use std::path::Path;
use std::time::Duration;

const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// What a kernel printed from the script's first mark to its end, without
/// kernel log lines and with anonymous device numbers (0:N) made equal.
fn script_output(all: &str) -> String {
    let start = all
        .find("== 1")
        .unwrap_or_else(|| panic!("no output:\n{all}"));
    let end = all
        .find("== end")
        .unwrap_or_else(|| panic!("unfinished:\n{all}"));
    all[start..end]
        .lines()
        .filter(|l| !l.contains("EXT4-fs (") && !l.trim().is_empty())
        .map(|l| {
            l.split(' ')
                .map(|w| {
                    let anon = w
                        .strip_prefix("0:")
                        .is_some_and(|n| n.parse::<u32>().is_ok());
                    if anon {
                        "0:N"
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_script(program: &Path, env: &[(&str, &str)], img: &Path, extra: &[&str]) -> String {
    let ubd = format!("ubd0={}", img.display());
    let mut args = vec![
        "mem=256M",
        ubd.as_str(),
        "root=/dev/ubda",
        "rw",
        "init=/mounts.sh",
        "con0=fd:0,fd:1",
        "con=null",
        "ssl=null",
    ];
    args.extend_from_slice(extra);
    let mut g = Guest::spawn(program, &args, env);
    g.wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|| panic!("{} did not power off:\n{}", program.display(), g.output()));
    script_output(&g.output())
}

#[test]
fn mount_table_and_flags_match_uml() {
    let script = repo_root().join("tests/guest/mounts.sh");
    let img = build_ext4("mounts", "ext4", "64M", &[(&script, "/mounts.sh")]);
    let ours = img.with_file_name("ruml.img");
    std::fs::copy(&img, &ours).unwrap();
    let ruml = run_script(&vmlinux(), &[], &ours, &[]);

    // Checks that hold without UML, so the test means something anywhere.
    for line in [
        "/dev/root / ext4 rw,relatime 0 0",
        "98:0 / / rw,relatime - ext4 /dev/root rw",
        "tmpfs /mnt tmpfs rw,relatime,size=1024k,nr_inodes=100,mode=700 0 0",
        "tmpfs /mnt tmpfs rw,nosuid,noexec,relatime,size=2048k,nr_inodes=100,mode=700 0 0",
        "tmpfs 256 4096 100",
        "proc 0",
        "/dev/root / ext4 ro,noatime 0 0",
        "/dev/root / ext4 rw,noatime,errors=remount-ro,commit=30 0 0",
        "/sub /mnt rw,relatime - tmpfs t rw",
        "t /mnt tmpfs ro,relatime 0 0",
        "relatime: first read after a change moves atime",
        "relatime: second read keeps it",
        "strictatime: every read moves it",
        "noatime: reads never move it",
    ] {
        assert!(
            ruml.lines().any(|l| l == line),
            "missing {line:?} in:\n{ruml}"
        );
    }
    assert!(
        ruml.contains("can't create /mnt/g: Read-only file system"),
        "{ruml}"
    );
    assert!(ruml.contains("/mnt/bb: Permission denied"), "{ruml}");
    assert!(
        ruml.contains("can't create /mnt/null: Permission denied"),
        "{ruml}"
    );

    if !Path::new(UML).exists() {
        eprintln!("skipping the UML half: {UML} is not installed");
        return;
    }
    let shim = uml_shim("mounts-shim");
    let preload = shim.display().to_string();
    let uml = run_script(
        Path::new(UML),
        &[("LD_PRELOAD", preload.as_str())],
        &img,
        &[],
    );
    assert_eq!(ruml, uml, "ruml:\n{ruml}\n\nlinux.uml:\n{uml}");
}

#[test]
fn rootflags_apply_to_the_root_mount() {
    let img = build_ext4("rootflags", "ext4", "32M", &[]);
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", &ubd, "rootflags=errors=remount-ro,noatime"]);
    g.wait_prompt();
    let line = g.run("grep ' / ' /proc/mounts");
    assert_eq!(
        line.trim(),
        "/dev/root / ext4 rw,noatime,errors=remount-ro 0 0",
        "{}",
        g.output()
    );
    g.send("poweroff -f\n");
    g.wait_exit(EXIT_TIMEOUT).expect("poweroff");

    // A word ext4 does not know stops the boot with a message, as Linux.
    let mut g = Guest::boot(&["mem=256M", &ubd, "rootflags=bogus"]);
    let st = g.wait_exit(EXIT_TIMEOUT).expect("vmlinux must stop");
    assert!(!st.success(), "{}", g.output());
    assert!(
        g.output().contains("Unrecognized mount option \"bogus\""),
        "{}",
        g.output()
    );
}

/// Written data reaches the disk by itself within commit= seconds: after
/// a kill -9 (no sync, no fsync), journal replay brings it back.
#[test]
fn periodic_commit_makes_writes_durable_without_sync() {
    let img = build_ext4("commit", "ext4", "32M", &[]);
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", &ubd]);
    g.wait_prompt();
    g.run("mount -o remount,commit=1 /");
    g.run("echo committed-by-timer > /root/note");
    // Far longer than the commit interval; the host write needs no more.
    g.run("sleep 10");
    g.kill(libc::SIGKILL);
    g.wait_exit(EXIT_TIMEOUT);
    let out = std::process::Command::new("e2fsck")
        .arg("-fy")
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.code().unwrap_or(8) <= 1, "{:?}", out);
    assert_eq!(debugfs_cat(&img, "/root/note"), b"committed-by-timer\n");
}

/// A setuid program runs with its owner's ids, except from a filesystem
/// mounted nosuid.
#[test]
fn nosuid_mounts_ignore_setuid_bits() {
    let dir = test_dir("nosuid-src");
    let bin = dir.join("perm");
    compile_c(&repo_root().join("tests/guest/perm.c"), &bin, &["-static"]);
    let img = build_ext4("nosuid", "ext4", "32M", &[(&bin, "/bin/perm")]);
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", &ubd]);
    g.wait_prompt();
    g.run("mount -t tmpfs -o mode=755 t /mnt && cp /bin/perm /mnt/ && chmod 4755 /mnt/perm");
    let whoami = "su -s /bin/sh nobody -c '/mnt/perm --whoami'";
    let out = g.run(whoami);
    assert!(
        out.contains("uid=65534/0/0 ") && out.contains("secure=1"),
        "{out}"
    );
    g.run("mount -o remount,nosuid /mnt");
    let out = g.run(whoami);
    assert!(
        out.contains("uid=65534/65534/65534 ") && out.contains("secure=0"),
        "{out}"
    );
    g.send("poweroff -f\n");
    g.wait_exit(EXIT_TIMEOUT).expect("poweroff");
}
