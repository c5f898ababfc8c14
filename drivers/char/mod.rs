//! Character devices: memory devices (null, zero, full, random, urandom),
//! console and serial lines, /dev/tty, /dev/console, ptys.

#[allow(unsafe_code)]
pub mod host_console;
pub mod line;
pub mod mem;
pub mod telnet;

use crate::fs::file::FileOps;
use crate::kernel::errno::{Errno, KResult};
use crate::tty::file::DevTty;
use crate::tty::pty::{self, PTY_SLAVE_MAJOR};
use crate::tty::TtyFile;
use std::sync::Arc;

pub fn open(major: u32, minor: u32) -> KResult<Arc<dyn FileOps>> {
    match (major, minor) {
        (1, m) => mem::open(m),
        (5, 0) => Ok(Arc::new(DevTty)),
        (5, 1) => {
            let l = line::console().ok_or(Errno::ENODEV)?;
            Ok(TtyFile::new(&l.tty, true))
        }
        (5, 2) => pty::open_ptmx(),
        (line::TTY_MAJOR, m) => {
            let l = if m < 64 {
                line::line(false, m)?
            } else {
                line::line(true, m - 64)?
            };
            Ok(TtyFile::new(&l.tty, false))
        }
        (m, n) if (PTY_SLAVE_MAJOR..PTY_SLAVE_MAJOR + 8).contains(&m) => {
            let f: Arc<dyn FileOps> = pty::open_slave((m - PTY_SLAVE_MAJOR) * 256 + n)?;
            Ok(f)
        }
        _ => Err(Errno::ENXIO),
    }
}
