//! The system console: a tty whose device side is the host's console
//! channel (`con0=fd:0,fd:1` by default).

use super::Tty;
use crate::drivers::char::host_console;
use std::sync::{Arc, OnceLock};

static CONSOLE: OnceLock<Arc<Tty>> = OnceLock::new();

/// Character device number of /dev/console (5, 1).
pub const CONSOLE_RDEV: u64 = (5 << 8) | 1;

pub fn console() -> &'static Arc<Tty> {
    CONSOLE.get_or_init(|| Tty::new("console", CONSOLE_RDEV, host_console::write))
}

/// Move input the host channel has received into the tty (interrupt
/// handler, runs on the vCPU).
pub fn poll_input() {
    if let Some(data) = host_console::take_input() {
        console().receive(&data);
    }
    if let Some((rows, cols)) = host_console::take_winsize() {
        console().set_winsize(rows, cols);
    }
}

/// Kernel messages (printk) go straight to the console device.
pub fn print(s: &str) {
    host_console::write(s.replace('\n', "\r\n").as_bytes());
}
