//! The scheduler and the vCPU loop: pick a runnable task, return it to user
//! mode through `arch::switch`, and handle what comes back (syscalls,
//! faults, interrupts). One vCPU for now; state sits behind locks so more
//! can come.

use super::errno::Errno;
use super::task::{self, lock, State, Task, Tid};
use super::{acct, loadavg, signal, syscall, time};
use crate::arch::{self, Event};
use crate::mm::FaultError;
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

/// Time slice before a busy task yields to others.
const SLICE_NS: i64 = 10_000_000;

static RUNQ: Mutex<VecDeque<Tid>> = Mutex::new(VecDeque::new());
static WOKEN: Mutex<Vec<Tid>> = Mutex::new(Vec::new());
/// Sleepers with a deadline: (deadline ns, tid).
static TIMERS: Mutex<BTreeSet<(i64, Tid)>> = Mutex::new(BTreeSet::new());

/// The running task should give up the CPU at its next kernel exit.
static NEED_RESCHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Ask for the current task to be rescheduled (sched_yield, fork).
pub fn yield_now() {
    NEED_RESCHED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Queue a new task to run next (a forked child runs first, like Linux
/// with one CPU in practice: it gets to reset its signals and exec before
/// the parent races ahead).
pub fn enqueue_front(tid: Tid) {
    let mut q = lock(&RUNQ);
    q.retain(|&x| x != tid);
    q.push_front(tid);
}

/// Make a blocked task runnable (from anywhere; applied by the vCPU loop).
pub fn wake(tid: Tid) {
    lock(&WOKEN).push(tid);
}

/// Put a runnable task on the run queue.
pub fn enqueue(tid: Tid) {
    let mut q = lock(&RUNQ);
    if !q.contains(&tid) {
        q.push_back(tid);
    }
}

/// Wake `tid` at monotonic time `deadline`.
pub fn add_timer(deadline: i64, tid: Tid) {
    lock(&TIMERS).insert((deadline, tid));
}

fn apply_wakeups() {
    let woken = std::mem::take(&mut *lock(&WOKEN));
    for tid in woken {
        if let Some(t) = task::task(tid) {
            let mut i = t.lock();
            if i.state == State::Blocked || (i.state == State::Stopped && !t_tg_stopped(tid)) {
                i.state = State::Runnable;
                drop(i);
                enqueue(tid);
            }
        }
    }
}

fn t_tg_stopped(tid: Tid) -> bool {
    task::find_tg_of(tid)
        .map(|g| g.lock().stopped)
        .unwrap_or(false)
}

fn expire_timers(now: i64) {
    let due: Vec<(i64, Tid)> = {
        let mut t = lock(&TIMERS);
        let mut due = Vec::new();
        while let Some(&first) = t.iter().next() {
            if first.0 > now {
                break;
            }
            t.remove(&first);
            due.push(first);
        }
        due
    };
    for (_, tid) in due {
        wake(tid);
    }
    time::expire_itimers(now);
    crate::fs::ext4::run_commits(now);
    crate::net::inet::stack::run_timers(now);
}

fn next_deadline() -> Option<i64> {
    let t = lock(&TIMERS).iter().next().map(|x| x.0);
    let i = time::next_itimer();
    // Periodic filesystem commits (none while nothing changed: idle stays
    // tickless).
    let c = crate::fs::ext4::next_commit();
    // Network timers: retransmits, TIME-WAIT (none while connections idle).
    let n = crate::net::inet::stack::next_timer();
    [t, i, c, n].into_iter().flatten().min()
}

/// Interrupt work: device input and timers.
fn handle_interrupts() {
    if arch::irq::take_dump_request() {
        dump_tasks();
    }
    crate::tty::console::poll_input();
    crate::drivers::block::ubd::interrupt();
    crate::drivers::mconsole::interrupt();
    crate::drivers::net::interrupt();
    let now = time::monotonic_ns();
    expire_timers(now);
    apply_wakeups();
    loadavg::sample(now);
}

/// The vCPU loop. Never returns; the kernel ends through poweroff, reboot
/// or panic.
pub fn run() -> ! {
    loop {
        arch::irq::take_pending();
        handle_interrupts();
        // mconsole reboot / sysrq b: here, where no task is running.
        if crate::drivers::mconsole::take_reboot() {
            crate::fs::ext4::shutdown_all();
            super::printk::printk("reboot: Restarting system");
            crate::init::restart_userspace();
            continue;
        }
        let next = lock(&RUNQ).pop_front();
        let Some(tid) = next else {
            let timeout = next_deadline().map(|d| {
                let now = time::monotonic_ns();
                std::time::Duration::from_nanos((d - now).max(0) as u64)
            });
            arch::irq::arm_timer(None);
            if task::all_tasks().is_empty() {
                super::panic::panic("no tasks left to run");
            }
            let idle_from = time::monotonic_ns();
            arch::irq::idle(timeout);
            acct::idle(time::monotonic_ns() - idle_from);
            continue;
        };
        let Some(t) = task::task(tid) else { continue };
        if t.state() != State::Runnable {
            continue;
        }
        run_task(&t);
        let state = t.state();
        // Sleeping or stopping gives the vCPU up voluntarily; a task still
        // runnable here was preempted (slice over, or it yielded).
        t.acct.switched_out(state != State::Runnable);
        if state == State::Runnable {
            enqueue(t.tid);
        }
    }
}

/// Run `t` until it blocks, stops, dies, or its slice is over.
fn run_task(t: &Arc<Task>) {
    NEED_RESCHED.store(false, std::sync::atomic::Ordering::Relaxed);
    let slice_end = time::monotonic_ns() + SLICE_NS;
    // From here the vCPU works for `t`: system time, except while its
    // guest code runs (the rest is charged when this returns).
    let mut cpu = acct::CpuCharge::start(&t.acct);
    loop {
        // A blocked syscall was woken: evaluate it again.
        if t.lock().redo_syscall {
            t.lock().redo_syscall = false;
            syscall::dispatch(t, true);
            if t.state() != State::Runnable {
                return;
            }
        }
        if !signal::deliver(t) {
            return;
        }
        if t.state() != State::Runnable {
            return;
        }
        // Arm the timer for preemption (if others wait) and guest timers.
        let others = !lock(&RUNQ).is_empty();
        let mut deadline = next_deadline();
        // ITIMER_VIRTUAL/PROF: stop the guest when its CPU time may be up.
        if let Some(b) = super::cputimer::budget(t) {
            let d = time::monotonic_ns().saturating_add(b);
            deadline = Some(deadline.map_or(d, |x| x.min(d)));
        }
        if others {
            deadline = Some(deadline.map_or(slice_end, |d| d.min(slice_end)));
        }
        arch::irq::arm_timer(deadline);
        log::trace!(
            "sched: run {} others={} deadline={:?} slice_end={}",
            t.tid,
            others,
            deadline,
            slice_end
        );
        let mm = t.mm();
        let mut guest_ns = 0;
        let ev = {
            let mut m = mm.lock();
            let mut i = t.lock();
            arch::switch(&mut m.host, &mut i.ctx, &mut guest_ns)
        };
        cpu.guest_returned(guest_ns);
        super::cputimer::check(t);
        log::trace!("sched: {} event {:?}", t.tid, ev);
        match ev {
            Event::Syscall => {
                syscall::dispatch(t, false);
                if t.state() != State::Runnable {
                    return;
                }
            }
            Event::Fault { signo, code, addr } => handle_fault(t, signo, code, addr),
            Event::Interrupt => {}
            Event::Died => {
                log::warn!("task {}: host process died", t.tid);
                super::exit::group_exit(t, signal::SIGKILL);
                return;
            }
        }
        if arch::irq::pending() {
            arch::irq::take_pending();
            handle_interrupts();
        }
        if crate::drivers::mconsole::reboot_pending() {
            return;
        }
        let resched = NEED_RESCHED.swap(false, std::sync::atomic::Ordering::Relaxed);
        if (resched || time::monotonic_ns() >= slice_end) && !lock(&RUNQ).is_empty() {
            return;
        }
    }
}

fn handle_fault(t: &Arc<Task>, signo: i32, code: i32, addr: u64) {
    if signo == signal::SIGSEGV {
        let mm = t.mm();
        let r = mm.lock().handle_fault(addr, code);
        match r {
            Ok(()) => t.acct.minor_fault(),
            Err(FaultError::Segv(c)) => {
                log::debug!(
                    "task {}: segfault at {:#x} rip {:#x}",
                    t.tid,
                    addr,
                    t.lock().ctx.regs.rip
                );
                signal::force_fault(t, signal::SIGSEGV, c, addr)
            }
            Err(FaultError::Bus) => signal::force_fault(t, signal::SIGBUS, 2, addr),
            Err(FaultError::Oom) => super::oom::kill(t),
        }
        return;
    }
    // SIGBUS, SIGILL, SIGFPE, SIGTRAP go to the guest as they are.
    signal::force_fault(t, signo, code, addr);
}

/// Block the current syscall until woken (optionally with a deadline).
pub fn block(t: &Task, deadline: Option<i64>) -> Errno {
    {
        let mut i = t.lock();
        i.state = State::Blocked;
        i.redo_syscall = true;
        if let Some(d) = deadline {
            i.deadline = Some(d);
        }
    }
    if let Some(d) = deadline {
        add_timer(d, t.tid);
    }
    Errno::EBLOCK
}

/// Forget all scheduling state (reboot).
pub fn reset() {
    lock(&RUNQ).clear();
    lock(&WOKEN).clear();
    lock(&TIMERS).clear();
    acct::reset();
    loadavg::reset();
}

/// Print every task's state to the host's stderr (host SIGUSR2).
fn dump_tasks() {
    let q: Vec<Tid> = lock(&RUNQ).iter().copied().collect();
    eprintln!(
        "ruml: task dump (runq {:?}, timers {:?})",
        q,
        lock(&TIMERS).iter().collect::<Vec<_>>()
    );
    for t in task::all_tasks() {
        let i = t.lock();
        eprintln!(
            "  tid {} tgid {} {:?} comm {} rip {:#x} syscall {} redo {} deadline {:?}",
            t.tid,
            t.tgid(),
            i.state,
            i.comm,
            i.ctx.regs.rip,
            super::syscall::names::name(i.ctx.regs.orig_rax),
            i.redo_syscall,
            i.deadline
        );
    }
}
