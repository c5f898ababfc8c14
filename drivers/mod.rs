//! Device drivers, each split into a kernel half and a host half.
//! `open_device` maps a device number to its open-file operations.

pub mod block;
pub mod char;
pub mod fs;
pub mod gdb;
pub mod mconsole;
pub mod net;

use crate::fs::file::FileOps;
use crate::fs::vfs::{S_IFBLK, S_IFCHR};
use crate::kernel::errno::{Errno, KResult};
use std::sync::Arc;

pub fn major(rdev: u64) -> u32 {
    ((rdev >> 8) & 0xfff) as u32
}
pub fn minor(rdev: u64) -> u32 {
    ((rdev & 0xff) | ((rdev >> 12) & 0xfff00)) as u32
}
pub fn mkdev(major: u32, minor: u32) -> u64 {
    ((major as u64 & 0xfff) << 8) | (minor as u64 & 0xff) | ((minor as u64 & !0xff) << 12)
}

/// Open the device `rdev` of type S_IFCHR or S_IFBLK with open(2) `flags`.
pub fn open_device(kind: u32, rdev: u64, flags: u32) -> KResult<Arc<dyn FileOps>> {
    match kind {
        S_IFCHR => char::open(major(rdev), minor(rdev)),
        S_IFBLK => block::blkdev_file::open(rdev, flags),
        _ => Err(Errno::ENODEV),
    }
}
