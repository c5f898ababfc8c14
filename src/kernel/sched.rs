//! The scheduler and the vCPU loops: pick a runnable task, return it to
//! user mode through the platform's `switch`, and handle what comes back
//! (syscalls, faults, interrupts). Each vCPU has its own run queue and runs
//! only its own tasks (`smp`); kernel code runs under the big kernel lock,
//! which a vCPU lets go while it runs a guest or idles.

use super::errno::Errno;
use super::task::{self, lock, State, Task, Tid};
use super::{acct, loadavg, signal, smp, syscall, time};
use crate::arch::cpu::{ncpus, this_cpu, MAX_CPUS};
use crate::arch::{self, kcontext::KernelContext, Event};
use crate::mm::FaultError;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Time slice before a busy task yields to others.
const SLICE_NS: i64 = 10_000_000;

/// One vCPU's scheduling state.
struct Cpu {
    runq: Mutex<VecDeque<Tid>>,
    /// Tasks made runnable from anywhere, applied by this vCPU's loop.
    woken: Mutex<Vec<Tid>>,
    /// Removed tasks whose kernel contexts (on this vCPU's thread) are
    /// still to be dropped.
    gone: Mutex<Vec<Tid>>,
    /// The running task should give up the vCPU at its next kernel exit.
    need_resched: AtomicBool,
}

impl Cpu {
    const fn new() -> Cpu {
        Cpu {
            runq: Mutex::new(VecDeque::new()),
            woken: Mutex::new(Vec::new()),
            gone: Mutex::new(Vec::new()),
            need_resched: AtomicBool::new(false),
        }
    }
}

static CPUS: [Cpu; MAX_CPUS] = [const { Cpu::new() }; MAX_CPUS];

fn cpu(n: usize) -> &'static Cpu {
    &CPUS[n % MAX_CPUS]
}

fn this() -> &'static Cpu {
    cpu(this_cpu())
}

/// Sleepers with a deadline: (deadline ns, tid). Shared: any vCPU expires
/// them, and the wake-up goes to the sleeper's vCPU.
static TIMERS: Mutex<BTreeSet<(i64, Tid)>> = Mutex::new(BTreeSet::new());
/// A reboot was asked for by the reboot syscall.
static REBOOT: AtomicBool = AtomicBool::new(false);
/// Bumped by every reset (reboot): a vCPU back from a guest whose task
/// belonged to the previous boot drops it.
static EPOCH: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The kernel contexts of the tasks this vCPU runs. A context is
    /// taken out while it runs, so that nothing can drop it under itself.
    /// Each is kept with its task, so that a context is never resumed
    /// for a later task that reuses the tid.
    /// Never dropped with the thread (ManuallyDrop: no TLS destructor):
    /// an exit of the host process may come from inside a context, and
    /// unwinding the others then would run kernel code mid-exit.
    static CONTEXTS: ManuallyDrop<RefCell<HashMap<Tid, (Weak<Task>, KernelContext)>>> =
        ManuallyDrop::new(RefCell::new(HashMap::new()));
}

/// Ask for the current task to be rescheduled (sched_yield, fork).
pub fn yield_now() {
    this().need_resched.store(true, Ordering::Relaxed);
}

/// Get vCPU `n`'s attention if it is not the caller.
fn kick(n: usize) {
    if n != this_cpu() {
        arch::platform().kick(n);
    }
}

/// Make every other vCPU come back from its guest (mconsole `stop`: with
/// the kernel lock held by the caller, they then wait for it).
pub fn kick_others() {
    for n in 0..ncpus() {
        kick(n);
    }
}

/// A signal is pending for `tid`: if it runs a guest on another vCPU right
/// now, make that vCPU come back to deliver it (Linux's kick_process).
pub fn kick_task(tid: Tid) {
    if ncpus() > 1 {
        kick(smp::task_cpu(tid));
    }
}

