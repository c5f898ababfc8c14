//! `struct termios` as the x86_64 kernel ABI has it (TCGETS/TCSETS and the
//! termios2 of TCGETS2/TCSETS2), its flag bits, and the defaults Linux
//! gives a new terminal.

// The whole flag table of the ABI, whether or not N_TTY acts on each bit.
#![allow(dead_code)]

// c_iflag
pub const IGNBRK: u32 = 0o1;
pub const BRKINT: u32 = 0o2;
pub const IGNPAR: u32 = 0o4;
pub const PARMRK: u32 = 0o10;
pub const INPCK: u32 = 0o20;
pub const ISTRIP: u32 = 0o40;
pub const INLCR: u32 = 0o100;
pub const IGNCR: u32 = 0o200;
pub const ICRNL: u32 = 0o400;
pub const IUCLC: u32 = 0o1000;
pub const IXON: u32 = 0o2000;
pub const IXANY: u32 = 0o4000;
pub const IXOFF: u32 = 0o10000;
pub const IMAXBEL: u32 = 0o20000;
pub const IUTF8: u32 = 0o40000;

// c_oflag
pub const OPOST: u32 = 0o1;
pub const OLCUC: u32 = 0o2;
pub const ONLCR: u32 = 0o4;
pub const OCRNL: u32 = 0o10;
pub const ONOCR: u32 = 0o20;
pub const ONLRET: u32 = 0o40;
pub const OFILL: u32 = 0o100;
pub const OFDEL: u32 = 0o200;
pub const TABDLY: u32 = 0o14000;
pub const XTABS: u32 = 0o14000;

// c_cflag
pub const CBAUD: u32 = 0o10017;
pub const B38400: u32 = 0o17;
pub const BOTHER: u32 = 0o10000;
pub const CSIZE: u32 = 0o60;
pub const CS8: u32 = 0o60;
pub const CSTOPB: u32 = 0o100;
pub const CREAD: u32 = 0o200;
pub const PARENB: u32 = 0o400;
pub const HUPCL: u32 = 0o2000;
pub const CLOCAL: u32 = 0o4000;
pub const CIBAUD: u32 = 0o2003600000;

// c_lflag
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const XCASE: u32 = 0o4;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHONL: u32 = 0o100;
pub const NOFLSH: u32 = 0o200;
pub const TOSTOP: u32 = 0o400;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOPRT: u32 = 0o2000;
pub const ECHOKE: u32 = 0o4000;
pub const FLUSHO: u32 = 0o10000;
pub const PENDIN: u32 = 0o40000;
pub const IEXTEN: u32 = 0o100000;
pub const EXTPROC: u32 = 0o200000;

// c_cc indices
pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSWTC: usize = 7;
pub const VSTART: usize = 8;
pub const VSTOP: usize = 9;
pub const VSUSP: usize = 10;
pub const VEOL: usize = 11;
pub const VREPRINT: usize = 12;
pub const VDISCARD: usize = 13;
pub const VWERASE: usize = 14;
pub const VLNEXT: usize = 15;
pub const VEOL2: usize = 16;
pub use crate::abi::tty::NCCS;
use crate::abi::tty::{KTermios, Termios2};

/// Size of the kernel `struct termios` (TCGETS).
pub const TERMIOS_SIZE: usize = core::mem::size_of::<KTermios>();
/// Size of `struct termios2` (TCGETS2): termios plus input/output speeds.
pub const TERMIOS2_SIZE: usize = core::mem::size_of::<Termios2>();

/// A terminal's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; NCCS],
    pub ispeed: u32,
    pub ospeed: u32,
}

impl Termios {
    /// Linux's `tty_std_termios`: what a console or serial line starts with.
    pub fn standard() -> Termios {
        let mut cc = [0u8; NCCS];
        // INIT_C_CC: ^C ^\ ^? ^U ^D 0 1 0 ^Q ^S ^Z 0 ^R ^O ^W ^V 0
        cc[..17].copy_from_slice(&[
            3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0,
        ]);
        Termios {
            iflag: ICRNL | IXON,
            oflag: OPOST | ONLCR,
            cflag: B38400 | CS8 | CREAD | HUPCL,
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            line: 0,
            cc,
            ispeed: 38400,
            ospeed: 38400,
        }
    }

