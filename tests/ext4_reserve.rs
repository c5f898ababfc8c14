//! Reserved blocks (s_r_blocks_count, `mke2fs -m 5`): an unprivileged
//! user filling an ext2/ext4 filesystem gets ENOSPC while the reserve is
//! still free, so root can go on writing (logs, su, package tools), as
//! Linux's ext4_has_free_clusters / ext2_has_free_blocks allow. Each test
//! builds and boots its own small image and checks it with e2fsck after.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(120);

/// Run `cmd` as `nobody` (uid 65534, no capabilities).
fn as_nobody(cmd: &str) -> String {
    format!("su -s /bin/sh nobody -c '{cmd}'")
}

/// The superblock's reserved block count, read on the host.
fn reserved_blocks(img: &Path) -> u64 {
    let out = Command::new("dumpe2fs")
        .arg("-h")
        .arg(img)
        .output()
        .expect("dumpe2fs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Reserved block count:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("dumpe2fs -h: {text}"))
}

/// Free and available blocks of `/` (statfs f_bfree, f_bavail).
fn free_avail(g: &mut Guest) -> (u64, u64) {
    let out = g.run("stat -f -c '%f %a' /");
    let v: Vec<u64> = out
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    assert_eq!(v.len(), 2, "stat -f: {out}");
    (v[0], v[1])
}

fn reserve_kept_for_root(fstype: &str) {
    let img = build_ext4(&format!("reserve-{fstype}"), fstype, "32M", &[]);
    // Explicitly 5%, whatever the host's mke2fs.conf says.
    let st = Command::new("tune2fs")
        .args(["-m", "5"])
        .arg(&img)
        .output()
        .expect("tune2fs");
    assert!(st.status.success(), "tune2fs -m 5: {st:?}");
    let reserved = reserved_blocks(&img);
    assert!(reserved > 300, "reserved blocks: {reserved}");

    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", &ubd, "root=/dev/ubda", "rw"]);
    g.wait_prompt();
    g.run("mkdir /pub && chmod 1777 /pub");

    // nobody fills the disk: ENOSPC once only the reserve is left.
    let cmd = as_nobody("dd if=/dev/zero of=/pub/big bs=1M 2>&1");
    let (out, st) = g.run_status_timeout(&cmd, LONG);
    assert_ne!(st, 0, "dd should fail with ENOSPC: {out}");
    assert!(out.contains("No space left on device"), "{out}");
    let (free, avail) = free_avail(&mut g);
    assert!(
        free >= reserved,
        "nobody took reserved blocks: {free} free, {reserved} reserved"
    );
    // ... and everything else (maybe a block short of an extent or
    // indirect block it would have needed to map the last one).
    assert!(avail < 2, "{free} free, {avail} available");
    let big = g.run("stat -c %s /pub/big");
    assert!(big.trim().parse::<u64>().unwrap() > 0, "{big}");
    // A new directory needs a block too: not from the reserve for nobody.
    let (out, st) = g.run_status(&as_nobody("mkdir /pub/d 2>&1"));
    assert_ne!(st, 0, "mkdir as nobody should fail: {out}");
    assert!(out.contains("No space left on device"), "{out}");

    // resuid= gives the reserve to another user, as s_def_resuid would.
    let (out, st) = g.run_status("mount -o remount,resuid=65534 / && grep resuid /proc/mounts");
    assert_eq!(st, 0, "{out}");
    let (out, st) = g.run_status_timeout(
        &as_nobody("dd if=/dev/zero of=/pub/more bs=64k count=1 2>&1"),
        LONG,
    );
    assert_eq!(st, 0, "resuid=65534 did not let nobody write: {out}");
    let (out, st) = g.run_status("mount -o remount,resuid=0 / && rm /pub/more && echo ok");
    assert_eq!(st, 0, "{out}");

    // root still writes: data, a directory and its entries.
    let (out, st) = g.run_status_timeout(
        "dd if=/dev/zero of=/root.log bs=64k count=4 2>&1 && mkdir /rootdir && \
         touch /rootdir/a /rootdir/b && sync && echo ok",
        LONG,
    );
    assert_eq!(st, 0, "root could not write into the reserve: {out}");
    assert_eq!(g.run("stat -c %s /root.log").trim(), "262144");

    let (out, st) = g.run_status_timeout(
        &format!(
            "{} && rm -r /root.log /rootdir && sync && echo ok",
            as_nobody("rm /pub/big")
        ),
        LONG,
    );
    assert_eq!(st, 0, "{out}");
    g.send("poweroff -f\n");
    let st = g
        .wait_exit(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("vmlinux did not exit; output:\n{}", g.output()));
    assert_eq!(st.code(), Some(0), "output:\n{}", g.output());
    let (code, out) = e2fsck(&img);
    assert_eq!(code, 0, "e2fsck -fn reported problems:\n{out}");
}

#[test]
fn ext4_reserved_blocks_are_kept_for_root() {
    reserve_kept_for_root("ext4");
}

#[test]
fn ext2_reserved_blocks_are_kept_for_root() {
    reserve_kept_for_root("ext2");
}
