//! Kernel panic: print a report and end vmlinux with a non-zero status.
//!
//! As in Linux, a panic message's last line is the reason ("Kernel panic -
//! not syncing: ...") and any lines before it are context printed just
//! before it. The report goes to the console whatever `quiet` or
//! `loglevel=` say (Linux's console_verbose), and the context and reason
//! also go to the host's stderr, so that a user who sent the console
//! elsewhere (or a script that only keeps stderr) still learns why
//! vmlinux stopped.

use crate::arch;
use crate::kernel::printk;

/// KERN_EMERG and KERN_ERR.
const LEVEL_EMERG: u8 = 0;
const LEVEL_ERR: u8 = 3;
/// Linux's CONSOLE_LOGLEVEL_MOTORMOUTH: everything reaches the console.
const LOGLEVEL_MOTORMOUTH: u8 = 15;

/// `panic=N`: 0 stops vmlinux (status 1); N > 0 boots again after N
/// seconds, N < 0 at once (Linux's panic_timeout).
static TIMEOUT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Set from the command line at boot.
pub fn set_timeout(seconds: i64) {
    TIMEOUT.store(seconds, std::sync::atomic::Ordering::Relaxed);
}

/// A deliberate panic (init died, no root, `errors=panic`): the message
/// says all there is to know; no call trace.
pub fn panic(msg: &str) -> ! {
    report(msg, false)
}

/// A bug in the kernel itself (a Rust panic): also print where it was.
pub fn bug(msg: &str) -> ! {
    report(msg, true)
}

fn report(msg: &str, trace: bool) -> ! {
    printk::set_loglevel(LOGLEVEL_MOTORMOUTH);
    let (context, reason) = split(msg);
    let line = format!("Kernel panic - not syncing: {reason}");
    if !context.is_empty() {
        printk::printk_level(LEVEL_ERR, context);
    }
    printk::printk_level(LEVEL_EMERG, &line);
    if trace {
        let bt = std::backtrace::Backtrace::force_capture().to_string();
        let lines: Vec<&str> = bt.lines().take(40).collect();
        printk::printk_level(LEVEL_EMERG, &format!("Call Trace:\n{}", lines.join("\n")));
    }
    printk::printk_level(LEVEL_EMERG, "---[ end Kernel panic - not syncing ]---");
    crate::drivers::mconsole::notify_panic(reason);
    if !crate::tty::console::is_host_stderr() {
        let mut text = String::new();
        for l in context.lines().chain(std::iter::once(line.as_str())) {
            text.push_str(l);
            text.push('\n');
        }
        crate::drivers::char::host_console::stderr_write(text.as_bytes());
    }
    let timeout = TIMEOUT.load(std::sync::atomic::Ordering::Relaxed);
    if timeout != 0 {
        if timeout > 0 {
            printk::printk_level(LEVEL_EMERG, &format!("Rebooting in {timeout} seconds.."));
            std::thread::sleep(std::time::Duration::from_secs(timeout as u64));
        }
        arch::host_reexec();
    }
    arch::host_exit(1)
}

/// (context lines, reason): the reason is the last non-empty line.
fn split(msg: &str) -> (&str, &str) {
    let msg = msg.trim_end();
    match msg.rsplit_once('\n') {
        Some((context, reason)) => (context, reason),
        None => ("", msg),
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn reason_is_the_last_line() {
        assert_eq!(split("init died"), ("", "init died"));
        assert_eq!(
            split("VFS: Cannot open root device\nlist:\nVFS: Unable to mount root fs\n"),
            (
                "VFS: Cannot open root device\nlist:",
                "VFS: Unable to mount root fs"
            )
        );
    }
}
