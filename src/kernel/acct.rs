//! Process accounting: CPU time (user and system), page faults and
//! context switches per thread, summed per process and over reaped
//! children, and the vCPU's user/system/idle totals for /proc/stat.
//!
//! Time is measured with host monotonic deltas around the vCPU's
//! switches: the stretch in which the guest ran (as the platform's `switch`
//! reports it) is user time, the kernel's work for the task before and
//! after it is system time, and the vCPU waiting for interrupts is idle.
//! Time the host did not give vmlinux is charged to whoever held the vCPU,
//! as a guest cannot tell it apart.

use super::task::{self, ThreadGroup};
use super::time;
use crate::arch::cpu::MAX_CPUS;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// Clock ticks per second of /proc and times(2) (Linux's USER_HZ).
pub const USER_HZ: i64 = 100;

/// Nanoseconds → clock ticks (truncating, as Linux's nsec_to_clock_t).
pub fn ticks(ns: i64) -> u64 {
    (ns.max(0) / (1_000_000_000 / USER_HZ)) as u64
}

/// Resource usage as getrusage counts it (times in nanoseconds).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Usage {
    pub utime: i64,
    pub stime: i64,
    pub minflt: u64,
    pub majflt: u64,
    pub nvcsw: u64,
    pub nivcsw: u64,
}

impl Usage {
    pub fn add(&mut self, o: &Usage) {
        self.utime += o.utime;
        self.stime += o.stime;
        self.minflt += o.minflt;
        self.majflt += o.majflt;
        self.nvcsw += o.nvcsw;
        self.nivcsw += o.nivcsw;
    }

    pub fn plus(mut self, o: &Usage) -> Usage {
        self.add(o);
        self
    }
}

/// One thread's counters. Atomics: the vCPU charges them without taking
/// the task lock, and /proc reads them for any task.
#[derive(Default)]
pub struct TaskAcct {
    utime: AtomicI64,
    stime: AtomicI64,
    minflt: AtomicU64,
    majflt: AtomicU64,
    nvcsw: AtomicU64,
    nivcsw: AtomicU64,
    /// When its guest code started running on a vCPU that lets others read
    /// its time meanwhile (several vCPUs); 0 when not in guest code.
    guest_since: AtomicI64,
}

/// Time since `since` (0: none).
fn running_for(since: i64) -> i64 {
    if since == 0 {
        0
    } else {
        (time::monotonic_ns() - since).max(0)
    }
}

impl TaskAcct {
    pub fn usage(&self) -> Usage {
        Usage {
            // With the guest time it is running up right now on another
            // vCPU, as Linux counts the current slice.
            utime: self.utime.load(Relaxed) + running_for(self.guest_since.load(Relaxed)),
            stime: self.stime.load(Relaxed),
            minflt: self.minflt.load(Relaxed),
            majflt: self.majflt.load(Relaxed),
            nvcsw: self.nvcsw.load(Relaxed),
            nivcsw: self.nivcsw.load(Relaxed),
        }
    }

    /// A page fault the kernel resolved without waiting for a disk.
    pub fn minor_fault(&self) {
        self.minflt.fetch_add(1, Relaxed);
    }

    /// A page fault that slept while a disk read its page (Linux's
    /// VM_FAULT_MAJOR; `mm::Mm::fault`).
    pub fn major_fault(&self) {
        self.majflt.fetch_add(1, Relaxed);
    }

    /// The task gave up the vCPU: by sleeping or stopping (voluntary) or
    /// because its slice ended or it yielded (involuntary).
    pub fn switched_out(&self, voluntary: bool) {
        let c = if voluntary { &self.nvcsw } else { &self.nivcsw };
        c.fetch_add(1, Relaxed);
        this_cpu().ctxt.fetch_add(1, Relaxed);
    }

    fn charge(&self, user: i64, system: i64) {
        self.utime.fetch_add(user, Relaxed);
        self.stime.fetch_add(system, Relaxed);
        let c = this_cpu();
        c.user.fetch_add(user, Relaxed);
        c.system.fetch_add(system, Relaxed);
    }
}

