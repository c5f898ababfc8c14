//! The seccomp platform (`platform=seccomp`): guest system calls without
//! a ptrace stop.
//!
//! Each address space is a host process forked from this platform's
//! zygote with two threads. The stub's thread stays the kernel's ptrace
//! tracee and does nothing but mapping batches, injected exactly as on
//! the ptrace platform (registers set by the tracer; the records read from
//! the data area, opened read-only for the batch: `stub::rbatch`). The
//! guest thread, not traced, runs guest code under the process filter
//! (`seccomp::systrap_filter`): a system call from outside the stub page
//! traps (SIGSYS), and so do faults and the SIGALRM kick, into the stub's
//! signal handler, which posts the event in the process's request slot
//! and waits on its futex. The kernel reads and writes the registers (and
//! FPU image) in the signal frame itself, which lives in the slot (guest
//! physical memory the kernel maps too), answers by flipping the word,
//! and the handler returns to the frame with rt_sigreturn.
//!
//! What the guest can reach (it can write its slot and jump anywhere in
//! the stub with any registers): its own filter (`guest_thread_filter`)
//! lets it make only the handler's calls (futex on its own request word,
//! rt_sigreturn); everything it writes in the slot is registers, which
//! the kernel treats like any guest registers (copied once, the frame
//! address checked to lie in the slot). Mapping records are never
//! writable from the process while the stub runs them.

use super::cpu::MAX_CPUS;
use super::platform::{AddressSpace, Platform};
use super::process::{self, Context, Event, HostMm, Regs};
use super::stub::{
    self, OPS_OFFSET, REQ_ADDR, REQ_FILTER, REQ_FPROG, REQ_H_COOKIE, REQ_H_DONE, REQ_H_PARK,
    REQ_H_RESULT, REQ_REC, REQ_REC_MAX, REQ_REC_SIZE, REQ_SIGSTACK, REQ_SLOT_SIZE, REQ_SLOT_STRIDE,
    REQ_SS,
};
use super::{irq, seccomp, time};
use std::any::Any;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

pub struct Seccomp;

pub static SECCOMP: Seccomp = Seccomp;

/// Each vCPU's zygote for this platform.
static ZYGOTE: [Mutex<Option<HostMm>>; MAX_CPUS] = [const { Mutex::new(None) }; MAX_CPUS];

/// Request slots: frames of physical memory after the stub data areas.
struct Pool {
    base: u64,
    free: Vec<u32>,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    base: 0,
    free: Vec::new(),
});

/// Bytes of physical memory this platform reserves for `mem_bytes` of
/// guest memory (a sixteenth, at most 1024 slots).
pub fn slot_bytes(mem_bytes: u64) -> u64 {
    (mem_bytes / 16 / REQ_SLOT_STRIDE).min(1024) * REQ_SLOT_STRIDE
}

/// Hand out the slots in `[base, base + bytes)`.
pub fn init_pool(base: u64, bytes: u64) {
    let mut p = POOL.lock().unwrap_or_else(|e| e.into_inner());
    p.base = base;
    p.free = (0..(bytes / REQ_SLOT_STRIDE) as u32).rev().collect();
}

/// State words of the request slot (see `stub::REQ_ADDR`).
const ST_EVENT: u32 = 1;
const ST_ANSWER: u32 = 2;
const H_SIGNO: u64 = 4;
const H_CODE: u64 = 8;
const H_ADDR: u64 = 16;
const H_UC: u64 = 24;
const H_FS: u64 = 32;
const H_GS: u64 = 40;
/// In a ucontext: the general registers (struct sigcontext) and the
/// pointer to the FPU image.
const UC_MCONTEXT: u64 = 40;
const UC_FPSTATE: u64 = UC_MCONTEXT + 23 * 8;
/// Room a frame needs above its ucontext for the kernel to touch it.
const UC_MIN: u64 = 512;
/// In the FPU image: the software-reserved bytes (magic, sizes) that the
/// host kernel keeps for itself, and where the total size is.
const FX_SW: u64 = 464;
const FX_SW_END: u64 = 512;
const FX_XSTATE_SIZE: u64 = FX_SW + 16;

