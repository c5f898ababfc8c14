//! The PTRACE_SYSEMU platform: each address space is a traced host
//! process holding only the stub and mappings of physical memory
//! (`process::HostMm`); a switch resumes it with PTRACE_SYSEMU until its
//! next stop. The vCPU thread is the tracer of every guest process.

use super::platform::{AddressSpace, Platform};
use super::process::{self, Context, Event, HostMm};
use std::any::Any;

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
        // Another platform's (or a stand-in's, `mm::host_slot`) address
        // space holds no FPU state of ours: nothing to bring back.
        if let Some(m) = mm.as_any().downcast_ref::<HostMm>() {
            process::sync_fpu(m, ctx)
        }
    }
    fn invalidate_fpu(&self, mm: &mut dyn AddressSpace) {
        process::invalidate_fpu(host_mm(mm))
    }
    fn init_cpu(&self, cpu: usize) -> Result<(), String> {
        super::init_cpu(cpu)
    }
}
