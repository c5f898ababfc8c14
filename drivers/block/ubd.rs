//! ubd: UML's block device over a host file. `ubd<N>[rsdc]=file` becomes
//! /dev/ubd<a+N> (major 98, minor N*16; MBR partitions at minor +1..15).
//!
//! I/O is synchronous on the vCPU: the kernel's blocking model is "sleep
//! and run the syscall again", which does not fit a request that is half
//! done, so a read or write simply waits for the host. Host helper threads
//! with a completion interrupt (as UML has) can come behind the same
//! `BlockDevice` trait.

use super::ubd_host::{HostDisk, OpenError};
use super::BlockDevice;
use crate::init::cmdline::UbdSpec;
use crate::kernel::errno::{Errno, KResult};
use std::sync::Arc;

pub const UBD_MAJOR: u32 = 98;

pub struct Ubd {
    name: String,
    rdev: u64,
    read_only: bool,
    host: HostDisk,
    /// The host file's name, for messages.
    file: String,
}

fn io_error(name: &str, what: &str, off: u64, e: std::io::Error) -> Errno {
    log::error!("blk_update_request: I/O error, dev {name}, {what} at byte {off}: {e}");
    Errno::EIO
}

impl BlockDevice for Ubd {
    fn name(&self) -> &str {
        &self.name
    }
    fn rdev(&self) -> u64 {
        self.rdev
    }
    fn size(&self) -> u64 {
        self.host.size()
    }
    fn read_only(&self) -> bool {
        self.read_only
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        super::check_range(&self.name, self.size(), off, buf.len())?;
        self.host
            .read_at(off, buf)
            .map_err(|e| io_error(&self.name, "read", off, e))
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        super::check_range(&self.name, self.size(), off, buf.len())?;
        self.host
            .write_at(off, buf)
            .map_err(|e| io_error(&self.name, "write", off, e))
    }
    fn flush(&self) -> KResult<()> {
        if self.read_only {
            return Ok(());
        }
        self.host
            .sync()
            .map_err(|e| io_error(&self.name, "flush", 0, e))
    }
}

/// "ubda" for 0, ..., "ubdh" for 7.
pub fn disk_name(index: u8) -> String {
    format!("ubd{}", (b'a' + index) as char)
}

/// Open every configured ubd's host file, taking its lock. Runs before
/// anything boots: an error here is one line for stderr, and vmlinux exits
/// with status 2.
pub fn open_all(specs: &[UbdSpec]) -> Result<Vec<Ubd>, String> {
    let mut specs: Vec<&UbdSpec> = specs.iter().collect();
    specs.sort_by_key(|s| s.index);
    let mut disks = Vec::new();
    for s in specs {
        let word = format!("ubd{}", s.index);
        if s.backing.is_some() {
            return Err(format!(
                "{word}: COW files are not supported yet (got {},{}); use the backing image directly",
                s.file.display(),
                s.backing.as_ref().map(|b| b.display().to_string()).unwrap_or_default()
            ));
        }
        let host = match HostDisk::open(&s.file, s.read_only, s.sync, s.shared) {
            Ok(h) => h,
            Err(OpenError::Locked) => {
                return Err(format!(
                    "{word}: {} is in use by another instance (it is locked); give {word}c= to share it on purpose",
                    s.file.display()
                ))
            }
            Err(OpenError::Io(e)) => {
                return Err(format!("{word}: cannot open {}: {e}", s.file.display()))
            }
        };
        let name = disk_name(s.index);
        let ubd = Ubd {
            rdev: crate::drivers::mkdev(UBD_MAJOR, s.index as u32 * 16),
            name,
            read_only: s.read_only,
            host,
            file: s.file.display().to_string(),
        };
        disks.push(ubd);
    }
    Ok(disks)
}

/// Register opened disks (and their partitions), once the console is up.
pub fn register(disks: Vec<Ubd>) {
    for ubd in disks {
        log::info!(
            "{}: {}, {} sectors{}",
            ubd.name,
            ubd.file,
            ubd.size() / super::SECTOR_SIZE,
            if ubd.read_only { " (read-only)" } else { "" }
        );
        super::register_disk(Arc::new(ubd));
    }
}
