//! The tty layer: a terminal device with the N_TTY line discipline
//! (canonical editing, echo, signal characters, output post-processing) and
//! the termios/window-size/process-group ioctls.
//!
//! Input arrives from a driver (`receive`); output goes to the driver's
//! `write` function.

pub mod console;

use crate::fs::file::{File, FileOps, POLLIN, POLLOUT};
use crate::fs::vfs::Stat;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::{self, SIGINT, SIGQUIT, SIGTSTP, SIGWINCH};
use crate::kernel::task::Task;
use crate::kernel::wait::WaitQueue;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

// termios flag bits (asm-generic).
pub const IGNCR: u32 = 0o200;
pub const ICRNL: u32 = 0o400;
pub const INLCR: u32 = 0o100;
pub const IXON: u32 = 0o2000;
pub const OPOST: u32 = 0o1;
pub const ONLCR: u32 = 0o4;
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHONL: u32 = 0o100;
pub const NOFLSH: u32 = 0o200;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOKE: u32 = 0o4000;
pub const IEXTEN: u32 = 0o100000;

const VINTR: usize = 0;
const VQUIT: usize = 1;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VTIME: usize = 5;
const VMIN: usize = 6;
const VSUSP: usize = 10;
const VEOL: usize = 11;
const VWERASE: usize = 14;
const VLNEXT: usize = 15;
const VEOL2: usize = 16;
const NCCS: usize = 19;

/// The kernel's `struct termios` (TCGETS/TCSETS).
#[derive(Clone, Copy)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; NCCS],
}

impl Termios {
    /// Linux's tty_std_termios.
    pub fn standard() -> Termios {
        let mut cc = [0u8; NCCS];
        cc[..17].copy_from_slice(&[
            3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0,
        ]);
        Termios {
            iflag: ICRNL | IXON,
            oflag: OPOST | ONLCR,
            cflag: 0o17 | 0o60 | 0o200 | 0o2000, // B38400 CS8 CREAD HUPCL
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            line: 0,
            cc,
        }
    }
    pub fn to_bytes(self) -> [u8; 36] {
        let mut b = [0u8; 36];
        b[0..4].copy_from_slice(&self.iflag.to_le_bytes());
        b[4..8].copy_from_slice(&self.oflag.to_le_bytes());
        b[8..12].copy_from_slice(&self.cflag.to_le_bytes());
        b[12..16].copy_from_slice(&self.lflag.to_le_bytes());
        b[16] = self.line;
        b[17..36].copy_from_slice(&self.cc);
        b
    }
    pub fn from_bytes(b: &[u8]) -> Termios {
        let u = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        let mut cc = [0u8; NCCS];
        cc.copy_from_slice(&b[17..36]);
        Termios {
            iflag: u(0),
            oflag: u(4),
            cflag: u(8),
            lflag: u(12),
            line: b[16],
            cc,
        }
    }
}

struct TtyState {
    termios: Termios,
    /// Canonical mode: the line being edited.
    edit: Vec<u8>,
    /// Finished lines (canonical) — an empty line is an end-of-file mark.
    lines: VecDeque<Vec<u8>>,
    /// Raw mode input.
    raw: VecDeque<u8>,
    lnext: bool,
    rows: u16,
    cols: u16,
    pgrp: i32,
    session: i32,
}

/// A terminal.
pub struct Tty {
    pub name: String,
    pub rdev: u64,
    state: Mutex<TtyState>,
    pub wq: Arc<WaitQueue>,
    output: fn(&[u8]),
}

const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TCSBRK: u32 = 0x5409;
const TCXONC: u32 = 0x540a;
const TCFLSH: u32 = 0x540b;
const TIOCSCTTY: u32 = 0x540e;
const TIOCGPGRP: u32 = 0x540f;
const TIOCSPGRP: u32 = 0x5410;
const TIOCOUTQ: u32 = 0x5411;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const FIONREAD: u32 = 0x541b;
const TIOCNOTTY: u32 = 0x5422;
const TIOCGSID: u32 = 0x5429;
const TCSBRKP: u32 = 0x5425;
const FIONBIO: u32 = 0x5421;

