//! System call dispatch: argument decoding, result and restart handling.
//! The table (number → name, handler, restart class, support) is
//! `table.rs`; handlers live one family a file (`sys_*.rs`).

#[cfg(test)]
mod doc;
pub mod names;
pub mod table;

use super::errno::{Errno, KResult};
use super::signal;
use super::task::Task;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Raw syscall arguments (rdi, rsi, rdx, r10, r8, r9).
#[derive(Clone, Copy)]
pub struct Args(pub [u64; 6]);

impl Args {
    pub fn u(&self, i: usize) -> u64 {
        self.0[i]
    }
    pub fn i(&self, i: usize) -> i32 {
        self.0[i] as i32
    }
    pub fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }
    pub fn usize(&self, i: usize) -> usize {
        self.0[i] as usize
    }
    pub fn i64(&self, i: usize) -> i64 {
        self.0[i] as i64
    }
}

/// The syscalls already logged as unimplemented or partial (one bit each).
static LOGGED: [AtomicU64; table::MAX_NR / 64 + 1] =
    [const { AtomicU64::new(0) }; table::MAX_NR / 64 + 1];

/// The first use of an unimplemented or partial syscall is recorded once by
/// name in the kernel log (dmesg). At KERN_DEBUG, below the default console
/// level: programs probe calls such as io_uring_setup and carry on without
/// them, and the tests compare the guest's console output with a native run.
fn log_once(e: &table::Entry) {
    let what = match e.support {
        table::Support::Full => return,
        table::Support::Partial => "partial",
        table::Support::Unimplemented => "unimplemented",
    };
    let (word, bit) = (e.nr as usize / 64, 1u64 << (e.nr % 64));
    // A plain load first: partial calls such as futex and ioctl are hot,
    // and an atomic read-modify-write on every one of them is not free.
    if LOGGED[word].load(Ordering::Relaxed) & bit != 0
        || LOGGED[word].fetch_or(bit, Ordering::Relaxed) & bit != 0
    {
        return;
    }
    let mut msg = format!("ruml: {what} syscall {} ({})", e.name, e.nr);
    if !e.note.is_empty() {
        msg.push_str(": ");
        msg.push_str(e.note);
    }
    super::printk::printk_level(KERN_DEBUG, &msg);
}

const KERN_DEBUG: u8 = 7;

/// Syscalls that restart only when no handler runs (Linux's
/// ERESTARTNOHAND), or never (EINTR), rather than following SA_RESTART:
/// the table's restart class.
fn restart_code(nr: u64) -> Errno {
    table::entry_of(nr).map_or(Errno::ERESTARTSYS, |e| e.restart.errno())
}

/// Handle the syscall in `t`'s registers, in `t`'s kernel context: a
/// handler that must wait sleeps inside it (`sched::wait`) and returns
/// when the call is done.
pub fn dispatch(t: &Arc<Task>) {
    // A tracer's syscall-entry stop may change or cancel the call.
    let trace = super::ptrace::syscall_enter(t);
    if trace == super::ptrace::SyscallTrace::Skip {
        super::ptrace::syscall_exit(t, trace);
        return;
    }
    let read_call = |t: &Task| {
        let i = t.lock();
        let r = &i.ctx.regs;
        let call = (r.orig_rax, Args([r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9]));
        (call, i.seccomp.mode != 0, i.ns.mnt.ino)
    };
    let ((mut nr, mut args), filtered, mnt_ns) = read_call(t);
    // seccomp after the ptrace entry stop, so that it sees what a tracer
    // changed; one branch for tasks without it.
    if filtered {
        if super::seccomp::syscall_entry(t) == super::seccomp::Verdict::Skip {
            super::ptrace::syscall_exit(t, trace);
            return;
        }
        // A tracer's PTRACE_EVENT_SECCOMP stop may have changed the call.
        (nr, args) = read_call(t).0;
    }
    super::current::set(t.tgid());
    super::current::set_tid(t.tid);
    super::current::set_mnt_ns(mnt_ns);
    super::vdso::tick();
    let mut res = call(t, nr, args);
    // A handler's wait was interrupted: the syscall's restart class says
    // what the guest sees (after a handler, or always, or EINTR).
    if res == Err(Errno::ERESTARTSYS) {
        res = Err(restart_code(nr));
    }
    super::current::set(0);
    if log::log_enabled!(log::Level::Trace) {
        log::trace!(
            "[{}] {}({:#x}, {:#x}, {:#x}, {:#x}) = {:?}",
            t.tid,
            names::name(nr),
            args.0[0],
            args.0[1],
            args.0[2],
            args.0[3],
            res
        );
    }
    {
        let mut i = t.lock();
        match res {
            Err(Errno::EJUSTRETURN) => {}
            Ok(v) => i.ctx.regs.rax = v,
            Err(e) => {
                i.ctx.regs.rax = (-(e.0 as i64)) as u64;
                if e.0 >= 512 && e.0 <= 516 {
                    i.restart_check = true;
                }
            }
        }
    }
    super::ptrace::syscall_exit(t, trace);
}

fn call(t: &Arc<Task>, nr: u64, a: Args) -> KResult<u64> {
    if nr == crate::arch::process::HOST_SYSCALL_HOOK_NR
        && crate::arch::process::host_syscall_hook_enabled()
    {
        return test_host_syscall(t, a);
    }
    #[cfg(test)]
    if nr == crate::kernel::testing::KERNEL_CALL {
        let r = crate::kernel::testing::kernel_call(t, a.0[0]);
        return if r < 0 {
            Err(Errno(-r as i32))
        } else {
            Ok(r as u64)
        };
    }
    match table::entry_of(nr) {
        Some(e) => {
            log_once(e);
            (e.handler)(t, a)
        }
        // Numbers Linux does not assign (sys_ni_syscall).
        None => Err(Errno::ENOSYS),
    }
}

/// The hostile-guest tests' hook (only with RUML_TEST_HOST_SYSCALL=1 in
/// vmlinux's environment): run host system call `a[0]` with arguments
/// `a[1..6]` in this task's host process, as a guest that had taken over
/// the stub would. The seccomp filter must kill the host process; the
/// task then dies of SIGSYS, as a Linux process killed by seccomp does.
fn test_host_syscall(t: &Arc<Task>, a: Args) -> KResult<u64> {
    let mm = t.mm();
    let r = mm
        .lock()
        .host
        .debug_host_syscall(a.u(0), [a.u(1), a.u(2), a.u(3), a.u(4), a.u(5), 0]);
    match r {
        Ok(v) => Ok(v),
        Err(sig) => {
            log::warn!("task {}: host process killed by signal {sig}", t.tid);
            super::exit::group_exit(t, signal::SIGSYS);
            Err(Errno::EJUSTRETURN)
        }
    }
}
