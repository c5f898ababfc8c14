//! Filling an ext2/ext4 root until ENOSPC, then deleting what filled it:
//! the host's e2fsck must find the image clean (no leaked blocks, right
//! free counts and i_blocks) and `df` must show the space back, as with
//! Linux, which gives back what it allocated for a write that failed.
//! Each test builds and boots its own small image.

mod common;

use common::*;
use std::path::Path;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(120);

fn boot_rw(img: &Path) -> Guest {
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", &ubd, "root=/dev/ubda", "rw"]);
    g.wait_prompt();
    g
}

fn poweroff_and_fsck(mut g: Guest, img: &Path) {
    g.send("poweroff -f\n");
    let st = g
        .wait_exit(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("vmlinux did not exit; output:\n{}", g.output()));
    assert_eq!(st.code(), Some(0), "output:\n{}", g.output());
    let (code, out) = e2fsck(img);
    assert_eq!(code, 0, "e2fsck -fn reported problems:\n{out}");
}

/// Free 1 KiB blocks of `/` as `df` reports them.
fn df_free(g: &mut Guest) -> u64 {
    let out = g.run("df -k / | tail -1");
    let cols: Vec<&str> = out.split_whitespace().collect();
    cols.get(3)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("df: {out}"))
}

/// One big file until ENOSPC: the full image is clean (the file's size
/// and i_blocks agree with its blocks, nothing leaked), and after a
/// reboot rm gives all of it back.
fn big_file_until_full(fstype: &str) {
    let img = build_ext4(&format!("enospc-big-{fstype}"), fstype, "24M", &[]);
    let mut g = boot_rw(&img);
    let before = df_free(&mut g);
    let (out, st) = g.run_status_timeout("dd if=/dev/zero of=/big bs=1M 2>&1", LONG);
    assert_ne!(st, 0, "dd should fail with ENOSPC: {out}");
    assert!(out.contains("No space left on device"), "{out}");
    // The last write was short, as with Linux: the file holds what fitted
    // and the disk has (next to) nothing left (maybe a block that would
    // have needed an indirect or extent block to map).
    let free = g.run("stat -f -c %f /");
    assert!(free.trim().parse::<u64>().unwrap() < 2, "{free}");
    let stat = g.run("stat -c '%s %b %B' /big");
    let v: Vec<u64> = stat
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(v.len() == 3 && v[0] > 0, "{stat}");
    // i_blocks covers at least the data (more with indirect/index blocks).
    assert!(v[1] * v[2] >= v[0], "{stat}");
    let (out, st) = g.run_status_timeout("sync && echo ok", LONG);
    assert_eq!(st, 0, "{out}");
    poweroff_and_fsck(g, &img);

    let mut g = boot_rw(&img);
    let (out, st) = g.run_status_timeout("rm /big && sync && echo ok", LONG);
    assert_eq!(st, 0, "{out}");
    let after = df_free(&mut g);
    assert_eq!(after, before, "df after rm: {}", g.run("df -k /"));
    poweroff_and_fsck(g, &img);
}

#[test]
fn ext4_big_file_until_enospc_then_rm_is_clean() {
    big_file_until_full("ext4");
}

#[test]
fn ext2_big_file_until_enospc_then_rm_is_clean() {
    big_file_until_full("ext2");
}

/// Block-mapped with a journal: blocks freed wait for the commit.
#[test]
fn ext3_big_file_until_enospc_then_rm_is_clean() {
    big_file_until_full("ext3");
}

/// Many small files (and a directory growing) until ENOSPC, then rm.
fn small_files_until_full(fstype: &str) {
    let img = build_ext4(&format!("enospc-small-{fstype}"), fstype, "16M", &[]);
    let mut g = boot_rw(&img);
    let before = df_free(&mut g);
    let (out, st) = g.run_status_timeout(
        "mkdir /d && i=0; while dd if=/dev/zero of=/d/f$i bs=6000 count=1 2>/dev/null; \
         do i=$((i+1)); done; echo files=$i",
        LONG,
    );
    assert_eq!(st, 0, "{out}");
    assert!(out.contains("files="), "{out}");
    let (out, st) = g.run_status_timeout("rm -r /d && sync && echo ok", LONG);
    assert_eq!(st, 0, "{out}");
    let after = df_free(&mut g);
    assert_eq!(after, before, "df after rm: {}", g.run("df -k /"));
    poweroff_and_fsck(g, &img);
}

#[test]
fn ext4_small_files_until_enospc_then_rm_is_clean() {
    small_files_until_full("ext4");
}

#[test]
fn ext2_small_files_until_enospc_then_rm_is_clean() {
    small_files_until_full("ext2");
}
