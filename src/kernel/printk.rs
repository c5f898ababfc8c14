//! printk: the kernel log. Messages are records (sequence number, level,
//! facility, timestamp, text) in a bounded buffer that /dev/kmsg and
//! syslog(2) read (busybox dmesg); those below the console log level
//! (`quiet` = 4, `loglevel=N`) also go to the console. The `log` crate
//! backend routes `log::info!` etc. here with kernel levels.

use super::errno::{Errno, KResult};
use super::task::{lock, Task};
use super::wait::WaitQueue;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// console_loglevel: messages with a level below it reach the console.
static LOGLEVEL: AtomicU8 = AtomicU8::new(7);
/// The level SYSLOG_ACTION_CONSOLE_ON goes back to.
static SAVED_LOGLEVEL: AtomicU8 = AtomicU8::new(0);
static STARTED: AtomicBool = AtomicBool::new(false);

/// Bytes of text the log keeps (Linux's default CONFIG_LOG_BUF_SHIFT=17).
pub const LOG_BUF_LEN: usize = 1 << 17;
/// KERN_WARNING: the level of /dev/kmsg writes without a <N> prefix.
const DEFAULT_MESSAGE_LOGLEVEL: u8 = 4;
const MINIMUM_CONSOLE_LOGLEVEL: u8 = 1;

/// One log message.
#[derive(Clone, Debug)]
pub struct Record {
    pub seq: u64,
    pub level: u8,
    pub facility: u8,
    /// Time since boot.
    pub ts_ns: i64,
    pub text: String,
}

impl Record {
    /// The /dev/kmsg form: "prio,seq,usec,-;text\n".
    pub fn kmsg_line(&self) -> String {
        format!(
            "{},{},{},-;{}\n",
            (self.facility as u32) << 3 | self.level as u32,
            self.seq,
            self.ts_ns / 1000,
            self.text
        )
    }
    /// The syslog(2) form: "<prio>[    s.us] text\n".
    pub fn syslog_line(&self) -> String {
        format!(
            "<{}>{}{}\n",
            (self.facility as u32) << 3 | self.level as u32,
            stamp_of(self.ts_ns),
            self.text
        )
    }
}

struct LogBuf {
    records: VecDeque<Record>,
    bytes: usize,
    next_seq: u64,
    /// First record SYSLOG_ACTION_READ_ALL shows (moved by CLEAR).
    clear_seq: u64,
    /// Next record SYSLOG_ACTION_READ returns.
    syslog_seq: u64,
}

static LOG: Mutex<LogBuf> = Mutex::new(LogBuf {
    records: VecDeque::new(),
    bytes: 0,
    next_seq: 0,
    clear_seq: 0,
    syslog_seq: 0,
});

/// Readers of the log sleep here.
pub fn wait_queue() -> Arc<WaitQueue> {
    static WQ: OnceLock<Arc<WaitQueue>> = OnceLock::new();
    WQ.get_or_init(|| Arc::new(WaitQueue::new())).clone()
}

fn now_ns() -> i64 {
    if STARTED.load(Ordering::Relaxed) {
        super::time::uptime_ns()
    } else {
        0
    }
}

fn stamp_of(ns: i64) -> String {
    format!(
        "[{:5}.{:06}] ",
        ns / 1_000_000_000,
        (ns % 1_000_000_000) / 1000
    )
}

/// Add a message (one record per line); show it on the console if its
/// level is below the console log level.
pub fn log_store(facility: u8, level: u8, msg: &str) {
    let ts = now_ns();
    let mut console = String::new();
    {
        let mut g = lock(&LOG);
        for line in msg.lines() {
            let seq = g.next_seq;
            g.next_seq += 1;
            g.bytes += line.len() + 16;
            g.records.push_back(Record {
                seq,
                level,
                facility,
                ts_ns: ts,
                text: line.to_string(),
            });
            console.push_str(&stamp_of(ts));
            console.push_str(line);
            console.push('\n');
        }
        while g.bytes > LOG_BUF_LEN {
            match g.records.pop_front() {
                Some(r) => g.bytes -= r.text.len() + 16,
                None => break,
            }
        }
    }
    wait_queue().wake_all();
    if level < LOGLEVEL.load(Ordering::Relaxed) {
        crate::tty::console::print(&console);
    }
}

