//! Console and serial lines, the kernel half: `con0`.. are /dev/tty0..
//! (con0 is also /dev/console), `ssl0`.. are /dev/ttyS0... Each line is a
//! tty whose device is a host channel (`host_console`), configured from the
//! `con=`/`conN=`/`ssl=`/`sslN=` words as in UML, by default
//! `con0=fd:0,fd:1 con=null ssl=null`.

use super::host_console::{self, HostLine};
use super::xterm;
use crate::drivers::mkdev;
use crate::init::cmdline::{Channel, Cmdline, XtermSpec};
use crate::kernel::errno::{Errno, KResult};
use crate::tty::{Kind, Termios, Tty, TtyDriver};
use std::sync::{Arc, OnceLock};

/// Virtual consoles (UML's MAX_TTYS).
pub const DEFAULT_CONSOLES: u32 = 16;
/// Serial lines (UML's NR_PORTS).
pub const DEFAULT_SERIALS: u32 = 64;
/// Major of /dev/tty0.. and /dev/ttyS0.. (minor 64 + N).
pub const TTY_MAJOR: u32 = 4;

/// One configured line.
pub struct Line {
    pub tty: Arc<Tty>,
    pub host: Arc<HostLine>,
}

struct Lines {
    con: Vec<Option<Line>>,
    ssl: Vec<Option<Line>>,
}

static LINES: OnceLock<Lines> = OnceLock::new();

struct LineDriver {
    host: Arc<HostLine>,
}

impl TtyDriver for LineDriver {
    fn write(&self, _tty: &Tty, data: &[u8]) -> usize {
        self.host.write(data);
        data.len()
    }
    fn unthrottle(&self, tty: &Tty) {
        // The reader made room: take host input that had to wait.
        feed(tty, &self.host);
    }
}

/// Move host input into the tty, as much as its input queue takes.
fn feed(tty: &Tty, host: &HostLine) {
    while host.has_input() {
        let room = tty.receive_room();
        if room == 0 {
            return;
        }
        let data = host.take_input(room.min(4096));
        if data.is_empty() {
            return;
        }
        tty.receive(&data);
    }
}

/// Resolve the command line's console words into one channel pair per
/// line: the built-in defaults, then `con=`/`ssl=`, then `conN=`/`sslN=`.
fn channel_table(c: &Cmdline, serial: bool) -> Vec<(Channel, Channel)> {
    let mut n = if serial {
        DEFAULT_SERIALS
    } else {
        DEFAULT_CONSOLES
    };
    for s in &c.consoles {
        if s.serial == serial {
            if let Some(i) = s.index {
                n = n.max(i + 1);
            }
        }
    }
    let mut v = vec![(Channel::Null, Channel::Null); n as usize];
    if !serial {
        v[0] = (Channel::Fd(0), Channel::Fd(1));
    }
    // The default (`con=`) first, then the lines named on their own
    // (`conN=`), which win whatever the order of the words, as in UML.
    for s in c
        .consoles
        .iter()
        .filter(|s| s.serial == serial && s.index.is_none())
    {
        for e in v.iter_mut() {
            *e = (s.input.clone(), s.output.clone());
        }
    }
    for s in c.consoles.iter().filter(|s| s.serial == serial) {
        if let Some(i) = s.index {
            v[i as usize] = (s.input.clone(), s.output.clone());
        }
    }
    v
}

fn make_line(
    serial: bool,
    i: u32,
    input: &Channel,
    output: &Channel,
    xterm: &XtermSpec,
    msgs: &mut Vec<String>,
) -> Option<Line> {
    if *input == Channel::None && *output == Channel::None {
        return None;
    }
    let label = if serial {
        format!("Serial line {i}")
    } else {
        format!("Virtual console {i}")
    };
    let (name, minor) = if serial {
        (format!("ttyS{i}"), 64 + i)
    } else {
        (format!("tty{i}"), i)
    };
    let title = if serial {
        format!("Serial Line #{i}")
    } else {
        format!("Virtual Console #{i}")
    };
    // An xterm channel becomes the window's tty (`fd:N`), one window for
    // both directions; without a window the line stays unconnected.
    let window =
        (*input == Channel::Xterm || *output == Channel::Xterm).then(|| {
            match xterm::open(xterm, &title) {
                Ok(fd) => Channel::Fd(fd),
                Err(e) => {
                    msgs.push(format!("{label}: {e}; the line is not connected"));
                    Channel::Null
                }
            }
        });
    let resolve = |ch: &Channel| match (ch, &window) {
        (Channel::Xterm, Some(w)) => w.clone(),
        _ => ch.clone(),
    };
    let (input, output) = (resolve(input), resolve(output));
    let (host, announce) = match host_console::open_line(&input, &output) {
        Ok(x) => x,
        Err(e) => {
            msgs.push(format!("{label}: {e}"));
            return None;
        }
    };
    if let Some(dev) = announce {
        msgs.push(format!("{label} assigned device '{dev}'"));
    }
    let tty = Tty::new(
        &name,
        mkdev(TTY_MAJOR, minor),
        Kind::Line,
        i,
        Termios::standard(),
        Box::new(LineDriver { host: host.clone() }),
    );
    if let Some(ws) = host.current_winsize() {
        tty.set_winsize(ws);
    } else {
        tty.set_winsize([24, 80, 0, 0]);
    }
    Some(Line { tty, host })
}

