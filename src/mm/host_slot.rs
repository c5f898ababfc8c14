//! Stand-ins for an address space's host side while the `MmInner` does
//! not hold it (several vCPUs only): `Unborn`, before the vCPU that will
//! run a forked mm has created its host process (ptrace ties a host
//! process to the thread that traces it, so that vCPU must fork it), and
//! `Away`, while the vCPU running the mm has the host side out for a
//! guest run without the mm's lock, and another vCPU changes the mm.

use crate::arch::AddressSpace;
use std::any::Any;

/// No host process yet: changes need not be kept, since `materialize`
/// maps every present page from the page tables.
#[derive(Default)]
pub struct Unborn {
    pub multithreaded: bool,
}

/// One host mapping change kept for later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferred {
    Mmap {
        addr: u64,
        len: u64,
        prot: u32,
        phys: u64,
    },
    Munmap {
        addr: u64,
        len: u64,
    },
    Mprotect {
        addr: u64,
        len: u64,
        prot: u32,
    },
    Multithreaded,
    /// A task's saved FPU state was changed by the kernel: the host
    /// process must load it again before running that task.
    InvalidateFpu,
}

/// The host side is out on a vCPU: changes wait here, in order, and are
/// replayed when it comes back (`replay`).
#[derive(Default)]
pub struct Away {
    pub ops: Vec<Deferred>,
}

impl Away {
    /// Apply the kept changes to the returning host side.
    pub fn replay(self, host: &mut dyn AddressSpace) {
        for op in self.ops {
            match op {
                Deferred::Mmap {
                    addr,
                    len,
                    prot,
                    phys,
                } => host.mmap(addr, len, prot, phys),
                Deferred::Munmap { addr, len } => host.munmap(addr, len),
                Deferred::Mprotect { addr, len, prot } => host.mprotect(addr, len, prot),
                Deferred::Multithreaded => host.set_multithreaded(),
                Deferred::InvalidateFpu => crate::arch::platform().invalidate_fpu(host),
            }
        }
    }
}

impl AddressSpace for Unborn {
    fn mmap(&mut self, _: u64, _: u64, _: u32, _: u64) {}
    fn mmap_populate(&mut self, _: u64, _: u64, _: u32, _: u64) {}
    fn munmap(&mut self, _: u64, _: u64) {}
    fn mprotect(&mut self, _: u64, _: u64, _: u32) {}
    fn set_multithreaded(&mut self) {
        self.multithreaded = true;
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl AddressSpace for Away {
    fn mmap(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        self.ops.push(Deferred::Mmap {
            addr,
            len,
            prot,
            phys,
        });
    }
    fn mmap_populate(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        self.mmap(addr, len, prot, phys);
    }
    fn munmap(&mut self, addr: u64, len: u64) {
        self.ops.push(Deferred::Munmap { addr, len });
    }
    fn mprotect(&mut self, addr: u64, len: u64, prot: u32) {
        self.ops.push(Deferred::Mprotect { addr, len, prot });
    }
    fn set_multithreaded(&mut self) {
        self.ops.push(Deferred::Multithreaded);
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
