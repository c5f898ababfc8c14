//! N_TTY, the default line discipline, as pure logic: input processing
//! (canonical line editing, echo, signal characters, flow control, CR/NL
//! mapping) and output post-processing (OPOST). It knows nothing about
//! tasks or devices: callers feed it bytes and act on the [`Effects`] it
//! returns (echo to send to the device, signals for the foreground process
//! group). The rules follow Linux's drivers/tty/n_tty.c.

use super::termios::*;
use crate::kernel::signal::{SIGINT, SIGQUIT, SIGTSTP};
use std::collections::VecDeque;

/// Longest canonical line (N_TTY_BUF_SIZE - 1).
pub const MAX_CANON: usize = 4095;
/// Input the discipline holds before the sender has to wait (Linux: the
/// 4 KiB ldisc buffer plus 64 KiB of flip buffers).
pub const INPUT_LIMIT: usize = 65536;

/// What processing input asks the caller to do.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Effects {
    /// Bytes to write to the device (echo), already output-processed.
    pub echo: Vec<u8>,
    /// Signals for the foreground process group, in order.
    pub signals: Vec<i32>,
    /// A signal character without NOFLSH: discard pending output.
    pub flush_output: bool,
    /// Output was restarted (^Q, IXANY): wake blocked writers.
    pub started: bool,
    /// Output was stopped (^S).
    pub stopped: bool,
    /// Input became readable or was flushed: wake readers.
    pub wake: bool,
}

fn iscntrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

/// The line discipline state of one tty.
pub struct NTty {
    pub termios: Termios,
    /// Canonical mode: the line being edited.
    edit: Vec<u8>,
    /// Canonical mode: finished lines, oldest first. A line ends with its
    /// delimiter (\n, EOL, EOL2) or, after EOF, without one; an empty line
    /// is an end-of-file mark.
    lines: VecDeque<Vec<u8>>,
    lines_bytes: usize,
    /// Non-canonical input.
    raw: VecDeque<u8>,
    lnext: bool,
    /// ECHOPRT: inside a "\...erased.../" run.
    erasing: bool,
    /// Output column, for tab expansion and erasing tabs.
    column: u32,
    /// Column where the current input line started.
    canon_column: u32,
    /// Output stopped (^S, TCOOFF).
    pub stopped: bool,
    /// Echo produced while output was stopped.
    held_echo: Vec<u8>,
}

impl NTty {
    pub fn new(termios: Termios) -> NTty {
        NTty {
            termios,
            edit: Vec::new(),
            lines: VecDeque::new(),
            lines_bytes: 0,
            raw: VecDeque::new(),
            lnext: false,
            erasing: false,
            column: 0,
            canon_column: 0,
            stopped: false,
            held_echo: Vec::new(),
        }
    }

    fn icanon(&self) -> bool {
        self.termios.lflag(ICANON)
    }

    // ---- output ---------------------------------------------------------

    /// One output character with OPOST processing (Linux's do_output_char).
    fn opost_char(&mut self, mut c: u8, out: &mut Vec<u8>) {
        let t = self.termios;
        match c {
            b'\n' => {
                if t.oflag(ONLRET) {
                    self.column = 0;
                }
                if t.oflag(ONLCR) {
                    self.column = 0;
                    self.canon_column = 0;
                    out.extend_from_slice(b"\r\n");
                    return;
                }
                self.canon_column = self.column;
            }
            b'\r' => {
                if t.oflag(ONOCR) && self.column == 0 {
                    return;
                }
                if t.oflag(OCRNL) {
                    c = b'\n';
                    if t.oflag(ONLRET) {
                        self.column = 0;
                        self.canon_column = 0;
                    }
                } else {
                    self.column = 0;
                    self.canon_column = 0;
                }
            }
            b'\t' => {
                let spaces = 8 - (self.column & 7);
                self.column += spaces;
                if t.oflag & TABDLY == XTABS {
                    out.extend(std::iter::repeat_n(b' ', spaces as usize));
                    return;
                }
            }
            8 => self.column = self.column.saturating_sub(1),
            _ => {
                if !iscntrl(c) {
                    if t.oflag(OLCUC) {
                        c = c.to_ascii_uppercase();
                    }
                    if !self.is_continuation(c) {
                        self.column += 1;
                    }
                }
            }
        }
        out.push(c);
    }