/// Queue a new task to run next on its vCPU (a forked child runs first,
/// like Linux with one CPU in practice: it gets to reset its signals and
/// exec before the parent races ahead).
pub fn enqueue_front(tid: Tid) {
    let n = smp::task_cpu(tid);
    {
        let mut q = lock(&cpu(n).runq);
        q.retain(|&x| x != tid);
        q.push_front(tid);
    }
    kick(n);
}

/// Make a blocked task runnable (from anywhere; applied by the loop of
/// its vCPU).
pub fn wake(tid: Tid) {
    let n = smp::task_cpu(tid);
    lock(&cpu(n).woken).push(tid);
    kick(n);
}

/// Put a runnable task on its vCPU's run queue.
pub fn enqueue(tid: Tid) {
    let n = smp::task_cpu(tid);
    {
        let mut q = lock(&cpu(n).runq);
        if q.contains(&tid) {
            return;
        }
        q.push_back(tid);
    }
    kick(n);
}

/// Wake `tid` at monotonic time `deadline`.
pub fn add_timer(deadline: i64, tid: Tid) {
    lock(&TIMERS).insert((deadline, tid));
}

fn apply_wakeups() {
    let woken = std::mem::take(&mut *lock(&this().woken));
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
    crate::fs::timerfd::expire();
    super::posix_timers::expire();
    crate::fs::ext4::run_commits(now);
    crate::net::inet::stack::run_timers(now);
}

fn next_deadline() -> Option<i64> {
    let t = lock(&TIMERS).iter().next().map(|x| x.0);
    let i = time::next_itimer();
    let tfd = crate::fs::timerfd::next_deadline();
    let pt = super::posix_timers::next_deadline();
    // Periodic filesystem commits (none while nothing changed: idle stays
    // tickless).
    let c = crate::fs::ext4::next_commit();
    // Network timers: retransmits, TIME-WAIT (none while connections idle).
    let n = crate::net::inet::stack::next_timer();
    [t, i, tfd, pt, c, n].into_iter().flatten().min()
}

/// Interrupt work: device input and timers.
fn handle_interrupts() {
    if arch::platform().take_dump_request() {
        dump_tasks();
    }
    crate::tty::console::poll_input();
    crate::drivers::block::ubd::interrupt();
    crate::drivers::mconsole::interrupt();
    crate::drivers::gdb::interrupt();
    crate::drivers::net::interrupt();
    let now = time::monotonic_ns();
    expire_timers(now);
    apply_wakeups();
    loadavg::sample(now);
}

/// The boot vCPU's loop. Never returns; the kernel ends through
/// poweroff, reboot or panic. It runs on the vCPU thread's own stack and
/// resumes tasks' kernel contexts; each task's code (`task_body`) runs on
/// its own stack.
pub fn run() -> ! {
    smp::lock_kernel();
    loop {
        if !run_once() {
            super::panic::panic("no tasks left to run");
        }
    }
}

/// Start vCPUs 1..ncpus, each on a host thread of its own, and wait until
/// each has its host side (its timer and zygote) or failed. The caller
/// (the boot vCPU) holds the big kernel lock, so none runs a task before
/// the boot vCPU first lets go of it.
pub fn start_secondary_cpus() -> Result<(), String> {
    smp::lock_kernel();
    for n in 1..ncpus() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("vcpu{n}"))
            .spawn(move || {
                let r = arch::platform().init_cpu(n);
                let ok = r.is_ok();
                let _ = tx.send(r);
                if ok {
                    run_secondary();
                }
            })
            .map_err(|e| format!("vcpu{n}: cannot start its thread: {e}"))?;
        rx.recv()
            .map_err(|_| format!("vcpu{n}: its thread died"))?
            .map_err(|e| format!("vcpu{n}: {e}"))?;
    }
    Ok(())
}

/// A secondary vCPU's loop: as the boot one's, except that having no task
/// of its own is no reason to stop.
fn run_secondary() -> ! {
    smp::lock_kernel();
    loop {
        run_once();
    }
}

