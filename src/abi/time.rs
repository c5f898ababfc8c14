//! Time structs: timespec, timeval, their interval-timer pairs, timezone,
//! tms and the NTP timex.

use super::abi_size;
use crate::kernel::errno::{Errno, KResult};
use bytemuck::{Pod, Zeroable};

const NSEC_PER_SEC: i64 = 1_000_000_000;

/// struct timespec (__kernel_timespec on x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}
abi_size!(Timespec, 16);

impl Timespec {
    /// From nanoseconds; negative values floor so that tv_nsec stays in
    /// 0..1e9.
    pub fn from_ns(ns: i64) -> Self {
        Timespec {
            tv_sec: ns.div_euclid(NSEC_PER_SEC),
            tv_nsec: ns.rem_euclid(NSEC_PER_SEC),
        }
    }
    /// tv_nsec within 0..1e9 (the EINVAL check most syscalls make).
    pub fn valid_nsec(&self) -> bool {
        (0..NSEC_PER_SEC).contains(&self.tv_nsec)
    }
    /// Nanoseconds, saturating; EINVAL for a negative or malformed value.
    pub fn to_ns(&self) -> KResult<i64> {
        if self.tv_sec < 0 || !self.valid_nsec() {
            return Err(Errno::EINVAL);
        }
        Ok(self
            .tv_sec
            .saturating_mul(NSEC_PER_SEC)
            .saturating_add(self.tv_nsec))
    }
}

/// struct timeval.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}
abi_size!(Timeval, 16);

impl Timeval {
    /// From nanoseconds, truncating to microseconds (non-negative input).
    pub fn from_ns(ns: i64) -> Self {
        Timeval {
            tv_sec: ns / NSEC_PER_SEC,
            tv_usec: (ns % NSEC_PER_SEC) / 1000,
        }
    }
    /// Nanoseconds, saturating; EINVAL unless tv_sec >= 0 and tv_usec is
    /// within 0..1e6 (setitimer's and select's check).
    pub fn to_ns(&self) -> KResult<i64> {
        if self.tv_sec < 0 || !(0..1_000_000).contains(&self.tv_usec) {
            return Err(Errno::EINVAL);
        }
        Ok(self
            .tv_sec
            .saturating_mul(NSEC_PER_SEC)
            .saturating_add(self.tv_usec * 1000))
    }
}

/// struct itimerspec (timer_settime, timerfd_settime).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Itimerspec {
    pub it_interval: Timespec,
    pub it_value: Timespec,
}
abi_size!(Itimerspec, 32);

/// struct itimerval (setitimer, getitimer).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Itimerval {
    pub it_interval: Timeval,
    pub it_value: Timeval,
}
abi_size!(Itimerval, 32);

impl Itimerval {
    /// From the time left and the reload interval, in nanoseconds.
    pub fn from_ns(value_ns: i64, interval_ns: i64) -> Self {
        Itimerval {
            it_interval: Timeval::from_ns(interval_ns),
            it_value: Timeval::from_ns(value_ns),
        }
    }
}

/// struct timezone (gettimeofday's second argument).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Timezone {
    pub tz_minuteswest: i32,
    pub tz_dsttime: i32,
}
abi_size!(Timezone, 8);

/// struct tms (times), in clock ticks.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Tms {
    pub tms_utime: i64,
    pub tms_stime: i64,
    pub tms_cutime: i64,
    pub tms_cstime: i64,
}
abi_size!(Tms, 32);

/// struct __kernel_timex (adjtimex, clock_adjtime).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Timex {
    pub modes: u32,
    pub _pad0: i32,
    pub offset: i64,
    pub freq: i64,
    pub maxerror: i64,
    pub esterror: i64,
    pub status: i32,
    pub _pad1: i32,
    pub constant: i64,
    pub precision: i64,
    pub tolerance: i64,
    pub time: Timeval,
    pub tick: i64,
    pub ppsfreq: i64,
    pub jitter: i64,
    pub shift: i32,
    pub _pad2: i32,
    pub stabil: i64,
    pub jitcnt: i64,
    pub calcnt: i64,
    pub errcnt: i64,
    pub stbcnt: i64,
    pub tai: i32,
    pub _reserved: [i32; 11],
}
abi_size!(Timex, 208);

/// struct utimbuf (utime).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Utimbuf {
    pub actime: i64,
    pub modtime: i64,
}
abi_size!(Utimbuf, 16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespec_from_ns_floors_negative_values() {
        assert_eq!(
            Timespec::from_ns(-1),
            Timespec {
                tv_sec: -1,
                tv_nsec: 999_999_999
            }
        );
        assert_eq!(Timespec::from_ns(1_500_000_000).tv_nsec, 500_000_000);
    }

    #[test]
    fn to_ns_checks_ranges() {
        let ts = |tv_sec, tv_nsec| Timespec { tv_sec, tv_nsec };
        assert_eq!(ts(1, 2).to_ns(), Ok(1_000_000_002));
        assert_eq!(ts(-1, 0).to_ns(), Err(Errno::EINVAL));
        assert_eq!(ts(0, 1_000_000_000).to_ns(), Err(Errno::EINVAL));
        assert_eq!(ts(i64::MAX, 0).to_ns(), Ok(i64::MAX));
        let tv = |tv_sec, tv_usec| Timeval { tv_sec, tv_usec };
        assert_eq!(tv(2, 3).to_ns(), Ok(2_000_003_000));
        assert_eq!(tv(0, 1_000_000).to_ns(), Err(Errno::EINVAL));
        assert_eq!(Timeval::from_ns(1_234_567_890), tv(1, 234_567));
    }
}
