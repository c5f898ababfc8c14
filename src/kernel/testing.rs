//! Kernel objects for unit tests, without booting: physical memory and
//! frames, a tmpfs root, processes and threads with fake address spaces,
//! and scripted guest threads run by the real scheduler on the fake
//! platform (`arch::fake_guest`).
//!
//! The task table, run queue and timers are process-wide while `cargo
//! test` runs tests in parallel threads: a test that touches them holds
//! `kernel()`'s guard, which also clears them at both ends.

use super::signal::SigActions;
use super::task::{self, lock, Creds, FsContext, Task, TaskInner, TgInner, ThreadGroup};
use crate::arch::fake_guest::{self, Step};
use crate::fs::vfs::{Dentry, Path};
use crate::mm::frame::PAGE_SIZE;
use crate::mm::{Backing, Mm, Vma, PROT_READ, PROT_WRITE};
use std::sync::atomic::AtomicI32;
use std::sync::{Arc, Mutex, MutexGuard, Once, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// Guest data every test process has mapped (read-write, private).
pub const DATA: u64 = 0x2000_0000;
pub const DATA_PAGES: u64 = 32;
/// Its stack: rsp starts at the top (signal frames go below).
pub const STACK_TOP: u64 = 0x7000_0000;
const STACK_PAGES: u64 = 16;
/// Where a scripted task's signal handlers and restorer "are" (any
/// address outside the script is a handler that returns at once).
pub const HANDLER: u64 = 0x3000_0000;
pub const RESTORER: u64 = 0x3000_1000;
/// How long a scripted run may take before the test fails (a hang guard,
/// not a timing assertion).
const RUN_LIMIT: Duration = Duration::from_secs(10);

/// Held by tests that use physical memory; the frame allocator's own test
/// swaps in a small allocator under the write lock.
static MEMORY: RwLock<()> = RwLock::new(());

/// A test's use of physical memory and the frame allocator.
pub struct Memory {
    _guard: RwLockReadGuard<'static, ()>,
}

/// Physical memory, the frame allocator and context templates, set up
/// once per test process (mm's tests use it too); hold the result for the
/// test's duration.
pub fn setup_memory() -> Memory {
    // Read-locked first: the frame test must not swap allocators while
    // this one is made.
    let guard = MEMORY.read().unwrap_or_else(|e| e.into_inner());
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        const MEM: usize = 64 << 20;
        crate::arch::init_physmem(MEM).expect("physical memory");
        crate::mm::frame::init(
            (MEM / PAGE_SIZE as usize) as u32,
            crate::arch::reserved_frames(),
        );
        crate::arch::process::init_without_host();
    });
    Memory { _guard: guard }
}

/// The frame allocator for this test alone (it replaces it for a while).
pub fn memory_exclusive() -> RwLockWriteGuard<'static, ()> {
    MEMORY.write().unwrap_or_else(|e| e.into_inner())
}

static KERNEL: Mutex<()> = Mutex::new(());

/// Exclusive use of the kernel's global state for one test.
pub struct Kernel {
    _guard: MutexGuard<'static, ()>,
    _memory: Memory,
}

/// Take the kernel for this test (waiting for others), with memory set up
/// and no tasks.
pub fn kernel() -> Kernel {
    let memory = setup_memory();
    // A test that failed while holding it leaves it poisoned: state is
    // cleared anyway.
    let g = lock(&KERNEL);
    clear();
    Kernel {
        _guard: g,
        _memory: memory,
    }
}

fn clear() {
    for t in task::all_tasks() {
        super::futex::cancel(&t);
    }
    super::sched::reset();
    task::clear_all();
}

impl Drop for Kernel {
    fn drop(&mut self) {
        clear();
    }
}

/// A tmpfs root directory.
pub fn root() -> Path {
    Dentry::root(crate::fs::tmpfs::new_fs(0o755))
}

fn anon(start: u64, pages: u64, label: &'static str) -> Vma {
    Vma {
        start,
        end: start + pages * PAGE_SIZE,
        prot: PROT_READ | PROT_WRITE,
        shared: false,
        backing: Backing::Anon,
        label,
    }
}

/// A pid other than 1: init's signal rules differ (test those on purpose).
fn pid() -> task::Pid {
    loop {
        let p = task::alloc_pid().expect("pid");
        if p != 1 {
            return p;
        }
    }
}

/// A new process (root credentials, empty files table, tmpfs root) with
/// one thread, `DATA` and a stack mapped, registered in the task table
/// but not queued to run. Its parent is 0: nobody is told when it exits.
pub fn process(_k: &Kernel) -> Arc<Task> {
    let mm = Mm::new().expect("address space");
    {
        let mut m = mm.lock();
        m.insert_vma(anon(DATA, DATA_PAGES, "")).unwrap();
        let stack = STACK_TOP - STACK_PAGES * PAGE_SIZE;
        m.insert_vma(anon(stack, STACK_PAGES, "[stack]")).unwrap();
    }
    let pid = pid();
    task::insert_group(Arc::new(ThreadGroup {
        tgid: pid,
        inner: Mutex::new(TgInner::new(
            0,
            Vec::new(),
            (pid, pid),
            Creds::ROOT,
            task::default_rlimits(),
        )),
        child_wq: Default::default(),
    }));
    let r = root();
    let fs = FsContext {
        root: r.clone(),
        cwd: r,
        umask: 0o022,
    };
    add_task(
        pid,
        pid,
        mm,
        Default::default(),
        Arc::new(Mutex::new(fs)),
        Default::default(),
    )
}

