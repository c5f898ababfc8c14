//! The guest process gdb debugs, as gdbstub's `Target`: registers,
//! memory, software breakpoints, resume and single-step of its threads,
//! and extended-remote attach by PID. The tracing itself is the kernel's
//! (`kernel::ptrace::debugger`); this file keeps the debugger's
//! bookkeeping: which threads run, which stops gdb was told of, and the
//! program bytes under each breakpoint.

use super::signals;
use crate::kernel::ptrace::debugger::{self as dbg, ThreadState};
use crate::kernel::ptrace::StopKind;
use crate::kernel::signal::SIGTRAP;
use crate::kernel::task::{Pid, Tid};
use gdbstub::common::Signal;
use gdbstub::stub::MultiThreadStopReason;
use gdbstub::target::ext::base::multithread::{
    MultiThreadBase, MultiThreadResume, MultiThreadResumeOps, MultiThreadSchedulerLocking,
    MultiThreadSchedulerLockingOps, MultiThreadSingleStep, MultiThreadSingleStepOps,
};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, SwBreakpoint, SwBreakpointOps,
};
use gdbstub::target::ext::extended_mode::{
    Args, AttachKind, CurrentActivePid, CurrentActivePidOps, ExtendedMode, ExtendedModeOps,
    ShouldTerminate,
};
use gdbstub::target::{Target, TargetError, TargetResult};
use gdbstub_arch::x86::reg::X86_64CoreRegs;
use gdbstub_arch::x86::X86_64_SSE;
use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;

pub type Reason = MultiThreadStopReason<u64>;

/// What gdb asked one thread to do at the next resume.
#[derive(Clone, Copy)]
enum Action {
    Continue(Option<Signal>),
    Step(Option<Signal>),
}

const INT3: u8 = 0xcc;
const EFAULT: u8 = 14;
const EPERM: u8 = 1;

/// The attached process and what the debugger knows of it.
#[derive(Default)]
pub struct GuestTarget {
    pid: Option<Pid>,
    /// Program byte under each inserted breakpoint.
    breakpoints: BTreeMap<u64, u8>,
    actions: BTreeMap<Tid, Action>,
    /// Scheduler locking: threads with no action stay stopped.
    locked: bool,
    /// Resumed threads whose next stop has not been looked at.
    running: BTreeSet<Tid>,
    /// Every thread seen (a new one is resumed without telling gdb).
    known: BTreeSet<Tid>,
    /// Threads single-stepping now.
    stepping: BTreeSet<Tid>,
    /// Stops gdb was not told of, and the signal each resumes with.
    pending: BTreeMap<Tid, i32>,
    /// The thread whose stop gdb was told of.
    reported: Option<Tid>,
    /// Ctrl-C: the first thread to stop is reported with SIGINT.
    interrupting: bool,
    /// The wait status of the last thread that exited.
    exit_status: Option<i32>,
}

fn gtid(tid: Tid) -> gdbstub::common::Tid {
    NonZeroUsize::new(tid as usize).unwrap_or(NonZeroUsize::MIN)
}

fn ktid(t: gdbstub::common::Tid) -> Tid {
    t.get() as Tid
}

impl GuestTarget {
    /// A live thread of the process, for memory access.
    fn any_tid(&self) -> Option<Tid> {
        let pid = self.pid?;
        dbg::threads(pid)
            .into_iter()
            .find(|t| !matches!(dbg::state(*t), Some(ThreadState::Exited(_)) | None))
    }

    /// Stopped at an int3 of ours: put the instruction pointer back on
    /// the breakpoint (what gdb expects with `swbreak`).
    fn rewind_breakpoint(&self, tid: Tid) -> bool {
        let Ok(mut r) = dbg::regs(tid) else {
            return false;
        };
        if !self.breakpoints.contains_key(&r.rip.wrapping_sub(1)) {
            return false;
        }
        r.rip -= 1;
        dbg::set_regs(tid, &r).is_ok()
    }