/// How long the kernel waits for a guest thread before checking that its
/// process still lives.
const LIVENESS: Duration = Duration::from_millis(200);
/// How long a guest thread may leave a pending interrupt unanswered.
const KICK_LIMIT: Duration = Duration::from_secs(2);

/// One guest address space on this platform.
pub struct SecMm {
    host: HostMm,
    /// Host thread id of the guest thread.
    tid: i32,
    slot: u32,
    /// Physical address of the request slot.
    phys: u64,
    fpu_owner: u64,
    multithreaded: bool,
    /// The value the guest thread's filter wants in the high halves of
    /// the handler's mapping calls (never zero, never in guest-readable
    /// memory while guest code can run).
    cookie: u64,
    /// The guest thread was seen asleep in the stub (`park`) and not
    /// answered since.
    parked: bool,
    /// Records of the batch sent with the last answer, checked at the
    /// next event.
    sent: Option<u64>,
}

fn futex(word: &std::sync::atomic::AtomicU32, op: i32, val: u32, timeout: Option<Duration>) -> i64 {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs() as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let tsp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: the word is a live atomic in our physmem mapping; shared
    // futex (the guest process maps the same page); tsp is null or live.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), op, val, tsp, 0, 0) }
}

impl SecMm {
    /// A fresh address space: fork the zygote, map the slot, start the
    /// guest thread, close fork/clone/seccomp to the stub's thread, and
    /// wait until the guest thread sits in the handler.
    fn new() -> Result<SecMm, i32> {
        let slot = {
            let mut p = POOL.lock().unwrap_or_else(|e| e.into_inner());
            let s = p.free.pop().ok_or(libc::EAGAIN)?;
            (s, p.base + s as u64 * REQ_SLOT_STRIDE)
        };
        let mut host = match process::fork_from(&ZYGOTE) {
            Ok(h) => h,
            Err(e) => {
                free_slot(slot.0);
                return Err(e);
            }
        };
        host.ops.clear();
        host.ro_batch = true;
        let mut mm = SecMm {
            host,
            tid: 0,
            slot: slot.0,
            phys: slot.1,
            fpu_owner: 0,
            multithreaded: false,
            cookie: new_cookie(),
            parked: false,
            sent: None,
        };
        mm.start().map(|_| mm)
    }

    fn start(&mut self) -> Result<(), i32> {
        let phys = super::physmem();
        let p = self.phys;
        phys.fill(p, 4096, 0);
        // The signal stack, and the guest thread's own filter.
        phys.write_u64(p + REQ_SS, REQ_ADDR + REQ_SIGSTACK);
        phys.write_u64(p + REQ_SS + 16, REQ_SLOT_SIZE - REQ_SIGSTACK);
        let prog = seccomp::guest_thread_filter(self.cookie);
        assert!(REQ_FILTER + prog.len() as u64 <= 4096);
        phys.write(p + REQ_FILTER, &prog);
        let mut hdr = [0u8; 16];
        hdr[..2].copy_from_slice(&((prog.len() / 8) as u16).to_le_bytes());
        hdr[8..].copy_from_slice(&(REQ_ADDR + REQ_FILTER).to_le_bytes());
        phys.write(p + REQ_FPROG, &hdr);
        self.host.push([
            libc::SYS_mmap as u64,
            REQ_ADDR,
            REQ_SLOT_SIZE,
            3,
            (libc::MAP_SHARED | libc::MAP_FIXED) as u64,
            stub::PHYS_FD as u64,
            p,
        ]);
        // The handler's batch records: read-only for the whole process.
        phys.fill(p + REQ_SLOT_SIZE, REQ_REC_SIZE as usize, 0);
        self.host.push([
            libc::SYS_mmap as u64,
            REQ_REC,
            REQ_REC_SIZE,
            libc::PROT_READ as u64,
            (libc::MAP_SHARED | libc::MAP_FIXED) as u64,
            stub::PHYS_FD as u64,
            p + REQ_SLOT_SIZE,
        ]);
        self.host.flush()?;
        // clone, injected: the stub's thread traps back with the tid.
        let sites = stub::seccomp_sites();
        let mut r = self.host.stub_regs;
        r.rip = sites.clone;
        r.rax = libc::SYS_clone as u64;
        r.rdi = seccomp::CLONE_GUEST_THREAD;
        r.rsi = REQ_ADDR + stub::REQ_START_STACK;
        r.rdx = 0;
        r.r10 = 0;
        r.r8 = 0;
        process::set_regs(self.host.pid, &r)?;
        self.host.cont_until_trap()?;
        let tid = process::get_regs(self.host.pid)?.rax as i64;
        if tid <= 0 {
            log::error!("seccomp: cannot start a guest thread: {tid}");
            return Err(libc::EAGAIN);
        }
        self.tid = tid as i32;
        self.host.push_child_filter();
        self.host.flush()?;
        // Its first event: the ud2 after its start-up.
        if !self.wait_event(Some(Duration::from_secs(10))) {
            log::error!("seccomp: the guest thread did not start");
            return Err(libc::EAGAIN);
        }
        // Its filter, which holds the cookie, is installed: erase the copy
        // before guest code could read it.
        phys.fill(p + REQ_FPROG, (4096 - REQ_FPROG) as usize, 0);
        Ok(())
    }

