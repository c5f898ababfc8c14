//! timerfd: a timer whose expirations are read from a file descriptor as a
//! u64 count, and polled for POLLIN (timerfd_create/settime/gettime).
//!
//! Armed timerfds sit in a registry the scheduler asks for its next
//! deadline (`next_deadline`) and lets fire (`expire`): nothing polls. The
//! expiry is also computed lazily from the clock by every read, poll and
//! gettime, so a reader never depends on the scheduler having run first.

use super::file::{File, FileOps, POLLIN};
use crate::abi::time::{Itimerspec, Timespec};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::lock;
use crate::kernel::time;
use crate::kernel::wait::WaitQueue;
use std::sync::{Arc, Mutex, Weak};

pub const TFD_TIMER_ABSTIME: u32 = 1;
pub const TFD_TIMER_CANCEL_ON_SET: u32 = 2;

/// Armed timerfds (the scheduler's view); dead entries are pruned lazily.
static ARMED: Mutex<Vec<Weak<TimerFd>>> = Mutex::new(Vec::new());
/// Timerfds armed with TFD_TIMER_CANCEL_ON_SET (Linux's cancel_list).
static CANCEL: Mutex<Vec<Weak<TimerFd>>> = Mutex::new(Vec::new());

#[derive(Default)]
struct St {
    /// Next expiry in the timer's clock (None: disarmed).
    expires: Option<i64>,
    interval: i64,
    /// Expirations not yet read.
    ticks: u64,
    /// Armed with ABSTIME | CANCEL_ON_SET on a realtime clock.
    might_cancel: bool,
    /// The clock was set since: the next read fails with ECANCELED.
    canceled: bool,
}

pub struct TimerFd {
    clock: i32,
    st: Mutex<St>,
    wq: Arc<WaitQueue>,
}

impl TimerFd {
    pub fn new(clock: i32) -> Arc<TimerFd> {
        Arc::new(TimerFd {
            clock,
            st: Mutex::new(St::default()),
            wq: Arc::new(WaitQueue::new()),
        })
    }

    /// Count the expirations up to now and move the expiry past it (a
    /// periodic timer) or disarm (a one-shot one). True if any fired.
    fn advance(&self, st: &mut St) -> bool {
        let Some(exp) = st.expires else {
            return false;
        };
        let now = time::timer_clock_now(self.clock);
        if now < exp {
            return false;
        }
        if st.interval > 0 {
            let n = (now - exp) / st.interval + 1;
            st.ticks = st.ticks.saturating_add(n as u64);
            st.expires = Some(exp.saturating_add(n.saturating_mul(st.interval)));
        } else {
            st.ticks = st.ticks.saturating_add(1);
            st.expires = None;
        }
        true
    }

    /// (time left, interval) in ns, as timerfd_gettime reports them.
    fn remaining(&self, st: &St) -> (i64, i64) {
        let left = st
            .expires
            .map_or(0, |e| (e - time::timer_clock_now(self.clock)).max(1));
        (left, st.interval)
    }

    /// timerfd_gettime: the time left and the interval.
    pub fn get(&self) -> Itimerspec {
        let mut st = lock(&self.st);
        if self.advance(&mut st) {
            self.wq.wake_all();
        }
        let (v, i) = self.remaining(&st);
        itimerspec(v, i)
    }