/// Check the host fds that `con=`/`conN=`/`ssl=`/`sslN=` words name: open,
/// and readable or writable as the word uses them. Runs first thing at
/// boot; the error names the word, for a one-line message and status 2.
pub fn check_channels(c: &Cmdline) -> Result<(), String> {
    for spec in &c.consoles {
        let key = format!(
            "{}{}",
            if spec.serial { "ssl" } else { "con" },
            spec.index.map(|i| i.to_string()).unwrap_or_default()
        );
        // The word as given: the last one for this line (later ones
        // replace earlier ones).
        let word = c
            .words
            .iter()
            .take_while(|w| *w != "--")
            .filter(|w| w.split_once('=').is_some_and(|(k, _)| k == key))
            .last()
            .cloned()
            .unwrap_or(key);
        let same = spec.input == spec.output;
        for (ch, input, output) in [(&spec.input, true, same), (&spec.output, same, true)] {
            if let Channel::Fd(fd) = ch {
                host_console::check_fd(*fd, input, output).map_err(|e| format!("{word}: {e}"))?;
            }
        }
    }
    Ok(())
}

/// Open every line's host channel (boot). Returns the messages to log
/// (devices assigned, errors) once the console is up.
pub fn init(c: &Cmdline) -> Vec<String> {
    host_console::install_signal_handlers();
    let mut msgs = Vec::new();
    let mut con = Vec::new();
    for (i, (inp, out)) in channel_table(c, false).iter().enumerate() {
        con.push(make_line(false, i as u32, inp, out, &c.xterm, &mut msgs));
    }
    let mut ssl = Vec::new();
    for (i, (inp, out)) in channel_table(c, true).iter().enumerate() {
        ssl.push(make_line(true, i as u32, inp, out, &c.xterm, &mut msgs));
    }
    let _ = LINES.set(Lines { con, ssl });
    // With the console elsewhere (con0=pts, port, null), the user still
    // needs to learn where to connect: tell the host's stderr too, as
    // UML's stderr console does.
    let table = channel_table(c, false);
    if !matches!(table[0].1, Channel::Fd(_)) {
        for m in &msgs {
            host_console::stderr_write(format!("{m}\n").as_bytes());
        }
    }
    msgs
}

/// Line `n` of a kind, ENODEV if it is not configured.
pub fn line(serial: bool, n: u32) -> KResult<&'static Line> {
    let l = LINES.get().ok_or(Errno::ENODEV)?;
    let v = if serial { &l.ssl } else { &l.con };
    v.get(n as usize)
        .and_then(|x| x.as_ref())
        .ok_or(Errno::ENODEV)
}

/// How many console and serial lines exist (for /dev nodes).
pub fn counts() -> (u32, u32) {
    LINES.get().map_or((DEFAULT_CONSOLES, 0), |l| {
        (l.con.len() as u32, l.ssl.len() as u32)
    })
}

/// The system console's tty (con0), if it exists.
pub fn console() -> Option<&'static Line> {
    line(false, 0).ok()
}

/// Interrupt work: host input and window-size changes for every line.
pub fn poll_all() {
    if !host_console::take_pending() {
        return;
    }
    let Some(l) = LINES.get() else { return };
    for line in l.con.iter().chain(l.ssl.iter()).flatten() {
        if let Some(ws) = line.host.take_winsize() {
            line.tty.set_winsize(ws);
        }
        feed(&line.tty, &line.host);
    }
}
