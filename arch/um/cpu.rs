//! Host CPU features reported to guests (AT_HWCAP, /proc/cpuinfo).

/// CPUID leaf 1 EDX, as Linux reports in AT_HWCAP on x86_64.
pub fn hwcap() -> u64 {
    // SAFETY: CPUID is always available on x86_64.
    #[allow(unused_unsafe)]
    let r = unsafe { std::arch::x86_64::__cpuid(1) };
    r.edx as u64
}

/// CPU brand string from CPUID leaves 0x80000002..4.
pub fn model_name() -> String {
    let mut s = Vec::new();
    for leaf in 0x8000_0002u32..=0x8000_0004 {
        // SAFETY: CPUID is always available on x86_64.
        #[allow(unused_unsafe)]
        let r = unsafe { std::arch::x86_64::__cpuid(leaf) };
        for v in [r.eax, r.ebx, r.ecx, r.edx] {
            s.extend_from_slice(&v.to_le_bytes());
        }
    }
    String::from_utf8_lossy(&s)
        .trim_matches(char::from(0))
        .trim()
        .to_string()
}

/// The "flags" line of /proc/cpuinfo (a representative subset).
pub fn flags() -> String {
    let d = hwcap();
    let names = [
        (0, "fpu"),
        (4, "tsc"),
        (5, "msr"),
        (8, "cx8"),
        (15, "cmov"),
        (19, "clflush"),
        (23, "mmx"),
        (24, "fxsr"),
        (25, "sse"),
        (26, "sse2"),
    ];
    let mut v: Vec<&str> = names
        .iter()
        .filter(|(b, _)| d & (1 << b) != 0)
        .map(|x| x.1)
        .collect();
    v.push("lm");
    v.join(" ")
}

/// Most vCPUs a kernel can run (`ncpus=` is checked against it).
pub const MAX_CPUS: usize = 64;

static NCPUS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

thread_local! {
    /// Which vCPU this host thread is (0 for the boot thread and for
    /// threads that are not vCPUs). Read by the timer's signal handler:
    /// a const-initialized cell, so no lazy initialization there.
    static THIS_CPU: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The vCPU the calling host thread runs.
pub fn this_cpu() -> usize {
    THIS_CPU.with(|c| c.get())
}

/// Make the calling host thread vCPU `cpu` (at its start).
pub fn set_this_cpu(cpu: usize) {
    THIS_CPU.with(|c| c.set(cpu));
}

/// How many vCPUs this kernel runs.
pub fn ncpus() -> usize {
    NCPUS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Set the number of vCPUs (boot, before any starts; 1..=MAX_CPUS).
pub fn set_ncpus(n: usize) {
    NCPUS.store(n.clamp(1, MAX_CPUS), std::sync::atomic::Ordering::Relaxed);
}
