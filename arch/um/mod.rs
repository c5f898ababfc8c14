//! arch/um: the only place that talks to the host kernel about guests.
//!
//! Host processes for guest address spaces (`process`), the stub that edits
//! their mappings (`stub`), guest physical memory (`physmem`), interrupts
//! and the timer (`irq`), host clocks (`time`). Everything here returns
//! plain Rust types; every `unsafe` carries a `// SAFETY:` line.

pub mod cpu;
pub mod irq;
pub mod physmem;
pub mod process;
pub mod stub;
pub mod time;

use std::sync::OnceLock;

pub use physmem::PAGE_SIZE;
pub use process::{switch, Context, Event, HostMm};

static PHYSMEM: OnceLock<physmem::PhysMem> = OnceLock::new();

/// Guest physical memory (after `init`).
pub fn physmem() -> &'static physmem::PhysMem {
    PHYSMEM.get().expect("arch::init not called")
}

/// Create physical memory, the stub and the timer. Must run on the thread
/// that will be the vCPU: it becomes the ptrace tracer of every guest.
pub fn init(mem_bytes: usize) -> Result<(), String> {
    let pm = physmem::PhysMem::new(mem_bytes)
        .map_err(|e| format!("cannot create {} MiB of guest memory: {e}", mem_bytes >> 20))?;
    let _ = PHYSMEM.set(pm);
    irq::init()?;
    process::init()
}

/// Number of frames at the start of physical memory reserved for the stub
/// data area.
pub const RESERVED_FRAMES: u32 = (stub::STUB_DATA_SIZE / PAGE_SIZE as u64) as u32;

/// End the vmlinux process now with `code`, without running destructors
/// (guest host processes die with us through PTRACE_O_EXITKILL).
pub fn host_exit(code: i32) -> ! {
    crate::drivers::char::host_console::restore_terminal();
    // SAFETY: _exit never returns and needs no invariants.
    unsafe { libc::_exit(code) }
}
