//! Guest address spaces as host processes, and running guest code in them.
//!
//! `HostMm` is one host process traced with ptrace that holds nothing but
//! the stub and `MAP_SHARED|MAP_FIXED` mappings of physical frames. Mapping
//! changes are queued and executed by the stub in one round trip.
//! `switch` is the platform's one entry to user mode, in the spirit of
//! gVisor's `Platform.Switch`: run this context until something happens.

use super::cpu::{this_cpu, MAX_CPUS};
use super::irq;
use super::seccomp;
use super::stub::{
    self, AUX_OFFSET, HOST_TASK_SIZE, MAX_OPS, OPS_OFFSET, OP_SIZE, STUB_CODE, STUB_DATA,
    STUB_DATA_SIZE, STUB_END,
};
use nix::fcntl::{fcntl, FcntlArg};
use nix::sys::memfd::MFdFlags;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub use super::regs::Regs;

const NT_X86_XSTATE: libc::c_int = 0x202;
const PTRACE_SYSEMU: libc::c_long = 31;

/// One guest thread's user-mode CPU state.
#[derive(Clone)]
pub struct Context {
    pub regs: Regs,
    /// XSAVE image; empty means "whatever the host process holds".
    pub fpu: Vec<u8>,
    id: u64,
}

static NEXT_CONTEXT: AtomicU64 = AtomicU64::new(1);