/// Print at KERN_INFO (6).
pub fn printk(msg: &str) {
    printk_level(6, msg)
}

/// Print at `level` (0 = emerg .. 7 = debug); shown if below loglevel.
pub fn printk_level(level: u8, msg: &str) {
    log_store(0, level, msg)
}

/// Sequence number of the oldest record kept.
pub fn first_seq() -> u64 {
    let g = lock(&LOG);
    g.records.front().map_or(g.next_seq, |r| r.seq)
}

/// Sequence number the next record will get.
pub fn next_seq() -> u64 {
    lock(&LOG).next_seq
}

/// The record with sequence number `seq`, or the oldest after it if it
/// was dropped (its `seq` then tells).
pub fn record_from(seq: u64) -> Option<Record> {
    let g = lock(&LOG);
    let first = g.records.front()?.seq;
    let idx = seq.saturating_sub(first) as usize;
    g.records.get(idx).cloned()
}

/// Parse a "<N>" prefix of a /dev/kmsg write: (facility, level, rest).
pub fn parse_prefix(s: &str) -> (u8, u8, &str) {
    if let Some(rest) = s.strip_prefix('<') {
        if let Some(end) = rest.find('>') {
            if let Ok(n) = rest[..end].parse::<u32>() {
                // No facility given means LOG_USER: user messages stay
                // distinguishable from the kernel's.
                let facility = match (n >> 3) & 0xff {
                    0 => 1,
                    f => f as u8,
                };
                return (facility, (n & 7) as u8, &rest[end + 1..]);
            }
        }
    }
    (1, DEFAULT_MESSAGE_LOGLEVEL, s) // LOG_USER
}

pub fn set_loglevel(l: u8) {
    LOGLEVEL.store(l, Ordering::Relaxed);
}

/// The console log level (kernel.printk's first number).
pub fn loglevel() -> u8 {
    LOGLEVEL.load(Ordering::Relaxed)
}

pub fn start_clock() {
    STARTED.store(true, Ordering::Relaxed);
}

const SYSLOG_ACTION_CLOSE: i32 = 0;
const SYSLOG_ACTION_OPEN: i32 = 1;
const SYSLOG_ACTION_READ: i32 = 2;
const SYSLOG_ACTION_READ_ALL: i32 = 3;
const SYSLOG_ACTION_READ_CLEAR: i32 = 4;
const SYSLOG_ACTION_CLEAR: i32 = 5;
const SYSLOG_ACTION_CONSOLE_OFF: i32 = 6;
const SYSLOG_ACTION_CONSOLE_ON: i32 = 7;
const SYSLOG_ACTION_CONSOLE_LEVEL: i32 = 8;
const SYSLOG_ACTION_SIZE_UNREAD: i32 = 9;
const SYSLOG_ACTION_SIZE_BUFFER: i32 = 10;

/// The newest records from `from` on whose syslog text fits in `len`
/// bytes, as that text.
fn tail_text(g: &LogBuf, from: u64, len: usize) -> String {
    let lines: Vec<String> = g
        .records
        .iter()
        .filter(|r| r.seq >= from)
        .map(Record::syslog_line)
        .collect();
    let mut total = 0;
    let mut start = lines.len();
    while start > 0 && total + lines[start - 1].len() <= len {
        total += lines[start - 1].len();
        start -= 1;
    }
    lines[start..].concat()
}

