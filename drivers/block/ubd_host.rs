//! ubd host half: the host file behind a ubd device. Plain positional I/O
//! on a `std::fs::File` (no `unsafe`); errors come back as host
//! `std::io::Error` for the kernel half to turn into EIO.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

pub struct HostDisk {
    file: File,
    size: u64,
}

/// Why a host file could not be attached.
pub enum OpenError {
    Io(io::Error),
    /// Another process holds a conflicting lock.
    Locked,
}

impl HostDisk {
    /// Open `path` read-only or read-write, with O_SYNC if `sync`. Unless
    /// `shared`, take a host lock on it (flock: exclusive for a writer,
    /// shared for a reader) so two instances cannot both write one image.
    /// The lock is released when vmlinux exits, however it exits.
    pub fn open(
        path: &Path,
        read_only: bool,
        sync: bool,
        shared: bool,
    ) -> Result<HostDisk, OpenError> {
        let mut o = OpenOptions::new();
        o.read(true).write(!read_only);
        if sync {
            o.custom_flags(libc::O_SYNC);
        }
        let file = o.open(path).map_err(OpenError::Io)?;
        if !shared {
            let r = if read_only {
                file.try_lock_shared()
            } else {
                file.try_lock()
            };
            match r {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Err(OpenError::Locked),
                Err(std::fs::TryLockError::Error(e)) => return Err(OpenError::Io(e)),
            }
        }
        let size = file.metadata().map_err(OpenError::Io)?.len();
        Ok(HostDisk { file, size })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Read exactly `buf.len()` bytes at `off`; bytes past the host file's
    /// end (it may have shrunk) are an error.
    pub fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, off)
    }

    pub fn write_at(&self, off: u64, buf: &[u8]) -> io::Result<()> {
        self.file.write_all_at(buf, off)
    }

    /// fdatasync(2).
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}
