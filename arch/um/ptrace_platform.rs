//! The PTRACE_SYSEMU platform: each address space is a traced host
//! process holding only the stub and mappings of physical memory
//! (`process::HostMm`); a switch resumes it with PTRACE_SYSEMU until its
//! next stop. The vCPU thread is the tracer of every guest process.

use super::platform::{AddressSpace, Platform};
use super::process::{self, Context, Event, HostMm};
use super::{irq, time};
use std::any::Any;
use std::time::Duration;

pub struct Ptrace;

pub static PTRACE: Ptrace = Ptrace;

fn host_mm(mm: &mut dyn AddressSpace) -> &mut HostMm {
    mm.as_any_mut()
        .downcast_mut::<HostMm>()
        .expect("ptrace platform: an address space of another platform")
}

impl AddressSpace for HostMm {
    fn mmap(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        HostMm::mmap(self, addr, len, prot, phys)
    }
    fn mmap_populate(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        HostMm::mmap_populate(self, addr, len, prot, phys)
    }
    fn munmap(&mut self, addr: u64, len: u64) {
        HostMm::munmap(self, addr, len)
    }
    fn mprotect(&mut self, addr: u64, len: u64, prot: u32) {
        HostMm::mprotect(self, addr, len, prot)
    }
    fn set_multithreaded(&mut self) {
        self.multithreaded = true;
    }
    fn debug_host_syscall(&mut self, nr: u64, args: [u64; 6]) -> Result<u64, i32> {
        HostMm::debug_host_syscall(self, nr, args)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Platform for Ptrace {
    fn name(&self) -> &'static str {
        "ptrace"
    }
    fn new_address_space(&self) -> Result<Box<dyn AddressSpace>, i32> {
        Ok(Box::new(HostMm::new()?))
    }
    fn switch(&self, mm: &mut dyn AddressSpace, ctx: &mut Context, guest_ns: &mut i64) -> Event {
        process::switch(host_mm(mm), ctx, guest_ns)
    }
    fn sync_fpu(&self, mm: &dyn AddressSpace, ctx: &mut Context) {
        let m = mm
            .as_any()
            .downcast_ref::<HostMm>()
            .expect("ptrace platform: an address space of another platform");
        process::sync_fpu(m, ctx)
    }
    fn invalidate_fpu(&self, mm: &mut dyn AddressSpace) {
        process::invalidate_fpu(host_mm(mm))
    }
    fn monotonic_ns(&self) -> i64 {
        time::monotonic_ns()
    }
    fn realtime_ns(&self) -> i64 {
        time::realtime_ns()
    }
    fn arm_timer(&self, deadline_ns: Option<i64>) {
        irq::arm_timer(deadline_ns)
    }
    fn idle(&self, timeout: Option<Duration>) {
        irq::idle(timeout)
    }
    fn take_interrupts(&self) -> bool {
        irq::take_pending()
    }
    fn interrupts_pending(&self) -> bool {
        irq::pending()
    }
    fn raise_interrupt(&self) {
        irq::raise()
    }
    fn kick(&self, cpu: usize) {
        irq::kick(cpu)
    }
    fn init_cpu(&self, cpu: usize) -> Result<(), String> {
        super::init_cpu(cpu)
    }
    fn take_dump_request(&self) -> bool {
        irq::take_dump_request()
    }
}
