//! Filesystems: the VFS core, permission checks, open files, tmpfs,
//! procfs, pipes, and a minimal sysfs and devtmpfs.

pub mod elf;
pub mod eventpoll;
pub mod ext4;
pub mod file;
pub mod permission;
pub mod pipe;
pub mod procfs;
pub mod setattr;
pub mod signalfd;
pub mod tmpfs;
pub mod vfs;

use crate::drivers::mkdev;
use crate::kernel::errno::{Errno, KResult};
use std::sync::Arc;
use vfs::{Inode, Owner, S_IFBLK, S_IFCHR, S_IFDIR, S_IFREG};

/// A new instance of filesystem `fstype` (mount(2)).
pub fn make_fs(fstype: &str, _source: &str) -> KResult<Arc<dyn Inode>> {
    match fstype {
        "tmpfs" | "ramfs" => Ok(tmpfs::new_fs(0o1777)),
        "proc" => Ok(procfs::new_fs()),
        "sysfs" => Ok(new_sysfs()),
        "devtmpfs" => Ok(new_devtmpfs()),
        "devpts" => Ok(crate::tty::devpts::root()),
        _ => Err(Errno::ENODEV),
    }
}

/// sysfs: the directory skeleton tools look for.
fn new_sysfs() -> Arc<dyn Inode> {
    let root = tmpfs::new_fs_magic(0o755, vfs::SYSFS_MAGIC);
    for d in [
        "block", "bus", "class", "dev", "devices", "firmware", "fs", "kernel", "module", "power",
    ] {
        let _ = root.create(d, S_IFDIR | 0o755, 0, Owner::ROOT);
    }
    if let Ok(block) = root.lookup("block") {
        add_sysfs_block(&block);
    }
    root
}

/// /sys/block/<disk>/{size,dev,ro} and <disk>/<partition>/{size,dev,start}:
/// what lsblk-style tools read. Sizes are in 512-byte sectors.
fn add_sysfs_block(block: &Arc<dyn Inode>) {
    use crate::drivers::{block as blk, major, minor};
    let file = |dir: &Arc<dyn Inode>, name: &str, text: String| {
        if let Ok(f) = dir.create(name, S_IFREG | 0o444, 0, Owner::ROOT) {
            let _ = f.write_at(0, text.as_bytes());
        }
    };
    let mut disk_dir: Option<Arc<dyn Inode>> = None;
    for d in blk::all() {
        let sectors = d.size() / blk::SECTOR_SIZE;
        let dev = format!("{}:{}\n", major(d.rdev()), minor(d.rdev()));
        let is_part = minor(d.rdev()) % 16 != 0;
        let parent = match (&disk_dir, is_part) {
            (Some(p), true) => p.clone(),
            _ => block.clone(),
        };
        let Ok(dir) = parent.create(d.name(), S_IFDIR | 0o755, 0, Owner::ROOT) else {
            continue;
        };
        file(&dir, "size", format!("{sectors}\n"));
        file(&dir, "dev", dev);
        file(&dir, "ro", format!("{}\n", d.read_only() as u8));
        if !is_part {
            disk_dir = Some(dir);
        }
    }
}

/// devtmpfs: the device nodes the kernel provides.
pub fn new_devtmpfs() -> Arc<dyn Inode> {
    let root = tmpfs::new_fs(0o755);
    let nodes: &[(&str, u32, u32, u32)] = &[
        ("null", 1, 3, 0o666),
        ("zero", 1, 5, 0o666),
        ("full", 1, 7, 0o666),
        ("random", 1, 8, 0o666),
        ("urandom", 1, 9, 0o666),
        ("kmsg", 1, 11, 0o644),
        ("tty", 5, 0, 0o666),
        ("console", 5, 1, 0o600),
        ("ptmx", 5, 2, 0o666),
    ];
    for &(name, maj, min, mode) in nodes {
        let _ = root.create(name, S_IFCHR | mode, mkdev(maj, min), Owner::ROOT);
    }
    for d in crate::drivers::block::all() {
        let _ = root.create(d.name(), S_IFBLK | 0o660, d.rdev(), Owner::ROOT);
    }
    // Console and serial lines.
    let (cons, serials) = crate::drivers::char::line::counts();
    for i in 0..cons {
        let _ = root.create(
            &format!("tty{i}"),
            S_IFCHR | 0o620,
            mkdev(4, i),
            Owner::ROOT,
        );
    }
    for i in 0..serials {
        let _ = root.create(
            &format!("ttyS{i}"),
            S_IFCHR | 0o660,
            mkdev(4, 64 + i),
            Owner::ROOT,
        );
    }
    let _ = root.create("pts", S_IFDIR | 0o755, 0, Owner::ROOT);
    // Everyone's POSIX shared memory (shm_open), sticky like /tmp.
    let _ = root.create("shm", S_IFDIR | 0o1777, 0, Owner::ROOT);
    let _ = root.symlink("fd", "/proc/self/fd", Owner::ROOT);
    let _ = root.symlink("stdin", "/proc/self/fd/0", Owner::ROOT);
    let _ = root.symlink("stdout", "/proc/self/fd/1", Owner::ROOT);
    let _ = root.symlink("stderr", "/proc/self/fd/2", Owner::ROOT);
    root
}
