//! The system console: /dev/console is console line 0 (`con0`, also
//! /dev/tty0), as in UML. Kernel messages go straight to its host channel.

use crate::drivers::char::{host_console, line};

/// Interrupt work for the tty layer (runs on the vCPU): deferred close
/// and hangup handling, host input and window sizes of every line.
pub fn poll_input() {
    super::run_deferred();
    line::poll_all();
}

/// Kernel messages (printk) go straight to the console device.
pub fn print(s: &str) {
    let text = s.replace('\n', "\r\n");
    match line::console() {
        Some(l) => l.host.write(text.as_bytes()),
        None => host_console::early_write(text.as_bytes()),
    }
}

/// Do kernel messages already reach the host's stderr? (Then a panic need
/// not repeat its reason there.)
pub fn is_host_stderr() -> bool {
    line::console().is_some_and(|l| l.host.writes_to_host_stderr())
}
