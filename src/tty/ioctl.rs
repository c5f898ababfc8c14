//! Terminal ioctls (tty_ioctl, tty_mode_ioctl, n_tty_ioctl_helper): termios,
//! flushing and flow control, window size, process groups and sessions.
//! On a pty master the mode, window-size and process-group requests act on
//! the slave, as in Linux.

use super::file::TtyFile;
use super::termios::*;
use super::{jobctl, pty, Kind, Tty};
use crate::abi::tty::Winsize;
use crate::fs::file::{File, O_NONBLOCK};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::SIGTTOU;
use crate::kernel::task::{self, Task};
use std::sync::Arc;

// The request numbers are the guest ABI's, defined once in abi::ioctl.
pub use crate::abi::ioctl::*;

const TCOOFF: u64 = 0;
const TCOON: u64 = 1;
const TCIOFF: u64 = 2;
const TCION: u64 = 3;

/// The tty mode and job-control requests act on: the slave for a master.
fn real_tty(tty: &Arc<Tty>) -> KResult<Arc<Tty>> {
    if tty.kind == Kind::PtyMaster {
        tty.link().ok_or(Errno::EIO)
    } else {
        Ok(tty.clone())
    }
}

/// Process-group requests need the caller's controlling tty (or a master).
fn need_ctty(tty: &Arc<Tty>, real: &Arc<Tty>, t: &Task) -> KResult<()> {
    if Arc::ptr_eq(tty, real) && !jobctl::is_ctty(real, t) {
        return Err(Errno::ENOTTY);
    }
    Ok(())
}