impl Context {
    /// A zeroed context with the segment selectors and flags user mode needs.
    pub fn new() -> Context {
        let t = template();
        let mut regs = Regs::default();
        regs.cs = t.regs.cs;
        regs.ss = t.regs.ss;
        regs.ds = t.regs.ds;
        regs.es = t.regs.es;
        regs.eflags = 0x202;
        Context {
            regs,
            fpu: t.fpu.clone(),
            id: NEXT_CONTEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A stand-in that holds nothing (no allocation): left in a task
    /// while its real context is out running on a vCPU.
    pub fn placeholder() -> Context {
        Context {
            regs: Regs::default(),
            fpu: Vec::new(),
            id: 0,
        }
    }

    /// This thread's identity (distinct for every context ever made).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// A copy of this context (for fork/clone) that is a distinct thread.
    pub fn duplicate(&self) -> Context {
        Context {
            regs: self.regs,
            fpu: self.fpu.clone(),
            id: NEXT_CONTEXT.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::new()
    }
}

/// What ended a `switch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The guest made a system call (registers hold it; not executed).
    Syscall,
    /// A synchronous fault: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP.
    Fault { signo: i32, code: i32, addr: u64 },
    /// The timer or a device wants the CPU; the guest can simply go on.
    Interrupt,
    /// The host process is gone (killed from outside).
    Died,
}

/// State captured from the first host process: segment selectors and the
/// initial XSAVE image for new contexts.
struct Template {
    regs: Regs,
    fpu: Vec<u8>,
}

static TEMPLATE: OnceLock<Template> = OnceLock::new();
static STUB_FD: OnceLock<i32> = OnceLock::new();

/// Without host processes (the fake platform): new contexts get the
/// x86_64 user-mode selectors and no FPU image of their own.
#[cfg(test)]
pub fn init_without_host() {
    let regs = Regs {
        cs: 0x33,
        ss: 0x2b,
        ..Regs::default()
    };
    let _ = TEMPLATE.set(Template {
        regs,
        fpu: Vec::new(),
    });
}

fn template() -> &'static Template {
    TEMPLATE.get().expect("arch::process::init not called")
}

pub(super) fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

pub(super) fn ptrace(
    req: libc::c_long,
    pid: i32,
    addr: u64,
    data: u64,
) -> Result<libc::c_long, i32> {
    // SAFETY: raw ptrace on a tracee we own; pointer arguments, where the
    // request takes them, point at live buffers of the right size.
    let r = unsafe { libc::syscall(libc::SYS_ptrace, req, pid as libc::c_long, addr, data) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// waitpid for one tracee, retrying on EINTR. Returns the raw status.
pub(super) fn wait(pid: i32) -> Result<i32, i32> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == pid {
            return Ok(status);
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

pub(super) fn get_regs(pid: i32) -> Result<Regs, i32> {
    let mut r = Regs::default();
    ptrace(
        libc::PTRACE_GETREGS as _,
        pid,
        0,
        &mut r as *mut Regs as u64,
    )?;
    Ok(r)
}

pub(super) fn set_regs(pid: i32, r: &Regs) -> Result<(), i32> {
    ptrace(libc::PTRACE_SETREGS as _, pid, 0, r as *const Regs as u64).map(|_| ())
}

pub(super) fn get_fpu(pid: i32, buf: &mut Vec<u8>) -> Result<(), i32> {
    buf.resize(16384, 0);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    ptrace(
        libc::PTRACE_GETREGSET as _,
        pid,
        NT_X86_XSTATE as u64,
        &mut iov as *mut libc::iovec as u64,
    )?;
    buf.truncate(iov.iov_len);
    Ok(())
}

pub(super) fn set_fpu(pid: i32, buf: &[u8]) -> Result<(), i32> {
    let mut iov = libc::iovec {
        iov_base: buf.as_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    ptrace(
        libc::PTRACE_SETREGSET as _,
        pid,
        NT_X86_XSTATE as u64,
        &mut iov as *mut libc::iovec as u64,
    )
    .map(|_| ())
}

/// Write the stub ELF to a memfd and start one host process to learn the
/// register template. Must run on the vCPU thread (the ptrace tracer).
pub fn init() -> Result<(), String> {
    let img = stub::elf_image();
    let memfd = nix::sys::memfd::memfd_create(c"ruml-stub", MFdFlags::MFD_CLOEXEC)
        .map_err(|e| format!("memfd_create: {e}"))?;
    let mut file = std::fs::File::from(memfd);
    std::io::Write::write_all(&mut file, &img).map_err(|_| "cannot write stub image")?;
    // Keep the stub fd above PHYS_FD so the child's dup2 cannot clobber it;
    // the copy stays open for the life of vmlinux, the original closes
    // with `file`.
    let high = fcntl(&file, FcntlArg::F_DUPFD_CLOEXEC(10))
        .map_err(|e| format!("cannot keep the stub fd: {e}"))?;
    let _ = STUB_FD.set(high);
    write_filters(0);
    let mm = HostMm::spawn_raw(true).map_err(|e| {
        format!(
            "cannot start a guest address space: {}",
            std::io::Error::from_raw_os_error(e)
        )
    })?;
    let regs = get_regs(mm.pid).map_err(|e| format!("PTRACE_GETREGS: errno {e}"))?;
    let mut fpu = Vec::new();
    get_fpu(mm.pid, &mut fpu).map_err(|e| format!("PTRACE_GETREGSET: errno {e}"))?;
    let _ = TEMPLATE.set(Template { regs, fpu });
    // The zygote: new address spaces are forked from it by the stub, which
    // is much cheaper than fork+exec from vmlinux. Its children are traced
    // automatically (PTRACE_O_TRACEFORK) and, as it ignores SIGCHLD, reaped
    // as soon as we have waited for them.
    set_zygote(mm)
}

/// Make `z` the calling vCPU's zygote: it forks that vCPU's address
/// spaces, so their tracer is that vCPU's thread.
fn set_zygote(z: HostMm) -> Result<(), String> {
    set_zygote_in(z, &ZYGOTE)
}

/// Make `z` the calling vCPU's zygote in `zygotes`.
pub(super) fn set_zygote_in(
    z: HostMm,
    zygotes: &[std::sync::Mutex<Option<HostMm>>; MAX_CPUS],
) -> Result<(), String> {
    ptrace(
        libc::PTRACE_SETOPTIONS as _,
        z.pid,
        0,
        (libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_TRACEFORK) as u64,
    )
    .map_err(|e| format!("PTRACE_SETOPTIONS: errno {e}"))?;
    *zygotes[this_cpu()]
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(z);
    Ok(())
}

/// Start a secondary vCPU's host side, on its own thread: its stub data
/// area (filters in place) and its zygote. ptrace ties a traced process
/// to the thread that traces it, so each vCPU forks and runs its own.
pub fn init_cpu() -> Result<(), String> {
    write_filters(this_cpu());
    let z = HostMm::spawn_raw(true).map_err(|e| {
        format!(
            "cannot start a guest address space: {}",
            std::io::Error::from_raw_os_error(e)
        )
    })?;
    set_zygote(z)
}

/// Where vCPU `cpu`'s stub data area is in physical memory: each vCPU
/// has its own, so their stubs' batches never share one.
pub fn data_base(cpu: usize) -> u64 {
    cpu as u64 * STUB_DATA_SIZE
}

/// Where in the data area's auxiliary pages the seccomp programs are: a
/// `struct sock_fprog` each, then their instructions. The stub installs
/// them from there; physical memory holds them for the kernel's lifetime.
const FPROG_CHILD: u64 = AUX_OFFSET;
const FPROG_ZYGOTE: u64 = AUX_OFFSET + 16;
const FPROG_SOLO: u64 = AUX_OFFSET + 32;
const FPROG_SYSTRAP: u64 = AUX_OFFSET + 48;
/// The zygote's SIGCHLD action (SIG_IGN), at the end of the aux pages.
const SIGCHLD_ACT: u64 = STUB_DATA_SIZE - 64;
/// The seccomp platform's action for guest-thread signals, before it.
const SYSTRAP_ACT: u64 = STUB_DATA_SIZE - 96;

/// Lay out the three filters (a zygote's, a child's addition, and that of
/// a process started alone) in the data area's auxiliary pages.
fn write_filters(cpu: usize) {
    let phys = super::physmem();
    let base = data_base(cpu);
    let sites = stub::syscall_sites();
    let mut at = AUX_OFFSET + 64;
    for (fprog, prog) in [
        (FPROG_CHILD, seccomp::child_filter()),
        (FPROG_ZYGOTE, seccomp::stub_filter(&sites, true)),
        (FPROG_SOLO, seccomp::stub_filter(&sites, false)),
        (FPROG_SYSTRAP, seccomp::systrap_filter(true)),
    ] {
        assert!(
            at + prog.len() as u64 <= SYSTRAP_ACT,
            "stub: filters do not fit"
        );
        phys.write(base + at, &prog);
        let mut hdr = [0u8; 16];
        hdr[..2].copy_from_slice(&((prog.len() / 8) as u16).to_le_bytes());
        hdr[8..].copy_from_slice(&(STUB_DATA + at).to_le_bytes());
        phys.write(base + fprog, &hdr);
        at += prog.len() as u64;
    }
}

/// Is the test hook on that lets a guest ask for one raw host system call
/// (`RUML_TEST_HOST_SYSCALL=1` in vmlinux's environment)? It exists only to
/// prove that the seccomp filter kills a host process that somehow reached
/// a host `syscall` instruction; see `debug_host_syscall`.
pub fn host_syscall_hook_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("RUML_TEST_HOST_SYSCALL").is_some_and(|v| v == "1"))
}

/// The guest system call number the test hook answers to ("RUML").
pub const HOST_SYSCALL_HOOK_NR: u64 = 0x5255_4d4c;

/// Each vCPU's zygote.
static ZYGOTE: [std::sync::Mutex<Option<HostMm>>; MAX_CPUS] =
    [const { std::sync::Mutex::new(None) }; MAX_CPUS];

/// Fork an empty address space from the zygote.
fn fork_from_zygote() -> Result<HostMm, i32> {
    fork_from(&ZYGOTE)
}

/// Fork an empty address space from this vCPU's zygote in `zygotes`.
pub(super) fn fork_from(
    zygotes: &[std::sync::Mutex<Option<HostMm>>; MAX_CPUS],
) -> Result<HostMm, i32> {
    let mut g = zygotes[this_cpu()]
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let z = g.as_mut().ok_or(libc::EAGAIN)?;
    z.push([libc::SYS_fork as u64, 0, 0, 0, 0, 0, 0]);
    // Like flush, but the fork produces an event stop first.
    let phys = super::physmem();
    z.write_ops(phys);
    set_regs(z.pid, &z.stub_regs)?;
    let mut child = 0;
    loop {
        ptrace(libc::PTRACE_CONT as _, z.pid, 0, 0)?;
        let st = wait(z.pid)?;
        if !libc::WIFSTOPPED(st) {
            return Err(libc::ESRCH);
        }
        if st >> 8 == (libc::SIGTRAP | (libc::PTRACE_EVENT_FORK << 8)) {
            let mut msg: libc::c_ulong = 0;
            ptrace(
                libc::PTRACE_GETEVENTMSG as _,
                z.pid,
                0,
                &mut msg as *mut _ as u64,
            )?;
            child = msg as i32;
            continue;
        }
        if libc::WSTOPSIG(st) == libc::SIGTRAP {
            break;
        }
    }
    if child <= 0 {
        log::error!(
            "zygote: fork failed: {}",
            phys.read_u64(z.data + OPS_OFFSET + 56) as i64
        );
        return Err(libc::EAGAIN);
    }
    // The new process starts in a SIGSTOP stop.
    let st = wait(child)?;
    if !libc::WIFSTOPPED(st) {
        return Err(libc::ESRCH);
    }
    let mut mm = HostMm {
        pid: child,
        ops: Vec::new(),
        data: z.data,
        stub_regs: z.stub_regs,
        ro_batch: false,
        fpu_owner: 0,
        multithreaded: false,
    };
    // The child inherited the zygote's filter, which allows fork; its first
    // batch (always run before any guest code) takes that away for good.
    mm.push([
        libc::SYS_seccomp as u64,
        seccomp::SECCOMP_SET_MODE_FILTER,
        0,
        STUB_DATA + FPROG_CHILD,
        0,
        0,
        0,
    ]);
    Ok(mm)
}

/// The backstop before a guest mapping request is queued for the host:
/// nothing may reach the stub. `mm::check_user_range` has refused such
/// ranges already, so this only fires on a kernel bug, which it turns into
/// a logged, ignored request instead of a hole.
fn in_guest_range(addr: u64, len: u64) -> bool {
    let ok = addr.checked_add(len).is_some_and(|end| end <= STUB_CODE);
    if !ok {
        log::error!(
            "stub: refused a host mapping request at {addr:#x}+{len:#x} (above the guest range)"
        );
    }
    ok
}

/// Queued host syscall for the stub.
type Op = [u64; 7];

/// One guest address space's host process.
pub struct HostMm {
    pub(super) pid: i32,
    pub(super) ops: Vec<Op>,
    /// Physical address of the stub data area it maps (its vCPU's).
    data: u64,
    pub(super) stub_regs: Regs,
    /// Run batches with the read-only batch (the seccomp platform, whose
    /// guest thread runs beside the stub's): results come back in
    /// registers instead of the data area.
    pub(super) ro_batch: bool,
    fpu_owner: u64,
    /// More than one thread runs in this address space: save the FPU state
    /// on every exit so another thread can take the CPU.
    pub multithreaded: bool,
}

impl HostMm {
    /// A fresh, empty guest address space.
    pub fn new() -> Result<HostMm, i32> {
        match fork_from_zygote() {
            Ok(m) => Ok(m),
            Err(e) => {
                log::warn!("mm: zygote fork failed (errno {e}), starting a fresh host process");
                Self::spawn_raw(false)
            }
        }
    }

    /// Start a host process from the stub image. The process gets no new
    /// privileges, no capabilities, no core dumps, no file descriptor but
    /// physical memory, and (after its setup batch) the seccomp filter:
    /// the zygote's, or with `zygote` false the one of a process alone.
    fn spawn_raw(zygote: bool) -> Result<HostMm, i32> {
        Self::spawn_kind(zygote, false)
    }

    /// A zygote for the seccomp platform: the stub's signal handler for
    /// guest threads and the seccomp platform's process filter
    /// (`seccomp::systrap_filter`), both inherited by what it forks.
    pub(super) fn spawn_systrap_zygote() -> Result<HostMm, i32> {
        Self::spawn_kind(true, true)
    }

    fn spawn_kind(zygote: bool, systrap: bool) -> Result<HostMm, i32> {
        let stub_fd = *STUB_FD.get().ok_or(libc::EINVAL)?;
        let root = nix::unistd::geteuid().is_root();
        let phys_fd = super::physmem().fd();
        let argv: [*const libc::c_char; 2] = [b"ruml-mm\0".as_ptr().cast(), std::ptr::null()];
        let envp: [*const libc::c_char; 1] = [std::ptr::null()];
        // SAFETY: the child only makes raw syscalls (async-signal-safe) on
        // data prepared before the fork, then execs or exits.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(errno());
        }
        if pid == 0 {
            // SAFETY: child side: async-signal-safe calls only.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
                if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) < 0 {
                    libc::_exit(126);
                }
                // No way back to privileges: no setuid gains at exec, and
                // when vmlinux runs as root, an empty capability bounding
                // set so the exec'd stub has no capabilities at all.
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    libc::_exit(125);
                }
                if root {
                    libc::prctl(
                        libc::PR_CAP_AMBIENT,
                        libc::PR_CAP_AMBIENT_CLEAR_ALL,
                        0,
                        0,
                        0,
                    );
                    let mut cap = 0;
                    while libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 {
                        cap += 1;
                    }
                }
                let nocore = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::setrlimit(libc::RLIMIT_CORE, &nocore);
                if phys_fd != stub::PHYS_FD {
                    libc::dup2(phys_fd, stub::PHYS_FD);
                } else {
                    libc::fcntl(stub::PHYS_FD, libc::F_SETFD, 0);
                }
                for fd in 0..3 {
                    libc::close(fd);
                }
                libc::syscall(libc::SYS_close_range, 4u32, (stub_fd - 1) as u32, 0u32);
                libc::syscall(libc::SYS_close_range, (stub_fd + 1) as u32, u32::MAX, 0u32);
                libc::syscall(
                    libc::SYS_execveat,
                    stub_fd,
                    b"\0".as_ptr(),
                    argv.as_ptr(),
                    envp.as_ptr(),
                    libc::AT_EMPTY_PATH,
                );
                libc::_exit(127);
            }
        }
        let mut mm = HostMm {
            pid,
            ops: Vec::new(),
            data: data_base(this_cpu()),
            stub_regs: Regs::default(),
            ro_batch: false,
            fpu_owner: 0,
            multithreaded: false,
        };
        // The exec stop.
        let st = wait(pid)?;
        if !libc::WIFSTOPPED(st) || libc::WSTOPSIG(st) != libc::SIGTRAP {
            return Err(libc::ECHILD);
        }
        ptrace(
            libc::PTRACE_SETOPTIONS as _,
            pid,
            0,
            (libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD) as u64,
        )?;
        // Run the prologue: map the data area (this vCPU's: the offset is
        // passed in r9, which exec cleared), then trap.
        if mm.data != 0 {
            let mut r = get_regs(pid)?;
            r.r9 = mm.data;
            set_regs(pid, &r)?;
        }
        mm.cont_until_trap()?;
        let regs = get_regs(pid)?;
        if regs.rax != STUB_DATA {
            log::error!("stub: mapping the data area failed: {}", regs.rax as i64);
            return Err(libc::ENOMEM);
        }
        if regs.rdx != 0 {
            static ONCE: std::sync::Once = std::sync::Once::new();
            ONCE.call_once(|| {
                log::info!(
                    "stub: host cannot seal the stub code (mseal: {}); relying on the \
                     kernel's range checks and the seccomp filter",
                    regs.rdx as i64
                )
            });
        }
        mm.stub_regs = regs;
        mm.stub_regs.rip = stub::batch_entry();
        mm.stub_regs.rsp = STUB_END - 16;
        // Everything but the stub goes: the stack, vdso and vvar. These
        // ranges are outside what the filter allows, so they go first.
        mm.ops
            .push([libc::SYS_munmap as u64, 0, STUB_CODE, 0, 0, 0, 0]);
        mm.ops.push([
            libc::SYS_munmap as u64,
            STUB_END,
            HOST_TASK_SIZE - STUB_END,
            0,
            0,
            0,
            0,
        ]);
        if zygote {
            let phys = super::physmem();
            phys.write(mm.data + SIGCHLD_ACT, &[0u8; 32]);
            phys.write_u64(mm.data + SIGCHLD_ACT, 1); // SIG_IGN
            mm.ops.push([
                libc::SYS_rt_sigaction as u64,
                libc::SIGCHLD as u64,
                STUB_DATA + SIGCHLD_ACT,
                0,
                8,
                0,
                0,
            ]);
        }
        if systrap {
            // One action for every signal a guest thread takes: the stub's
            // handler, on the signal stack, with every signal blocked
            // while it runs (SA_RESTORER is required on x86_64; the
            // handler returns with its own rt_sigreturn).
            let sites = stub::seccomp_sites();
            let phys = super::physmem();
            let act = mm.data + SYSTRAP_ACT;
            phys.write_u64(act, sites.handler);
            phys.write_u64(
                act + 8,
                (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64 | 0x0400_0000, // SA_RESTORER
            );
            phys.write_u64(act + 16, sites.sigreturn_ret - 2);
            phys.write_u64(act + 24, u64::MAX);
            for sig in [
                libc::SIGSYS,
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGILL,
                libc::SIGFPE,
                libc::SIGTRAP,
                libc::SIGALRM,
            ] {
                mm.ops.push([
                    libc::SYS_rt_sigaction as u64,
                    sig as u64,
                    STUB_DATA + SYSTRAP_ACT,
                    0,
                    8,
                    0,
                    0,
                ]);
            }
        }
        let fprog = if systrap {
            FPROG_SYSTRAP
        } else if zygote {
            FPROG_ZYGOTE
        } else {
            FPROG_SOLO
        };
        mm.ops.push([
            libc::SYS_seccomp as u64,
            seccomp::SECCOMP_SET_MODE_FILTER,
            0,
            STUB_DATA + fprog,
            0,
            0,
            0,
        ]);
        mm.flush()?;
        Ok(mm)
    }