impl Tty {
    pub fn new(name: &str, rdev: u64, output: fn(&[u8])) -> Arc<Tty> {
        Arc::new(Tty {
            name: name.into(),
            rdev,
            state: Mutex::new(TtyState {
                termios: Termios::standard(),
                edit: Vec::new(),
                lines: VecDeque::new(),
                raw: VecDeque::new(),
                lnext: false,
                rows: 24,
                cols: 80,
                pgrp: 0,
                session: 0,
            }),
            wq: Arc::new(WaitQueue::new()),
            output,
        })
    }

    fn lock(&self) -> MutexGuard<'_, TtyState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Output with OPOST/ONLCR processing.
    fn emit(&self, st: &TtyState, data: &[u8]) {
        if st.termios.oflag & OPOST != 0 && st.termios.oflag & ONLCR != 0 && data.contains(&b'\n') {
            let mut v = Vec::with_capacity(data.len() + 16);
            for &b in data {
                if b == b'\n' {
                    v.push(b'\r');
                }
                v.push(b);
            }
            (self.output)(&v);
        } else {
            (self.output)(data);
        }
    }

    fn echo_char(&self, st: &TtyState, c: u8) {
        if st.termios.lflag & ECHOCTL != 0 && c < 0x20 && c != b'\n' && c != b'\t' {
            self.emit(st, &[b'^', c + 0x40]);
        } else if c == 0x7f && st.termios.lflag & ECHOCTL != 0 {
            self.emit(st, b"^?");
        } else {
            self.emit(st, &[c]);
        }
    }

    /// Feed input bytes from the device (line discipline receive path).
    pub fn receive(&self, data: &[u8]) {
        let mut sigs = Vec::new();
        {
            let mut st = self.lock();
            for &b in data {
                let t = st.termios;
                let mut c = b;
                if st.lnext {
                    st.lnext = false;
                    self.put_char(&mut st, c, true);
                    continue;
                }
                if c == b'\r' {
                    if t.iflag & IGNCR != 0 {
                        continue;
                    }
                    if t.iflag & ICRNL != 0 {
                        c = b'\n';
                    }
                } else if c == b'\n' && t.iflag & INLCR != 0 {
                    c = b'\r';
                }
                if t.lflag & ISIG != 0 {
                    let sig = if c == t.cc[VINTR] && c != 0 {
                        Some(SIGINT)
                    } else if c == t.cc[VQUIT] && c != 0 {
                        Some(SIGQUIT)
                    } else if c == t.cc[VSUSP] && c != 0 {
                        Some(SIGTSTP)
                    } else {
                        None
                    };
                    if let Some(s) = sig {
                        if t.lflag & NOFLSH == 0 {
                            st.edit.clear();
                            st.lines.clear();
                            st.raw.clear();
                        }
                        if t.lflag & ECHO != 0 {
                            self.echo_char(&st, c);
                        }
                        sigs.push((st.pgrp, s));
                        continue;
                    }
                }
                if t.lflag & ICANON != 0 {
                    if t.lflag & IEXTEN != 0 && c == t.cc[VLNEXT] && c != 0 {
                        st.lnext = true;
                        continue;
                    }
                    if c == t.cc[VERASE] && c != 0 {
                        if st.edit.pop().is_some() && t.lflag & ECHO != 0 && t.lflag & ECHOE != 0 {
                            self.emit(&st, b"\x08 \x08");
                        }
                        continue;
                    }
                    if c == t.cc[VWERASE] && c != 0 && t.lflag & IEXTEN != 0 {
                        while st.edit.last() == Some(&b' ') {
                            st.edit.pop();
                            if t.lflag & ECHO != 0 {
                                self.emit(&st, b"\x08 \x08");
                            }
                        }
                        while st.edit.last().is_some_and(|&x| x != b' ') {
                            st.edit.pop();
                            if t.lflag & ECHO != 0 {
                                self.emit(&st, b"\x08 \x08");
                            }
                        }
                        continue;
                    }
                    if c == t.cc[VKILL] && c != 0 {
                        let n = st.edit.len();
                        st.edit.clear();
                        if t.lflag & ECHO != 0 {
                            if t.lflag & ECHOKE != 0 {
                                for _ in 0..n {
                                    self.emit(&st, b"\x08 \x08");
                                }
                            } else if t.lflag & ECHOK != 0 {
                                self.emit(&st, b"\n");
                            }
                        }
                        continue;
                    }
                    if c == t.cc[VEOF] && c != 0 {
                        let line = std::mem::take(&mut st.edit);
                        st.lines.push_back(line);
                        continue;
                    }
                }
                self.put_char(&mut st, c, false);
            }
        }
        self.wq.wake_all();
        for (pgrp, s) in sigs {
            if pgrp > 0 {
                signal::kill_pgrp(pgrp, s);
            }
        }
    }

