//! Tasks (threads) and thread groups (processes): identities, shared
//! resources (mm, files, fs, signal handlers), and the global tables.

pub use super::cred::Creds;
use super::signal::{SigActions, SigPending};
use crate::arch::Context;
use crate::fs::file::FdTable;
use crate::fs::vfs::Path;
use crate::mm::Mm;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub type Tid = i32;
pub type Pid = i32;

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    Runnable,
    /// Sleeping in a syscall that runs again when woken.
    Blocked,
    /// Job-control stop.
    Stopped,
    Dead,
}

/// Root, cwd and umask (shared with CLONE_FS).
#[derive(Clone)]
pub struct FsContext {
    pub root: Path,
    pub cwd: Path,
    pub umask: u32,
}

pub const RLIM_NLIMITS: usize = 16;
pub const RLIM_INFINITY: u64 = u64::MAX;
pub const RLIMIT_NPROC: usize = 6;
pub const RLIMIT_NICE: usize = 13;
pub const RLIMIT_NOFILE: usize = 7;
/// fs.nr_open: no process may have RLIMIT_NOFILE above it.
pub const NR_OPEN_MAX: u64 = 1 << 20;

/// What a timed wait interrupted by a signal leaves for restart_syscall
/// (Linux's restart_block): its absolute deadline, so that a wait
/// restarted without a handler (a stop and continue) ends when it would
/// have rather than a full timeout later.
#[derive(Clone, Copy, Debug)]
pub enum RestartBlock {
    /// nanosleep, relative clock_nanosleep: the guest address for the
    /// time left (0: none).
    Sleep { deadline: i64, rem: u64 },
    /// poll: the same pollfds, to the same deadline (None: no timeout).
    Poll {
        fds: u64,
        nfds: u32,
        deadline: Option<i64>,
    },
    /// FUTEX_WAIT/WAIT_BITSET with a timeout: it waits again if the word
    /// still holds `val`.
    Futex {
        addr: u64,
        val: u32,
        bitset: u32,
        deadline: i64,
        private: bool,
    },
}

/// Per-thread state.
pub struct TaskInner {
    pub ctx: Context,
    pub state: State,
    pub mm: Arc<Mm>,
    pub files: Arc<Mutex<FdTable>>,
    pub fs: Arc<Mutex<FsContext>>,
    pub sighand: Arc<Mutex<SigActions>>,
    pub sigmask: u64,
    pub pending: SigPending,
    /// Mask to restore after a handler (sigsuspend, pselect, ppoll).
    pub saved_mask: Option<u64>,
    pub altstack: (u64, u64, i32),
    pub clear_child_tid: u64,
    pub robust_list: u64,
    /// The last syscall's result may need restart handling on the way out.
    pub restart_check: bool,
    /// How restart_syscall carries on with a wait a signal interrupted
    /// (Linux's restart_block); None when there is nothing to carry on.
    pub restart_block: Option<RestartBlock>,
    /// This task is a vfork child; its parent thread sleeps until it execs
    /// or exits.
    pub vfork_parent: Option<Tid>,
    /// Sleeping until a disk flush completes: signals do not interrupt it
    /// (Linux's TASK_UNINTERRUPTIBLE, "D" in ps).
    pub io_wait: bool,
    /// That sleep ends for a fatal signal (Linux's TASK_KILLABLE: a vfork
    /// parent); a disk wait is woken by nothing but its disk.
    pub wait_killable: bool,
    pub comm: String,
    pub start_time: i64,
    /// Nice value, -20..=19 (setpriority; inherited by children).
    pub nice: i32,
    /// Scheduling policy and priority (sched_setscheduler; reported, not
    /// yet used by the scheduler).
    pub sched: super::sys_sched::SchedAttr,
    /// The namespaces it lives in.
    pub ns: super::ns::NsProxy,
    /// seccomp mode and filters, no_new_privs (inherited, kept by exec).
    pub seccomp: super::seccomp::State,
    /// Its restartable-sequence registration (rseq).
    pub rseq: Option<super::rseq::Rseq>,
}

impl TaskInner {
    /// A new thread's state: runnable, nothing blocked, pending, waited
    /// for or to restart, started now. fork and clone override what the
    /// child inherits.
    pub fn new(
        ctx: Context,
        mm: Arc<Mm>,
        files: Arc<Mutex<FdTable>>,
        fs: Arc<Mutex<FsContext>>,
        sighand: Arc<Mutex<SigActions>>,
        comm: String,
    ) -> TaskInner {
        TaskInner {
            ctx,
            state: State::Runnable,
            mm,
            files,
            fs,
            sighand,
            sigmask: 0,
            pending: Default::default(),
            saved_mask: None,
            altstack: (0, 0, super::signal::SS_DISABLE),
            clear_child_tid: 0,
            robust_list: 0,
            restart_check: false,
            restart_block: None,
            vfork_parent: None,
            io_wait: false,
            wait_killable: false,
            comm,
            start_time: super::time::monotonic_ns(),
            nice: 0,
            sched: Default::default(),
            ns: Default::default(),
            seccomp: Default::default(),
            rseq: None,
        }
    }
}

