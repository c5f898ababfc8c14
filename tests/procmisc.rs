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

/// The keys of the first block of an smaps file (after its header line)
/// or of an smaps_rollup file, in order. ProtectionKey appears only on
/// hosts with memory protection keys, so it is left out.
fn block_keys(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .take_while(|l| !l.starts_with(|c: char| c.is_ascii_hexdigit()) || l.contains(':'))
        .map_while(|l| {
            let k = l.split(':').next()?;
            (!k.contains(' ') && l.contains(':')).then(|| k.to_string())
        })
        .filter(|k| k != "ProtectionKey")
        .collect()
}

/// Check one `Key:   NNNN kB` line as Linux lays it out: the key padded
/// to 16 columns, the number right-aligned in 8, then " kB".
fn assert_kb_line(l: &str) {
    assert!(l.ends_with(" kB") && l.len() >= 27, "bad kB line {l:?}");
    let (key, rest) = l.split_at(16);
    assert!(key.trim_end().ends_with(':'), "bad key in {l:?}");
    let num = &rest[..rest.len() - 3];
    assert!(
        num.len() >= 8 && num.trim_start().parse::<u64>().is_ok(),
        "bad number in {l:?}"
    );
}

/// Check an smaps text block by block; returns the sum of its Rss lines.
fn check_smaps(text: &str, host_keys: &[String]) -> u64 {
    let mut rss = 0;
    let mut blocks = 0;
    let mut keys: Vec<String> = Vec::new();
    let finish = |keys: &mut Vec<String>| {
        if !keys.is_empty() {
            assert_eq!(&keys[..], host_keys, "smaps keys differ from Linux's");
            keys.clear();
        }
    };
    for l in text.lines() {
        if l.starts_with(|c: char| c.is_ascii_hexdigit()) && !l.contains(':') || l.contains(" 00:")
        {
            // A maps-style header: range, perms, offset, dev, inode[, name].
            finish(&mut keys);
            let f: Vec<&str> = l.split_whitespace().collect();
            assert!(
                f.len() >= 5 && f[0].contains('-') && f[1].len() == 4,
                "bad header {l:?}"
            );
            blocks += 1;
            continue;
        }
        let key = l.split(':').next().unwrap_or("").to_string();
        if key == "VmFlags" {
            assert!(l.starts_with("VmFlags: ") && l.ends_with(' '), "bad {l:?}");
            for name in l["VmFlags:".len()..].split_whitespace() {
                assert!(name.len() == 2, "bad VmFlags name in {l:?}");
            }
        } else if key == "THPeligible" {
            assert_eq!(l.len(), 24, "bad {l:?}");
            assert!(l[16..].trim_start().parse::<u32>().is_ok(), "bad {l:?}");
        } else {
            assert_kb_line(l);
            if key == "Rss" {
                rss += l[16..l.len() - 3].trim().parse::<u64>().unwrap();
            }
        }
        keys.push(key);
    }
    finish(&mut keys);
    assert!(blocks > 2, "too few VMAs in smaps:\n{text}");
    rss
}