/// The vCPU loop of unit tests: run until `stop()` says so (true) or no
/// task is left (false), instead of panicking like `run`.
#[cfg(test)]
pub fn run_until(mut stop: impl FnMut() -> bool) -> bool {
    while !stop() {
        if !run_once() {
            return false;
        }
    }
    true
}

/// One turn of the vCPU loop: interrupt work, then run one task or idle.
/// False when there is nothing to run and no task is left.
fn run_once() -> bool {
    arch::platform().take_interrupts();
    handle_interrupts();
    drop_dead_contexts();
    drop_stale_contexts();
    // Reboot (the reboot syscall, mconsole reboot, sysrq b): here,
    // where no task's code is running, on the boot vCPU.
    if this_cpu() == 0 && (take_reboot() || crate::drivers::mconsole::take_reboot()) {
        crate::fs::ext4::shutdown_all();
        super::printk::printk("reboot: Restarting system");
        crate::init::restart_userspace();
        return true;
    }
    let next = lock(&this().runq).pop_front();
    let Some(tid) = next else {
        let timeout = next_deadline().map(|d| {
            let now = time::monotonic_ns();
            std::time::Duration::from_nanos((d - now).max(0) as u64)
        });
        arch::platform().arm_timer(None);
        if this_cpu() == 0 && task::all_tasks().is_empty() {
            return false;
        }
        acct::idle_begin();
        smp::unlock_kernel();
        arch::platform().idle(timeout);
        smp::lock_kernel();
        acct::idle_end();
        return true;
    };
    let Some(t) = task::task(tid) else {
        return true;
    };
    if t.state() != State::Runnable {
        return true;
    }
    if ncpus() > 1 && smp::task_cpu(tid) != this_cpu() {
        // Moved to another vCPU after this entry was queued: only its
        // own vCPU may run it.
        enqueue(tid);
        return true;
    }
    switch_to(&t);
    let state = t.state();
    // Sleeping or stopping gives the vCPU up voluntarily; a task still
    // runnable here was preempted (slice over, or it yielded).
    t.acct.switched_out(state != State::Runnable);
    if state == State::Runnable {
        enqueue(t.tid);
    }
    true
}

/// Resume `t`'s kernel context (creating it on its first run) until it
/// gives the vCPU back.
fn switch_to(t: &Arc<Task>) {
    let ctx = CONTEXTS
        .with(|c| c.borrow_mut().remove(&t.tid))
        .filter(|(owner, _)| std::ptr::eq(owner.as_ptr(), Arc::as_ptr(t)))
        .map(|(_, c)| c);
    let mut ctx = match ctx {
        Some(c) => c,
        None => {
            let task = t.clone();
            match KernelContext::new(move || task_body(task)) {
                Ok(c) => c,
                Err(e) => {
                    // No host memory for a kernel stack: the task cannot
                    // run, as a fork that fails late.
                    log::error!("sched: no kernel stack for task {}: {e}", t.tid);
                    super::exit::group_exit(t, signal::SIGKILL);
                    return;
                }
            }
        }
    };
    acct::switch_in();
    super::rseq::scheduled_in(t);
    let alive = ctx.resume();
    super::current::set(0);
    acct::switch_out(&t.acct);
    // Keep the context unless the body returned or the task is gone (a
    // reboot from inside the task cleared everything).
    if alive && task::task(t.tid).is_some_and(|x| Arc::ptr_eq(&x, t)) {
        CONTEXTS.with(|c| c.borrow_mut().insert(t.tid, (Arc::downgrade(t), ctx)));
    }
}

/// A task's life in the kernel, on its own stack: run it in slices until
/// it dies, giving the vCPU back between slices.
fn task_body(t: Arc<Task>) {
    loop {
        run_slice(&t);
        if t.state() == State::Dead {
            return;
        }
        if t.state() == State::Runnable && smp::wants_move(t.tid) && move_away(&t) {
            // The context ends here; the new vCPU starts another.
            return;
        }
        arch::kcontext::suspend();
    }
}

