//! Character devices: memory devices (null, zero, full, random, urandom),
//! /dev/kmsg, console and serial lines, /dev/tty, /dev/console, ptys; the
//! list of them that devtmpfs and sysfs show.

#[allow(unsafe_code)]
pub mod host_console;
pub mod kmsg;
pub mod line;
pub mod mem;
pub mod telnet;
#[allow(unsafe_code)]
pub mod xterm;

use crate::fs::file::FileOps;
use crate::kernel::errno::{Errno, KResult};
use crate::tty::file::DevTty;
use crate::tty::pty::{self, PTY_SLAVE_MAJOR};
use crate::tty::TtyFile;
use std::sync::Arc;

/// A character device the kernel has (pty slaves, which come and go,
/// are devpts's): the node devtmpfs creates and the device sysfs lists.
pub struct CharDev {
    pub name: String,
    pub rdev: u64,
    /// Its class in sysfs: "mem" or "tty".
    pub class: &'static str,
    /// Mode of its devtmpfs node.
    pub mode: u32,
    /// Whether its uevent says the mode (DEVMODE=): Linux's mem and tty
    /// classes do for the devices anyone may open and leave the others to
    /// devtmpfs's 0600 or the device manager's rules.
    pub devmode: bool,
}

/// Every character device, in Linux's registration order.
pub fn all() -> Vec<CharDev> {
    let fixed: [(&str, u32, u32, &str, u32, bool); 9] = [
        ("null", 1, 3, "mem", 0o666, true),
        ("zero", 1, 5, "mem", 0o666, true),
        ("full", 1, 7, "mem", 0o666, true),
        ("random", 1, 8, "mem", 0o666, true),
        ("urandom", 1, 9, "mem", 0o666, true),
        ("kmsg", 1, 11, "mem", 0o644, true),
        ("tty", 5, 0, "tty", 0o666, true),
        ("console", 5, 1, "tty", 0o600, false),
        ("ptmx", 5, 2, "tty", 0o666, true),
    ];
    let dev = |name: String, major, minor, class, mode, devmode| CharDev {
        name,
        rdev: crate::drivers::mkdev(major, minor),
        class,
        mode,
        devmode,
    };
    let mut v: Vec<CharDev> = fixed
        .iter()
        .map(|&(n, ma, mi, c, m, d)| dev(n.into(), ma, mi, c, m, d))
        .collect();
    // Console and serial lines: devtmpfs's default 0600, as Linux (getty
    // or login set the owner and mode when someone uses one).
    let (cons, serials) = line::counts();
    for i in 0..cons {
        v.push(dev(
            format!("tty{i}"),
            line::TTY_MAJOR,
            i,
            "tty",
            0o600,
            false,
        ));
    }
    for i in 0..serials {
        v.push(dev(
            format!("ttyS{i}"),
            line::TTY_MAJOR,
            64 + i,
            "tty",
            0o600,
            false,
        ));
    }
    v
}

pub fn open(major: u32, minor: u32) -> KResult<Arc<dyn FileOps>> {
    match (major, minor) {
        (1, 11) => Ok(kmsg::open()),
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
