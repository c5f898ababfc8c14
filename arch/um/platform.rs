//! The platform seam: everything the kernel needs from the host to run
//! guest code, behind two traits, in the spirit of gVisor's
//! `Platform`/`AddressSpace`/`Context`.
//!
//! An `AddressSpace` is where a guest mm's pages are mapped on the host (a
//! cache of the kernel's page tables, changed in batches); `Platform`
//! creates them, runs a thread's registers in one until an event (system
//! call, fault, interrupt), and provides the host services around that
//! (clocks, the interrupt timer, idling). The kernel (src/) sees only
//! these traits. Backends: `ptrace` (PTRACE_SYSEMU, `process.rs`),
//! `seccomp` (`seccomp_platform.rs`, `platform=seccomp`) and `fake` (no
//! host processes; for unit tests of mm, signals and the scheduler).

use super::process::{Context, Event};
use super::{irq, time};
use std::any::Any;
use std::sync::OnceLock;
use std::time::Duration;

/// A guest address space as the host holds it. Changes may be queued
/// until the next `Platform::switch` into it, which applies them first.
pub trait AddressSpace: Send + Any {
    /// Map `len` bytes of physical memory at `phys` to `addr` with `prot`
    /// (PROT_* bits).
    fn mmap(&mut self, addr: u64, len: u64, prot: u32, phys: u64);
    /// `mmap`, with the pages made present at once (read-ahead of a fault).
    fn mmap_populate(&mut self, addr: u64, len: u64, prot: u32, phys: u64);
    fn munmap(&mut self, addr: u64, len: u64);
    fn mprotect(&mut self, addr: u64, len: u64, prot: u32);
    /// Several guest threads share this address space (their FPU states
    /// must be kept apart across switches).
    fn set_multithreaded(&mut self);
    /// The RUML_TEST_HOST_SYSCALL hook (`process::host_syscall_hook_enabled`):
    /// try a raw host system call from the backend's own code, as a guest
    /// that took it over would. Backends without such code refuse.
    fn debug_host_syscall(&mut self, _nr: u64, _args: [u64; 6]) -> Result<u64, i32> {
        Err(libc::ENOSYS)
    }
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// A way to run guests on this host.
pub trait Platform: Sync {
    fn name(&self) -> &'static str;
    /// A fresh, empty address space (a host errno if none can be made).
    fn new_address_space(&self) -> Result<Box<dyn AddressSpace>, i32>;
    /// Run `ctx` in `mm` until the guest makes a system call, faults, or
    /// an interrupt is pending. `guest_ns` grows by the time guest code
    /// ran (charged to the task as user time).
    fn switch(&self, mm: &mut dyn AddressSpace, ctx: &mut Context, guest_ns: &mut i64) -> Event;
    /// Bring `ctx.fpu` up to date with what the host holds for it.
    fn sync_fpu(&self, mm: &dyn AddressSpace, ctx: &mut Context);
    /// The kernel changed a context's FPU image: load it at the next switch.
    fn invalidate_fpu(&self, mm: &mut dyn AddressSpace);

    // Host services. The defaults are the host's own (`time`, `irq`: a
    // POSIX timer and SIGALRM kicks per vCPU), which every backend that
    // runs real guests shares; only the fake replaces them.

    /// CLOCK_MONOTONIC of the host, in ns.
    fn monotonic_ns(&self) -> i64 {
        time::monotonic_ns()
    }
    /// CLOCK_REALTIME of the host, in ns.
    fn realtime_ns(&self) -> i64 {
        time::realtime_ns()
    }
    /// Raise an interrupt at monotonic `deadline_ns` (None: no timer; an
    /// idle guest stays tickless).
    fn arm_timer(&self, deadline_ns: Option<i64>) {
        irq::arm_timer(deadline_ns)
    }
    /// Nothing to run: wait for an interrupt (device input, the timer) or
    /// at most `timeout`.
    fn idle(&self, timeout: Option<Duration>) {
        irq::idle(timeout)
    }
    /// Take the pending-interrupt flag (true if one was raised since).
    fn take_interrupts(&self) -> bool {
        irq::take_pending()
    }
    /// Is an interrupt pending (without taking it)?
    fn interrupts_pending(&self) -> bool {
        irq::pending()
    }
    /// A device has work for the vCPU: make the running guest stop.
    fn raise_interrupt(&self) {
        irq::raise()
    }
    /// Get vCPU `cpu`'s attention (any thread): stop the guest it runs or
    /// end its idle wait, so it looks at its run queue and signals.
    fn kick(&self, cpu: usize) {
        irq::kick(cpu)
    }
    /// Start secondary vCPU `cpu` on the calling new host thread.
    fn init_cpu(&self, _cpu: usize) -> Result<(), String> {
        Ok(())
    }
    /// The host asked for a task dump (SIGUSR2): take the request.
    fn take_dump_request(&self) -> bool {
        irq::take_dump_request()
    }
}

static PLATFORM: OnceLock<&'static dyn Platform> = OnceLock::new();

/// Choose the platform (once, at boot; later calls keep the first).
pub fn set(p: &'static dyn Platform) {
    let _ = PLATFORM.set(p);
}

/// The platform guests run on. Before one is chosen (clocks for the
/// first log lines), the default: ptrace, or the fake in unit tests;
/// asking does not choose it, so `set` still can.
pub fn get() -> &'static dyn Platform {
    match PLATFORM.get() {
        Some(p) => *p,
        None if cfg!(test) => &super::fake::FAKE,
        None => &super::ptrace_platform::PTRACE,
    }
}
