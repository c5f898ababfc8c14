//! The tty layer: a terminal device (`Tty`) made of a driver (console
//! line, pty master or slave), the N_TTY line discipline, and the
//! controlling-terminal state (session, foreground process group, window
//! size, hangups). Reads and writes come from `TtyFile`s; device input comes
//! from the driver through `receive`.

pub mod console;
pub mod devpts;
pub mod file;
mod ioctl;
pub mod jobctl;
pub mod n_tty;
pub mod pty;
pub mod termios;

pub use file::TtyFile;
pub use termios::Termios;

use crate::fs::file::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM};
use crate::fs::fown::{FasyncList, POLL_IN, POLL_OUT};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::{self, SIGTTIN, SIGTTOU, SIGWINCH};
use crate::kernel::task::{lock, Pid, Task};
use crate::kernel::wait::WaitQueue;
use crate::kernel::{sched, time};
use n_tty::NTty;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use termios::*;

/// The device side of a tty.
pub trait TtyDriver: Send + Sync {
    /// Send output (already processed by the line discipline) to the
    /// device; returns how many bytes it took.
    fn write(&self, tty: &Tty, data: &[u8]) -> usize;
    /// How many bytes `write` takes now.
    fn write_room(&self, _tty: &Tty) -> usize {
        usize::MAX
    }
    /// Discard output not yet sent (TCOFLUSH, signal characters).
    fn flush_buffer(&self, _tty: &Tty) {}
    /// The reader made room in the input queue: a sender may go on.
    fn unthrottle(&self, _tty: &Tty) {}
    /// The last open file was closed. Runs as deferred work (it may signal
    /// processes).
    fn last_close(&self, _tty: &Arc<Tty>) {}
    /// The other half of a pty pair.
    fn link(&self) -> Option<Arc<Tty>> {
        None
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A console or serial line (a host channel behind it).
    Line,
    PtyMaster,
    PtySlave,
}

/// Controlling-terminal state.
struct Ctrl {
    session: Pid,
    pgrp: Pid,
    /// rows, cols, xpixel, ypixel
    winsize: [u16; 4],
    /// Hangup generation: files opened before the last hangup are dead.
    gen: u64,
    opens: usize,
    /// pty: the other side has closed (a master's reads get EIO, polls
    /// POLLHUP, once the data is gone).
    other_closed: bool,
    /// pty master: packet mode (TIOCPKT).
    packet: bool,
    /// pty slave: TIOCPKT_* events for the master's next packet-mode read.
    pktstatus: u8,
}

/// TIOCPKT status bits (the first byte of a packet-mode read).
pub const TIOCPKT_DATA: u8 = 0;
pub const TIOCPKT_FLUSHREAD: u8 = 1;
pub const TIOCPKT_FLUSHWRITE: u8 = 2;
pub const TIOCPKT_STOP: u8 = 4;
pub const TIOCPKT_START: u8 = 8;
pub const TIOCPKT_NOSTOP: u8 = 16;
pub const TIOCPKT_DOSTOP: u8 = 32;
pub const TIOCPKT_IOCTL: u8 = 64;

/// A terminal.
pub struct Tty {
    pub name: String,
    pub rdev: u64,
    pub kind: Kind,
    /// pty index (for TIOCGPTN), or the line number.
    pub index: u32,
    ldisc: Mutex<NTty>,
    ctrl: Mutex<Ctrl>,
    /// Readers, writers and pollers sleep here.
    pub wq: Arc<WaitQueue>,
    driver: Box<dyn TtyDriver>,
    /// When input last arrived (monotonic ns), for the VTIME timer.
    last_rx: AtomicI64,
    /// O_ASYNC files on this tty: SIGIO when input becomes readable, and
    /// when output drains after a write could not send everything.
    pub fasync: FasyncList,
    /// A write stopped short while O_ASYNC was on (Linux's
    /// TTY_DO_WRITE_WAKEUP): the next drain sends POLL_OUT.
    write_wakeup: AtomicBool,
}

static DEFERRED: Mutex<Vec<Box<dyn FnOnce() + Send>>> = Mutex::new(Vec::new());

/// Run `f` soon from the interrupt path: close and hangup handling that
/// signals processes must not run under the locks held where files are
/// dropped.
pub fn defer(f: Box<dyn FnOnce() + Send>) {
    lock(&DEFERRED).push(f);
    crate::arch::platform().raise_interrupt();
}

/// Run deferred work (from the vCPU's interrupt handling).
pub fn run_deferred() {
    loop {
        let work = std::mem::take(&mut *lock(&DEFERRED));
        if work.is_empty() {
            return;
        }
        for w in work {
            w();
        }
    }
}

impl Tty {
    pub fn new(
        name: &str,
        rdev: u64,
        kind: Kind,
        index: u32,
        termios: Termios,
        driver: Box<dyn TtyDriver>,
    ) -> Arc<Tty> {
        Arc::new(Tty {
            name: name.into(),
            rdev,
            kind,
            index,
            ldisc: Mutex::new(NTty::new(termios)),
            ctrl: Mutex::new(Ctrl {
                session: 0,
                pgrp: 0,
                winsize: [0; 4],
                gen: 0,
                opens: 0,
                other_closed: false,
                packet: false,
                pktstatus: 0,
            }),
            wq: Arc::new(WaitQueue::new()),
            driver,
            last_rx: AtomicI64::new(0),
            fasync: FasyncList::new(),
            write_wakeup: AtomicBool::new(false),
        })
    }