    fn park_word(&self) -> &'static std::sync::atomic::AtomicU32 {
        super::physmem().atomic_u32(self.phys + REQ_H_PARK)
    }

    /// Make sure the guest thread sleeps in the stub's futex wait before
    /// the cookie is written: move it from the request word to the park
    /// word (FUTEX_CMP_REQUEUE, which counts the waiters it moved). Only
    /// the stub's two futex sites may wait on the request word, with no
    /// timeout (the filter), and the thread is this process's only
    /// guest thread; once moved it leaves only when the kernel wakes it,
    /// into stub code that takes the cookie before guest code runs. A
    /// handler still on its way to the wait gets a short while.
    fn park(&mut self) -> bool {
        if self.parked {
            return true;
        }
        let w = self.state();
        for i in 0..400 {
            // SAFETY: both words are live atomics of our physmem mapping
            // (shared futexes: the guest process maps the same frames).
            let r = unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    w.as_ptr(),
                    libc::FUTEX_CMP_REQUEUE,
                    0,
                    1usize,
                    self.park_word().as_ptr(),
                    ST_EVENT,
                )
            };
            if r == 1 {
                self.parked = true;
                return true;
            }
            if r < 0 {
                // The word is not "event posted": no handler waits.
                return false;
            }
            if i % 20 == 19 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        false
    }

    /// Answer the posted event: wake the handler wherever it waits.
    fn answer(&mut self) {
        let w = self.state();
        w.store(ST_ANSWER, Ordering::Release);
        let park = self.park_word();
        if self.parked {
            self.parked = false;
            if futex(park, libc::FUTEX_WAKE, 1, None) > 0 {
                return;
            }
        }
        futex(w, libc::FUTEX_WAKE, 1, None);
    }

    /// Send the queued mapping changes with this answer: the records to
    /// the slot's read-only page, the cookie to its header (see `park`).
    /// False if they must go through the stub's thread instead.
    fn send_batch(&mut self) -> bool {
        let n = self.host.ops.len() as u64;
        if n == 0 || n > REQ_REC_MAX || stub_batches_only() || !self.park() {
            return false;
        }
        let phys = super::physmem();
        let rec = self.phys + REQ_SLOT_SIZE;
        let mut buf = Vec::with_capacity(self.host.ops.len() * 64);
        for op in self.host.ops.drain(..) {
            for w in op {
                buf.extend_from_slice(&w.to_le_bytes());
            }
            buf.extend_from_slice(&0u64.to_le_bytes());
        }
        phys.write(rec + OPS_OFFSET, &buf);
        phys.write_u64(rec, n);
        phys.write_u64(self.phys + REQ_H_DONE, u64::MAX);
        phys.write_u64(self.phys + REQ_H_COOKIE, self.cookie);
        self.sent = Some(n);
        true
    }

    /// The batch sent with the last answer, checked: Err if a record
    /// failed (or the guest meddled), as a failed stub batch.
    fn check_sent(&mut self) -> Result<(), ()> {
        let Some(n) = self.sent.take() else {
            return Ok(());
        };
        let phys = super::physmem();
        // Never leave the cookie behind, whatever happened.
        phys.write_u64(self.phys + REQ_H_COOKIE, 0);
        let done = phys.read_u64(self.phys + REQ_H_DONE);
        if done != n {
            log::error!(
                "seccomp: host process {}: record {done} of a handler batch of {n} failed: {}",
                self.host.pid,
                phys.read_u64(self.phys + REQ_H_RESULT) as i64
            );
            return Err(());
        }
        Ok(())
    }

    fn state(&self) -> &'static std::sync::atomic::AtomicU32 {
        super::physmem().atomic_u32(self.phys)
    }

    /// Wait until the guest thread has posted an event; false if its
    /// process died (or `limit` passed).
    fn wait_event(&mut self, limit: Option<Duration>) -> bool {
        let w = self.state();
        let t0 = std::time::Instant::now();
        let mut kicked: Option<std::time::Instant> = None;
        loop {
            let s = w.load(Ordering::Acquire);
            if s == ST_EVENT {
                return true;
            }
            let r = futex(w, libc::FUTEX_WAIT, s, Some(LIVENESS));
            if r < 0 && process::errno() == libc::ETIMEDOUT {
                if !self.alive() {
                    return false;
                }
                if limit.is_some_and(|l| t0.elapsed() > l) {
                    return false;
                }
                // A guest thread that does not answer the kick has blocked
                // SIGALRM (a forged rt_sigreturn frame can): it would keep
                // the vCPU forever, so it dies instead.
                if irq::pending() {
                    let since = *kicked.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() > KICK_LIMIT {
                        log::warn!(
                            "seccomp: host process {} ignores interrupts, killed",
                            self.host.pid
                        );
                        self.kill();
                        return false;
                    }
                }
            }
        }
    }

    /// Whether the host process still exists (reaping it if not).
    fn alive(&self) -> bool {
        let mut st = 0;
        // SAFETY: status is a valid out pointer; our own (traced) child.
        let r = unsafe { libc::waitpid(self.host.pid, &mut st, libc::WNOHANG | libc::__WALL) };
        if r == self.host.pid && (libc::WIFEXITED(st) || libc::WIFSIGNALED(st)) {
            return false;
        }
        r >= 0 || process::errno() != libc::ECHILD
    }

    /// Physical address of the posted frame's ucontext, if it lies where
    /// the handler's frames go (the guest can write the pointer).
    fn frame(&self) -> Option<u64> {
        let uc = super::physmem().read_u64(self.phys + H_UC);
        let lo = REQ_ADDR + REQ_SIGSTACK;
        let hi = REQ_ADDR + REQ_SLOT_SIZE - UC_MIN;
        (lo..=hi).contains(&uc).then(|| self.phys + (uc - REQ_ADDR))
    }

    /// The posted frame's FPU image: its physical address and size.
    fn fpstate(&self, uc: u64) -> Option<(u64, usize)> {
        let phys = super::physmem();
        let fp = phys.read_u64(uc + UC_FPSTATE);
        let lo = REQ_ADDR + REQ_SIGSTACK;
        if fp < lo || fp > REQ_ADDR + REQ_SLOT_SIZE - FX_SW_END {
            return None;
        }
        let at = self.phys + (fp - REQ_ADDR);
        let mut b = [0u8; 4];
        phys.read(at + FX_XSTATE_SIZE, &mut b);
        let size = u32::from_le_bytes(b) as u64;
        if size < FX_SW_END || fp + size > REQ_ADDR + REQ_SLOT_SIZE {
            return None;
        }
        Some((at, size as usize))
    }

    fn read_fpu(&self, uc: u64, out: &mut Vec<u8>) {
        if let Some((at, size)) = self.fpstate(uc) {
            out.resize(size, 0);
            super::physmem().read(at, out);
        }
    }

    /// Put `img` into the frame's FPU image, keeping the bytes the host
    /// kernel checks on rt_sigreturn (its software-reserved words).
    fn write_fpu(&self, uc: u64, img: &[u8]) {
        let Some((at, size)) = self.fpstate(uc) else {
            return;
        };
        let phys = super::physmem();
        let n = img.len().min(size);
        let sw = FX_SW as usize;
        let sw_end = FX_SW_END as usize;
        phys.write(at, &img[..sw.min(n)]);
        if n > sw_end {
            phys.write(at + FX_SW_END, &img[sw_end..n]);
        }
    }

    fn kill(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.host.pid, libc::SIGKILL) };
    }
}

