//! Filesystems: the VFS core, permission checks, open files, tmpfs,
//! procfs, sysfs, pipes, devtmpfs, and hostfs.

pub mod cgroup;
pub mod devtmpfs_hotplug;
pub mod dnotify;
pub mod elf;
pub mod eventpoll;
pub mod ext4;
pub mod fanotify;
pub mod fhandle;
pub mod file;
pub mod fown;
pub mod hostfs;
pub mod inotify;
pub mod leases;
pub mod locks;
pub mod mount;
pub mod name;
pub mod permission;
pub mod pipe;
pub mod procfs;
pub mod setattr;
pub mod signalfd;
pub mod sysfs;
#[cfg(test)]
mod tests;
pub mod timerfd;
pub mod tmpfs;
pub mod tmpfs_options;
pub mod vfs;

use std::sync::Arc;
use vfs::{Inode, Owner, S_IFBLK, S_IFCHR, S_IFDIR};

/// devtmpfs: the device nodes the kernel provides.
pub fn new_devtmpfs() -> Arc<dyn Inode> {
    let root = tmpfs::new_fs(0o755);
    for d in crate::drivers::char::all() {
        let _ = root.create(&d.name, S_IFCHR | d.mode, d.rdev, Owner::ROOT);
    }
    for d in crate::drivers::block::all() {
        let _ = root.create(d.name(), S_IFBLK | 0o600, d.rdev(), Owner::ROOT);
    }
    let _ = root.create("pts", S_IFDIR | 0o755, 0, Owner::ROOT);
    // Everyone's POSIX shared memory (shm_open), sticky like /tmp.
    let _ = root.create("shm", S_IFDIR | 0o1777, 0, Owner::ROOT);
    let _ = root.symlink("fd", "/proc/self/fd", Owner::ROOT);
    let _ = root.symlink("stdin", "/proc/self/fd/0", Owner::ROOT);
    let _ = root.symlink("stdout", "/proc/self/fd/1", Owner::ROOT);
    let _ = root.symlink("stderr", "/proc/self/fd/2", Owner::ROOT);
    devtmpfs_hotplug::register(&root);
    root
}