    /// What a thread's stop means to gdb (None: nothing to report; the
    /// thread runs on).
    fn classify(&mut self, tid: Tid, kind: StopKind, signo: i32) -> Option<Reason> {
        let t = gtid(tid);
        match kind {
            StopKind::Signal if signo == SIGTRAP => {
                if self.rewind_breakpoint(tid) {
                    Some(Reason::SwBreak(t))
                } else {
                    Some(Reason::SignalWithThread {
                        tid: t,
                        signal: Signal::SIGTRAP,
                    })
                }
            }
            StopKind::Signal => Some(Reason::SignalWithThread {
                tid: t,
                signal: Signal(signals::to_gdb(signo)),
            }),
            // The stop the debugger asked for: ctrl-C's, or one made
            // to stop the other threads (not reported).
            StopKind::Group if signo == SIGTRAP && self.interrupting => {
                self.interrupting = false;
                Some(Reason::SignalWithThread {
                    tid: t,
                    signal: Signal::SIGINT,
                })
            }
            // Clone events, job-control stops (the signal's own stop was
            // reported), stops asked for by the debugger.
            _ => None,
        }
    }

    /// The Linux signal a stop gdb was not told of resumes with.
    fn silent_signal(r: &Option<Reason>) -> i32 {
        match r {
            Some(Reason::SignalWithThread { signal, .. }) if *signal != Signal::SIGINT => {
                signals::from_gdb(signal.0)
            }
            _ => 0,
        }
    }

    /// Look at every traced thread: forget exited ones, note stops of
    /// running ones. With `report`, the first stop gdb must hear of is
    /// returned (or the process's exit) and the other threads are
    /// stopped; without it, every stop is kept for the next resume.
    pub fn sweep(&mut self, report: bool) -> Option<Reason> {
        let pid = self.pid?;
        let mut live = 0;
        let mut found: Option<Reason> = None;
        for tid in dbg::threads(pid) {
            match dbg::state(tid) {
                None => {}
                Some(ThreadState::Exited(st)) => {
                    self.exit_status = Some(st);
                    dbg::forget(tid);
                    self.running.remove(&tid);
                    self.known.remove(&tid);
                }
                Some(ThreadState::Running) => {
                    live += 1;
                    if self.known.insert(tid) {
                        self.running.insert(tid);
                    }
                }
                Some(ThreadState::Stopped { kind, signo, .. }) => {
                    live += 1;
                    let new = self.known.insert(tid);
                    if !new && !self.running.remove(&tid) {
                        continue;
                    }
                    let r = if new {
                        None
                    } else {
                        self.classify(tid, kind, signo)
                    };
                    if report && found.is_none() {
                        match r {
                            Some(r) => {
                                found = Some(r);
                                self.reported = Some(tid);
                            }
                            None => {
                                dbg::resume(tid, false, 0);
                                self.running.insert(tid);
                            }
                        }
                    } else {
                        self.pending.insert(tid, Self::silent_signal(&r));
                    }
                }
            }
        }
        if live == 0 {
            let st = self.exit_status.take().unwrap_or(0);
            self.detached();
            if !report {
                return None;
            }
            log::info!("gdb: process {pid} exited ({st:#x})");
            return Some(if st & 0x7f != 0 {
                Reason::Terminated(Signal(signals::to_gdb(st & 0x7f)))
            } else {
                Reason::Exited((st >> 8) as u8)
            });
        }
        if found.is_some() {
            // All-stop: the others stop too.
            self.stepping.clear();
            for &tid in &self.running {
                dbg::interrupt(tid);
            }
        }
        found
    }

    /// Ctrl-C from gdb: stop every thread, the first to stop is reported.
    pub fn interrupt(&mut self) {
        self.interrupting = true;
        for &tid in &self.running {
            dbg::interrupt(tid);
        }
    }

    /// Forget the process (gone, or no longer ours).
    fn detached(&mut self) {
        let keep_status = self.exit_status;
        *self = GuestTarget {
            exit_status: keep_status,
            ..Default::default()
        };
    }

    /// Let go of the process: breakpoints out, every thread runs on.
    pub fn detach(&mut self) {
        let Some(pid) = self.pid else { return };
        if let Some(tid) = self.any_tid() {
            for (addr, byte) in &self.breakpoints {
                let _ = dbg::write_mem(tid, *addr, &[*byte]);
            }
        }
        for tid in dbg::threads(pid) {
            if self.pending.get(&tid) == Some(&0)
                || matches!(dbg::state(tid), Some(ThreadState::Stopped { kind: StopKind::Signal, signo, .. }) if signo == SIGTRAP)
            {
                self.rewind_breakpoint(tid);
            }
            dbg::detach(tid);
        }
        log::info!("gdb: detached from process {pid}");
        self.detached();
    }
}

