//! printk: timestamped kernel messages on the console, and the `log`
//! backend that routes `log::info!` etc. through it with kernel levels.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Mutex;

static LOGLEVEL: AtomicU8 = AtomicU8::new(7);
static STARTED: AtomicBool = AtomicBool::new(false);
/// The kernel ring buffer (dmesg).
static RING: Mutex<String> = Mutex::new(String::new());

fn stamp() -> String {
    let ns = if STARTED.load(Ordering::Relaxed) {
        super::time::uptime_ns()
    } else {
        0
    };
    format!(
        "[{:5}.{:06}] ",
        ns / 1_000_000_000,
        (ns % 1_000_000_000) / 1000
    )
}

/// Print at KERN_INFO (6).
pub fn printk(msg: &str) {
    printk_level(6, msg)
}

/// Print at `level` (0 = emerg .. 7 = debug); shown if below loglevel.
pub fn printk_level(level: u8, msg: &str) {
    let mut out = String::new();
    for line in msg.lines() {
        out.push_str(&stamp());
        out.push_str(line);
        out.push('\n');
    }
    {
        let mut r = RING.lock().unwrap_or_else(|e| e.into_inner());
        if r.len() > 1 << 20 {
            let cut = r.len() / 2;
            r.drain(..cut);
        }
        r.push_str(&out);
    }
    if level < LOGLEVEL.load(Ordering::Relaxed) {
        crate::tty::console::print(&out);
    }
}

/// The ring buffer contents (syslog(2), /dev/kmsg).
pub fn ring() -> String {
    RING.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

pub fn set_loglevel(l: u8) {
    LOGLEVEL.store(l, Ordering::Relaxed);
}

pub fn start_clock() {
    STARTED.store(true, Ordering::Relaxed);
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let level = match r.level() {
            log::Level::Error => 3,
            log::Level::Warn => 4,
            log::Level::Info => 6,
            log::Level::Debug | log::Level::Trace => 7,
        };
        if let Some(f) = TRACE_FILE.get() {
            use std::io::Write;
            let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(f, "{}{}", stamp(), r.args());
            return;
        }
        printk_level(level, &format!("{}", r.args()));
    }
    fn flush(&self) {}
}

static LOGGER: Logger = Logger;
/// RUML_LOG_FILE=path sends `log` records to a host file instead of the
/// console (for tracing without disturbing the guest's output).
static TRACE_FILE: std::sync::OnceLock<Mutex<std::fs::File>> = std::sync::OnceLock::new();

/// Route the `log` crate to printk. RUML_LOG=debug shows debug lines.
pub fn init_logger() {
    if let Ok(p) = std::env::var("RUML_LOG_FILE") {
        if let Ok(f) = std::fs::File::create(p) {
            let _ = TRACE_FILE.set(Mutex::new(f));
        }
    }
    let _ = log::set_logger(&LOGGER);
    let lvl = match std::env::var("RUML_LOG").as_deref() {
        Ok("trace") => log::LevelFilter::Trace,
        Ok("debug") => log::LevelFilter::Debug,
        Ok("warn") => log::LevelFilter::Warn,
        _ => log::LevelFilter::Info,
    };
    log::set_max_level(lvl);
    if lvl >= log::LevelFilter::Debug {
        set_loglevel(8);
    }
}