    /// Output-process `data` for writing to a device that takes at most
    /// `room` bytes. Returns how many input bytes were consumed and appends
    /// the device bytes to `out`.
    pub fn process_output(&mut self, data: &[u8], room: usize, out: &mut Vec<u8>) -> usize {
        if !self.termios.oflag(OPOST) {
            let n = data.len().min(room);
            out.extend_from_slice(&data[..n]);
            return n;
        }
        let start = out.len();
        let mut tmp = Vec::with_capacity(8);
        for (i, &c) in data.iter().enumerate() {
            tmp.clear();
            let (col, ccol) = (self.column, self.canon_column);
            self.opost_char(c, &mut tmp);
            if out.len() - start + tmp.len() > room {
                self.column = col;
                self.canon_column = ccol;
                return i;
            }
            out.extend_from_slice(&tmp);
        }
        data.len()
    }

    // ---- echo -----------------------------------------------------------

    fn emit(&mut self, bytes: &[u8], fx: &mut Effects) {
        if self.stopped {
            self.held_echo.extend_from_slice(bytes);
        } else {
            fx.echo.extend_from_slice(bytes);
        }
    }

    /// Echo a byte as it is (through OPOST).
    fn echo_raw(&mut self, c: u8, fx: &mut Effects) {
        let mut v = Vec::with_capacity(2);
        if self.termios.oflag(OPOST) {
            self.opost_char(c, &mut v);
        } else {
            v.push(c);
        }
        self.emit(&v, fx);
    }

    /// Echo a byte, control characters as ^X with ECHOCTL.
    fn echo_char(&mut self, c: u8, fx: &mut Effects) {
        if self.termios.lflag(ECHOCTL) && iscntrl(c) && c != b'\t' {
            self.column += 2;
            self.emit(&[b'^', c ^ 0o100], fx);
        } else {
            self.echo_raw(c, fx);
        }
    }

    fn finish_erasing(&mut self, fx: &mut Effects) {
        if self.erasing {
            self.echo_raw(b'/', fx);
            self.erasing = false;
        }
    }

    fn is_continuation(&self, c: u8) -> bool {
        self.termios.iflag(IUTF8) && c & 0xc0 == 0x80
    }

    // ---- input ----------------------------------------------------------

    /// Process input bytes from the device.
    pub fn receive(&mut self, data: &[u8]) -> Effects {
        let mut fx = Effects::default();
        for &c in data {
            self.receive_char(c, &mut fx);
        }
        fx
    }

    /// Would `c` take Linux's special-character path (its char_map)?
    fn is_special(&self, c: u8) -> bool {
        let t = &self.termios;
        if t.iflag(IXON) && (t.is_cc(VSTART, c) || t.is_cc(VSTOP, c)) {
            return true;
        }
        if t.lflag(ISIG) && (t.is_cc(VINTR, c) || t.is_cc(VQUIT, c) || t.is_cc(VSUSP, c)) {
            return true;
        }
        if c == b'\r' && (t.iflag(IGNCR) || t.iflag(ICRNL)) {
            return true;
        }
        if c == b'\n' && t.iflag(INLCR) {
            return true;
        }
        if t.lflag(ICANON) {
            if t.is_cc(VERASE, c)
                || t.is_cc(VKILL, c)
                || t.is_cc(VEOF, c)
                || c == b'\n'
                || t.is_cc(VEOL, c)
            {
                return true;
            }
            if t.lflag(IEXTEN)
                && (t.is_cc(VWERASE, c)
                    || t.is_cc(VLNEXT, c)
                    || t.is_cc(VEOL2, c)
                    || (t.lflag(ECHO) && t.is_cc(VREPRINT, c)))
            {
                return true;
            }
        }
        false
    }

    fn receive_char(&mut self, mut c: u8, fx: &mut Effects) {
        let t = self.termios;
        if t.iflag(ISTRIP) {
            c &= 0x7f;
        }
        if t.iflag(IUCLC) && t.lflag(IEXTEN) {
            c = c.to_ascii_lowercase();
        }
        if self.lnext {
            self.lnext = false;
            self.plain_char(c, fx);
            return;
        }
        if self.is_special(c) {
            self.special_char(c, fx);
        } else {
            self.plain_char(c, fx);
        }
    }