    /// PTRACE_CONT until the stub's int3; host signals meant as interrupts
    /// (SIGALRM kicks) are swallowed, the interrupt stays pending.
    pub(super) fn cont_until_trap(&mut self) -> Result<(), i32> {
        loop {
            ptrace(libc::PTRACE_CONT as _, self.pid, 0, 0)?;
            let st = wait(self.pid)?;
            if !libc::WIFSTOPPED(st) {
                return Err(libc::ESRCH);
            }
            match libc::WSTOPSIG(st) {
                libc::SIGTRAP => return Ok(()),
                libc::SIGSEGV | libc::SIGBUS | libc::SIGILL => {
                    log::error!(
                        "stub: fatal signal {} in host process {}",
                        libc::WSTOPSIG(st),
                        self.pid
                    );
                    return Err(libc::EFAULT);
                }
                _ => continue,
            }
        }
    }

    pub(super) fn push(&mut self, op: Op) {
        if self.ops.len() == MAX_OPS {
            if let Err(e) = self.flush() {
                log::error!("stub: flush failed: errno {e}");
            }
        }
        self.ops.push(op);
    }

    /// Queue mmap(addr, len, prot, MAP_SHARED|MAP_FIXED, PHYS_FD, phys).
    /// Consecutive calls for adjacent ranges become one host call.
    pub fn mmap(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        self.mmap_flags(addr, len, prot, phys, 0)
    }