pub fn ioctl(file: &TtyFile, f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
    let tty = &file.tty;
    if file.hung_up() {
        // hung_up_tty_ioctl: only TIOCSPGRP answers ENOTTY, the rest EIO.
        return Err(if cmd == TIOCSPGRP {
            Errno::ENOTTY
        } else {
            Errno::EIO
        });
    }
    if let Some(r) = pty::ioctl(tty, f, t, cmd, arg) {
        return r;
    }
    let mm = t.mm();
    let real = real_tty(tty)?;
    match cmd {
        TCGETS => {
            mm.write(arg, &real.termios().to_bytes())?;
            Ok(0)
        }
        TCGETS2 => {
            mm.write(arg, &real.termios().to_bytes2())?;
            Ok(0)
        }
        TCSETS | TCSETSW | TCSETSF | TCSETS2 | TCSETSW2 | TCSETSF2 => {
            let size = if matches!(cmd, TCSETS | TCSETSW | TCSETSF) {
                TERMIOS_SIZE
            } else {
                TERMIOS2_SIZE
            };
            let b = mm.read_vec(arg, size)?;
            jobctl::check_change(&real, t, SIGTTOU)?;
            // Output is never queued behind the driver, so the "wait for
            // output to drain" of TCSETSW/TCSETSF has nothing to wait for.
            real.set_termios(Termios::from_bytes(&b), matches!(cmd, TCSETSF | TCSETSF2));
            Ok(0)
        }
        TCSBRK | TCSBRKP | TIOCSBRK | TIOCCBRK => {
            // A break on a virtual line is nothing; tcdrain has no queue
            // to wait for.
            jobctl::check_change(tty, t, SIGTTOU)?;
            Ok(0)
        }
        TCXONC => {
            jobctl::check_change(tty, t, SIGTTOU)?;
            match arg {
                TCOOFF => tty.set_stopped(true),
                TCOON => tty.set_stopped(false),
                TCIOFF | TCION => {
                    let tio = tty.termios();
                    let c = tio.cc[if arg == TCIOFF { VSTOP } else { VSTART }];
                    if c != 0 {
                        tty.write_kernel(&[c]).ok();
                    }
                }
                _ => return Err(Errno::EINVAL),
            }
            Ok(0)
        }
        TCFLSH => {
            jobctl::check_change(tty, t, SIGTTOU)?;
            match arg {
                0 => tty.flush(true, false),
                1 => tty.flush(false, true),
                2 => tty.flush(true, true),
                _ => return Err(Errno::EINVAL),
            }
            Ok(0)
        }
        TIOCEXCL | TIOCNXCL => {
            // Exclusive mode only refuses opens by unprivileged users;
            // every guest user is root to the tty layer for now.
            Ok(0)
        }
        TIOCGEXCL => {
            mm.write_u32(arg, 0)?;
            Ok(0)
        }
        TIOCSCTTY => {
            jobctl::tiocsctty(&real, t, arg == 1)?;
            Ok(0)
        }
        TIOCNOTTY => {
            jobctl::tiocnotty(tty, t)?;
            Ok(0)
        }
        TIOCGPGRP => {
            need_ctty(tty, &real, t)?;
            // In the caller's pid namespace (0 when outside it).
            let fg = real.foreground();
            let shown = if fg > 0 {
                crate::kernel::ns::pid::vnr(t, fg)
            } else {
                fg
            };
            mm.write_u32(arg, shown as u32)?;
            Ok(0)
        }
        TIOCSPGRP => {
            need_ctty(tty, &real, t)?;
            match jobctl::check_change(&real, t, SIGTTOU) {
                Err(Errno::EIO) => return Err(Errno::ENOTTY),
                Err(e) => return Err(e),
                Ok(()) => {}
            }
            let pg = mm.read_u32(arg)? as i32;
            if pg < 0 {
                return Err(Errno::EINVAL);
            }
            // A group named in the caller's pid namespace.
            let pg = crate::kernel::ns::pid::find(t, pg).ok_or(Errno::ESRCH)?;
            let sid_of_pgrp = task::all_groups().into_iter().find_map(|g| {
                let i = g.lock();
                (i.pgid == pg && i.zombie.is_none()).then_some(i.sid)
            });
            match sid_of_pgrp {
                None => Err(Errno::ESRCH),
                Some(s) if s != t.session_and_pgrp().0 => Err(Errno::EPERM),
                Some(_) => {
                    real.set_foreground(pg);
                    Ok(0)
                }
            }
        }
        TIOCGSID => {
            need_ctty(tty, &real, t)?;
            let sid = real.session();
            if sid == 0 {
                return Err(Errno::ENOTTY);
            }
            mm.write_u32(arg, crate::kernel::ns::pid::vnr(t, sid) as u32)?;
            Ok(0)
        }
        TIOCGWINSZ => {
            let ws = real.winsize();
            let w = Winsize {
                ws_row: ws[0],
                ws_col: ws[1],
                ws_xpixel: ws[2],
                ws_ypixel: ws[3],
            };
            crate::abi::write_val(&mm, arg, &w)?;
            Ok(0)
        }
        TIOCSWINSZ => {
            let w: Winsize = crate::abi::read_val(&mm, arg)?;
            real.set_winsize([w.ws_row, w.ws_col, w.ws_xpixel, w.ws_ypixel]);
            Ok(0)
        }
        TIOCOUTQ => {
            // Output goes to the device (or the pty peer's input) at once.
            mm.write_u32(arg, 0)?;
            Ok(0)
        }
        FIONREAD => {
            mm.write_u32(arg, tty.input_available() as u32)?;
            Ok(0)
        }
        TIOCSTI => {
            let c = mm.read_vec(arg, 1)?;
            tty.receive(&c);
            Ok(0)
        }
        TIOCGETD => {
            mm.write_u32(arg, 0)?; // N_TTY
            Ok(0)
        }
        TIOCSETD => {
            if mm.read_u32(arg)? != 0 {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        TIOCVHANGUP => {
            tty.hangup(false);
            Ok(0)
        }
        FIONBIO => {
            let on = mm.read_u32(arg)? != 0;
            let fl = f.flags();
            f.set_flags(if on {
                fl | O_NONBLOCK
            } else {
                fl & !O_NONBLOCK
            });
            Ok(0)
        }
        _ => Err(Errno::ENOTTY),
    }
}