    /// A pty slave's initial settings: the standard ones without HUPCL
    /// (Linux's `pts_driver->init_termios`).
    pub fn pty_slave() -> Termios {
        let mut t = Termios::standard();
        t.cflag = B38400 | CS8 | CREAD;
        t
    }

    /// A pty master's settings: no input or output processing at all.
    pub fn pty_master() -> Termios {
        let mut t = Termios::standard();
        t.iflag = 0;
        t.oflag = 0;
        t.cflag = B38400 | CS8 | CREAD;
        t.lflag = 0;
        t
    }

    fn to_abi(self) -> KTermios {
        KTermios {
            c_iflag: self.iflag,
            c_oflag: self.oflag,
            c_cflag: self.cflag,
            c_lflag: self.lflag,
            c_line: self.line,
            c_cc: self.cc,
        }
    }

    pub fn to_bytes(self) -> [u8; TERMIOS_SIZE] {
        bytemuck::cast(self.to_abi())
    }

    pub fn to_bytes2(self) -> [u8; TERMIOS2_SIZE] {
        bytemuck::cast(Termios2 {
            t: self.to_abi(),
            c_ispeed: self.ispeed,
            c_ospeed: self.ospeed,
        })
    }

    /// Parse a `struct termios` (36 bytes) or `termios2` (44 bytes). The
    /// speeds of a plain termios follow from its CBAUD bits.
    pub fn from_bytes(b: &[u8]) -> Termios {
        // A plain termios reads as a termios2 with zero speeds.
        let t2: Termios2 = crate::abi::read_at(b, 0);
        let k = t2.t;
        let cflag = k.c_cflag;
        let (ispeed, ospeed) = if b.len() >= TERMIOS2_SIZE && cflag & CBAUD == BOTHER {
            (t2.c_ispeed, t2.c_ospeed)
        } else {
            let s = baud_rate(cflag & CBAUD);
            (s, s)
        };
        Termios {
            iflag: k.c_iflag,
            oflag: k.c_oflag,
            cflag,
            lflag: k.c_lflag,
            line: k.c_line,
            cc: k.c_cc,
            ispeed,
            ospeed,
        }
    }

    pub fn lflag(&self, f: u32) -> bool {
        self.lflag & f != 0
    }
    pub fn iflag(&self, f: u32) -> bool {
        self.iflag & f != 0
    }
    pub fn oflag(&self, f: u32) -> bool {
        self.oflag & f != 0
    }
    /// Is `c` the (enabled) control character at index `idx`?
    /// `_POSIX_VDISABLE` (0) disables a character.
    pub fn is_cc(&self, idx: usize, c: u8) -> bool {
        self.cc[idx] != 0 && self.cc[idx] == c
    }
}

/// The bit rate a CBAUD code stands for.
pub fn baud_rate(code: u32) -> u32 {
    const RATES: [u32; 16] = [
        0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
    ];
    const HIGH: [u32; 15] = [
        57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000,
        2500000, 3000000, 3500000, 4000000,
    ];
    if code & 0o10000 == 0 {
        RATES[(code & 0o17) as usize]
    } else {
        let i = (code & 0o17) as usize;
        if i == 0 || i > HIGH.len() {
            0
        } else {
            HIGH[i - 1]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = Termios::standard();
        assert_eq!(Termios::from_bytes(&t.to_bytes()), t);
        assert_eq!(Termios::from_bytes(&t.to_bytes2()), t);
        assert_eq!(t.to_bytes().len(), 36);
    }

    #[test]
    fn linux_defaults() {
        // Values of Linux's tty_std_termios as the raw words TCGETS returns.
        let t = Termios::standard();
        assert_eq!(t.iflag, 0o2400);
        assert_eq!(t.oflag, 0o5);
        assert_eq!(t.cflag, 0o2277);
        assert_eq!(t.lflag, 0o105073);
        assert_eq!(t.cc[VMIN], 1);
        assert_eq!(baud_rate(t.cflag & CBAUD), 38400);
        assert_eq!(Termios::pty_slave().cflag & HUPCL, 0);
    }
}