    /// Like `mmap`, and have the host fill in its page tables at once
    /// (MAP_POPULATE): for pages the guest is about to touch, one host call
    /// instead of one host fault per page.
    pub fn mmap_populate(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        self.mmap_flags(addr, len, prot, phys, libc::MAP_POPULATE as u64)
    }

    fn mmap_flags(&mut self, addr: u64, len: u64, prot: u32, phys: u64, extra: u64) {
        if !in_guest_range(addr, len) {
            return;
        }
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64 | extra;
        if let Some(last) = self.ops.last_mut() {
            if last[0] == libc::SYS_mmap as u64
                && last[1] + last[2] == addr
                && last[3] == prot as u64
                && last[4] == flags
                && last[6] + last[2] == phys
            {
                last[2] += len;
                return;
            }
        }
        self.push([
            libc::SYS_mmap as u64,
            addr,
            len,
            prot as u64,
            flags,
            stub::PHYS_FD as u64,
            phys,
        ]);
    }

    /// Queue munmap(addr, len).
    pub fn munmap(&mut self, addr: u64, len: u64) {
        if !in_guest_range(addr, len) {
            return;
        }
        if let Some(last) = self.ops.last_mut() {
            if last[0] == libc::SYS_munmap as u64 && last[1] + last[2] == addr {
                last[2] += len;
                return;
            }
        }
        self.push([libc::SYS_munmap as u64, addr, len, 0, 0, 0, 0]);
    }