/// Another thread of `t`'s process (CLONE_VM | CLONE_FILES | CLONE_FS |
/// CLONE_SIGHAND | CLONE_THREAD).
pub fn thread(t: &Arc<Task>) -> Arc<Task> {
    let (mm, files, fs, sighand) = {
        let i = t.lock();
        (
            i.mm.clone(),
            i.files.clone(),
            i.fs.clone(),
            i.sighand.clone(),
        )
    };
    mm.lock().host.set_multithreaded();
    add_task(pid(), t.tgid(), mm, files, fs, sighand)
}

fn add_task(
    tid: task::Tid,
    tgid: task::Pid,
    mm: Arc<Mm>,
    files: Arc<Mutex<crate::fs::file::FdTable>>,
    fs: Arc<Mutex<FsContext>>,
    sighand: Arc<Mutex<SigActions>>,
) -> Arc<Task> {
    let mut ctx = crate::arch::Context::new();
    ctx.regs.rsp = STACK_TOP - 64;
    let t = Arc::new(Task {
        tid,
        tgid: AtomicI32::new(tgid),
        acct: Default::default(),
        inner: Mutex::new(TaskInner::new(ctx, mm, files, fs, sighand, "test".into())),
    });
    task::group(tgid)
        .expect("thread group")
        .lock()
        .threads
        .push(tid);
    task::insert_task(t.clone());
    t
}

/// Give `t` a script and queue it to run. Returns the log of the signal
/// handlers it enters.
pub fn script(t: &Arc<Task>, steps: Vec<Step>) -> Arc<Mutex<Vec<i32>>> {
    let log = fake_guest::load(&mut t.lock().ctx, steps);
    super::sched::enqueue(t.tid);
    log
}

/// A system call step.
pub fn sys(nr: u64, args: &[u64]) -> Step {
    let mut a = [0; 6];
    a[..args.len()].copy_from_slice(args);
    Step::Syscall(nr, a)
}

/// A guest store of `v` at `addr`.
pub fn store_u32(addr: u64, v: u32) -> Step {
    Step::Store(addr, v.to_le_bytes().to_vec())
}

/// A guest load of `want.len()` bytes at `addr`, which must be `want`.
pub fn expect_mem(addr: u64, want: &'static [u8]) -> Step {
    Step::Load(
        addr,
        want.len(),
        Box::new(move |b| assert_eq!(b, want, "guest memory at {addr:#x}")),
    )
}

/// A step that checks the previous system call's result.
pub fn expect(what: &'static str, want: i64) -> Step {
    Step::Check(Box::new(move |r| {
        assert_eq!(r.rax as i64, want, "{what}");
    }))
}

/// A step that runs `f` (to record an order). It runs under the task's
/// and mm's locks: no kernel calls on them.
pub fn then(f: impl FnOnce() + Send + 'static) -> Step {
    Step::Check(Box::new(move |_| f()))
}

/// Run the scheduler until every task has exited.
pub fn run_all(_k: &Kernel) {
    let end = Instant::now() + RUN_LIMIT;
    super::sched::run_until(|| {
        assert!(Instant::now() < end, "tasks still running: a hang");
        false
    });
    assert_eq!(task::count(), 0);
}

/// The syscall number of `in_kernel` steps (no x86_64 syscall has it).
pub const KERNEL_CALL: u64 = 0x7e57;

type KernelFn = Box<dyn FnOnce(&Arc<Task>) -> i64 + Send>;

/// Closures waiting for their `in_kernel` step, by id.
static KERNEL_FNS: Mutex<Vec<(u64, KernelFn)>> = Mutex::new(Vec::new());
static NEXT_KERNEL_FN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A step that runs `f` in the task's kernel context, as a syscall
/// handler would (it may sleep, take kernel locks, ...); its result is
/// the "syscall"'s.
pub fn in_kernel(f: impl FnOnce(&Arc<Task>) -> i64 + Send + 'static) -> Step {
    let id = NEXT_KERNEL_FN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    lock(&KERNEL_FNS).push((id, Box::new(f)));
    sys(KERNEL_CALL, &[id])
}

/// Run the closure of an `in_kernel` step (from syscall dispatch).
pub fn kernel_call(t: &Arc<Task>, id: u64) -> i64 {
    let f = {
        let mut fns = lock(&KERNEL_FNS);
        let at = fns.iter().position(|(i, _)| *i == id);
        at.map(|at| fns.remove(at).1)
    };
    match f {
        Some(f) => f(t),
        None => -(super::errno::Errno::ENOSYS.0 as i64),
    }
}