/// Move `t` to the vCPU its affinity asked for, between two guest runs
/// (its kernel stack holds nothing but `task_body`, so a new context on
/// the other vCPU continues it). Its registers stay in the task, its FPU
/// state is read back from the host process, and the host process, which
/// only this vCPU may trace, is dropped: the destination re-creates it
/// from the page tables at its first run (`MmInner::materialize`). False
/// if it cannot move (a thread appeared in its address space meanwhile).
fn move_away(t: &Arc<Task>) -> bool {
    let Some(to) = smp::take_move(t.tid) else {
        return false;
    };
    if to == this_cpu() || !super::sys_affinity::alone_in_mm(t) {
        return false;
    }
    let mm = t.mm();
    {
        let mut m = mm.lock();
        let mut i = t.lock();
        m.release_host(&mut i.ctx);
    }
    log::debug!(
        "sched: task {} moves from vCPU {} to {}",
        t.tid,
        this_cpu(),
        to
    );
    smp::move_to(t.tid, to);
    true
}

/// Run `t` until it sleeps, stops, dies, or its slice is over.
fn run_slice(t: &Arc<Task>) {
    this().need_resched.store(false, Ordering::Relaxed);
    let slice_end = time::monotonic_ns() + SLICE_NS;
    loop {
        if !signal::deliver(t) {
            return;
        }
        if t.state() != State::Runnable || smp::wants_move(t.tid) {
            return;
        }
        if !super::rseq::resume(t) {
            // The area could not be updated: SIGSEGV is pending.
            continue;
        }
        // Arm the timer for preemption (if others wait) and guest timers.
        let others = !lock(&this().runq).is_empty();
        let mut deadline = next_deadline();
        // ITIMER_VIRTUAL/PROF: stop the guest when its CPU time may be up.
        let budget = [
            super::cputimer::budget(t),
            super::posix_timers::cpu_budget(t),
            super::rlimits::cpu_budget(t),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(b) = budget {
            let d = time::monotonic_ns().saturating_add(b);
            deadline = Some(deadline.map_or(d, |x| x.min(d)));
        }
        if others {
            deadline = Some(deadline.map_or(slice_end, |d| d.min(slice_end)));
        }
        arch::platform().arm_timer(deadline);
        log::trace!(
            "sched: run {} others={} deadline={:?} slice_end={}",
            t.tid,
            others,
            deadline,
            slice_end
        );
        let mut guest_ns = 0;
        let ev = if ncpus() == 1 {
            let mm = t.mm();
            let mut m = mm.lock();
            let mut i = t.lock();
            Some(arch::platform().switch(&mut *m.host, &mut i.ctx, &mut guest_ns))
        } else {
            switch_smp(t, &mut guest_ns)
        };
        acct::guest_returned(&t.acct, guest_ns);
        let Some(ev) = ev else {
            return;
        };
        super::cputimer::check(t);
        super::posix_timers::check_cpu(t);
        super::rlimits::cpu_check(t);
        log::trace!("sched: {} event {:?}", t.tid, ev);
        match ev {
            Event::Syscall => {
                syscall::dispatch(t);
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
        if arch::platform().interrupts_pending() {
            arch::platform().take_interrupts();
            handle_interrupts();
        }
        if reboot_pending() || crate::drivers::mconsole::reboot_pending() {
            return;
        }
        let resched = this().need_resched.swap(false, Ordering::Relaxed);
        if (resched || time::monotonic_ns() >= slice_end) && !lock(&this().runq).is_empty() {
            return;
        }
    }
}

/// `switch` with several vCPUs: the guest runs without the big kernel
/// lock and without the task's and mm's locks (other vCPUs may signal the
/// task or change its mm meanwhile), its registers and its host address
/// space taken out and put back after. None if the event is not this
/// task's to handle any more: the machine rebooted meanwhile (the task
/// belonged to the previous boot), or another vCPU ended it.
fn switch_smp(t: &Arc<Task>, guest_ns: &mut i64) -> Option<Event> {
    let mm = t.mm();
    let (mut host, mut ctx) = {
        let mut m = mm.lock();
        if let Err(e) = m.materialize() {
            log::error!("sched: task {}: no host address space: {e:?}", t.tid);
            return Some(Event::Died);
        }
        let mut i = t.lock();
        (
            m.take_host(),
            std::mem::replace(&mut i.ctx, arch::Context::placeholder()),
        )
    };
    let epoch = EPOCH.load(Ordering::SeqCst);
    acct::guest_enter(&t.acct);
    smp::unlock_kernel();
    let ev = arch::platform().switch(&mut *host, &mut ctx, guest_ns);
    smp::lock_kernel();
    if EPOCH.load(Ordering::SeqCst) != epoch {
        return None;
    }
    mm.lock().put_host(host);
    let mut i = t.lock();
    i.ctx = ctx;
    (i.state != State::Dead).then_some(ev)
}

fn handle_fault(t: &Arc<Task>, signo: i32, code: i32, addr: u64) {
    if signo == signal::SIGSEGV {
        let mm = t.mm();
        // A file page still on the disk is read with the task asleep and
        // no lock held, then the fault is handled afresh.
        let r = mm.fault(t, addr, code);
        match r {
            Ok(major) => {
                if major {
                    t.acct.major_fault();
                } else {
                    t.acct.minor_fault();
                }
                crate::fs::cgroup::after_fault(t);
            }
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

/// Sleep in `t`'s kernel context while it is Blocked: the vCPU runs
/// others and this returns once `t` was woken (or killed).
pub fn sleep(t: &Task) {
    // `current` belongs to the vCPU thread: others' syscalls set it while
    // this one sleeps.
    let cur = super::current::tgid().unwrap_or(0);
    let cur_tid = super::current::tid().unwrap_or(0);
    let mnt = super::current::mnt_ns().unwrap_or(0);
    while t.state() == State::Blocked {
        arch::kcontext::suspend();
    }
    super::current::set(cur);
    super::current::set_tid(cur_tid);
    super::current::set_mnt_ns(mnt);
}

/// Sleep in `t`'s kernel context until it is woken, `deadline`
/// (monotonic ns) passes, or a signal is pending for it. The caller has
/// queued itself where the event it waits for will wake it, holds no
/// lock, and checks its condition again after `Ok(())`: a wake-up says
/// only that something may have changed.
///
/// `Err(ERESTARTSYS)` when a signal is pending (before or during the
/// sleep) or the task was killed: the handler undoes its queueing and
/// returns it (or the partial count it has); the syscall's restart class
/// turns it into what the guest sees.
pub fn wait(t: &Task, deadline: Option<i64>) -> Result<(), Errno> {
    if super::signal::has_pending(t) {
        return Err(Errno::ERESTARTSYS);
    }
    sleep_until(t, deadline, Sleep::Interruptible);
    if t.state() == State::Dead || super::signal::has_pending(t) {
        return Err(Errno::ERESTARTSYS);
    }
    Ok(())
}

/// `wait` that no signal ends, not even SIGKILL (Linux's
/// TASK_UNINTERRUPTIBLE: disk I/O). Returns false if the task was killed
/// meanwhile (its process exited under it).
pub fn wait_uninterruptible(t: &Task, deadline: Option<i64>) -> bool {
    sleep_until(t, deadline, Sleep::Uninterruptible);
    t.state() != State::Dead
}

/// `wait` that only a fatal signal ends (Linux's TASK_KILLABLE: a vfork
/// parent). An uninterruptible sleep ('D', counted in the load average)
/// that `signal_wake` ends only for a signal that will kill the process;
/// others stay pending for the way out. Returns false once the task is
/// killed or such a signal is pending.
pub fn wait_killable(t: &Task, deadline: Option<i64>) -> bool {
    if super::signal::fatal_pending(t) {
        return false;
    }
    sleep_until(t, deadline, Sleep::Killable);
    t.state() != State::Dead && !super::signal::fatal_pending(t)
}

/// What may end a sleep besides its event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sleep {
    /// Any signal.
    Interruptible,
    /// A fatal signal.
    Killable,
    /// Nothing.
    Uninterruptible,
}

fn sleep_until(t: &Task, deadline: Option<i64>, kind: Sleep) {
    {
        let mut i = t.lock();
        i.state = State::Blocked;
        i.io_wait = kind != Sleep::Interruptible;
        i.wait_killable = kind == Sleep::Killable;
    }
    if let Some(d) = deadline {
        add_timer(d, t.tid);
    }
    sleep(t);
    {
        let mut i = t.lock();
        i.io_wait = false;
        i.wait_killable = false;
    }
    if let Some(d) = deadline {
        lock(&TIMERS).remove(&(d, t.tid));
    }
}

/// Ask for a reboot, done by the vCPU loop between tasks (the reboot
/// syscall: the caller's own context cannot tear everything down).
pub fn request_reboot() {
    REBOOT.store(true, std::sync::atomic::Ordering::SeqCst);
}

fn take_reboot() -> bool {
    REBOOT.swap(false, std::sync::atomic::Ordering::SeqCst)
}

fn reboot_pending() -> bool {
    REBOOT.load(std::sync::atomic::Ordering::SeqCst)
}

/// A task was removed: its kernel context (suspended if it died in a
/// sleep) is dropped by the vCPU loop.
pub fn context_gone(tid: Tid) {
    let n = smp::task_cpu(tid);
    lock(&cpu(n).gone).push(tid);
    smp::forget(tid);
}

thread_local! {
    /// The reset epoch this vCPU's contexts belong to.
    static SEEN_EPOCH: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// After a reboot (done by the boot vCPU), the other vCPUs drop the
/// kernel contexts of the previous boot's tasks (unwinding them, as
/// `reset` does on the boot vCPU).
fn drop_stale_contexts() {
    let epoch = EPOCH.load(Ordering::SeqCst);
    if SEEN_EPOCH.with(|e| e.replace(epoch)) != epoch {
        let all = CONTEXTS.with(|c| std::mem::take(&mut *c.borrow_mut()));
        drop(all);
    }
}

fn drop_dead_contexts() {
    let gone = std::mem::take(&mut *lock(&this().gone));
    for tid in gone {
        if task::task(tid).is_none() {
            let c = CONTEXTS.with(|c| c.borrow_mut().remove(&tid));
            drop(c);
        }
    }
}

/// Forget all scheduling state (reboot). Suspended contexts are unwound.
pub fn reset() {
    EPOCH.fetch_add(1, Ordering::SeqCst);
    for c in &CPUS {
        lock(&c.runq).clear();
        lock(&c.woken).clear();
        lock(&c.gone).clear();
    }
    lock(&TIMERS).clear();
    smp::reset();
    let all = CONTEXTS.with(|c| std::mem::take(&mut *c.borrow_mut()));
    drop(all);
    acct::reset();
    loadavg::reset();
}

/// Print every task's state to the host's stderr (host SIGUSR2).
fn dump_tasks() {
    let q: Vec<Vec<Tid>> = (0..ncpus())
        .map(|n| lock(&cpu(n).runq).iter().copied().collect())
        .collect();
    eprintln!(
        "ruml: task dump (runq {:?}, timers {:?})",
        q,
        lock(&TIMERS).iter().collect::<Vec<_>>()
    );
    for t in task::all_tasks() {
        let i = t.lock();
        eprintln!(
            "  tid {} tgid {} {:?} comm {} rip {:#x} syscall {}",
            t.tid,
            t.tgid(),
            i.state,
            i.comm,
            i.ctx.regs.rip,
            super::syscall::names::name(i.ctx.regs.orig_rax),
        );
    }
}