    /// Queue mprotect(addr, len, prot).
    pub fn mprotect(&mut self, addr: u64, len: u64, prot: u32) {
        if !in_guest_range(addr, len) {
            return;
        }
        if let Some(last) = self.ops.last_mut() {
            if last[0] == libc::SYS_mprotect as u64
                && last[1] + last[2] == addr
                && last[3] == prot as u64
            {
                last[2] += len;
                return;
            }
        }
        self.push([libc::SYS_mprotect as u64, addr, len, prot as u64, 0, 0, 0]);
    }

    /// Copy the queued records into the stub data area and clear the queue.
    fn write_ops(&mut self, phys: &super::physmem::PhysMem) -> usize {
        let mut buf = Vec::with_capacity(self.ops.len() * OP_SIZE as usize);
        for op in &self.ops {
            for w in op {
                buf.extend_from_slice(&w.to_le_bytes());
            }
            buf.extend_from_slice(&0u64.to_le_bytes());
        }
        phys.write(self.data + OPS_OFFSET, &buf);
        phys.write_u64(self.data, self.ops.len() as u64);
        phys.write_u64(self.data + 8, 0);
        let n = self.ops.len();
        self.ops.clear();
        n
    }

    /// Execute the queued mapping changes in one stub round trip.
    pub fn flush(&mut self) -> Result<(), i32> {
        if self.ops.is_empty() {
            return Ok(());
        }
        let phys = super::physmem();
        let data = self.data;
        let n = self.write_ops(phys);
        if self.ro_batch {
            let mut r = self.stub_regs;
            r.rip = stub::seccomp_sites().rbatch;
            set_regs(self.pid, &r)?;
            self.cont_until_trap()?;
            let out = get_regs(self.pid)?;
            if out.r14 as usize != n {
                log::error!(
                    "stub: host syscall {} of a batch failed: {}",
                    out.r14,
                    out.rax as i64
                );
                return Err(-(out.rax as i64) as i32);
            }
            return Ok(());
        }
        set_regs(self.pid, &self.stub_regs)?;
        self.cont_until_trap()?;
        let done = phys.read_u64(data + 8) as usize;
        if done != n {
            let rec = OPS_OFFSET + done as u64 * OP_SIZE;
            let nr = phys.read_u64(data + rec);
            let res = phys.read_u64(data + rec + 56) as i64;
            log::error!(
                "stub: host syscall {} ({:#x}, {:#x}) failed: {}",
                nr,
                phys.read_u64(data + rec + 8),
                phys.read_u64(data + rec + 16),
                res
            );
            return Err(-res as i32);
        }
        Ok(())
    }
}

