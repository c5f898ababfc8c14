//! Setting the guest's wall clock: clock_settime, settimeofday, adjtimex
//! and clock_adjtime.
//!
//! The guest's CLOCK_REALTIME is the host's plus an offset the kernel
//! keeps (`time::set_realtime_ns`); the host's clock is never touched.
//! There is no NTP discipline: adjtimex reports a synchronised clock (the
//! host keeps it) and stores the state a caller sets, but does not slew.

use super::errno::{Errno, KResult};
use super::task::{lock, Task};
use super::time;
use crate::abi::{
    self,
    time::{Timespec, Timeval, Timex, Timezone},
};
use std::sync::{Arc, Mutex};

const NS: i64 = 1_000_000_000;
/// Linux's TIME_SETTOD_SEC_MAX: KTIME_SEC_MAX less 30 years of uptime.
const SETTOD_SEC_MAX: i64 = i64::MAX / NS - 30 * 365 * 86400;

/// `struct timezone` as settimeofday last set it (gettimeofday reports it).
static TZ: Mutex<(i32, i32)> = Mutex::new((0, 0));

/// The timezone gettimeofday reports.
pub fn timezone() -> Timezone {
    let (w, d) = *lock(&TZ);
    Timezone {
        tz_minuteswest: w,
        tz_dsttime: d,
    }
}

/// Linux's timespec64_valid_settod.
fn valid_settod(sec: i64, nsec: i64) -> bool {
    sec >= 0 && (0..NS).contains(&nsec) && sec < SETTOD_SEC_MAX
}

fn need_sys_time(t: &Task) -> KResult<()> {
    if t.creds().capable(super::caps::CAP_SYS_TIME) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// Set the wall clock to `ns` (EINVAL for a time before boot: the guest's
/// monotonic clock cannot go below zero, as Linux's do_settimeofday64).
fn settime(ns: i64) -> KResult<()> {
    if ns < time::uptime_ns() {
        return Err(Errno::EINVAL);
    }
    log::info!("clock: guest realtime set to {}.{:09}", ns / NS, ns % NS);
    time::set_realtime_ns(ns);
    Ok(())
}

/// clock_settime: only CLOCK_REALTIME can be set; EINVAL for the others.
pub fn sys_clock_settime(t: &Arc<Task>, clk: i32, ts: u64) -> KResult<u64> {
    if clk != 0 {
        return Err(Errno::EINVAL);
    }
    let Timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    } = abi::read_val(&t.mm(), ts)?;
    if !valid_settod(sec, nsec) {
        return Err(Errno::EINVAL);
    }
    need_sys_time(t)?;
    settime(sec * NS + nsec)?;
    Ok(0)
}

/// settimeofday: the clock and/or the (historical) timezone.
pub fn sys_settimeofday(t: &Arc<Task>, tv: u64, tz: u64) -> KResult<u64> {
    let new = if tv != 0 {
        let Timeval {
            tv_sec: sec,
            tv_usec: usec,
        } = abi::read_val(&t.mm(), tv)?;
        // Linux lets usec == 10^6 through here and rejects it as ns below.
        if !(0..=1_000_000).contains(&usec) || !valid_settod(sec, usec * 1000) {
            return Err(Errno::EINVAL);
        }
        Some(sec * NS + usec * 1000)
    } else {
        None
    };
    let zone = if tz != 0 {
        let z: Timezone = abi::read_val(&t.mm(), tz)?;
        Some((z.tz_minuteswest, z.tz_dsttime))
    } else {
        None
    };
    need_sys_time(t)?;
    if let Some(z) = zone {
        if !(-15 * 60..=15 * 60).contains(&z.0) {
            return Err(Errno::EINVAL);
        }
        *lock(&TZ) = z;
    }
    if let Some(ns) = new {
        settime(ns)?;
    }
    Ok(0)
}

const ADJ_OFFSET: u32 = 0x0001;
const ADJ_FREQUENCY: u32 = 0x0002;
const ADJ_MAXERROR: u32 = 0x0004;
const ADJ_ESTERROR: u32 = 0x0008;
const ADJ_STATUS: u32 = 0x0010;
const ADJ_TIMECONST: u32 = 0x0020;
const ADJ_TAI: u32 = 0x0080;
const ADJ_SETOFFSET: u32 = 0x0100;
const ADJ_MICRO: u32 = 0x1000;
const ADJ_NANO: u32 = 0x2000;
const ADJ_TICK: u32 = 0x4000;
/// With ADJ_OFFSET: adjtime(3)'s single-shot mode.
const ADJ_ADJTIME: u32 = 0x8000;
const ADJ_OFFSET_READONLY: u32 = 0x2000;
const STA_UNSYNC: i32 = 0x0040;
const STA_CLOCKERR: i32 = 0x1000;
const STA_NANO: i32 = 0x2000;
/// Bits of `status` that only the kernel sets (Linux's STA_RONLY).
const STA_RONLY: i32 = 0x0100 | 0x0200 | 0x0400 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000;
const TIME_OK: u64 = 0;
const TIME_ERROR: u64 = 5;
const USER_HZ: i64 = super::acct::USER_HZ;
/// Linux's ppm scale for freq and tolerance (MAXFREQ 500 ppm << 16).
const PPM_SCALE: i64 = 1 << 16;