/// A thread.
pub struct Task {
    pub tid: Tid,
    /// The process this thread belongs to.
    pub tgid: AtomicI32,
    pub inner: Mutex<TaskInner>,
    /// CPU time, faults and context switches (charged by the vCPU).
    pub acct: super::acct::TaskAcct,
}

/// Per-process state.
pub struct TgInner {
    pub parent: Pid,
    pub children: Vec<Pid>,
    pub threads: Vec<Tid>,
    pub pgid: Pid,
    pub sid: Pid,
    pub pending: SigPending,
    /// Exit in progress (exit_group or fatal signal): the wait status.
    pub group_exit: Option<i32>,
    /// All threads gone: the wait status, until reaped.
    pub zombie: Option<i32>,
    /// Job control state change to report to wait(WUNTRACED/WCONTINUED).
    pub stop_report: Option<i32>,
    pub stopped: bool,
    pub exit_signal: i32,
    pub creds: Creds,
    /// May others with the same ids look in (Linux's dumpable flag, kept
    /// on the mm there; SUID_DUMP_USER when set): cleared by an exec that
    /// changes ids and by set*id changing effective or filesystem ids,
    /// set and read by prctl.
    pub dumpable: bool,
    /// /proc/PID/oom_score_adj and the least value an unprivileged
    /// writer may set (Linux's signal->oom_score_adj, _min): inherited by
    /// fork, kept by exec.
    pub oom_score_adj: (i16, i16),
    pub rlimits: [(u64, u64); RLIM_NLIMITS],
    /// ITIMER_REAL: (next expiry ns, interval ns).
    pub itimer_real: Option<(i64, i64)>,
    pub exec_done: bool,
    /// Exited threads' and reaped children's usage.
    pub acct: super::acct::GroupAcct,
    /// The last thread's name and start time (ns), kept for /proc/PID
    /// once no thread is left (a zombie).
    pub last_thread: Option<(String, i64)>,
}

impl TgInner {
    /// A new process of `threads` under `parent`, in process group `pgid`
    /// of session `sid`: nothing pending, not exiting or stopped, no
    /// timers, no usage yet. fork passes what the child inherits.
    pub fn new(
        parent: Pid,
        threads: Vec<Tid>,
        (pgid, sid): (Pid, Pid),
        creds: Creds,
        rlimits: [(u64, u64); RLIM_NLIMITS],
    ) -> TgInner {
        TgInner {
            parent,
            children: Vec::new(),
            threads,
            pgid,
            sid,
            pending: Default::default(),
            group_exit: None,
            zombie: None,
            stop_report: None,
            stopped: false,
            exit_signal: 0,
            creds,
            dumpable: true,
            oom_score_adj: (0, 0),
            rlimits,
            itimer_real: None,
            exec_done: false,
            acct: Default::default(),
            last_thread: None,
        }
    }
}

/// A process (thread group).
pub struct ThreadGroup {
    pub tgid: Pid,
    pub inner: Mutex<TgInner>,
    /// Woken when a child changes state (wait4).
    pub child_wq: Arc<super::wait::WaitQueue>,
}

static TASKS: Mutex<BTreeMap<Tid, Arc<Task>>> = Mutex::new(BTreeMap::new());
static GROUPS: Mutex<BTreeMap<Pid, Arc<ThreadGroup>>> = Mutex::new(BTreeMap::new());
static NEXT_PID: AtomicI32 = AtomicI32::new(1);
const PID_MAX: i32 = 32768;

/// Allocate a free PID, wrapping like Linux at pid_max.
pub fn alloc_pid() -> Option<Pid> {
    let tasks = lock(&TASKS);
    let groups = lock(&GROUPS);
    // One lap over the pid space at most: when every pid is held (by
    // tasks or by zombies nobody reaps), fork fails with EAGAIN as in
    // Linux instead of spinning here with the task lists locked.
    for _ in 0..PID_MAX {
        let mut p = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        if p >= PID_MAX {
            NEXT_PID.store(300, Ordering::Relaxed);
            p = 300;
        }
        if !tasks.contains_key(&p) && !groups.contains_key(&p) {
            return Some(p);
        }
    }
    None
}

/// clone3's set_tid: pid `p` itself, as Linux's alloc_pid checks it:
/// EINVAL out of range, EPERM without CAP_SYS_ADMIN (or
/// CAP_CHECKPOINT_RESTORE), EEXIST if a task or process holds it.
pub fn alloc_pid_exact(p: Pid, capable: bool) -> Result<Pid, super::errno::Errno> {
    use super::errno::Errno;
    if !(1..PID_MAX).contains(&p) {
        return Err(Errno::EINVAL);
    }
    if !capable {
        return Err(Errno::EPERM);
    }
    let tasks = lock(&TASKS);
    let groups = lock(&GROUPS);
    if tasks.contains_key(&p) || groups.contains_key(&p) {
        return Err(Errno::EEXIST);
    }
    Ok(p)
}

/// The most recently allocated PID (/proc/loadavg).
pub fn last_pid() -> Pid {
    NEXT_PID.load(Ordering::Relaxed) - 1
}