    /// An ordinary character: echo and queue it (n_tty_receive_char).
    fn plain_char(&mut self, c: u8, fx: &mut Effects) {
        let t = self.termios;
        if self.stopped && t.iflag(IXON) && t.iflag(IXANY) {
            self.start(fx);
        }
        if !self.room_for(c, false) {
            self.overflow(fx);
            return;
        }
        if t.lflag(ECHO) {
            self.finish_erasing(fx);
            if self.edit.is_empty() {
                self.canon_column = self.column;
            }
            self.echo_char(c, fx);
        }
        self.queue(c, fx);
    }

    fn special_char(&mut self, mut c: u8, fx: &mut Effects) {
        let t = self.termios;
        if t.iflag(IXON) {
            if t.is_cc(VSTART, c) {
                self.start(fx);
                return;
            }
            if t.is_cc(VSTOP, c) {
                fx.stopped |= !self.stopped;
                self.stopped = true;
                return;
            }
        }
        if t.lflag(ISIG) {
            for (idx, sig) in [(VINTR, SIGINT), (VQUIT, SIGQUIT), (VSUSP, SIGTSTP)] {
                if t.is_cc(idx, c) {
                    self.signal_char(sig, c, fx);
                    return;
                }
            }
        }
        if self.stopped && t.iflag(IXON) && t.iflag(IXANY) {
            self.start(fx);
        }
        if c == b'\r' {
            if t.iflag(IGNCR) {
                return;
            }
            if t.iflag(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && t.iflag(INLCR) {
            c = b'\r';
        }
        if t.lflag(ICANON) {
            if t.is_cc(VERASE, c) || t.is_cc(VKILL, c) || (t.is_cc(VWERASE, c) && t.lflag(IEXTEN)) {
                self.eraser(c, fx);
                return;
            }
            if t.is_cc(VLNEXT, c) && t.lflag(IEXTEN) {
                self.lnext = true;
                if t.lflag(ECHO) {
                    self.finish_erasing(fx);
                    if t.lflag(ECHOCTL) {
                        // "^" then back over it: the next character covers it.
                        self.echo_raw(b'^', fx);
                        self.echo_raw(8, fx);
                    }
                }
                return;
            }
            if t.is_cc(VREPRINT, c) && t.lflag(ECHO) && t.lflag(IEXTEN) {
                self.finish_erasing(fx);
                self.echo_char(c, fx);
                self.echo_raw(b'\n', fx);
                let line = self.edit.clone();
                for b in line {
                    self.echo_char(b, fx);
                }
                return;
            }
            if c == b'\n' {
                if t.lflag(ECHO) || t.lflag(ECHONL) {
                    self.echo_raw(b'\n', fx);
                }
                self.edit.push(c);
                self.end_line(fx);
                return;
            }
            if t.is_cc(VEOF, c) {
                // The EOF character ends the line and is not part of it.
                self.end_line(fx);
                return;
            }
            if t.is_cc(VEOL, c) || (t.is_cc(VEOL2, c) && t.lflag(IEXTEN)) {
                if t.lflag(ECHO) {
                    if self.edit.is_empty() {
                        self.canon_column = self.column;
                    }
                    self.echo_char(c, fx);
                }
                self.edit.push(c);
                self.end_line(fx);
                return;
            }
        }
        if !self.room_for(c, false) {
            self.overflow(fx);
            return;
        }
        if t.lflag(ECHO) {
            self.finish_erasing(fx);
            if c == b'\n' {
                self.echo_raw(b'\n', fx);
            } else {
                if self.edit.is_empty() {
                    self.canon_column = self.column;
                }
                self.echo_char(c, fx);
            }
        }
        self.queue(c, fx);
    }

    /// Is there room for one more input character?
    fn room_for(&self, _c: u8, _eol: bool) -> bool {
        if self.icanon() {
            self.edit.len() < MAX_CANON && self.lines_bytes < INPUT_LIMIT
        } else {
            self.raw.len() < INPUT_LIMIT
        }
    }

    fn overflow(&mut self, fx: &mut Effects) {
        if self.termios.iflag(IMAXBEL) && self.termios.lflag(ECHO) {
            self.emit(&[7], fx);
        }
    }

    fn queue(&mut self, c: u8, fx: &mut Effects) {
        if self.icanon() {
            self.edit.push(c);
        } else {
            self.raw.push_back(c);
            fx.wake = true;
        }
    }

    fn end_line(&mut self, fx: &mut Effects) {
        let line = std::mem::take(&mut self.edit);
        self.lines_bytes += line.len();
        self.lines.push_back(line);
        fx.wake = true;
    }

    fn signal_char(&mut self, sig: i32, c: u8, fx: &mut Effects) {
        fx.signals.push(sig);
        if !self.termios.lflag(NOFLSH) {
            self.flush_input();
            self.held_echo.clear();
            fx.echo.clear();
            fx.flush_output = true;
            fx.wake = true;
        }
        if self.termios.iflag(IXON) {
            self.start(fx);
        }
        if self.termios.lflag(ECHO) {
            self.echo_char(c, fx);
        }
    }

    /// ERASE, WERASE and KILL (Linux's eraser()).
    fn eraser(&mut self, c: u8, fx: &mut Effects) {
        #[derive(PartialEq)]
        enum Kind {
            Erase,
            Werase,
            Kill,
        }
        let t = self.termios;
        if self.edit.is_empty() {
            return;
        }
        let kind = if t.is_cc(VERASE, c) {
            Kind::Erase
        } else if t.is_cc(VWERASE, c) {
            Kind::Werase
        } else {
            if !t.lflag(ECHO) {
                self.edit.clear();
                return;
            }
            if !t.lflag(ECHOK) || !t.lflag(ECHOKE) || !t.lflag(ECHOE) {
                self.edit.clear();
                self.finish_erasing(fx);
                self.echo_char(t.cc[VKILL], fx);
                if t.lflag(ECHOK) {
                    self.echo_raw(b'\n', fx);
                }
                return;
            }
            Kind::Kill
        };
        let mut seen_alnums = 0;
        while !self.edit.is_empty() {
            // One character, possibly several UTF-8 bytes.
            let mut head = self.edit.len();
            let mut ch;
            loop {
                head -= 1;
                ch = self.edit[head];
                if !(self.is_continuation(ch) && head > 0) {
                    break;
                }
            }
            if self.is_continuation(ch) {
                break;
            }
            if kind == Kind::Werase {
                if ch.is_ascii_alphanumeric() || ch == b'_' {
                    seen_alnums += 1;
                } else if seen_alnums > 0 {
                    break;
                }
            }
            let erased: Vec<u8> = self.edit.drain(head..).collect();
            if t.lflag(ECHO) {
                if t.lflag(ECHOPRT) {
                    if !self.erasing {
                        self.echo_raw(b'\\', fx);
                        self.erasing = true;
                    }
                    self.echo_char(ch, fx);
                    for &b in &erased[1..] {
                        self.echo_raw(b, fx);
                    }
                } else if kind == Kind::Erase && !t.lflag(ECHOE) {
                    self.echo_char(t.cc[VERASE], fx);
                } else if ch == b'\t' {
                    self.erase_tab(fx);
                } else {
                    let bs = |s: &mut Self, fx: &mut Effects| {
                        s.echo_raw(8, fx);
                        s.echo_raw(b' ', fx);
                        s.echo_raw(8, fx);
                    };
                    if iscntrl(ch) && t.lflag(ECHOCTL) {
                        bs(self, fx);
                    }
                    if !iscntrl(ch) || t.lflag(ECHOCTL) {
                        bs(self, fx);
                    }
                }
            }
            if kind == Kind::Erase {
                break;
            }
        }
        if self.edit.is_empty() && t.lflag(ECHO) {
            self.finish_erasing(fx);
        }
    }

    /// Back over an erased tab: as many columns as it took on screen.
    fn erase_tab(&mut self, fx: &mut Effects) {
        let mut num = 0u32;
        let mut after_tab = false;
        for &b in self.edit.iter().rev() {
            if b == b'\t' {
                after_tab = true;
                break;
            } else if iscntrl(b) {
                if self.termios.lflag(ECHOCTL) {
                    num += 2;
                }
            } else if !self.is_continuation(b) {
                num += 1;
            }
        }
        if !after_tab {
            num += self.canon_column;
        }
        let n = 8 - (num & 7);
        for _ in 0..n {
            self.column = self.column.saturating_sub(1);
        }
        self.emit(&vec![8u8; n as usize], fx);
    }

    /// Restart stopped output; held echo goes out.
    pub fn start(&mut self, fx: &mut Effects) {
        if self.stopped {
            self.stopped = false;
            fx.started = true;
        }
        let held = std::mem::take(&mut self.held_echo);
        fx.echo.extend_from_slice(&held);
    }

    // ---- reading --------------------------------------------------------

    /// Bytes a read could return now (FIONREAD): complete lines in
    /// canonical mode.
    pub fn available(&self) -> usize {
        if self.icanon() {
            self.lines_bytes
        } else {
            self.raw.len()
        }
    }

    /// Is a read satisfied now? Canonical: a line (or EOF mark) is
    /// waiting. Otherwise at least `min` bytes.
    pub fn readable(&self, min: usize) -> bool {
        if self.icanon() {
            !self.lines.is_empty()
        } else {
            self.raw.len() >= min.max(1)
        }
    }

    /// Read what is there: at most one line in canonical mode (0 for an
    /// end-of-file mark). Call only when `readable` (canonical) or with
    /// data present.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        if self.icanon() {
            let Some(line) = self.lines.front_mut() else {
                return 0;
            };
            let n = buf.len().min(line.len());
            buf[..n].copy_from_slice(&line[..n]);
            line.drain(..n);
            self.lines_bytes -= n;
            if line.is_empty() {
                self.lines.pop_front();
            }
            n
        } else {
            let n = buf.len().min(self.raw.len());
            for (i, b) in self.raw.drain(..n).enumerate() {
                buf[i] = b;
            }
            n
        }
    }