    fn ld(&self) -> MutexGuard<'_, NTty> {
        lock(&self.ldisc)
    }

    fn ctrl(&self) -> MutexGuard<'_, Ctrl> {
        lock(&self.ctrl)
    }

    pub fn is_pty(&self) -> bool {
        self.kind != Kind::Line
    }

    pub fn link(&self) -> Option<Arc<Tty>> {
        self.driver.link()
    }

    pub fn termios(&self) -> Termios {
        self.ld().termios
    }

    pub fn session(&self) -> Pid {
        self.ctrl().session
    }

    pub fn foreground(&self) -> Pid {
        self.ctrl().pgrp
    }

    pub fn set_foreground(&self, pgrp: Pid) {
        self.ctrl().pgrp = pgrp;
    }

    /// Set session and foreground group; returns the previous session.
    fn set_session(&self, sid: Pid, pgrp: Pid) -> Pid {
        let mut c = self.ctrl();
        let old = c.session;
        c.session = sid;
        c.pgrp = pgrp;
        old
    }

    pub fn generation(&self) -> u64 {
        self.ctrl().gen
    }

    pub fn set_other_closed(&self, v: bool) {
        self.ctrl().other_closed = v;
        self.wq.wake_all();
    }

    pub fn other_closed(&self) -> bool {
        self.ctrl().other_closed
    }

    /// TIOCPKT on a master: packet mode on or off. Turning it on forgets
    /// the slave's earlier events.
    pub fn set_packet(&self, on: bool) {
        if on && !self.ctrl().packet {
            if let Some(s) = self.link() {
                s.ctrl().pktstatus = 0;
            }
        }
        self.ctrl().packet = on;
    }

    pub fn packet(&self) -> bool {
        self.ctrl().packet
    }

    /// A pty slave event (flush, flow control) the master's reader hears
    /// in packet mode: `clear` bits go, `set` bits come (pty.c's pktstatus).
    fn packet_event(&self, set: u8, clear: u8) {
        if self.kind != Kind::PtySlave {
            return;
        }
        let Some(m) = self.link() else { return };
        if !m.packet() {
            return;
        }
        {
            let mut c = self.ctrl();
            c.pktstatus = (c.pktstatus & !clear) | set;
        }
        m.wq.wake_all();
    }

    /// Act on the line discipline's output stop/start (packet-mode
    /// events) and send its echo.
    fn flow_and_echo(&self, fx: &n_tty::Effects) {
        if fx.stopped {
            self.packet_event(TIOCPKT_STOP, TIOCPKT_START);
        }
        if fx.started {
            self.packet_event(TIOCPKT_START, TIOCPKT_STOP);
        }
        if !fx.echo.is_empty() {
            self.driver.write(self, &fx.echo);
        }
    }

    /// The slave's pending packet-mode status for a master read, if the
    /// master is in packet mode (taken: it is reported once).
    fn take_pktstatus(&self, take: bool) -> u8 {
        if self.kind != Kind::PtyMaster || !self.packet() {
            return 0;
        }
        self.link().map_or(0, |s| {
            let mut c = s.ctrl();
            let st = c.pktstatus;
            if take {
                c.pktstatus = 0;
            }
            st
        })
    }

    pub fn open_count(&self) -> usize {
        self.ctrl().opens
    }

    /// A file is opened on this tty.
    pub(crate) fn get_file(&self) -> u64 {
        let mut c = self.ctrl();
        c.opens += 1;
        c.gen
    }

    /// A file on this tty is closed.
    pub(crate) fn put_file(self: &Arc<Self>) {
        let last = {
            let mut c = self.ctrl();
            c.opens = c.opens.saturating_sub(1);
            c.opens == 0
        };
        self.wq.wake_all();
        if last {
            let me = self.clone();
            defer(Box::new(move || me.driver.last_close(&me)));
        }
    }

    /// Device input (interrupt path or a pty master's write).
    pub fn receive(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let fx = self.ld().receive(data);
        self.last_rx.store(time::monotonic_ns(), Ordering::Relaxed);
        if fx.flush_output {
            // A signal character flushed both directions.
            self.packet_event(TIOCPKT_FLUSHREAD, 0);
            self.driver.flush_buffer(self);
        }
        self.flow_and_echo(&fx);
        if fx.wake || fx.started {
            self.wq.wake_all();
        }
        if fx.wake {
            self.fasync.kill(POLL_IN);
        }
        if !fx.signals.is_empty() {
            let pgrp = self.foreground();
            for s in fx.signals {
                if pgrp > 0 {
                    signal::kill_pgrp(pgrp, s);
                }
            }
        }
    }

    /// How much more input the line discipline takes before the sender
    /// has to wait.
    pub fn receive_room(&self) -> usize {
        self.ld().receive_room()
    }

    /// Bytes waiting to be read (FIONREAD).
    pub fn input_available(&self) -> usize {
        self.ld().available()
    }

    /// read(2) through `file`: sleeps in place until the line discipline
    /// has what VMIN/VTIME or canonical mode ask for.
    pub fn read(&self, file: &TtyFile, nonblock: bool, t: &Task, buf: &mut [u8]) -> KResult<usize> {
        // The deadline the last sleep had: VTIME timers run from the
        // first attempt (MIN 0) or from the last byte (MIN and TIME).
        let mut slept: Option<Option<i64>> = None;
        loop {
            match self.try_read(file, nonblock, t, buf, slept)? {
                Ok(n) => return Ok(n),
                Err(deadline) => {
                    slept = Some(deadline);
                    self.wq.add(t.tid);
                    sched::wait(t, deadline)?;
                }
            }
        }
    }

    /// One attempt of `read`: the count, or the deadline to sleep until
    /// (None: until woken). `slept`: the deadline of the sleep before.
    fn try_read(
        &self,
        file: &TtyFile,
        nonblock: bool,
        t: &Task,
        buf: &mut [u8],
        slept: Option<Option<i64>>,
    ) -> KResult<Result<usize, Option<i64>>> {
        if file.hung_up() {
            return Ok(Ok(0));
        }
        if !file.console {
            jobctl::check_change(self, t, SIGTTIN)?;
        }
        if buf.is_empty() {
            return Ok(Ok(0));
        }
        // Packet mode: a pending status byte is a read of its own.
        let st = self.take_pktstatus(true);
        if st != 0 {
            buf[0] = st;
            return Ok(Ok(1));
        }
        let now = time::monotonic_ns();
        let ld = self.ld();
        let tio = ld.termios;
        let deadline = if tio.lflag(ICANON) {
            if ld.readable(1) {
                return Ok(Ok(self.finish_read(ld, buf)));
            }
            None
        } else {
            let min = tio.cc[VMIN] as usize;
            let time_ns = tio.cc[VTIME] as i64 * 100_000_000;
            let avail = ld.available();
            if avail >= min.clamp(1, buf.len().max(1)) {
                return Ok(Ok(self.finish_read(ld, buf)));
            }
            if min == 0 {
                // MIN 0: return what is there, waiting at most TIME for
                // the first byte.
                if time_ns == 0 || avail > 0 {
                    return Ok(Ok(self.finish_read(ld, buf)));
                }
                let dl = match slept {
                    Some(d) => d.unwrap_or(now),
                    None => now + time_ns,
                };
                if now >= dl {
                    return Ok(Ok(0));
                }
                Some(dl)
            } else if time_ns > 0 && avail > 0 {
                // MIN and TIME: an inter-byte timer, restarted by every
                // byte that arrives.
                let mut dl = self.last_rx.load(Ordering::Relaxed) + time_ns;
                dl = dl.max(match slept {
                    Some(d) => d.unwrap_or(0),
                    None => now + time_ns,
                });
                if now >= dl {
                    return Ok(Ok(self.finish_read(ld, buf)));
                }
                Some(dl)
            } else {
                None
            }
        };
        drop(ld);
        if self.other_closed() && self.kind == Kind::PtyMaster {
            return Err(Errno::EIO);
        }
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        Ok(Err(deadline))
    }

    fn finish_read(&self, mut ld: MutexGuard<'_, NTty>, buf: &mut [u8]) -> usize {
        // Packet mode: data comes after a TIOCPKT_DATA byte.
        let n = if self.kind == Kind::PtyMaster && self.ctrl().packet {
            buf[0] = TIOCPKT_DATA;
            1 + ld.read(&mut buf[1..])
        } else {
            ld.read(buf)
        };
        drop(ld);
        self.driver.unthrottle(self);
        n
    }

    /// write(2) through `file`.
    pub fn write(&self, file: &TtyFile, t: &Task, data: &[u8]) -> KResult<usize> {
        if file.hung_up() {
            return Err(Errno::EIO);
        }
        if !file.console && self.termios().lflag(TOSTOP) {
            jobctl::check_change(self, t, SIGTTOU)?;
        }
        if data.is_empty() {
            return Ok(0);
        }
        let r = self.write_kernel(data);
        // n_tty_write: an O_ASYNC writer left with bytes unsent hears
        // POLL_OUT when room comes (`write_wakeup`).
        if r.as_ref().map_or(true, |&n| n < data.len()) && self.fasync.armed() {
            self.write_wakeup.store(true, Ordering::Relaxed);
        }
        r
    }

    /// Room appeared for this tty's output (the other end of a pty read
    /// it): writers wake, and an O_ASYNC writer that stopped short gets
    /// POLL_OUT once (n_tty_write_wakeup).
    pub fn output_drained(&self) {
        self.wq.wake_all();
        if self.write_wakeup.swap(false, Ordering::Relaxed) {
            self.fasync.kill(POLL_OUT);
        }
    }

    /// Output-process and send `data`; EAGAIN when the device is full or
    /// output is stopped.
    pub fn write_kernel(&self, data: &[u8]) -> KResult<usize> {
        let mut ld = self.ld();
        if ld.stopped {
            return Err(Errno::EAGAIN);
        }
        let room = self.driver.write_room(self);
        if room == 0 {
            return Err(Errno::EAGAIN);
        }
        let mut out = Vec::with_capacity(data.len() + data.len() / 8);
        let n = ld.process_output(data, room, &mut out);
        drop(ld);
        if n == 0 {
            return Err(Errno::EAGAIN);
        }
        self.driver.write(self, &out);
        Ok(n)
    }

    /// poll(2) events for `file`.
    pub fn poll(&self, file: &TtyFile) -> u32 {
        if file.hung_up() {
            return POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
        }
        let ld = self.ld();
        let tio = ld.termios;
        let min = if !tio.lflag(ICANON) && tio.cc[VTIME] == 0 {
            tio.cc[VMIN].max(1) as usize
        } else {
            1
        };
        let mut ev = 0;
        if ld.readable(min) {
            ev |= POLLIN | POLLRDNORM;
        }
        let stopped = ld.stopped;
        drop(ld);
        if self.other_closed() {
            ev |= POLLHUP;
        }
        if self.take_pktstatus(false) != 0 {
            ev |= POLLPRI | POLLIN | POLLRDNORM;
        }
        if !stopped && self.driver.write_room(self) > 0 {
            ev |= POLLOUT | POLLWRNORM;
        }
        ev
    }

    /// New settings; `flush` discards pending input first (TCSETSF).
    pub fn set_termios(&self, t: Termios, flush: bool) {
        let (old, fx) = {
            let mut ld = self.ld();
            if flush {
                ld.flush_input();
            }
            let old = ld.termios;
            (old, ld.set_termios(t))
        };
        // Packet mode: whether ^S/^Q flow control is on, and (EXTPROC)
        // that settings changed.
        let flow = |t: &Termios| t.iflag(IXON) && t.cc[VSTOP] == 0x13 && t.cc[VSTART] == 0x11;
        if flow(&old) != flow(&t) {
            let (on, off) = if flow(&t) {
                (TIOCPKT_DOSTOP, TIOCPKT_NOSTOP)
            } else {
                (TIOCPKT_NOSTOP, TIOCPKT_DOSTOP)
            };
            self.packet_event(on, off);
        }
        if old.lflag(EXTPROC) || t.lflag(EXTPROC) {
            self.packet_event(TIOCPKT_IOCTL, 0);
        }
        if !fx.echo.is_empty() {
            self.driver.write(self, &fx.echo);
        }
        self.wq.wake_all();
        if let Some(l) = self.link() {
            l.wq.wake_all();
        }
    }

    /// TCIFLUSH / TCOFLUSH.
    pub fn flush(&self, input: bool, output: bool) {
        if input {
            self.packet_event(TIOCPKT_FLUSHREAD, 0);
            self.ld().flush_input();
            self.driver.unthrottle(self);
        }
        if output {
            self.driver.flush_buffer(self);
        }
        self.wq.wake_all();
    }

    /// TCXONC / ^S ^Q: stop or restart output.
    pub fn set_stopped(&self, stop: bool) {
        let mut fx = n_tty::Effects::default();
        {
            let mut ld = self.ld();
            if stop {
                fx.stopped = !ld.stopped;
                ld.stopped = true;
            } else {
                ld.start(&mut fx);
            }
        }
        self.flow_and_echo(&fx);
        self.wq.wake_all();
    }

    pub fn winsize(&self) -> [u16; 4] {
        self.ctrl().winsize
    }

    /// Set the window size (TIOCSWINSZ, host SIGWINCH); the foreground
    /// process group hears SIGWINCH if it changed.
    pub fn set_winsize(&self, ws: [u16; 4]) {
        let pgrp = {
            let mut c = self.ctrl();
            if c.winsize == ws {
                return;
            }
            c.winsize = ws;
            c.pgrp
        };
        log::debug!("tty: {} window size {}x{}", self.name, ws[1], ws[0]);
        if pgrp > 0 {
            signal::kill_pgrp(pgrp, SIGWINCH);
        }
    }

    /// Hang up: files opened so far are dead (reads see end of file,
    /// writes EIO), the session loses its controlling tty and is told
    /// with SIGHUP. `exit_session`: the controlling process exited.
    pub fn hangup(&self, exit_session: bool) {
        let (sid, pgrp) = {
            let mut c = self.ctrl();
            c.gen += 1;
            (c.session, c.pgrp)
        };
        log::debug!("tty: hangup of {} (session {})", self.name, sid);
        {
            let mut ld = self.ld();
            ld.flush_input();
            ld.stopped = false;
        }
        jobctl::clear_session(self);
        jobctl::signal_session_on_hangup(sid, pgrp, exit_session);
        self.wq.wake_all();
    }
}