/// ns_last_pid of the initial namespace: the next fork takes the pid
/// after `p`.
pub fn set_last_pid(p: Pid) {
    NEXT_PID.store(p + 1, Ordering::Relaxed);
}

/// Restart PID numbering (reboot).
pub fn reset_pids() {
    NEXT_PID.store(1, Ordering::Relaxed);
}

pub fn task(tid: Tid) -> Option<Arc<Task>> {
    lock(&TASKS).get(&tid).cloned()
}

pub fn group(pid: Pid) -> Option<Arc<ThreadGroup>> {
    lock(&GROUPS).get(&pid).cloned()
}

pub fn insert_task(t: Arc<Task>) {
    lock(&TASKS).insert(t.tid, t);
}

pub fn remove_task(tid: Tid) {
    lock(&TASKS).remove(&tid);
    super::sched::context_gone(tid);
    release_if_unused(tid);
}

/// A pid neither a task nor a process holds any more loses its numbers
/// in the pid namespaces.
fn release_if_unused(p: Pid) {
    let held = lock(&TASKS).contains_key(&p) || lock(&GROUPS).contains_key(&p);
    if !held {
        super::ns::pid::release(p);
    }
}

pub fn insert_group(g: Arc<ThreadGroup>) {
    lock(&GROUPS).insert(g.tgid, g);
}

pub fn remove_group(pid: Pid) {
    lock(&GROUPS).remove(&pid);
    release_if_unused(pid);
}

pub fn all_groups() -> Vec<Arc<ThreadGroup>> {
    lock(&GROUPS).values().cloned().collect()
}

pub fn all_tasks() -> Vec<Arc<Task>> {
    lock(&TASKS).values().cloned().collect()
}

/// How many tasks (threads) exist.
pub fn count() -> usize {
    lock(&TASKS).len()
}

/// Forget every task and process (reboot).
pub fn clear_all() {
    let t = std::mem::take(&mut *lock(&TASKS));
    let g = std::mem::take(&mut *lock(&GROUPS));
    drop(t);
    drop(g);
    super::ns::pid::clear_all();
}

impl ThreadGroup {
    pub fn lock(&self) -> MutexGuard<'_, TgInner> {
        lock(&self.inner)
    }
}

impl Task {
    pub fn lock(&self) -> MutexGuard<'_, TaskInner> {
        lock(&self.inner)
    }
    pub fn mm(&self) -> Arc<Mm> {
        self.lock().mm.clone()
    }
    pub fn files(&self) -> Arc<Mutex<FdTable>> {
        self.lock().files.clone()
    }
    pub fn fs(&self) -> FsContext {
        let fs = self.lock().fs.clone();
        let g = lock(&fs);
        g.clone()
    }
    pub fn fs_shared(&self) -> Arc<Mutex<FsContext>> {
        self.lock().fs.clone()
    }
    pub fn sighand(&self) -> Arc<Mutex<SigActions>> {
        self.lock().sighand.clone()
    }
    /// The thread group this task belongs to.
    pub fn tg(&self) -> Arc<ThreadGroup> {
        group(self.tgid()).expect("task without thread group")
    }
    pub fn tgid(&self) -> Pid {
        self.tgid.load(Ordering::Relaxed)
    }
    pub fn session_and_pgrp(&self) -> (Pid, Pid) {
        let tg = self.tg();
        let g = tg.lock();
        (g.sid, g.pgid)
    }
    pub fn state(&self) -> State {
        self.lock().state
    }
    pub fn creds(&self) -> Creds {
        self.tg().lock().creds.clone()
    }
    /// The process's soft RLIMIT_NOFILE: fds at or above it cannot be
    /// allocated (Linux's rlimit(RLIMIT_NOFILE) at each allocation).
    /// Read before taking the fd table's lock.
    pub fn nofile(&self) -> usize {
        let soft = self.tg().lock().rlimits[RLIMIT_NOFILE].0;
        soft.min(NR_OPEN_MAX) as usize
    }
}

pub fn find_tg_of(tid: Tid) -> Option<Arc<ThreadGroup>> {
    task(tid).and_then(|t| group(t.tgid.load(Ordering::Relaxed)))
}

/// Default resource limits (as Linux for a fresh init).
pub fn default_rlimits() -> [(u64, u64); RLIM_NLIMITS] {
    let mut r = [(RLIM_INFINITY, RLIM_INFINITY); RLIM_NLIMITS];
    r[3] = (8 << 20, RLIM_INFINITY); // STACK
    r[4] = (0, RLIM_INFINITY); // CORE
                               // NPROC: init gets half of threads-max (Linux's fork_init).
    let nproc = super::nproc::threads_max() as u64 / 2;
    r[RLIMIT_NPROC] = (nproc, nproc);
    r[7] = (1024, 4096); // NOFILE: INR_OPEN_CUR, INR_OPEN_MAX
    r[8] = (8 << 20, 8 << 20); // MEMLOCK
    r[11] = (4096, 4096); // SIGPENDING
    r[12] = (819200, 819200); // MSGQUEUE
    r[13] = (0, 0); // NICE: only CAP_SYS_NICE lowers nice values
    r[14] = (0, 0); // RTPRIO
    r
}