#[test]
fn proc_limits_and_smaps_are_laid_out_as_linux() {
    let mut g = Guest::boot_busybox("procmisc-proc");

    // limits: Linux's columns; the values are the reading task's.
    let host = std::fs::read_to_string("/proc/self/limits").unwrap();
    let got = g.run("sh -c 'ulimit -n 517; cat /proc/self/limits'");
    let (hl, gl): (Vec<&str>, Vec<&str>) = (host.lines().collect(), got.lines().collect());
    assert_eq!(gl.len(), hl.len(), "guest limits:\n{got}");
    for (h, l) in hl.iter().zip(&gl) {
        // Fixed columns: name 25, soft 20, hard 20, units 10 (none for
        // the two priorities, whose lines end after the hard column's
        // blank).
        assert_eq!(l.get(..26), h.get(..26), "limit names differ:\n{got}");
        if h.starts_with("Limit") {
            assert_eq!(l, h);
            continue;
        }
        assert_eq!(l.len(), h.len(), "line length of {l:?} (host {h:?})");
        for col in [&l[26..46], &l[47..67]] {
            let v = col.trim_end();
            assert!(
                v == "unlimited" || v.parse::<u64>().is_ok(),
                "bad value {col:?} in {l:?}"
            );
        }
        assert_eq!(&l[68..], &h[68..], "units of {l:?}");
    }
    let raw: Vec<&str> = got.lines().collect();
    let open = raw
        .iter()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    assert!(
        open[26..].starts_with("517 "),
        "soft NOFILE not the task's: {open:?}"
    );
    assert!(
        raw.iter()
            .any(|l| l.starts_with("Max nice priority") && l.ends_with("0                    ")),
        "the unit-less lines keep Linux's trailing blank column:\n{got:?}"
    );

    // smaps: every block has Linux's keys in Linux's order and layout.
    let host_smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let host_keys = block_keys(&host_smaps);
    assert!(host_keys.len() > 10, "{host_keys:?}");
    let smaps = g.run("cat /proc/1/smaps");
    let rss = check_smaps(&smaps, &host_keys);
    assert!(rss > 0, "init has no resident pages in smaps:\n{smaps}");

    // smaps_rollup: a [rollup] header, then the rollup's keys.
    let host_rollup = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap();
    let rollup = g.run("cat /proc/1/smaps_rollup");
    let first = rollup.lines().next().unwrap_or("");
    assert!(
        first.ends_with("[rollup]") && first.find("[rollup]") == Some(73),
        "{rollup}"
    );
    assert_eq!(
        block_keys(&rollup),
        block_keys(&host_rollup),
        "rollup keys:\n{rollup}"
    );
    let mut total = 0;
    for l in rollup.lines().skip(1) {
        assert_kb_line(l);
        if l.starts_with("Rss:") {
            total = l[16..l.len() - 3].trim().parse::<u64>().unwrap();
        }
    }
    assert_eq!(total, rss, "rollup Rss is the sum of smaps' Rss");
    g.send("poweroff -f\n");
    g.wait_exit(EXIT_TIMEOUT);
}

#[test]
fn sysrq_trigger_syncs_dumps_and_powers_off_cleanly() {
    let (mut g, img) = boot_ext4("procmisc-sysrq", &[]);
    assert_eq!(g.run("cat /proc/sys/kernel/sysrq").trim(), "1");
    // Root only: others cannot open it for writing (mode 0200, as Linux).
    let denied = g.run("su -s /bin/sh nobody -c 'echo s > /proc/sysrq-trigger' 2>&1; echo rc=$?");
    assert!(
        denied.contains("Permission denied") && !denied.contains("rc=0"),
        "{denied}"
    );
    // t and m dump into the kernel log.
    g.run("echo t > /proc/sysrq-trigger; echo m > /proc/sysrq-trigger");
    let log = g.run("dmesg");
    assert!(log.contains("sysrq: Show State"), "{log}");
    assert!(log.contains("task:init"), "{log}");
    assert!(log.contains("sysrq: Show Memory"), "{log}");
    // Write, sync, power off: vmlinux ends with 0 and the image is clean
    // and holds the file.
    g.run("echo sysrq-data > /root/sysrq.txt && echo s > /proc/sysrq-trigger");
    assert!(g.run("dmesg").contains("Emergency Sync complete"));
    g.send("echo o > /proc/sysrq-trigger\n");
    let st = g
        .wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|| panic!("vmlinux did not exit; output:\n{}", g.output()));
    assert_eq!(st.code(), Some(0), "output:\n{}", g.output());
    let (code, out) = e2fsck(&img);
    assert_eq!(code, 0, "e2fsck -fn:\n{out}");
    assert_eq!(debugfs_cat(&img, "/root/sysrq.txt"), b"sysrq-data\n");
}

#[test]
fn sysrq_b_reboots_at_once() {
    let (mut g, _img) = boot_ext4("procmisc-sysrq-b", &[]);
    g.send("echo b > /proc/sysrq-trigger\n");
    g.expect("sysrq: Resetting", EXIT_TIMEOUT);
    g.expect("reboot: Restarting system", EXIT_TIMEOUT);
    // The system comes up again to a shell in the same vmlinux.
    g.wait_prompt();
    assert_eq!(g.run("echo alive").trim(), "alive");
    g.send("poweroff -f\n");
    g.wait_exit(EXIT_TIMEOUT);
}
