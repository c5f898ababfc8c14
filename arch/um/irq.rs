//! Interrupts: how host helper threads and the timer get the vCPU's
//! attention.
//!
//! While the vCPU runs a guest it sits in waitpid; an interrupt is a SIGALRM
//! sent to the guest's host process, which stops it so the vCPU returns.
//! While idle the vCPU sleeps on a condition variable. The timer is a POSIX
//! timer aimed at the vCPU thread, armed only for the next deadline
//! (tickless when idle).

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

static RUNNING: AtomicI32 = AtomicI32::new(0);
static PENDING: AtomicBool = AtomicBool::new(false);
static IDLE: Mutex<()> = Mutex::new(());
static WAKE: Condvar = Condvar::new();
/// Deadline (monotonic ns) the POSIX timer is armed for; 0 = disarmed.
static ARMED: AtomicI64 = AtomicI64::new(0);

struct Timer(libc::timer_t);
// SAFETY: a timer_t is an opaque handle usable from any thread.
unsafe impl Send for Timer {}
// SAFETY: see above.
unsafe impl Sync for Timer {}
static TIMER: OnceLock<Timer> = OnceLock::new();

extern "C" fn on_sigalrm(_: libc::c_int) {
    PENDING.store(true, Ordering::SeqCst);
    ARMED.store(0, Ordering::SeqCst);
    let pid = RUNNING.load(Ordering::SeqCst);
    if pid > 0 {
        // kill(2) is async-signal-safe, and nix's wrapper only adds an
        // errno read.
        let _ = kill(Pid::from_raw(pid), Signal::SIGALRM);
    }
}

static DUMP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigusr2(_: libc::c_int) {
    DUMP.store(true, Ordering::SeqCst);
    on_sigalrm(0);
}

/// A host SIGUSR2 asked for a dump of kernel state (like sysrq-t).
pub fn take_dump_request() -> bool {
    DUMP.swap(false, Ordering::SeqCst)
}

/// Set up the SIGALRM handler and the POSIX timer. Call on the vCPU thread.
pub fn init() -> Result<(), String> {
    // SAFETY: installing a handler that only touches atomics and calls kill.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigalrm as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut()) < 0 {
            return Err("sigaction(SIGALRM) failed".into());
        }
        sa.sa_sigaction = on_sigusr2 as *const () as usize;
        libc::sigaction(libc::SIGUSR2, &sa, std::ptr::null_mut());
        let mut sev: libc::sigevent = std::mem::zeroed();
        sev.sigev_notify = libc::SIGEV_THREAD_ID;
        sev.sigev_signo = libc::SIGALRM;
        sev.sigev_notify_thread_id = libc::gettid();
        let mut t: libc::timer_t = std::ptr::null_mut();
        if libc::timer_create(libc::CLOCK_MONOTONIC, &mut sev, &mut t) < 0 {
            return Err(format!("timer_create: {}", std::io::Error::last_os_error()));
        }
        let _ = TIMER.set(Timer(t));
    }
    Ok(())
}

/// Raise an interrupt from any thread.
pub fn raise() {
    PENDING.store(true, Ordering::SeqCst);
    let pid = RUNNING.load(Ordering::SeqCst);
    if pid > 0 {
        // A guest host process of ours.
        let _ = kill(Pid::from_raw(pid), Signal::SIGALRM);
    }
    let _g = IDLE.lock().unwrap_or_else(|e| e.into_inner());
    WAKE.notify_all();
}

/// Take (and clear) the pending-interrupt flag.
pub fn take_pending() -> bool {
    PENDING.swap(false, Ordering::SeqCst)
}

/// Is an interrupt pending?
pub fn pending() -> bool {
    PENDING.load(Ordering::SeqCst)
}

/// About to run a guest in host process `pid`. Returns false if an
/// interrupt is already pending (do not enter).
pub fn enter_guest(pid: i32) -> bool {
    RUNNING.store(pid, Ordering::SeqCst);
    if PENDING.load(Ordering::SeqCst) {
        RUNNING.store(0, Ordering::SeqCst);
        return false;
    }
    true
}

/// Back from the guest.
pub fn leave_guest() {
    RUNNING.store(0, Ordering::SeqCst);
}

/// Sleep until an interrupt is raised or `timeout` passes.
pub fn idle(timeout: Option<Duration>) {
    let mut g = IDLE.lock().unwrap_or_else(|e| e.into_inner());
    while !PENDING.load(Ordering::SeqCst) {
        match timeout {
            Some(t) => {
                let (g2, r) = WAKE.wait_timeout(g, t).unwrap_or_else(|e| e.into_inner());
                g = g2;
                if r.timed_out() {
                    return;
                }
            }
            None => g = WAKE.wait(g).unwrap_or_else(|e| e.into_inner()),
        }
    }
}

/// Arm the timer to interrupt at monotonic time `deadline_ns` (or disarm
/// with None). Re-arming for the same or a later time than already armed is
/// skipped: the earlier expiry will come and the kernel re-evaluates then.
pub fn arm_timer(deadline_ns: Option<i64>) {
    let Some(t) = TIMER.get() else { return };
    let armed = ARMED.load(Ordering::SeqCst);
    let target = deadline_ns.unwrap_or(0);
    if target == armed || (target != 0 && armed != 0 && armed <= target) {
        return;
    }
    let mut its: libc::itimerspec = unsafe_zeroed_itimerspec();
    if target != 0 {
        let t = target.max(1);
        its.it_value.tv_sec = t / 1_000_000_000;
        its.it_value.tv_nsec = t % 1_000_000_000;
    }
    ARMED.store(target, Ordering::SeqCst);
    // SAFETY: valid timer handle and itimerspec.
    unsafe { libc::timer_settime(t.0, libc::TIMER_ABSTIME, &its, std::ptr::null_mut()) };
}

fn unsafe_zeroed_itimerspec() -> libc::itimerspec {
    libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
    }
}