/// `RUML_SECCOMP_STUB_BATCH=1` in vmlinux's environment: every mapping
/// batch goes through the stub's thread, as before handler batches (to
/// measure one against the other in the same conditions; bench/).
fn stub_batches_only() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("RUML_SECCOMP_STUB_BATCH").is_some_and(|v| v == "1"))
}

/// A fresh random cookie with both halves non-zero.
fn new_cookie() -> u64 {
    loop {
        let mut b = [0u8; 8];
        // SAFETY: b is a valid buffer of 8 bytes.
        let r = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 8, 0) };
        let c = u64::from_le_bytes(b);
        if r == 8 && c as u32 != 0 && (c >> 32) != 0 {
            return c;
        }
    }
}

fn free_slot(s: u32) {
    POOL.lock().unwrap_or_else(|e| e.into_inner()).free.push(s);
}

impl Drop for SecMm {
    fn drop(&mut self) {
        // HostMm's drop kills and reaps the process (both threads); only
        // then may the slot serve another.
        let pid = self.host.pid;
        // SAFETY: signalling and reaping our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            let mut st = 0;
            libc::waitpid(pid, &mut st, libc::__WALL);
        }
        free_slot(self.slot);
    }
}

/// The general registers in a sigcontext, in its order.
fn mcontext_from(r: &Regs) -> [u64; 18] {
    [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, r.rsp, r.rip, r.eflags,
    ]
}

