//! Interrupts: how host helper threads, the timer and other vCPUs get a
//! vCPU's attention. Each vCPU has its own state here.
//!
//! While a vCPU runs a guest it sits in waitpid; an interrupt is a SIGALRM
//! sent to the guest's host process, which stops it so the vCPU returns.
//! While idle the vCPU sleeps on a condition variable. Each vCPU's timer
//! is a POSIX timer aimed at its own thread, armed only for the next
//! deadline (tickless when idle). Device interrupts go to vCPU 0; a vCPU
//! that makes a task of another one runnable, or signals it, kicks that
//! one (`kick`), the way Linux sends an IPI.

use super::cpu::{this_cpu, MAX_CPUS};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

struct Timer(libc::timer_t);
// SAFETY: a timer_t is an opaque handle usable from any thread.
unsafe impl Send for Timer {}
// SAFETY: see above.
unsafe impl Sync for Timer {}

/// One vCPU's interrupt state.
struct CpuIrq {
    /// Host pid of the guest process it is running, 0 when in the kernel.
    running: AtomicI32,
    /// Something wants its attention.
    pending: AtomicBool,
    idle: Mutex<()>,
    wake: Condvar,
    /// Deadline (monotonic ns) its POSIX timer is armed for; 0 = disarmed.
    armed: AtomicI64,
    timer: OnceLock<Timer>,
}

impl CpuIrq {
    const fn new() -> CpuIrq {
        CpuIrq {
            running: AtomicI32::new(0),
            pending: AtomicBool::new(false),
            idle: Mutex::new(()),
            wake: Condvar::new(),
            armed: AtomicI64::new(0),
            timer: OnceLock::new(),
        }
    }
}

static CPUS: [CpuIrq; MAX_CPUS] = [const { CpuIrq::new() }; MAX_CPUS];

fn cpu(n: usize) -> &'static CpuIrq {
    &CPUS[n % MAX_CPUS]
}

/// Mark `c` pending and stop the guest it runs, if any (async-signal-safe:
/// atomics and kill only).
fn interrupt(c: &CpuIrq) {
    c.pending.store(true, Ordering::SeqCst);
    let pid = c.running.load(Ordering::SeqCst);
    if pid > 0 {
        let _ = kill(Pid::from_raw(pid), Signal::SIGALRM);
    }
}

extern "C" fn on_sigalrm(_: libc::c_int) {
    // The timer aims at its vCPU's own thread, so this is that vCPU.
    let c = cpu(this_cpu());
    c.armed.store(0, Ordering::SeqCst);
    interrupt(c);
}

/// Set by SIGUSR2: dump the task list to stderr (a debugging aid).
static DUMP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigusr2(_: libc::c_int) {
    DUMP.store(true, Ordering::SeqCst);
    interrupt(cpu(0));
}

/// Whether a task dump was asked for (clears it).
pub fn take_dump_request() -> bool {
    DUMP.swap(false, Ordering::SeqCst)
}

/// Install the signal handlers and the boot vCPU's timer.
pub fn init() -> Result<(), String> {
    // SAFETY: installing async-signal-safe handlers (atomics and kill only).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigalrm as *const () as usize;
        // Restart host syscalls (waitpid) after the handler: the guest stop
        // it causes is what wakes the vCPU.
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut()) < 0 {
            return Err("sigaction(SIGALRM) failed".into());
        }
        sa.sa_sigaction = on_sigusr2 as *const () as usize;
        libc::sigaction(libc::SIGUSR2, &sa, std::ptr::null_mut());
    }
    init_cpu()
}

/// Create the calling vCPU thread's timer (each vCPU at its start).
pub fn init_cpu() -> Result<(), String> {
    // SAFETY: plain timer creation aimed at this thread; the struct is
    // zeroed and then filled in.
    unsafe {
        let mut sev: libc::sigevent = std::mem::zeroed();
        sev.sigev_notify = libc::SIGEV_THREAD_ID;
        sev.sigev_signo = libc::SIGALRM;
        sev.sigev_notify_thread_id = libc::gettid();
        let mut t: libc::timer_t = std::ptr::null_mut();
        if libc::timer_create(libc::CLOCK_MONOTONIC, &mut sev, &mut t) < 0 {
            return Err(format!("timer_create: {}", std::io::Error::last_os_error()));
        }
        let _ = cpu(this_cpu()).timer.set(Timer(t));
    }
    Ok(())
}

/// A device wants the kernel's attention (any thread): vCPU 0 takes
/// device interrupts.
pub fn raise() {
    kick(0);
}

/// Get vCPU `n`'s attention from any thread: stop the guest it runs, or
/// end its idle wait.
pub fn kick(n: usize) {
    let c = cpu(n);
    interrupt(c);
    let _g = c.idle.lock().unwrap_or_else(|e| e.into_inner());
    c.wake.notify_all();
}

/// Whether an interrupt is pending for this vCPU (clears it).
pub fn take_pending() -> bool {
    cpu(this_cpu()).pending.swap(false, Ordering::SeqCst)
}

/// Whether an interrupt is pending for this vCPU (leaves it).
pub fn pending() -> bool {
    cpu(this_cpu()).pending.load(Ordering::SeqCst)
}

/// About to resume guest process `pid` on this vCPU: record it so
/// interrupts can stop it. False if an interrupt is already pending (the
/// caller should not enter the guest).
pub fn enter_guest(pid: i32) -> bool {
    let c = cpu(this_cpu());
    c.running.store(pid, Ordering::SeqCst);
    if c.pending.load(Ordering::SeqCst) {
        c.running.store(0, Ordering::SeqCst);
        return false;
    }
    true
}

/// Back in the kernel from the guest.
pub fn leave_guest() {
    cpu(this_cpu()).running.store(0, Ordering::SeqCst);
}

/// Wait (this vCPU) until an interrupt is pending or `timeout` passes.
pub fn idle(timeout: Option<Duration>) {
    let c = cpu(this_cpu());
    let mut g = c.idle.lock().unwrap_or_else(|e| e.into_inner());
    while !c.pending.load(Ordering::SeqCst) {
        match timeout {
            Some(t) => {
                let (g2, r) = c.wake.wait_timeout(g, t).unwrap_or_else(|e| e.into_inner());
                g = g2;
                if r.timed_out() {
                    return;
                }
            }
            // A signal handler (SIGUSR2's dump request) can mark the
            // vCPU pending but cannot signal the condition variable: look
            // again every second, a wake-up too rare to cost anything.
            None => {
                g = c
                    .wake
                    .wait_timeout(g, Duration::from_secs(1))
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        }
    }
}

/// Arm this vCPU's timer for `deadline_ns` (monotonic), or disarm with
/// None. Only re-arms when the deadline moves earlier or is cleared, so
/// busy loops of kernel exits cost no timer syscalls.
pub fn arm_timer(deadline_ns: Option<i64>) {
    let c = cpu(this_cpu());
    let Some(t) = c.timer.get() else { return };
    let armed = c.armed.load(Ordering::SeqCst);
    let target = deadline_ns.unwrap_or(0);
    if target == armed || (target != 0 && armed != 0 && armed <= target) {
        // Already armed for this or an earlier time: a spurious early
        // interrupt is harmless, the loop re-arms.
        return;
    }
    let mut its: libc::itimerspec = unsafe_zeroed_itimerspec();
    if target != 0 {
        let t = target.max(1);
        its.it_value.tv_sec = t / 1_000_000_000;
        its.it_value.tv_nsec = t % 1_000_000_000;
    }
    c.armed.store(target, Ordering::SeqCst);
    // SAFETY: t is a valid timer handle; its is initialized.
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
