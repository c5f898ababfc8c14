//! The ptrace system call: attaching (TRACEME, ATTACH, SEIZE), the
//! requests on a stopped tracee (memory, registers, siginfo, options),
//! and resuming it (CONT, SYSCALL, SYSEMU, SINGLESTEP, LISTEN, DETACH),
//! checked in Linux's order (kernel/ptrace.c, arch/x86/kernel/ptrace.c).

use super::regs;
use super::*;
use crate::abi::{self, ptrace::PtraceSyscallInfo, uio::IoVec};
use crate::kernel::errno::KResult;
use crate::kernel::ptrace_access;

/// ptrace(request, pid, addr, data)
pub fn sys_ptrace(t: &Arc<Task>, req: i64, pid: i32, addr: u64, data: u64) -> KResult<u64> {
    if req == PTRACE_TRACEME {
        return traceme(t);
    }
    // The pid is the caller's pid namespace's.
    let child = crate::kernel::ns::pid::find(t, pid)
        .and_then(task::task)
        .ok_or(Errno::ESRCH)?;
    if req == PTRACE_ATTACH || req == PTRACE_SEIZE {
        return attach(t, &child, req == PTRACE_SEIZE, addr, data);
    }
    check_attach(t, &child, req == PTRACE_KILL || req == PTRACE_INTERRUPT)?;
    let tid = child.tid;
    match req {
        PTRACE_PEEKTEXT | PTRACE_PEEKDATA => {
            let mut w = [0u8; 8];
            child.mm().read(addr, &mut w).map_err(|_| Errno::EIO)?;
            t.mm().write(data, &w)?;
            Ok(0)
        }
        PTRACE_POKETEXT | PTRACE_POKEDATA => {
            // As a debugger's breakpoint needs: into read-only text too.
            child
                .mm()
                .lock()
                .write_force(addr, &data.to_ne_bytes())
                .map_err(|_| Errno::EIO)?;
            Ok(0)
        }
        PTRACE_PEEKUSR => {
            let v = regs::peek_user(&child, addr)?;
            t.mm().write_u64(data, v)?;
            Ok(0)
        }
        PTRACE_POKEUSR => regs::poke_user(&child, addr, data).map(|_| 0),
        PTRACE_GETREGS => {
            abi::write_val(&t.mm(), data, &regs::get(&child))?;
            Ok(0)
        }
        PTRACE_SETREGS => {
            let u = abi::read_val(&t.mm(), data)?;
            regs::set(&child, &u).map(|_| 0)
        }
        PTRACE_GETFPREGS => {
            let img = fxsave(&child)?;
            t.mm().write(data, &img)?;
            Ok(0)
        }
        PTRACE_SETFPREGS => {
            let img = t.mm().read_vec(data, USER_FPREGS_SIZE)?;
            regs::set_fpu(&child, &img).map(|_| 0)
        }
        PTRACE_GETREGSET => regset_rw(t, &child, addr, data, false),
        PTRACE_SETREGSET => regset_rw(t, &child, addr, data, true),
        PTRACE_GETSIGINFO => {
            let si = table().get(tid).and_then(|e| e.last_siginfo);
            let si = si.ok_or(Errno::EINVAL)?;
            abi::write_val(&t.mm(), data, &si.to_abi())?;
            Ok(0)
        }
        PTRACE_SETSIGINFO => {
            let raw: abi::signal::Siginfo = abi::read_val(&t.mm(), data)?;
            let f: abi::signal::SigfieldsKill = raw.fields();
            let si = SigInfo {
                signo: raw.si_signo,
                code: raw.si_code,
                errno: raw.si_errno,
                pid: f.si_pid,
                uid: f.si_uid,
                value: f.si_value,
                ..Default::default()
            };
            let mut tb = table();
            let e = tb.get_mut(tid).ok_or(Errno::ESRCH)?;
            if e.last_siginfo.is_none() {
                return Err(Errno::EINVAL);
            }
            e.last_siginfo = Some(si);
            Ok(0)
        }
        PTRACE_GETSIGMASK => {
            if addr != 8 {
                return Err(Errno::EINVAL);
            }
            let m = child.lock().sigmask;
            t.mm().write_u64(data, m)?;
            Ok(0)
        }
        PTRACE_SETSIGMASK => {
            if addr != 8 {
                return Err(Errno::EINVAL);
            }
            let m = t.mm().read_u64(data)?;
            child.lock().sigmask = m & !signal::UNBLOCKABLE;
            Ok(0)
        }
        PTRACE_GETEVENTMSG => {
            let m = table().get(tid).map_or(0, |e| e.eventmsg);
            t.mm().write_u64(data, m)?;
            Ok(0)
        }
        PTRACE_SETOPTIONS => {
            let opts = u32::try_from(data).map_err(|_| Errno::EINVAL)?;
            if opts & !PTRACE_O_MASK != 0 {
                return Err(Errno::EINVAL);
            }
            may_suspend_seccomp(t, opts)?;
            if let Some(e) = table().get_mut(tid) {
                e.options = opts;
            }
            Ok(0)
        }
        PTRACE_GET_SYSCALL_INFO => syscall_info(t, &child, addr, data),
        PTRACE_CONT | PTRACE_SYSCALL | PTRACE_SYSEMU | PTRACE_SINGLESTEP => {
            if data > signal::NSIG as u64 {
                return Err(Errno::EIO);
            }
            let mode = match req {
                PTRACE_SYSCALL => Mode::Syscall,
                PTRACE_SYSEMU => Mode::Sysemu,
                _ => Mode::Cont,
            };
            events::clear_step(&child);
            if req == PTRACE_SINGLESTEP {
                // The trap flag: the host stops the guest after one
                // instruction with a SIGTRAP, which reaches the tracer as
                // a signal-delivery-stop, as Linux's single step does.
                child.lock().ctx.regs.eflags |= 0x100;
            }
            if let Some(e) = table().get_mut(tid) {
                e.mode = mode;
                e.stepping = req == PTRACE_SINGLESTEP;
            }
            resume(tid, data as i32);
            Ok(0)
        }
        PTRACE_DETACH => {
            if data > signal::NSIG as u64 {
                return Err(Errno::EIO);
            }
            events::clear_step(&child);
            if let Some(e) = table().get_mut(tid) {
                e.detach = true;
                e.mode = Mode::Cont;
            }
            resume(tid, data as i32);
            Ok(0)
        }
        PTRACE_KILL => {
            signal::send_to_thread(&child, SigInfo::kernel(SIGKILL));
            Ok(0)
        }
        PTRACE_INTERRUPT => {
            let mut tb = table();
            let e = tb.get_mut(tid).ok_or(Errno::ESRCH)?;
            if !e.seized {
                return Err(Errno::EIO);
            }
            if e.listening {
                // Stopped already: report the stop again.
                e.listening = false;
                e.report = Some(((SIGTRAP | (PTRACE_EVENT_STOP << 8)) << 8) | 0x7f);
                let tracer = e.tracer;
                drop(tb);
                notify_tracer(tracer, tid, CLD_TRAPPED, SIGTRAP);
                return Ok(0);
            }
            if e.stopped.is_none() {
                e.trap_stop = true;
                drop(tb);
                // A sleeping syscall ends (and restarts after the stop).
                let blocked = {
                    let i = child.lock();
                    i.state == State::Blocked && !i.io_wait
                };
                if blocked {
                    crate::kernel::sched::wake(tid);
                }
            }
            Ok(0)
        }
        PTRACE_LISTEN => {
            let mut tb = table();
            let e = tb.get_mut(tid).ok_or(Errno::ESRCH)?;
            if !e.seized || e.stopped != Some(StopKind::Group) {
                return Err(Errno::EIO);
            }
            e.listening = true;
            e.report = None;
            Ok(0)
        }
        _ => Err(Errno::EIO),
    }
}