/// syslog(2) (klogctl).
pub fn sys_syslog(t: &Arc<Task>, action: i32, buf: u64, len: i32) -> KResult<u64> {
    match action {
        SYSLOG_ACTION_CLOSE | SYSLOG_ACTION_OPEN => Ok(0),
        SYSLOG_ACTION_READ => {
            if buf == 0 || len < 0 {
                return Err(Errno::EINVAL);
            }
            if len == 0 {
                return Ok(0);
            }
            // Sleep until there is something new (ERESTARTSYS on a signal).
            // After a signal the log is looked at once more (Linux's
            // wait_event_interruptible tests its condition first).
            let mut signalled = None;
            let (mut g, first) = loop {
                let mut g = lock(&LOG);
                let first = g.records.front().map_or(g.next_seq, |r| r.seq);
                g.syslog_seq = g.syslog_seq.max(first);
                if g.syslog_seq < g.next_seq {
                    break (g, first);
                }
                if let Some(e) = signalled {
                    return Err(e);
                }
                // Queued under LOG: `log_store` wakes only after adding.
                wait_queue().add(t.tid);
                drop(g);
                signalled = super::sched::wait(t, None).err();
            };
            // Whole records, as many as fit (at least part of one).
            let mut out = String::new();
            while g.syslog_seq < g.next_seq {
                let idx = (g.syslog_seq - first) as usize;
                let line = g.records[idx].syslog_line();
                if !out.is_empty() && out.len() + line.len() > len as usize {
                    break;
                }
                out.push_str(&line);
                g.syslog_seq += 1;
            }
            drop(g);
            out.truncate(len as usize);
            t.mm().write(buf, out.as_bytes())?;
            Ok(out.len() as u64)
        }
        SYSLOG_ACTION_READ_ALL | SYSLOG_ACTION_READ_CLEAR => {
            if buf == 0 || len < 0 {
                return Err(Errno::EINVAL);
            }
            let mut g = lock(&LOG);
            let text = tail_text(&g, g.clear_seq, len as usize);
            if action == SYSLOG_ACTION_READ_CLEAR {
                g.clear_seq = g.next_seq;
            }
            drop(g);
            t.mm().write(buf, text.as_bytes())?;
            Ok(text.len() as u64)
        }
        SYSLOG_ACTION_CLEAR => {
            let mut g = lock(&LOG);
            g.clear_seq = g.next_seq;
            Ok(0)
        }
        SYSLOG_ACTION_CONSOLE_OFF => {
            if SAVED_LOGLEVEL.load(Ordering::Relaxed) == 0 {
                SAVED_LOGLEVEL.store(LOGLEVEL.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            set_loglevel(MINIMUM_CONSOLE_LOGLEVEL);
            Ok(0)
        }
        SYSLOG_ACTION_CONSOLE_ON => {
            let saved = SAVED_LOGLEVEL.swap(0, Ordering::Relaxed);
            if saved != 0 {
                set_loglevel(saved);
            }
            Ok(0)
        }
        SYSLOG_ACTION_CONSOLE_LEVEL => {
            if !(1..=8).contains(&len) {
                return Err(Errno::EINVAL);
            }
            set_loglevel((len as u8).max(MINIMUM_CONSOLE_LOGLEVEL));
            SAVED_LOGLEVEL.store(0, Ordering::Relaxed);
            Ok(0)
        }
        SYSLOG_ACTION_SIZE_UNREAD => {
            let g = lock(&LOG);
            let n: usize = g
                .records
                .iter()
                .filter(|r| r.seq >= g.syslog_seq)
                .map(|r| r.syslog_line().len())
                .sum();
            Ok(n as u64)
        }
        SYSLOG_ACTION_SIZE_BUFFER => Ok(LOG_BUF_LEN as u64),
        _ => Err(Errno::EINVAL),
    }
}

/// The kernel level (0 emerg .. 7 debug) of a `log` record.
fn kernel_level(l: log::Level) -> u8 {
    match l {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

/// env_logger's output when records go to printk: it formats each record
/// as one `<N>text\n` write (N its kernel level, as in a /dev/kmsg write),
/// which this pipe stores with that level in the kernel log.
struct PrintkPipe;

impl std::io::Write for PrintkPipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let (level, msg) = match text.as_bytes() {
            [b'<', n @ b'0'..=b'7', b'>', ..] => (n - b'0', &text[3..]),
            _ => (6, text),
        };
        printk_level(level, msg);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Route the `log` crate to printk through env_logger. RUML_LOG takes
/// env_logger's filter syntax: a level (`debug`) and/or per-module levels
/// (`ruml::kernel::sched=trace,warn`); unset means `info`. RUML_LOG_FILE=path
/// sends the records to a host file instead of the console (for tracing
/// without disturbing the guest's output); `%p` in the path becomes
/// vmlinux's host pid (several instances at once).
pub fn init_logger() {
    let filters = std::env::var("RUML_LOG").unwrap_or_else(|_| "info".to_owned());
    let file = std::env::var("RUML_LOG_FILE").ok().and_then(|p| {
        crate::arch::host_create_file(&p.replace("%p", &std::process::id().to_string())).ok()
    });
    let to_file = file.is_some();
    let mut b = env_logger::Builder::new();
    // The gdb server's protocol crate logs every packet it does not know
    // (gdb probes many) at info: only its warnings, unless RUML_LOG asks.
    b.filter_module("gdbstub", log::LevelFilter::Warn);
    b.parse_filters(&filters);
    if let Some(f) = file {
        // The same `[seconds.micros] ` stamp as the console's lines.
        b.format(|out, r| {
            use std::io::Write;
            writeln!(out, "{}{}", stamp_of(now_ns()), r.args())
        })
        .target(env_logger::Target::Pipe(Box::new(f)));
    } else {
        b.format(|out, r| {
            use std::io::Write;
            writeln!(out, "<{}>{}", kernel_level(r.level()), r.args())
        })
        .target(env_logger::Target::Pipe(Box::new(PrintkPipe)));
    }
    let logger = b.build();
    // Debug records are printk level 7: the console shows them only with
    // a console log level above 7. Records sent to a file leave the
    // console's level alone.
    let debug = !to_file && logger.filter() >= log::LevelFilter::Debug;
    let max = logger.filter();
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(max);
        if debug {
            set_loglevel(8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmsg_prefix() {
        assert_eq!(parse_prefix("<3>oops"), (1, 3, "oops"));
        assert_eq!(parse_prefix("<27>daemon"), (3, 3, "daemon"));
        assert_eq!(parse_prefix("<14>user"), (1, 6, "user"));
        assert_eq!(parse_prefix("plain"), (1, 4, "plain"));
        assert_eq!(parse_prefix("<x>y"), (1, 4, "<x>y"));
    }

    #[test]
    fn log_records_reach_printk_with_their_level() {
        use std::io::Write;
        PrintkPipe.write_all(b"<7>pipe test debug\n").unwrap();
        PrintkPipe.write_all(b"pipe test plain\n").unwrap();
        let g = lock(&LOG);
        let find = |t: &str| {
            g.records
                .iter()
                .find(|r| r.text == t)
                .map(|r| (r.level, r.facility))
        };
        assert_eq!(find("pipe test debug"), Some((7, 0)));
        assert_eq!(find("pipe test plain"), Some((6, 0)));
        assert_eq!(kernel_level(log::Level::Warn), 4);
    }

    #[test]
    fn record_formats() {
        let r = Record {
            seq: 7,
            level: 6,
            facility: 0,
            ts_ns: 1_500_000_000,
            text: "hello".into(),
        };
        assert_eq!(r.kmsg_line(), "6,7,1500000,-;hello\n");
        assert_eq!(r.syslog_line(), "<6>[    1.500000] hello\n");
    }
}
