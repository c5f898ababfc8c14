//! Host side of the guest vDSO: the image build.rs compiled from
//! `vdso/vdso.c`, the host's TSC, and whether it can be trusted as a clock.

/// The guest vDSO, an ELF shared object linked at 0 with no relocations.
pub static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// The host CPU's time-stamp counter, ordered after earlier loads (as the
/// vDSO reads it: `lfence; rdtsc`).
pub fn tsc() -> u64 {
    // SAFETY: LFENCE and RDTSC exist on every x86_64 CPU and touch no memory.
    unsafe {
        std::arch::x86_64::_mm_lfence();
        std::arch::x86_64::_rdtsc()
    }
}

/// Can guests turn the TSC into time without asking the kernel? Only if
/// it ticks at a constant rate through frequency changes and idle states
/// (`constant_tsc`, `nonstop_tsc`) and the host kernel itself trusts it
/// as its clocksource (which it does only when the TSCs of all CPUs are
/// in step). Otherwise the vDSO makes the system call every time.
pub fn tsc_reliable() -> bool {
    if std::env::var_os("RUML_NO_VDSO_TSC").is_some() {
        return false;
    }
    let flags_ok = std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|s| {
        s.lines().find(|l| l.starts_with("flags")).is_some_and(|l| {
            let has = |f: &str| l.split_whitespace().any(|w| w == f);
            has("constant_tsc") && has("nonstop_tsc")
        })
    });
    let source =
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .unwrap_or_default();
    flags_ok && source.trim() == "tsc"
}