/// What adjtimex callers have set (Linux's NTP state, without its effect).
#[derive(Clone, Copy)]
struct Ntp {
    status: i32,
    freq: i64,
    maxerror: i64,
    esterror: i64,
    constant: i64,
    tick: i64,
    tai: i32,
}

static NTP: Mutex<Ntp> = Mutex::new(Ntp {
    status: 0,
    freq: 0,
    maxerror: 0,
    esterror: 0,
    constant: 2,
    tick: 1_000_000 / USER_HZ,
    tai: 0,
});

/// adjtimex / clock_adjtime(CLOCK_REALTIME) on the guest `struct timex`.
fn adjtimex_at(t: &Task, buf: u64) -> KResult<u64> {
    let mut x: Timex = abi::read_val(&t.mm(), buf)?;
    let modes = x.modes;
    // timekeeping_validate_timex, in Linux's order.
    if modes & ADJ_ADJTIME != 0 {
        if modes & ADJ_OFFSET == 0 {
            return Err(Errno::EINVAL);
        }
        if modes & ADJ_OFFSET_READONLY == 0 {
            need_sys_time(t)?;
        }
    } else {
        if modes != 0 {
            need_sys_time(t)?;
        }
        let tick = x.tick;
        if modes & ADJ_TICK != 0 && !(900_000 / USER_HZ..=1_100_000 / USER_HZ).contains(&tick) {
            return Err(Errno::EINVAL);
        }
    }
    let (tsec, tfrac) = (x.time.tv_sec, x.time.tv_usec);
    if modes & ADJ_SETOFFSET != 0 {
        let lim = if modes & ADJ_NANO != 0 { NS } else { 1_000_000 };
        if !(0..lim).contains(&tfrac) {
            return Err(Errno::EINVAL);
        }
    }
    let freq = x.freq;
    if modes & ADJ_FREQUENCY != 0 && (freq < i64::MIN / PPM_SCALE || freq > i64::MAX / PPM_SCALE) {
        return Err(Errno::EINVAL);
    }
    if modes & ADJ_SETOFFSET != 0 {
        let unit = if modes & ADJ_NANO != 0 { 1 } else { 1000 };
        let delta = tsec.saturating_mul(NS).saturating_add(tfrac * unit);
        let new = time::realtime_ns().saturating_add(delta);
        if !valid_settod(new.div_euclid(NS), 0) || new < time::uptime_ns() {
            return Err(Errno::EINVAL);
        }
        log::info!("clock: guest realtime stepped by {delta} ns");
        time::step_realtime_ns(delta);
    }
    let n = {
        let mut n = lock(&NTP);
        if modes & ADJ_ADJTIME == 0 {
            if modes & ADJ_STATUS != 0 {
                n.status = (n.status & STA_RONLY) | (x.status & !STA_RONLY);
            }
            if modes & ADJ_NANO != 0 {
                n.status |= STA_NANO;
            }
            if modes & ADJ_MICRO != 0 {
                n.status &= !STA_NANO;
            }
            if modes & ADJ_FREQUENCY != 0 {
                n.freq = freq.clamp(-500 * PPM_SCALE, 500 * PPM_SCALE);
            }
            if modes & ADJ_MAXERROR != 0 {
                n.maxerror = x.maxerror.clamp(0, 16_000_000);
            }
            if modes & ADJ_ESTERROR != 0 {
                n.esterror = x.esterror.clamp(0, 16_000_000);
            }
            if modes & ADJ_TIMECONST != 0 {
                n.constant = x.constant.clamp(0, 10);
            }
            if modes & ADJ_TAI != 0 && x.tai >= 0 {
                n.tai = x.tai;
            }
            if modes & ADJ_TICK != 0 {
                n.tick = x.tick;
            }
        }
        *n
    };
    // The reply: no offset is ever pending (nothing slews).
    x.offset = 0;
    x.freq = n.freq;
    x.maxerror = n.maxerror;
    x.esterror = n.esterror;
    x.status = n.status;
    x.constant = n.constant;
    x.precision = 1;
    x.tolerance = 500 * PPM_SCALE;
    let now = time::realtime_ns();
    let frac = if n.status & STA_NANO != 0 {
        now % NS
    } else {
        now % NS / 1000
    };
    // In STA_NANO mode the "usec" field carries nanoseconds.
    x.time = Timeval {
        tv_sec: now / NS,
        tv_usec: frac,
    };
    x.tick = n.tick;
    x.ppsfreq = 0;
    x.jitter = 0;
    x.shift = 0;
    x.stabil = 0;
    x.jitcnt = 0;
    x.calcnt = 0;
    x.errcnt = 0;
    x.stbcnt = 0;
    x.tai = n.tai;
    abi::write_val(&t.mm(), buf, &x)?;
    Ok(if n.status & (STA_UNSYNC | STA_CLOCKERR) != 0 {
        TIME_ERROR
    } else {
        TIME_OK
    })
}

/// adjtimex
pub fn sys_adjtimex(t: &Arc<Task>, buf: u64) -> KResult<u64> {
    adjtimex_at(t, buf)
}

/// clock_adjtime: CLOCK_REALTIME as adjtimex; the other clocks cannot be
/// adjusted (EOPNOTSUPP), unknown ones are EINVAL.
pub fn sys_clock_adjtime(t: &Arc<Task>, clk: i32, buf: u64) -> KResult<u64> {
    match clk {
        0 => adjtimex_at(t, buf),
        1..=11 => Err(Errno::EOPNOTSUPP),
        _ => Err(Errno::EINVAL),
    }
}