    /// Room for more input before the sender has to wait.
    pub fn receive_room(&self) -> usize {
        let used = if self.icanon() {
            self.lines_bytes + self.edit.len()
        } else {
            self.raw.len()
        };
        INPUT_LIMIT.saturating_sub(used)
    }

    /// Discard all pending input (TCIFLUSH, signal characters).
    pub fn flush_input(&mut self) {
        self.edit.clear();
        self.lines.clear();
        self.lines_bytes = 0;
        self.raw.clear();
        self.lnext = false;
        self.erasing = false;
    }

    /// New settings (TCSETS*). Pending input moves between the cooked
    /// and raw queues when ICANON changes, as Linux does.
    pub fn set_termios(&mut self, t: Termios) -> Effects {
        let mut fx = Effects {
            wake: true,
            ..Default::default()
        };
        let old = self.termios;
        self.termios = t;
        let was = old.lflag(ICANON);
        let now = t.lflag(ICANON);
        if was && !now {
            for l in self.lines.drain(..) {
                self.raw.extend(l);
            }
            self.lines_bytes = 0;
            self.raw.extend(self.edit.drain(..));
        } else if !was && now && !self.raw.is_empty() {
            // What was typed in raw mode becomes one finished line.
            let line: Vec<u8> = self.raw.drain(..).collect();
            self.lines_bytes += line.len();
            self.lines.push_back(line);
        }
        if was != now {
            self.lnext = false;
            self.erasing = false;
        }
        if self.stopped && old.iflag(IXON) && !t.iflag(IXON) {
            self.start(&mut fx);
        }
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tty() -> NTty {
        NTty::new(Termios::standard())
    }

    fn read_all(n: &mut NTty) -> Vec<u8> {
        let mut b = [0u8; 8192];
        let k = n.read(&mut b);
        b[..k].to_vec()
    }

    #[test]
    fn canonical_line_and_echo() {
        let mut n = tty();
        let fx = n.receive(b"ls -l");
        assert_eq!(fx.echo, b"ls -l");
        assert!(!n.readable(1));
        let fx = n.receive(b"\r");
        // ICRNL turns CR into NL; ONLCR echoes it as CR NL.
        assert_eq!(fx.echo, b"\r\n");
        assert!(fx.wake);
        assert_eq!(read_all(&mut n), b"ls -l\n");
        assert!(!n.readable(1));
    }

    #[test]
    fn one_line_per_read_and_partial_reads() {
        let mut n = tty();
        n.receive(b"ab\ncd\n");
        assert_eq!(n.available(), 6);
        let mut b = [0u8; 1];
        assert_eq!(n.read(&mut b), 1);
        assert_eq!(&b, b"a");
        assert_eq!(read_all(&mut n), b"b\n");
        assert_eq!(read_all(&mut n), b"cd\n");
    }

    #[test]
    fn erase_kill_werase() {
        let mut n = tty();
        n.receive(b"abc");
        let fx = n.receive(&[0x7f]);
        assert_eq!(fx.echo, b"\x08 \x08");
        // ^W erases trailing blanks and the word before them.
        n.receive(b"ab foo  ");
        let fx = n.receive(&[0x17]);
        assert_eq!(fx.echo.len(), 5 * 3);
        // ^U with ECHOKE erases the line visually.
        let fx = n.receive(&[0x15]);
        assert_eq!(fx.echo, b"\x08 \x08".repeat(5));
        n.receive(b"x\n");
        assert_eq!(read_all(&mut n), b"x\n");
    }

    #[test]
    fn kill_without_echoke_echoes_char_and_newline() {
        let mut n = tty();
        n.termios.lflag &= !ECHOKE;
        n.receive(b"abc");
        let fx = n.receive(&[0x15]);
        assert_eq!(fx.echo, b"^U\r\n");
    }

    #[test]
    fn erase_without_echoe_echoes_erase_char() {
        let mut n = tty();
        n.termios.lflag &= !ECHOE;
        n.receive(b"ab");
        assert_eq!(n.receive(&[0x7f]).echo, b"^?");
        n.receive(b"\n");
        assert_eq!(read_all(&mut n), b"a\n");
    }

    #[test]
    fn erase_control_char_takes_two_columns() {
        let mut n = tty();
        n.receive(&[1]); // ^A echoed as "^A"
        assert_eq!(n.receive(&[0x7f]).echo, b"\x08 \x08\x08 \x08");
    }

    #[test]
    fn erase_tab_backs_up_to_tab_stop() {
        let mut n = tty();
        // A 3-column prompt, then "ab\t": the tab ends at column 8.
        let mut out = Vec::new();
        n.process_output(b"$> ", 100, &mut out);
        n.receive(b"ab\t");
        let fx = n.receive(&[0x7f]);
        assert_eq!(fx.echo, vec![8u8; 3]);
    }

    #[test]
    fn echoctl_and_echonl() {
        let mut n = tty();
        assert_eq!(n.receive(&[0x1b]).echo, b"^[");
        n.termios.lflag &= !ECHOCTL;
        assert_eq!(n.receive(&[0x1b]).echo, &[0x1b]);
        let mut n = tty();
        n.termios.lflag &= !ECHO;
        n.termios.lflag |= ECHONL;
        let fx = n.receive(b"secret\n");
        assert_eq!(fx.echo, b"\r\n");
        assert_eq!(read_all(&mut n), b"secret\n");
    }

    #[test]
    fn eof_pushes_line_and_empty_eof_reads_zero() {
        let mut n = tty();
        let fx = n.receive(b"abc\x04");
        assert_eq!(fx.echo, b"abc", "EOF is not echoed");
        assert!(n.readable(1));
        assert_eq!(read_all(&mut n), b"abc");
        n.receive(&[4]);
        assert!(n.readable(1));
        assert_eq!(read_all(&mut n), b"");
        assert!(!n.readable(1));
    }

    #[test]
    fn lnext_quotes_next_char() {
        let mut n = tty();
        let fx = n.receive(&[0x16]);
        assert_eq!(fx.echo, b"^\x08");
        let fx = n.receive(&[0x03]); // ^C quoted: no signal
        assert!(fx.signals.is_empty());
        assert_eq!(fx.echo, b"^C");
        n.receive(b"\n");
        assert_eq!(read_all(&mut n), b"\x03\n");
    }

    #[test]
    fn reprint_redraws_line() {
        let mut n = tty();
        n.receive(b"hi");
        assert_eq!(n.receive(&[0x12]).echo, b"^R\r\nhi");
    }

    #[test]
    fn signal_chars_flush_and_signal() {
        let mut n = tty();
        n.receive(b"partial");
        let fx = n.receive(&[3]);
        assert_eq!(fx.signals, vec![SIGINT]);
        assert!(fx.flush_output);
        assert_eq!(fx.echo, b"^C");
        n.receive(b"\n");
        assert_eq!(read_all(&mut n), b"\n");
        assert_eq!(n.receive(&[0x1c]).signals, vec![SIGQUIT]);
        assert_eq!(n.receive(&[0x1a]).signals, vec![SIGTSTP]);
        n.termios.lflag |= NOFLSH;
        n.receive(b"keep");
        let fx = n.receive(&[3]);
        assert!(!fx.flush_output);
        n.receive(b"\n");
        assert_eq!(read_all(&mut n), b"keep\n");
        n.termios.lflag &= !ISIG;
        assert!(n.receive(&[3]).signals.is_empty());
    }

    #[test]
    fn cr_nl_input_mapping() {
        let mut n = tty();
        n.termios.iflag = IGNCR;
        n.receive(b"a\rb\n");
        assert_eq!(read_all(&mut n), b"ab\n");
        n.termios.iflag = INLCR;
        n.termios.lflag &= !ICANON;
        n.receive(b"\n");
        assert_eq!(read_all(&mut n), b"\r");
        n.termios.iflag = 0;
        n.receive(b"\r");
        assert_eq!(read_all(&mut n), b"\r");
    }

    #[test]
    fn raw_mode_newline_echo() {
        let mut n = tty();
        n.termios.lflag &= !ICANON;
        // CR mapped by ICRNL is echoed as a newline, a literal NL as ^J.
        assert_eq!(n.receive(b"\r").echo, b"\r\n");
        assert_eq!(n.receive(b"\n").echo, b"^J");
        assert_eq!(read_all(&mut n), b"\n\n");
    }

    #[test]
    fn output_processing() {
        let mut n = tty();
        let mut out = Vec::new();
        assert_eq!(n.process_output(b"a\nb", 100, &mut out), 3);
        assert_eq!(out, b"a\r\nb");
        // Room is respected without splitting CR NL.
        let mut out = Vec::new();
        assert_eq!(n.process_output(b"x\n", 2, &mut out), 1);
        assert_eq!(out, b"x");
        n.termios.oflag = OPOST | XTABS | OLCUC;
        let mut out = Vec::new();
        n.process_output(b"\rab\t|", 100, &mut out);
        assert_eq!(out, b"\rAB      |");
        n.termios.oflag = OPOST | OCRNL;
        let mut out = Vec::new();
        n.process_output(b"\r", 100, &mut out);
        assert_eq!(out, b"\n");
        // ONOCR: no CR at column 0 (a fresh tty is at column 0).
        let mut n = tty();
        n.termios.oflag = OPOST | ONOCR;
        let mut out = Vec::new();
        n.process_output(b"\rx\r", 100, &mut out);
        assert_eq!(out, b"x\r");
        n.termios.oflag = 0;
        let mut out = Vec::new();
        n.process_output(b"a\n", 100, &mut out);
        assert_eq!(out, b"a\n");
    }

    #[test]
    fn ixon_stop_start_holds_echo() {
        let mut n = tty();
        let fx = n.receive(&[0x13]);
        assert!(fx.echo.is_empty());
        assert!(n.stopped);
        let fx = n.receive(b"ab");
        assert!(fx.echo.is_empty(), "echo held while stopped");
        let fx = n.receive(&[0x11]);
        assert!(!n.stopped);
        assert!(fx.started);
        assert_eq!(fx.echo, b"ab");
        // IXANY: any character restarts.
        n.termios.iflag |= IXANY;
        n.receive(&[0x13]);
        let fx = n.receive(b"c");
        assert!(!n.stopped);
        assert_eq!(fx.echo, b"c");
        // ^S/^Q are not input.
        n.receive(b"\n");
        assert_eq!(read_all(&mut n), b"abc\n");
    }

    #[test]
    fn noncanonical_min() {
        let mut n = tty();
        let mut t = n.termios;
        t.lflag &= !(ICANON | ECHO);
        t.cc[VMIN] = 3;
        n.set_termios(t);
        n.receive(b"ab");
        assert!(!n.readable(3));
        assert!(n.readable(1));
        n.receive(b"c");
        assert!(n.readable(3));
        assert_eq!(read_all(&mut n), b"abc");
    }

    #[test]
    fn icanon_switch_moves_pending_input() {
        let mut n = tty();
        n.receive(b"line\npart");
        let mut t = n.termios;
        t.lflag &= !ICANON;
        n.set_termios(t);
        assert_eq!(read_all(&mut n), b"line\npart");
        n.receive(b"xy");
        t.lflag |= ICANON;
        n.set_termios(t);
        assert!(n.readable(1));
        assert_eq!(read_all(&mut n), b"xy");
    }

    #[test]
    fn canonical_line_limit() {
        let mut n = tty();
        n.receive(&vec![b'a'; 5000]);
        n.receive(b"\n");
        assert_eq!(read_all(&mut n).len(), MAX_CANON + 1);
    }

    #[test]
    fn istrip_and_iuclc() {
        let mut n = tty();
        n.termios.iflag |= ISTRIP | IUCLC;
        n.receive(&[0xc1, b'B', b'\n']);
        assert_eq!(read_all(&mut n), b"ab\n");
    }
}