thread_local! {
    /// When this vCPU's time was last charged to the task it runs.
    static CHARGED_UNTIL: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// The vCPU starts working for a task: from here its time is the task's
/// (system time, except what its guest code runs).
pub fn switch_in() {
    CHARGED_UNTIL.with(|c| c.set(time::monotonic_ns()));
}

/// The task's guest code starts running while other vCPUs may read its
/// time (several vCPUs): until `guest_returned`, readers add the time
/// since now to its user time and its vCPU's.
pub fn guest_enter(acct: &TaskAcct) {
    let now = time::monotonic_ns();
    acct.guest_since.store(now, Relaxed);
    this_cpu().guest_since.store(now, Relaxed);
}

/// Back from the guest, which ran `guest_ns` of the time since the last
/// charge. Charged at once so that a syscall reading its own CPU clock
/// sees the user time that led up to it.
pub fn guest_returned(acct: &TaskAcct, guest_ns: i64) {
    acct.guest_since.store(0, Relaxed);
    this_cpu().guest_since.store(0, Relaxed);
    let now = time::monotonic_ns();
    let since = CHARGED_UNTIL.with(|c| c.replace(now));
    let total = (now - since).max(0);
    let user = guest_ns.clamp(0, total);
    acct.charge(user, total - user);
}

/// The task gave the vCPU back: the rest since the last charge was
/// system time.
pub fn switch_out(acct: &TaskAcct) {
    let now = time::monotonic_ns();
    let since = CHARGED_UNTIL.with(|c| c.replace(now));
    acct.charge(0, (now - since).max(0));
}

/// A process's accounting beyond its live threads (in `TgInner`).
#[derive(Clone, Copy, Default, Debug)]
pub struct GroupAcct {
    /// Threads that have exited.
    pub dead: Usage,
    /// Reaped children, with what they had reaped themselves.
    pub children: Usage,
    /// Peak resident set of the address spaces this process has left
    /// behind (exec, exit), in kB.
    pub maxrss_kb: u64,
    /// Peak of the reaped children's `maxrss_kb`.
    pub cmaxrss_kb: u64,
}

impl GroupAcct {
    /// A thread of this process exits: keep what it used.
    pub fn thread_exited(&mut self, t: &TaskAcct, peak_rss_kb: u64) {
        self.dead.add(&t.usage());
        self.maxrss_kb = self.maxrss_kb.max(peak_rss_kb);
    }
}

/// The usage of a process's threads, live and exited.
pub fn process_usage(tg: &ThreadGroup) -> Usage {
    let (dead, threads) = {
        let g = tg.lock();
        (g.acct.dead, g.threads.clone())
    };
    threads
        .into_iter()
        .filter_map(task::task)
        .fold(dead, |u, t| u.plus(&t.acct.usage()))
}

/// A process and its reaped children together (what wait4 reports for
/// a child, Linux's RUSAGE_BOTH).
pub fn usage_with_children(tg: &ThreadGroup) -> Usage {
    let children = tg.lock().acct.children;
    process_usage(tg).plus(&children)
}

/// `parent` reaps the zombie `child`: the child's times and those of its
/// own reaped children become the parent's children's times.
pub fn reaped(parent: &ThreadGroup, child: &ThreadGroup) {
    let u = usage_with_children(child);
    let peak = {
        let c = child.lock();
        c.acct.maxrss_kb.max(c.acct.cmaxrss_kb)
    };
    let mut p = parent.lock();
    p.acct.children.add(&u);
    p.acct.cmaxrss_kb = p.acct.cmaxrss_kb.max(peak);
}

/// The whole vCPU's time since boot, for /proc/stat.
struct CpuTimes {
    user: AtomicI64,
    system: AtomicI64,
    idle: AtomicI64,
    ctxt: AtomicU64,
    forks: AtomicU64,
    /// When its current wait for work began (0: working).
    idle_since: AtomicI64,
    /// When the guest code it runs now started (see `guest_enter`).
    guest_since: AtomicI64,
}

impl CpuTimes {
    const fn new() -> CpuTimes {
        CpuTimes {
            user: AtomicI64::new(0),
            system: AtomicI64::new(0),
            idle: AtomicI64::new(0),
            ctxt: AtomicU64::new(0),
            forks: AtomicU64::new(0),
            idle_since: AtomicI64::new(0),
            guest_since: AtomicI64::new(0),
        }
    }

    fn stat(&self) -> CpuStat {
        CpuStat {
            user: self.user.load(Relaxed) + running_for(self.guest_since.load(Relaxed)),
            system: self.system.load(Relaxed),
            idle: self.idle.load(Relaxed) + running_for(self.idle_since.load(Relaxed)),
            ctxt: self.ctxt.load(Relaxed),
            forks: self.forks.load(Relaxed),
        }
    }
}

/// Each vCPU's totals.
static CPUS: [CpuTimes; MAX_CPUS] = [const { CpuTimes::new() }; MAX_CPUS];

fn this_cpu() -> &'static CpuTimes {
    &CPUS[crate::arch::cpu::this_cpu() % MAX_CPUS]
}

/// This vCPU starts waiting for work (its idle time so far shows in
/// /proc/stat while it waits).
pub fn idle_begin() {
    this_cpu().idle_since.store(time::monotonic_ns(), Relaxed);
}

/// This vCPU has work again: the wait is idle time.
pub fn idle_end() {
    let c = this_cpu();
    let since = c.idle_since.swap(0, Relaxed);
    if since != 0 {
        c.idle
            .fetch_add((time::monotonic_ns() - since).max(0), Relaxed);
    }
}

/// A task (process or thread) was created.
pub fn forked() {
    this_cpu().forks.fetch_add(1, Relaxed);
}

/// A vCPU's totals: user, system and idle ns, context switches, forks.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuStat {
    pub user: i64,
    pub system: i64,
    pub idle: i64,
    pub ctxt: u64,
    pub forks: u64,
}

/// The totals of all vCPUs.
pub fn cpu_stat() -> CpuStat {
    (0..crate::arch::cpu::ncpus())
        .map(cpu_stat_of)
        .fold(CpuStat::default(), |a, b| CpuStat {
            user: a.user + b.user,
            system: a.system + b.system,
            idle: a.idle + b.idle,
            ctxt: a.ctxt + b.ctxt,
            forks: a.forks + b.forks,
        })
}

/// vCPU `n`'s totals.
pub fn cpu_stat_of(n: usize) -> CpuStat {
    CPUS[n % MAX_CPUS].stat()
}

/// Start the counters again (reboot).
pub fn reset() {
    for cpu in &CPUS {
        for c in [&cpu.user, &cpu.system, &cpu.idle] {
            c.store(0, Relaxed);
        }
        cpu.ctxt.store(0, Relaxed);
        cpu.forks.store(0, Relaxed);
    }
}
