//! Character devices: memory devices (null, zero, full, random, urandom),
//! the console and tty aliases.

#[allow(unsafe_code)]
pub mod host_console;
pub mod mem;

use crate::fs::file::FileOps;
use crate::kernel::errno::{Errno, KResult};
use crate::tty::{console::console, TtyFile};
use std::sync::Arc;

pub fn open(major: u32, minor: u32) -> KResult<Arc<dyn FileOps>> {
    match (major, minor) {
        (1, m) => mem::open(m),
        // /dev/tty (5,0), /dev/console (5,1), /dev/tty0.. (4,N), /dev/ttyS0.. (4,64+):
        // all the console until the tty layer has virtual terminals.
        (5, 0) | (5, 1) | (4, _) => Ok(Arc::new(TtyFile {
            tty: console().clone(),
        })),
        _ => Err(Errno::ENXIO),
    }
}
