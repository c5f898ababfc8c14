//! arch/um: the only place that talks to the host kernel about guests.
//!
//! Host processes for guest address spaces (`process`), the stub that edits
//! their mappings (`stub`), guest physical memory (`physmem`), interrupts
//! and the timer (`irq`), host clocks (`time`). Everything here returns
//! plain Rust types; every `unsafe` carries a `// SAFETY:` line.

pub mod cpu;
pub mod fake;
pub mod fake_guest;
pub mod irq;
pub mod kcontext;
pub mod physmem;
pub mod platform;
pub mod process;
pub mod ptrace_platform;
pub mod regs;
pub mod seccomp;
pub mod seccomp_platform;
pub mod stub;
pub mod time;
pub mod vdso;

use nix::sched::{sched_getaffinity, sched_getcpu, sched_setaffinity, CpuSet};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;
use std::sync::OnceLock;

pub use physmem::PAGE_SIZE;
pub use platform::{AddressSpace, Platform};
pub use process::{Context, Event};

/// The platform guests run on (chosen by `init`).
pub fn platform() -> &'static dyn Platform {
    platform::get()
}

static PHYSMEM: OnceLock<physmem::PhysMem> = OnceLock::new();

/// Guest physical memory (after `init`).
pub fn physmem() -> &'static physmem::PhysMem {
    PHYSMEM.get().expect("arch::init not called")
}

/// Create physical memory, the stub and the timer. Must run on the thread
/// that will be the vCPU: it becomes the ptrace tracer of every guest.
/// `backend` names the platform (`ptrace`, `seccomp`); None picks
/// seccomp, the faster one, where the host can run it and ptrace
/// elsewhere.
pub fn init(mem_bytes: usize, backend: Option<&str>) -> Result<(), String> {
    init_physmem(mem_bytes)?;
    pin_vcpu();
    irq::init()?;
    process::init()?;
    let backend = match backend {
        Some(named) => named,
        None => match seccomp_platform::check_host() {
            Ok(()) => "seccomp",
            Err(why) => {
                log::info!("platform: {why}; running on ptrace");
                "ptrace"
            }
        },
    };
    if backend == "seccomp" {
        seccomp_platform::check_host()?;
        let bytes = seccomp_platform::slot_bytes(mem_bytes as u64);
        let base = cpu::ncpus() as u64 * stub::STUB_DATA_SIZE;
        let _ = SLOT_BYTES.set(bytes);
        seccomp_platform::init_pool(base, bytes);
        seccomp_platform::init_cpu()?;
        platform::set(&seccomp_platform::SECCOMP);
    } else {
        platform::set(&ptrace_platform::PTRACE);
    }
    log::info!("platform: {}", platform().name());
    Ok(())
}

/// Create physical memory only (once; later calls keep the first): all
/// that filesystem code needs, so the fuzz targets call it alone.
pub fn init_physmem(mem_bytes: usize) -> Result<(), String> {
    if PHYSMEM.get().is_some() {
        return Ok(());
    }
    let pm = physmem::PhysMem::new(mem_bytes)
        .map_err(|e| format!("cannot create {} MiB of guest memory: {e}", mem_bytes >> 20))?;
    let _ = PHYSMEM.set(pm);
    Ok(())
}

/// Number of frames at the start of physical memory reserved for the stub
/// data areas (one per vCPU; `cpu::set_ncpus` first).
pub fn reserved_frames() -> u32 {
    let slots = SLOT_BYTES.get().copied().unwrap_or(0);
    ((cpu::ncpus() as u64 * stub::STUB_DATA_SIZE + slots) / PAGE_SIZE as u64) as u32
}

/// Physical memory the seccomp platform keeps for its request slots
/// (after the data areas), when it is the platform.
static SLOT_BYTES: OnceLock<u64> = OnceLock::new();

/// Start secondary vCPU `n` on the calling (new) host thread: its
/// identity, its host CPU, its timer, and its zygote (the thread that
/// forks an address space is its ptrace tracer, so each vCPU forks its
/// own).
pub fn init_cpu(n: usize) -> Result<(), String> {
    cpu::set_this_cpu(n);
    pin_secondary_vcpu(n);
    irq::init_cpu()?;
    process::init_cpu()
}

/// End the vmlinux process now with `code`, without running destructors
/// (guest host processes die with us through PTRACE_O_EXITKILL).
pub fn host_exit(code: i32) -> ! {
    crate::drivers::char::host_console::restore_terminal();
    crate::drivers::mconsole::cleanup();
    // SAFETY: _exit never returns and needs no invariants.
    unsafe { libc::_exit(code) }
}