/// PTRACE_O_SUSPEND_SECCOMP (the tracee's filters are not run) is for
/// checkpoint/restore tools: CAP_SYS_ADMIN, and a tracer not itself
/// under seccomp or suspended (Linux's check_ptrace_options).
fn may_suspend_seccomp(t: &Arc<Task>, opts: u32) -> KResult<()> {
    if opts & PTRACE_O_SUSPEND_SECCOMP == 0 {
        return Ok(());
    }
    let init_ns = crate::kernel::ns::of(t).user.is_init_user();
    if !(init_ns && t.creds().capable(crate::kernel::caps::CAP_SYS_ADMIN)) {
        return Err(Errno::EPERM);
    }
    if t.lock().seccomp.mode != 0 || super::seccomp_suspended(t.tid) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// PTRACE_TRACEME: the parent becomes the tracer.
fn traceme(t: &Arc<Task>) -> KResult<u64> {
    let parent = t.tg().lock().parent;
    let mut tb = table();
    if tb.get(t.tid).is_some() || task::group(parent).is_none() {
        return Err(Errno::EPERM);
    }
    tb.insert(t.tid, Tracee::new(parent, false, 0));
    Ok(0)
}

/// PTRACE_ATTACH / PTRACE_SEIZE (`data`: SEIZE's options).
fn attach(t: &Arc<Task>, child: &Arc<Task>, seize: bool, addr: u64, data: u64) -> KResult<u64> {
    let options = if seize {
        if addr != 0 {
            return Err(Errno::EIO);
        }
        u32::try_from(data)
            .ok()
            .filter(|o| o & !PTRACE_O_MASK == 0)
            .ok_or(Errno::EINVAL)
            .and_then(|o| may_suspend_seccomp(t, o).map(|_| o))?
    } else {
        0
    };
    let me = t.tgid();
    if child.tgid() == me {
        return Err(Errno::EPERM);
    }
    ptrace_access::check_attach(me, child.tgid())?;
    if child.state() == State::Dead {
        return Err(Errno::EPERM);
    }
    {
        let mut tb = table();
        if tb.get(child.tid).is_some() {
            return Err(Errno::EPERM);
        }
        tb.insert(child.tid, Tracee::new(me, seize, options));
    }
    if !seize {
        let _ = signal::send_to_process(child.tgid(), SigInfo::kernel(signal::SIGSTOP));
    }
    // Already stopped by job control: it takes the stop signal again, in
    // a stop its new tracer sees (Linux re-traps a stopped tracee).
    let was_stopped = {
        let mut i = child.lock();
        let s = i.state == State::Stopped;
        if s {
            i.state = State::Runnable;
        }
        s
    };
    if was_stopped {
        if seize {
            if let Some(e) = table().get_mut(child.tid) {
                e.trap_stop = true;
            }
        }
        crate::kernel::sched::enqueue(child.tid);
    }
    Ok(0)
}

/// Linux's ptrace_check_attach: `child` must be traced by the caller's
/// process and, unless `any_state`, be in a ptrace-stop (ESRCH).
fn check_attach(t: &Task, child: &Task, any_state: bool) -> KResult<()> {
    let tb = table();
    let e = tb.get(child.tid).ok_or(Errno::ESRCH)?;
    if e.tracer != t.tgid() || e.exited || e.detach {
        return Err(Errno::ESRCH);
    }
    if !any_state && (e.stopped.is_none() || e.listening || e.resume.is_some()) {
        return Err(Errno::ESRCH);
    }
    Ok(())
}

/// The FXSAVE area (user_fpregs_struct) of the tracee.
fn fxsave(child: &Task) -> KResult<Vec<u8>> {
    let mut img = regs::fpu_image(child);
    if img.len() < USER_FPREGS_SIZE {
        return Err(Errno::EIO);
    }
    img.truncate(USER_FPREGS_SIZE);
    Ok(img)
}

/// The bytes of regset `note` for the tracee.
fn regset(child: &Task, note: u64) -> KResult<Vec<u8>> {
    match note {
        NT_PRSTATUS => Ok(bytemuck::bytes_of(&regs::get(child)).to_vec()),
        NT_PRFPREG => fxsave(child),
        NT_X86_XSTATE => Ok(regs::fpu_image(child)),
        _ => Err(Errno::EINVAL),
    }
}

/// PTRACE_GETREGSET (`set` false) and PTRACE_SETREGSET: as much of the
/// regset as the iovec holds, its length then saying how much.
fn regset_rw(t: &Task, child: &Task, note: u64, iov: u64, set: bool) -> KResult<u64> {
    let mm = t.mm();
    let mut v: IoVec = abi::read_val(&mm, iov)?;
    let mut cur = regset(child, note)?;
    if v.iov_len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let n = (v.iov_len as usize).min(cur.len());
    if !set {
        mm.write(v.iov_base, &cur[..n])?;
    } else {
        let bytes = mm.read_vec(v.iov_base, n)?;
        if note == NT_PRSTATUS {
            cur[..n].copy_from_slice(&bytes);
            let u: crate::abi::ptrace::UserRegs = bytemuck::pod_read_unaligned(&cur);
            regs::set(child, &u)?;
        } else {
            regs::set_fpu(child, &bytes)?;
        }
    }
    v.iov_len = n as u64;
    abi::write_val(&mm, iov, &v)?;
    Ok(0)
}

/// PTRACE_GET_SYSCALL_INFO: what the tracee's syscall stop is about;
/// copies at most `size` bytes and returns the full size.
fn syscall_info(t: &Task, child: &Task, size: u64, data: u64) -> KResult<u64> {
    let (kind, code) = {
        let tb = table();
        let e = tb.get(child.tid).ok_or(Errno::ESRCH)?;
        (e.stopped, e.last_siginfo.map_or(0, |s| s.code))
    };
    let r = child.lock().ctx.regs;
    let mut info = PtraceSyscallInfo {
        arch: AUDIT_ARCH_X86_64,
        instruction_pointer: r.rip,
        stack_pointer: r.rsp,
        ..Default::default()
    };
    let mut len = SYSCALL_INFO_HEADER;
    // Only syscall stops reported as SIGTRAP|0x80 (TRACESYSGOOD) say
    // which end of the call they are.
    if code == SIGTRAP | 0x80 {
        match kind {
            Some(StopKind::SyscallEntry) => {
                // The registers as they are now: the tracer may have
                // changed the call.
                info.op = PTRACE_SYSCALL_INFO_ENTRY;
                info.data = [r.orig_rax, r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9];
                len += 56;
            }
            Some(StopKind::SyscallExit) => {
                info.op = PTRACE_SYSCALL_INFO_EXIT;
                let rval = r.rax as i64;
                info.data[0] = rval as u64;
                info.data[1] = u64::from((-4095..0).contains(&rval));
                len += 9;
            }
            _ => {}
        }
    }
    let n = (size as usize).min(len);
    let bytes = bytemuck::bytes_of(&info);
    t.mm().write(data, &bytes[..n])?;
    Ok(len as u64)
}