    fn put_char(&self, st: &mut TtyState, c: u8, literal: bool) {
        let t = st.termios;
        if t.lflag & ECHO != 0 {
            self.echo_char(st, c);
        } else if c == b'\n' && t.lflag & ECHONL != 0 {
            self.emit(st, b"\n");
        }
        if t.lflag & ICANON != 0 {
            st.edit.push(c);
            let eol = !literal && (c == b'\n' || (c != 0 && (c == t.cc[VEOL] || c == t.cc[VEOL2])));
            if eol || st.edit.len() >= 4095 {
                let line = std::mem::take(&mut st.edit);
                st.lines.push_back(line);
            }
        } else {
            st.raw.push_back(c);
        }
    }

    fn readable(st: &TtyState) -> bool {
        if st.termios.lflag & ICANON != 0 {
            !st.lines.is_empty()
        } else {
            !st.raw.is_empty() || (st.termios.cc[VMIN] == 0 && st.termios.cc[VTIME] == 0)
        }
    }

    pub fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        let mut st = self.lock();
        if st.termios.lflag & ICANON != 0 {
            let Some(line) = st.lines.front_mut() else {
                return Err(Errno::EAGAIN);
            };
            if line.is_empty() {
                st.lines.pop_front();
                return Ok(0);
            }
            let n = buf.len().min(line.len());
            buf[..n].copy_from_slice(&line[..n]);
            line.drain(..n);
            if line.is_empty() {
                st.lines.pop_front();
            }
            Ok(n)
        } else {
            if st.raw.is_empty() {
                if st.termios.cc[VMIN] == 0 && st.termios.cc[VTIME] == 0 {
                    return Ok(0);
                }
                return Err(Errno::EAGAIN);
            }
            let n = buf.len().min(st.raw.len());
            for (i, b) in st.raw.drain(..n).enumerate() {
                buf[i] = b;
            }
            Ok(n)
        }
    }

    pub fn write(&self, data: &[u8]) -> KResult<usize> {
        let st = self.lock();
        self.emit(&st, data);
        Ok(data.len())
    }

    fn set_termios(&self, t: Termios, flush: bool) {
        let mut st = self.lock();
        let was_canon = st.termios.lflag & ICANON != 0;
        st.termios = t;
        if flush {
            st.edit.clear();
            st.lines.clear();
            st.raw.clear();
        }
        let canon = t.lflag & ICANON != 0;
        if was_canon && !canon {
            // Pending cooked input becomes raw input.
            let mut bytes: Vec<u8> = st.lines.drain(..).flatten().collect();
            bytes.append(&mut st.edit);
            st.raw.extend(bytes);
        } else if !was_canon && canon {
            let bytes: Vec<u8> = st.raw.drain(..).collect();
            for b in bytes {
                st.edit.push(b);
                if b == b'\n' {
                    let l = std::mem::take(&mut st.edit);
                    st.lines.push_back(l);
                }
            }
        }
        drop(st);
        self.wq.wake_all();
    }

    /// Set the window size (host SIGWINCH or TIOCSWINSZ) and signal the
    /// foreground process group.
    pub fn set_winsize(&self, rows: u16, cols: u16) {
        let pgrp = {
            let mut st = self.lock();
            if st.rows == rows && st.cols == cols {
                return;
            }
            st.rows = rows;
            st.cols = cols;
            st.pgrp
        };
        if pgrp > 0 {
            signal::kill_pgrp(pgrp, SIGWINCH);
        }
    }

    pub fn foreground(&self) -> i32 {
        self.lock().pgrp
    }

    pub fn set_session(&self, sid: i32, pgrp: i32) {
        let mut st = self.lock();
        st.session = sid;
        st.pgrp = pgrp;
    }

    /// Is this the controlling terminal of `t`'s session?
    fn is_ctty_of(&self, t: &Task) -> bool {
        let sid = self.lock().session;
        sid != 0 && t.session_and_pgrp().0 == sid
    }

    pub fn ioctl(&self, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        let mm = t.mm();
        match cmd {
            TCGETS => {
                let b = self.lock().termios.to_bytes();
                mm.write(arg, &b)?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF => {
                let b = mm.read_vec(arg, 36)?;
                self.set_termios(Termios::from_bytes(&b), cmd == TCSETSF);
                Ok(0)
            }
            TCSBRK | TCSBRKP | TCXONC => Ok(0),
            TCFLSH => {
                let mut st = self.lock();
                if arg == 0 || arg == 2 {
                    st.edit.clear();
                    st.lines.clear();
                    st.raw.clear();
                }
                Ok(0)
            }
            TIOCGWINSZ => {
                let st = self.lock();
                let mut b = [0u8; 8];
                b[0..2].copy_from_slice(&st.rows.to_le_bytes());
                b[2..4].copy_from_slice(&st.cols.to_le_bytes());
                drop(st);
                mm.write(arg, &b)?;
                Ok(0)
            }
            TIOCSWINSZ => {
                let b = mm.read_vec(arg, 8)?;
                self.set_winsize(
                    u16::from_le_bytes([b[0], b[1]]),
                    u16::from_le_bytes([b[2], b[3]]),
                );
                Ok(0)
            }
            TIOCGPGRP => {
                if !self.is_ctty_of(t) {
                    return Err(Errno::ENOTTY);
                }
                let pg = self.lock().pgrp;
                mm.write_u32(arg, pg as u32)?;
                Ok(0)
            }
            TIOCSPGRP => {
                if !self.is_ctty_of(t) {
                    return Err(Errno::ENOTTY);
                }
                let pg = mm.read_u32(arg)? as i32;
                if pg <= 0 {
                    return Err(Errno::EINVAL);
                }
                self.lock().pgrp = pg;
                Ok(0)
            }
            TIOCGSID => {
                let sid = self.lock().session;
                if sid == 0 || !self.is_ctty_of(t) {
                    return Err(Errno::ENOTTY);
                }
                mm.write_u32(arg, sid as u32)?;
                Ok(0)
            }
            TIOCSCTTY => {
                let (sid, pgid) = t.session_and_pgrp();
                self.set_session(sid, pgid);
                Ok(0)
            }
            TIOCNOTTY => Ok(0),
            TIOCOUTQ => {
                mm.write_u32(arg, 0)?;
                Ok(0)
            }
            FIONREAD => {
                let st = self.lock();
                let n: usize = if st.termios.lflag & ICANON != 0 {
                    st.lines.iter().map(|l| l.len()).sum()
                } else {
                    st.raw.len()
                };
                drop(st);
                mm.write_u32(arg, n as u32)?;
                Ok(0)
            }
            FIONBIO => Ok(0),
            _ => Err(Errno::ENOTTY),
        }
    }
}

/// An open tty.
pub struct TtyFile {
    pub tty: Arc<Tty>,
}

impl FileOps for TtyFile {
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        self.tty.read(buf)
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        self.tty.write(buf)
    }
    fn poll(&self, _f: &File) -> u32 {
        let st = self.tty.lock();
        if Tty::readable(&st) {
            POLLIN | POLLOUT
        } else {
            POLLOUT
        }
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.tty.wq.clone())
    }
    fn ioctl(&self, f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        if cmd == FIONBIO {
            let on = t.mm().read_u32(arg)? != 0;
            let fl = f.flags();
            f.set_flags(if on {
                fl | crate::fs::file::O_NONBLOCK
            } else {
                fl & !crate::fs::file::O_NONBLOCK
            });
            return Ok(0);
        }
        self.tty.ioctl(t, cmd, arg)
    }
    fn is_tty(&self) -> bool {
        true
    }
    fn stat(&self) -> Option<Stat> {
        Some(Stat {
            mode: crate::fs::vfs::S_IFCHR | 0o620,
            rdev: self.tty.rdev,
            nlink: 1,
            blksize: 1024,
            ..Default::default()
        })
    }
}