fn mcontext_into(m: &[u64; 18], r: &mut Regs) {
    [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, r.rsp, r.rip, r.eflags,
    ] = *m;
}

/// Run `ctx` in `mm` until its next event.
fn switch(mm: &mut SecMm, ctx: &mut Context, guest_ns: &mut i64) -> Event {
    // Mapping changes go with the answer when they fit (`send_batch`),
    // else through the stub's thread first.
    let n = mm.host.ops.len() as u64;
    if (n > REQ_REC_MAX || (n > 0 && (stub_batches_only() || !mm.park())))
        && mm.host.flush().is_err()
    {
        mm.kill();
        return Event::Died;
    }
    let phys = super::physmem();
    let Some(uc) = mm.frame() else {
        log::warn!("seccomp: host process {}: bad frame, killed", mm.host.pid);
        mm.kill();
        return Event::Died;
    };
    let mut b = [0u8; 18 * 8];
    for (i, w) in mcontext_from(&ctx.regs).iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    phys.write(uc + UC_MCONTEXT, &b);
    phys.write_u64(mm.phys + H_FS, ctx.regs.fs_base);
    phys.write_u64(mm.phys + H_GS, ctx.regs.gs_base);
    if mm.fpu_owner != ctx.id() {
        if !ctx.fpu.is_empty() {
            mm.write_fpu(uc, &ctx.fpu);
        }
        mm.fpu_owner = ctx.id();
    }
    if !irq::enter_guest(mm.host.pid) {
        return Event::Interrupt;
    }
    let t0 = time::monotonic_ns();
    if !mm.host.ops.is_empty() && !mm.send_batch() {
        // Parked above, so this does not happen; never run the guest
        // with mapping changes outstanding.
        if mm.host.flush().is_err() {
            irq::leave_guest();
            mm.kill();
            return Event::Died;
        }
    }
    mm.answer();
    let ok = mm.wait_event(None);
    *guest_ns += time::monotonic_ns() - t0;
    irq::leave_guest();
    if !ok {
        return Event::Died;
    }
    if mm.check_sent().is_err() {
        mm.kill();
        return Event::Died;
    }
    let Some(uc) = mm.frame() else {
        log::warn!("seccomp: host process {}: bad frame, killed", mm.host.pid);
        mm.kill();
        return Event::Died;
    };
    phys.read(uc + UC_MCONTEXT, &mut b);
    let mut m = [0u64; 18];
    for (i, w) in m.iter_mut().enumerate() {
        *w = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default());
    }
    mcontext_into(&m, &mut ctx.regs);
    ctx.regs.fs_base = phys.read_u64(mm.phys + H_FS);
    ctx.regs.gs_base = phys.read_u64(mm.phys + H_GS);
    let mut h = [0u8; 4];
    phys.read(mm.phys + H_SIGNO, &mut h);
    let signo = i32::from_le_bytes(h);
    phys.read(mm.phys + H_CODE, &mut h);
    let code = i32::from_le_bytes(h);
    let addr = phys.read_u64(mm.phys + H_ADDR);
    if mm.multithreaded {
        mm.read_fpu(uc, &mut ctx.fpu);
    }
    match signo {
        libc::SIGSYS => {
            // As PTRACE_SYSEMU shows it: the number in orig_rax, -ENOSYS.
            ctx.regs.orig_rax = ctx.regs.rax;
            ctx.regs.rax = (-(libc::ENOSYS as i64)) as u64;
            Event::Syscall
        }
        libc::SIGALRM => {
            ctx.regs.orig_rax = u64::MAX;
            Event::Interrupt
        }
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP => {
            ctx.regs.orig_rax = u64::MAX;
            Event::Fault { signo, code, addr }
        }
        _ => {
            log::warn!(
                "seccomp: host process {}: unexpected event {signo}, killed",
                mm.host.pid
            );
            mm.kill();
            Event::Died
        }
    }
}