impl Target for GuestTarget {
    type Arch = X86_64_SSE;
    type Error = &'static str;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::MultiThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_extended_mode(&mut self) -> Option<ExtendedModeOps<'_, Self>> {
        Some(self)
    }
}

/// FXSAVE offsets (Intel SDM vol. 1, 10.5.1, 64-bit layout).
mod fx {
    pub const FCW: usize = 0;
    pub const FSW: usize = 2;
    pub const FTW: usize = 4;
    pub const FOP: usize = 6;
    pub const FIP: usize = 8;
    pub const FDP: usize = 16;
    pub const MXCSR: usize = 24;
    pub const ST: usize = 32;
    pub const XMM: usize = 160;
    pub const LEN: usize = 416;
}

fn le16(b: &[u8], at: usize) -> u32 {
    u16::from_le_bytes([b[at], b[at + 1]]) as u32
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// gdb's full tag word from FXSAVE's abridged one: empty (3) or valid
/// (0); the finer "zero"/"special" tags are not told apart.
fn full_tag(abridged: u8) -> u32 {
    (0..8).fold(0, |w, i| {
        w | if abridged & (1 << i) != 0 {
            0
        } else {
            3 << (2 * i)
        }
    })
}

fn abridged_tag(full: u32) -> u8 {
    (0..8).fold(0, |w, i| {
        w | if (full >> (2 * i)) & 3 != 3 {
            1 << i
        } else {
            0
        }
    })
}

fn fill_fpu(regs: &mut X86_64CoreRegs, img: &[u8]) {
    if img.len() < fx::LEN {
        return;
    }
    regs.fpu.fctrl = le16(img, fx::FCW);
    regs.fpu.fstat = le16(img, fx::FSW);
    regs.fpu.ftag = full_tag(img[fx::FTW]);
    regs.fpu.fop = le16(img, fx::FOP);
    regs.fpu.fioff = le32(img, fx::FIP);
    regs.fpu.fiseg = le16(img, fx::FIP + 4);
    regs.fpu.fooff = le32(img, fx::FDP);
    regs.fpu.foseg = le16(img, fx::FDP + 4);
    regs.mxcsr = le32(img, fx::MXCSR);
    for i in 0..8 {
        let at = fx::ST + 16 * i;
        regs.st[i].copy_from_slice(&img[at..at + 10]);
    }
    for i in 0..16 {
        let at = fx::XMM + 16 * i;
        let mut b = [0u8; 16];
        b.copy_from_slice(&img[at..at + 16]);
        regs.xmm[i] = u128::from_le_bytes(b);
    }
}

/// The FXSAVE area `img` with gdb's values put in.
fn store_fpu(regs: &X86_64CoreRegs, img: &mut [u8]) {
    if img.len() < fx::LEN {
        return;
    }
    let put16 = |img: &mut [u8], at: usize, v: u32| {
        img[at..at + 2].copy_from_slice(&(v as u16).to_le_bytes())
    };
    put16(img, fx::FCW, regs.fpu.fctrl);
    put16(img, fx::FSW, regs.fpu.fstat);
    img[fx::FTW] = abridged_tag(regs.fpu.ftag);
    put16(img, fx::FOP, regs.fpu.fop);
    img[fx::FIP..fx::FIP + 4].copy_from_slice(&regs.fpu.fioff.to_le_bytes());
    put16(img, fx::FIP + 4, regs.fpu.fiseg);
    img[fx::FDP..fx::FDP + 4].copy_from_slice(&regs.fpu.fooff.to_le_bytes());
    put16(img, fx::FDP + 4, regs.fpu.foseg);
    img[fx::MXCSR..fx::MXCSR + 4].copy_from_slice(&regs.mxcsr.to_le_bytes());
    for i in 0..8 {
        let at = fx::ST + 16 * i;
        img[at..at + 10].copy_from_slice(&regs.st[i]);
    }
    for i in 0..16 {
        let at = fx::XMM + 16 * i;
        img[at..at + 16].copy_from_slice(&regs.xmm[i].to_le_bytes());
    }
}

fn errno(e: crate::kernel::errno::Errno) -> TargetError<&'static str> {
    TargetError::Errno(e.0 as u8)
}