impl HostMm {
    /// Queue the filter that takes fork, clone and seccomp away from a
    /// zygote's child for good.
    pub(super) fn push_child_filter(&mut self) {
        self.push([
            libc::SYS_seccomp as u64,
            seccomp::SECCOMP_SET_MODE_FILTER,
            0,
            STUB_DATA + FPROG_CHILD,
            0,
            0,
            0,
        ]);
    }

    /// The test hook (see `host_syscall_hook_enabled`): run one host system
    /// call with the guest's chosen number and arguments in this process,
    /// from the stub's own `syscall` instruction, as if a guest had taken
    /// over the stub. With the seccomp filter in place the host kills the
    /// process (`Err(SIGSYS)`); without it, the call runs and its result is
    /// returned, which is what the hostile-guest tests must never see.
    pub fn debug_host_syscall(&mut self, nr: u64, args: [u64; 6]) -> Result<u64, i32> {
        self.flush()?;
        let mut r = self.stub_regs;
        r.rip = stub::op_syscall_insn();
        r.rax = nr;
        r.orig_rax = u64::MAX;
        r.rdi = args[0];
        r.rsi = args[1];
        r.rdx = args[2];
        r.r10 = args[3];
        r.r8 = args[4];
        r.r9 = args[5];
        set_regs(self.pid, &r)?;
        // The process sits in a syscall stop: the first step only finishes
        // that, the next one executes the instruction at rip.
        for _ in 0..3 {
            ptrace(libc::PTRACE_SINGLESTEP as _, self.pid, 0, 0)?;
            let st = wait(self.pid)?;
            if libc::WIFSIGNALED(st) {
                log::warn!(
                    "stub: host process {} killed by signal {} (seccomp)",
                    self.pid,
                    libc::WTERMSIG(st)
                );
                return Err(libc::WTERMSIG(st));
            }
            if !libc::WIFSTOPPED(st) {
                return Err(libc::ESRCH);
            }
            if get_regs(self.pid)?.rip != r.rip {
                break;
            }
        }
        log::error!(
            "stub: a raw host system call {nr} ran in host process {}",
            self.pid
        );
        Ok(get_regs(self.pid)?.rax)
    }
}