impl SecMm {
    /// The hostile tests' hook: make the guest thread execute the stub's
    /// `syscall` instruction before `site` with the chosen registers, as
    /// a guest jumping there would. Err(signal) if that killed the
    /// process; otherwise the thread comes back with some event (it may
    /// only have done the handler's harmless calls).
    fn debug_host_syscall(&mut self, nr: u64, args: [u64; 6]) -> Result<u64, i32> {
        let sites = stub::all_syscall_sites();
        // The upper half of the number picks the site (the guest can jump
        // to any of them); the host sees only the lower half anyway.
        let site = sites[((nr >> 32) as usize) % sites.len()];
        let nr = nr & 0xffff_ffff;
        let mut ctx = Context::new();
        let mut r = Regs {
            rip: site - 2,
            rax: nr,
            rdi: args[0],
            rsi: args[1],
            rdx: args[2],
            r10: args[3],
            r8: args[4],
            r9: 0,
            rsp: REQ_ADDR + REQ_SIGSTACK,
            eflags: 0x202,
            ..Regs::default()
        };
        r.cs = ctx.regs.cs;
        r.ss = ctx.regs.ss;
        ctx.regs = r;
        ctx.fpu.clear();
        self.fpu_owner = 0;
        let mut ns = 0;
        match switch(self, &mut ctx, &mut ns) {
            Event::Died => {
                let mut st = 0;
                // SAFETY: reaping our own child (already dead or killed).
                unsafe { libc::waitpid(self.host.pid, &mut st, libc::__WALL) };
                log::warn!(
                    "seccomp: host process {} killed (status {st:#x})",
                    self.host.pid
                );
                Err(if libc::WIFSIGNALED(st) {
                    libc::WTERMSIG(st)
                } else {
                    libc::SIGSYS
                })
            }
            ev => {
                // The call ran (or was not reached): the guest sees the
                // frame's rax, and its registers are the hook's now.
                log::warn!("seccomp: stub site {site:#x} with nr {nr}: came back with {ev:?}");
                Ok(ctx.regs.rax)
            }
        }
    }
}