    /// timerfd_settime: arm (or disarm, a zero value) and return the old
    /// setting. `new` was validated by the caller.
    pub fn set(self: &Arc<Self>, flags: u32, value: i64, interval: i64) -> Itimerspec {
        let realtime = matches!(
            self.clock,
            time::CLOCK_REALTIME | time::CLOCK_REALTIME_ALARM
        );
        let abs = flags & TFD_TIMER_ABSTIME != 0;
        let might_cancel = realtime && abs && flags & TFD_TIMER_CANCEL_ON_SET != 0;
        let old = {
            let mut st = lock(&self.st);
            self.advance(&mut st);
            let (v, i) = self.remaining(&st);
            *st = St {
                expires: (value != 0).then(|| {
                    if abs {
                        value
                    } else {
                        time::timer_clock_now(self.clock).saturating_add(value)
                    }
                }),
                interval: if value != 0 { interval } else { 0 },
                ticks: 0,
                might_cancel,
                canceled: false,
            };
            itimerspec(v, i)
        };
        let me = Arc::downgrade(self);
        register(&CANCEL, &me, might_cancel);
        register(&ARMED, &me, value != 0);
        old
    }
}

/// Add `me` to (or take it off) a registry.
fn register(list: &Mutex<Vec<Weak<TimerFd>>>, me: &Weak<TimerFd>, on: bool) {
    let mut l = lock(list);
    l.retain(|w| w.strong_count() > 0 && !w.ptr_eq(me));
    if on {
        l.push(me.clone());
    }
}

fn itimerspec(value: i64, interval: i64) -> Itimerspec {
    Itimerspec {
        it_interval: Timespec::from_ns(interval),
        it_value: Timespec::from_ns(value),
    }
}

/// The live timerfds of a registry (taken out of its lock, so that
/// dropping the last reference never happens under it).
fn live(list: &Mutex<Vec<Weak<TimerFd>>>) -> Vec<Arc<TimerFd>> {
    let mut l = lock(list);
    l.retain(|w| w.strong_count() > 0);
    l.iter().filter_map(Weak::upgrade).collect()
}

/// The earliest kernel deadline of an armed timerfd.
pub fn next_deadline() -> Option<i64> {
    // Asked at every kernel exit: no allocation. A reference upgraded here
    // may be the last one; dropping a TimerFd touches no registry.
    lock(&ARMED)
        .iter()
        .filter_map(Weak::upgrade)
        .filter_map(|t| {
            let e = lock(&t.st).expires?;
            Some(time::timer_clock_deadline(t.clock, e))
        })
        .min()
}

/// Fire due timerfds: count their expirations and wake their readers.
pub fn expire() {
    if lock(&ARMED).is_empty() {
        return;
    }
    for t in live(&ARMED) {
        let (fired, armed) = {
            let mut st = lock(&t.st);
            (t.advance(&mut st), st.expires.is_some())
        };
        if fired {
            t.wq.wake_all();
        }
        if !armed {
            register(&ARMED, &Arc::downgrade(&t), false);
        }
    }
}

/// The wall clock was set: CANCEL_ON_SET timerfds become readable and
/// their next read fails with ECANCELED.
pub fn clock_was_set() {
    for t in live(&CANCEL) {
        {
            let mut st = lock(&t.st);
            if !st.might_cancel || st.canceled {
                continue;
            }
            st.canceled = true;
            st.ticks = st.ticks.saturating_add(1);
        }
        t.wq.wake_all();
    }
}

/// Forget every timer (reboot).
pub fn reset() {
    lock(&ARMED).clear();
    lock(&CANCEL).clear();
}

impl FileOps for TimerFd {
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut st = lock(&self.st);
        self.advance(&mut st);
        if st.ticks == 0 {
            // The generic read path sleeps on the wait queue.
            return Err(Errno::EAGAIN);
        }
        if st.canceled {
            st.canceled = false;
            st.ticks = 0;
            return Err(Errno::ECANCELED);
        }
        let n = std::mem::take(&mut st.ticks);
        drop(st);
        crate::abi::write_at(buf, 0, &n);
        Ok(8)
    }
    fn poll(&self, _f: &File) -> u32 {
        let mut st = lock(&self.st);
        self.advance(&mut st);
        if st.ticks > 0 {
            POLLIN
        } else {
            0
        }
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.wq.clone())
    }
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
    fn name(&self) -> Option<String> {
        Some("anon_inode:[timerfd]".into())
    }
}