impl Drop for HostMm {
    fn drop(&mut self) {
        // Killing and reaping our own child.
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
        let _ = wait(self.pid);
    }
}

/// Run `ctx` in `mm` until the guest makes a syscall, faults, or an
/// interrupt arrives. `guest_ns` grows by the time the guest ran (from
/// resuming it to its stop being reported), which the kernel charges as
/// user time; the register and mapping round trips around it are not
/// counted there, as they are the kernel's work.
pub fn switch(mm: &mut HostMm, ctx: &mut Context, guest_ns: &mut i64) -> Event {
    if mm.flush().is_err() {
        return Event::Died;
    }
    if mm.fpu_owner != ctx.id {
        if !ctx.fpu.is_empty() && set_fpu(mm.pid, &ctx.fpu).is_err() {
            return Event::Died;
        }
        mm.fpu_owner = ctx.id;
    }
    if set_regs(mm.pid, &ctx.regs).is_err() {
        return Event::Died;
    }
    if !irq::enter_guest(mm.pid) {
        return Event::Interrupt;
    }
    let t0 = super::time::monotonic_ns();
    let r = ptrace(PTRACE_SYSEMU, mm.pid, 0, 0).and_then(|_| wait(mm.pid));
    *guest_ns += super::time::monotonic_ns() - t0;
    irq::leave_guest();
    let st = match r {
        Ok(st) => st,
        Err(_) => return Event::Died,
    };
    if !libc::WIFSTOPPED(st) {
        return Event::Died;
    }
    match get_regs(mm.pid) {
        Ok(r) => ctx.regs = r,
        Err(_) => return Event::Died,
    }
    if mm.multithreaded && get_fpu(mm.pid, &mut ctx.fpu).is_err() {
        return Event::Died;
    }
    let sig = libc::WSTOPSIG(st);
    if sig == libc::SIGTRAP | 0x80 {
        return Event::Syscall;
    }
    match sig {
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP => {
            let Ok(si) = nix::sys::ptrace::getsiginfo(Pid::from_raw(mm.pid)) else {
                return Event::Died;
            };
            // SAFETY: si_addr is valid for these fault signals.
            let addr = unsafe { si.si_addr() } as u64;
            Event::Fault {
                signo: sig,
                code: si.si_code,
                addr,
            }
        }
        _ => Event::Interrupt,
    }
}

/// Bring `ctx.fpu` up to date with the host process (before a signal frame
/// or fork copies it).
pub fn sync_fpu(mm: &HostMm, ctx: &mut Context) {
    if mm.fpu_owner == ctx.id {
        let _ = get_fpu(mm.pid, &mut ctx.fpu);
    }
}

/// Forget which context's FPU state the host process holds (after the
/// kernel changed `ctx.fpu`, e.g. sigreturn or execve).
pub fn invalidate_fpu(mm: &mut HostMm) {
    mm.fpu_owner = 0;
}