impl MultiThreadBase for GuestTarget {
    fn read_registers(
        &mut self,
        regs: &mut X86_64CoreRegs,
        tid: gdbstub::common::Tid,
    ) -> TargetResult<(), Self> {
        let tid = ktid(tid);
        let r = dbg::regs(tid).map_err(errno)?;
        regs.regs = [
            r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11,
            r.r12, r.r13, r.r14, r.r15,
        ];
        regs.rip = r.rip;
        regs.eflags = r.eflags as u32;
        regs.segments.cs = r.cs as u32;
        regs.segments.ss = r.ss as u32;
        regs.segments.ds = r.ds as u32;
        regs.segments.es = r.es as u32;
        regs.segments.fs = r.fs as u32;
        regs.segments.gs = r.gs as u32;
        fill_fpu(regs, &dbg::fpu(tid).map_err(errno)?);
        Ok(())
    }

    fn write_registers(
        &mut self,
        regs: &X86_64CoreRegs,
        tid: gdbstub::common::Tid,
    ) -> TargetResult<(), Self> {
        let tid = ktid(tid);
        let mut r = dbg::regs(tid).map_err(errno)?;
        let g = &regs.regs;
        (r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp) =
            (g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
        (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15) =
            (g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
        r.rip = regs.rip;
        r.eflags = (r.eflags & !0xffff_ffff) | regs.eflags as u64;
        dbg::set_regs(tid, &r).map_err(errno)?;
        // The FPU only when gdb changed it (a `G` carries every register).
        let cur = dbg::fpu(tid).map_err(errno)?;
        let mut img = cur[..fx::LEN.min(cur.len())].to_vec();
        store_fpu(regs, &mut img);
        if img[..] != cur[..img.len()] {
            dbg::set_fpu(tid, &img).map_err(errno)?;
        }
        Ok(())
    }

    fn read_addrs(
        &mut self,
        start: u64,
        data: &mut [u8],
        tid: gdbstub::common::Tid,
    ) -> TargetResult<usize, Self> {
        let tid = ktid(tid);
        // Page by page: as much as is mapped.
        let mut done = 0;
        while done < data.len() {
            let addr = start.wrapping_add(done as u64);
            let n = (4096 - (addr % 4096) as usize).min(data.len() - done);
            if dbg::read_mem(tid, addr, &mut data[done..done + n]).is_err() {
                break;
            }
            done += n;
        }
        if done == 0 && !data.is_empty() {
            return Err(TargetError::Errno(EFAULT));
        }
        // gdb sees the program's bytes, not our int3s.
        let end = start.wrapping_add(done as u64);
        for (addr, byte) in self.breakpoints.range(start..end) {
            data[(addr - start) as usize] = *byte;
        }
        Ok(done)
    }

    fn write_addrs(
        &mut self,
        start: u64,
        data: &[u8],
        tid: gdbstub::common::Tid,
    ) -> TargetResult<(), Self> {
        let tid = ktid(tid);
        let end = start.wrapping_add(data.len() as u64);
        let mut bytes = data.to_vec();
        // A write over a breakpoint changes the byte under it.
        for (addr, saved) in self.breakpoints.range_mut(start..end) {
            let i = (addr - start) as usize;
            *saved = bytes[i];
            bytes[i] = INT3;
        }
        dbg::write_mem(tid, start, &bytes).map_err(errno)
    }

    fn list_active_threads(
        &mut self,
        thread_is_active: &mut dyn FnMut(gdbstub::common::Tid),
    ) -> Result<(), Self::Error> {
        let Some(pid) = self.pid else { return Ok(()) };
        for tid in dbg::threads(pid) {
            if !matches!(dbg::state(tid), Some(ThreadState::Exited(_)) | None) {
                thread_is_active(gtid(tid));
            }
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<MultiThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl MultiThreadResume for GuestTarget {
    fn resume(&mut self) -> Result<(), Self::Error> {
        let Some(pid) = self.pid else { return Ok(()) };
        // Stops that came in since gdb was told of one.
        self.sweep(false);
        let reported = self.reported.take();
        for tid in dbg::threads(pid) {
            let action = match self.actions.get(&tid) {
                Some(a) => *a,
                None if self.locked => continue,
                None => Action::Continue(None),
            };
            let (step, sig) = match action {
                Action::Continue(s) => (false, s),
                Action::Step(s) => (true, s),
            };
            let silent = self.pending.remove(&tid);
            let sig = match (sig, silent) {
                (Some(s), _) => signals::from_gdb(s.0),
                (None, Some(s)) if Some(tid) != reported => s,
                _ => 0,
            };
            match dbg::state(tid) {
                Some(ThreadState::Stopped { .. }) | Some(ThreadState::Running) => {
                    dbg::resume(tid, step, sig);
                }
                _ => continue,
            }
            if step {
                self.stepping.insert(tid);
            }
            self.known.insert(tid);
            self.running.insert(tid);
        }
        Ok(())
    }

    fn clear_resume_actions(&mut self) -> Result<(), Self::Error> {
        self.actions.clear();
        self.locked = false;
        Ok(())
    }

    fn set_resume_action_continue(
        &mut self,
        tid: gdbstub::common::Tid,
        signal: Option<Signal>,
    ) -> Result<(), Self::Error> {
        self.actions.insert(ktid(tid), Action::Continue(signal));
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<MultiThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    fn support_scheduler_locking(&mut self) -> Option<MultiThreadSchedulerLockingOps<'_, Self>> {
        Some(self)
    }
}

impl MultiThreadSingleStep for GuestTarget {
    fn set_resume_action_step(
        &mut self,
        tid: gdbstub::common::Tid,
        signal: Option<Signal>,
    ) -> Result<(), Self::Error> {
        self.actions.insert(ktid(tid), Action::Step(signal));
        Ok(())
    }
}

impl MultiThreadSchedulerLocking for GuestTarget {
    fn set_resume_action_scheduler_lock(&mut self) -> Result<(), Self::Error> {
        self.locked = true;
        Ok(())
    }
}

impl Breakpoints for GuestTarget {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for GuestTarget {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        if self.breakpoints.contains_key(&addr) {
            return Ok(true);
        }
        let tid = self.any_tid().ok_or(TargetError::Errno(EFAULT))?;
        let mut orig = [0u8];
        dbg::read_mem(tid, addr, &mut orig).map_err(errno)?;
        // Through the debugger's forced write: into read-only text, in a
        // private copy of the page.
        dbg::write_mem(tid, addr, &[INT3]).map_err(errno)?;
        self.breakpoints.insert(addr, orig[0]);
        Ok(true)
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        let Some(orig) = self.breakpoints.remove(&addr) else {
            return Ok(false);
        };
        if let Some(tid) = self.any_tid() {
            dbg::write_mem(tid, addr, &[orig]).map_err(errno)?;
        }
        Ok(true)
    }
}

impl ExtendedMode for GuestTarget {
    fn run(
        &mut self,
        _filename: Option<&[u8]>,
        _args: Args<'_, '_>,
    ) -> TargetResult<gdbstub::common::Pid, Self>
    where
        Self: Sized,
    {
        // Starting programs is the guest's business: attach to them.
        Err(TargetError::Errno(EPERM))
    }

    fn attach(&mut self, pid: gdbstub::common::Pid) -> TargetResult<(), Self> {
        if self.pid.is_some() {
            return Err(TargetError::Errno(EPERM));
        }
        let pid = pid.get() as Pid;
        let tids = dbg::attach(pid).map_err(errno)?;
        log::info!("gdb: attached to process {pid} ({} threads)", tids.len());
        *self = GuestTarget {
            pid: Some(pid),
            known: tids.iter().copied().collect(),
            running: tids.into_iter().collect(),
            ..Default::default()
        };
        Ok(())
    }

    fn query_if_attached(&mut self, _pid: gdbstub::common::Pid) -> TargetResult<AttachKind, Self> {
        Ok(AttachKind::Attach)
    }

    fn kill(&mut self, _pid: Option<gdbstub::common::Pid>) -> TargetResult<ShouldTerminate, Self> {
        if let Some(pid) = self.pid {
            let _ = dbg::kill(pid);
            for tid in dbg::threads(pid) {
                dbg::detach(tid);
            }
            self.detached();
            self.exit_status = None;
        }
        Ok(ShouldTerminate::No)
    }

    fn restart(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn support_current_active_pid(&mut self) -> Option<CurrentActivePidOps<'_, Self>> {
        Some(self)
    }
}

impl CurrentActivePid for GuestTarget {
    fn current_active_pid(&mut self) -> Result<gdbstub::common::Pid, Self::Error> {
        Ok(NonZeroUsize::new(self.pid.unwrap_or(1) as usize).unwrap_or(NonZeroUsize::MIN))
    }
}