/// End vmlinux with `code` as abruptly as a SIGKILL would: no terminal
/// restore, no umid cleanup (fault injection uses this to test recovery
/// from a crash).
pub fn host_crash_exit(code: i32) -> ! {
    std::process::exit(code)
}

/// Create (or truncate) a host file for the kernel's own output
/// (RUML_LOG_FILE).
pub fn host_create_file(path: &str) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

/// Read a whole host file named on the command line (the initrd).
pub fn host_read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

/// Boot again from scratch after a panic (`panic=N`): every guest host
/// process is killed, the terminal restored and the control directory
/// removed, then vmlinux executes itself with the same words, as UML
/// restarts by exec'ing itself. If that fails, exit with status 1.
pub fn host_reexec() -> ! {
    kill_descendants(std::process::id() as i32);
    crate::drivers::char::host_console::restore_terminal();
    crate::drivers::mconsole::cleanup();
    let err = std::os::unix::process::CommandExt::exec(
        std::process::Command::new("/proc/self/exe").args(std::env::args_os().skip(1)),
    );
    eprintln!("vmlinux: cannot restart after the panic: {err}");
    host_exit(1)
}

/// SIGKILL every host process below `pid` (the zygote and the guests'
/// address spaces forked from it; exec would leave them traced by
/// nobody) and reap ours.
fn kill_descendants(pid: i32) {
    let mut stack = vec![pid];
    let mut all = Vec::new();
    while let Some(p) = stack.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let children = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for c in children
                .split_whitespace()
                .filter_map(|c| c.parse::<i32>().ok())
            {
                all.push(c);
                stack.push(c);
            }
        }
    }
    for &c in &all {
        let _ = kill(Pid::from_raw(c), Signal::SIGKILL);
    }
    for &c in &all {
        // Reaping our own (traced) children; others answer ECHILD.
        let _ = waitpid(Pid::from_raw(c), Some(WaitPidFlag::__WALL));
    }
}

/// The CPUs vmlinux was allowed to run on before the vCPU was pinned.
struct HostCpus(CpuSet);
static HOST_CPUS: std::sync::OnceLock<HostCpus> = std::sync::OnceLock::new();

/// Let a host helper thread (block I/O) run on any CPU vmlinux may use:
/// it inherited the vCPU's pinning, but its point is to work while the
/// vCPU runs guests.
pub fn unpin_helper_thread() {
    if let Some(c) = HOST_CPUS.get() {
        // Pid 0 is this thread.
        let _ = sched_setaffinity(Pid::from_raw(0), &c.0);
    }
}

/// Pin secondary vCPU `n` (and the guest processes it forks, which
/// inherit it) to the n-th host CPU after the boot vCPU's among those
/// vmlinux may use, so vCPUs do not share a host CPU while there are
/// enough.
fn pin_secondary_vcpu(n: usize) {
    let (Some(all), Ok(boot)) = (HOST_CPUS.get(), BOOT_CPU.get().copied().ok_or(())) else {
        return;
    };
    let allowed: Vec<usize> = (0..CpuSet::count())
        .filter(|&c| all.0.is_set(c).unwrap_or(false))
        .collect();
    let Some(i) = allowed.iter().position(|&c| c == boot) else {
        return;
    };
    let cpu = allowed[(i + n) % allowed.len()];
    let mut set = CpuSet::new();
    // Pid 0 is this thread.
    if set.set(cpu).is_ok() && sched_setaffinity(Pid::from_raw(0), &set).is_ok() {
        log::debug!("vcpu{n}: pinned to host CPU {cpu}");
    }
}

/// The host CPU the boot vCPU was pinned to.
static BOOT_CPU: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// Keep the vCPU thread and every guest host process (they inherit it) on
/// the CPU we start on. Only one of them runs at a time, and a wake-up on
/// another CPU costs more than the work between wake-ups; pinning makes
/// fork-heavy guests 1.2-3x faster. RUML_NO_PIN=1 leaves placement to the
/// host scheduler.
fn pin_vcpu() {
    if std::env::var_os("RUML_NO_PIN").is_some() {
        return;
    }
    // Pid 0 is this thread.
    let this = Pid::from_raw(0);
    if let Ok(orig) = sched_getaffinity(this) {
        let _ = HOST_CPUS.set(HostCpus(orig));
    }
    let Ok(cpu) = sched_getcpu() else {
        return;
    };
    let mut set = CpuSet::new();
    if set.set(cpu).is_ok() && sched_setaffinity(this, &set).is_ok() {
        let _ = BOOT_CPU.set(cpu);
        log::debug!("vcpu: pinned to host CPU {cpu}");
    }
}