impl AddressSpace for SecMm {
    fn mmap(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        self.host.mmap(addr, len, prot, phys)
    }
    fn mmap_populate(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        self.host.mmap_populate(addr, len, prot, phys)
    }
    fn munmap(&mut self, addr: u64, len: u64) {
        self.host.munmap(addr, len)
    }
    fn mprotect(&mut self, addr: u64, len: u64, prot: u32) {
        self.host.mprotect(addr, len, prot)
    }
    fn set_multithreaded(&mut self) {
        self.multithreaded = true;
    }
    fn debug_host_syscall(&mut self, nr: u64, args: [u64; 6]) -> Result<u64, i32> {
        SecMm::debug_host_syscall(self, nr, args)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// AT_HWCAP2's bit for user-space FSGSBASE (Linux's HWCAP2_FSGSBASE).
const HWCAP2_FSGSBASE: u64 = 1 << 1;

/// Can this host run the platform? The stub's SIGSYS handler keeps the
/// guest's FS base with rdfsbase/wrfsbase, which fault unless the host
/// kernel enabled FSGSBASE for user space (Linux 5.9 or later, on a CPU
/// that has it); without it every guest process would die at its first
/// syscall, so refuse before boot.
pub fn check_host() -> Result<(), String> {
    // SAFETY: getauxval only reads this process's auxiliary vector.
    let hwcap2 = unsafe { libc::getauxval(libc::AT_HWCAP2) };
    fsgsbase_usable(hwcap2 as u64)
}

fn fsgsbase_usable(hwcap2: u64) -> Result<(), String> {
    if hwcap2 & HWCAP2_FSGSBASE != 0 {
        Ok(())
    } else {
        Err(
            "platform=seccomp needs FSGSBASE enabled by the host kernel \
             (Linux 5.9 or later on a CPU with it); use platform=ptrace"
                .into(),
        )
    }
}

/// Start this platform's zygote on the calling vCPU thread (after the
/// ptrace platform's, which also serves as the fallback).
pub fn init_cpu() -> Result<(), String> {
    let z = HostMm::spawn_systrap_zygote().map_err(|e| {
        format!(
            "seccomp: cannot start the zygote: {}",
            std::io::Error::from_raw_os_error(e)
        )
    })?;
    process::set_zygote_in(z, &ZYGOTE)
}

impl Platform for Seccomp {
    fn name(&self) -> &'static str {
        "seccomp"
    }
    fn new_address_space(&self) -> Result<Box<dyn AddressSpace>, i32> {
        match SecMm::new() {
            Ok(m) => Ok(Box::new(m)),
            Err(e) => {
                // Out of request slots (or a host failure): this address
                // space runs on the ptrace platform instead.
                log::warn!("seccomp: no address space (errno {e}); using ptrace for this one");
                Ok(Box::new(HostMm::new()?))
            }
        }
    }
    fn switch(&self, mm: &mut dyn AddressSpace, ctx: &mut Context, guest_ns: &mut i64) -> Event {
        let any = mm.as_any_mut();
        if let Some(m) = any.downcast_mut::<SecMm>() {
            return switch(m, ctx, guest_ns);
        }
        match any.downcast_mut::<HostMm>() {
            Some(h) => process::switch(h, ctx, guest_ns),
            None => Event::Died,
        }
    }
    fn sync_fpu(&self, mm: &dyn AddressSpace, ctx: &mut Context) {
        if let Some(m) = mm.as_any().downcast_ref::<SecMm>() {
            if m.fpu_owner == ctx.id() {
                if let Some(uc) = m.frame() {
                    m.read_fpu(uc, &mut ctx.fpu);
                }
            }
        } else if let Some(h) = mm.as_any().downcast_ref::<HostMm>() {
            process::sync_fpu(h, ctx)
        }
    }
    fn invalidate_fpu(&self, mm: &mut dyn AddressSpace) {
        let any = mm.as_any_mut();
        if let Some(m) = any.downcast_mut::<SecMm>() {
            m.fpu_owner = 0;
        } else if let Some(h) = any.downcast_mut::<HostMm>() {
            process::invalidate_fpu(h)
        }
    }
    fn init_cpu(&self, cpu: usize) -> Result<(), String> {
        super::init_cpu(cpu)?;
        init_cpu()
    }
}

#[cfg(test)]
mod host_tests {
    use super::*;

    #[test]
    fn fsgsbase_is_required() {
        assert!(fsgsbase_usable(HWCAP2_FSGSBASE).is_ok());
        assert!(fsgsbase_usable(HWCAP2_FSGSBASE | 1).is_ok());
        let e = fsgsbase_usable(1).unwrap_err();
        assert!(e.contains("platform=ptrace"), "{e}");
    }
}
