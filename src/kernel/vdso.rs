//! The guest vDSO and its time data page (vvar): the frames holding both,
//! mapping them into every new image, and the clock they publish.
//!
//! The clock is the host's TSC, calibrated against the host's
//! CLOCK_MONOTONIC: at a TSC reading the page records the guest's
//! CLOCK_MONOTONIC and CLOCK_REALTIME and the TSC-to-nanoseconds factor.
//! The kernel rebases it at most every 100 ms (from syscall entry) and
//! whenever the guest's wall clock is set, re-measures the factor over
//! windows of a second, and never steps CLOCK_MONOTONIC back: a clock
//! that ran ahead of the host's keeps its value and is slewed back. The
//! clock_gettime family of syscalls computes from the same data, so the
//! vDSO and the kernel agree to the nanosecond and time never goes
//! backwards between them. Without a usable TSC the page says so and the
//! vDSO makes the system call every time.

use super::task::lock;
use super::time;
use crate::abi::vdso::VvarData;
use crate::arch;
use crate::kernel::errno::KResult;
use crate::mm::frame::{self, PAGE_SIZE};
use crate::mm::special::{SpecialPages, VDSO, VVAR};
use crate::mm::{Backing, MmInner, Vma, PROT_EXEC, PROT_READ, TASK_SIZE};
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Where the vvar page goes in every guest, the vDSO right above it: in
/// the gap between the top of the stack and the stub.
pub const VVAR_ADDR: u64 = TASK_SIZE - 0x8_0000;

/// Fixed-point scale of the TSC-to-ns factor.
const SHIFT: u32 = 32;
/// Rebase the published clock at most this often (ns).
const REFRESH_NS: i64 = 100_000_000;
/// Re-measure the TSC rate over windows at least this long (ns).
const RECAL_NS: i64 = 1_000_000_000;
/// How hard a clock that ran ahead is slowed to meet the host's again.
const MAX_SLEW_PPM: i64 = 500;
/// The boot-time calibration window (ns): short, since it delays boot;
/// the rate is measured again over a second (`RECAL_NS`) at the first
/// rebase after that, and the rebases every 100 ms keep the clock on the
/// host's meanwhile (a 1 ms window read with ~50 ns of jitter is within
/// about 100 ppm, 10 µs per rebase interval at worst).
const BOOT_CAL_NS: i64 = 1_000_000;

/// One simultaneous reading of the TSC and the guest's clocks.
#[derive(Clone, Copy)]
struct Sample {
    tsc: u64,
    mono: i64,
    real: i64,
}

struct State {
    vvar: Arc<SpecialPages>,
    image: Arc<SpecialPages>,
    /// What the vvar page holds.
    data: VvarData,
    /// Start of the current rate-measuring window.
    cal: Sample,
    /// Measured TSC rate: ns per tick, scaled by 2^SHIFT.
    rate: u64,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);
/// TSC reading at which the next rebase is due (u64::MAX: never).
static NEXT_REFRESH: AtomicU64 = AtomicU64::new(u64::MAX);

/// Set up the vDSO for this boot: its image and data page in physical
/// memory, and the clock calibrated. Without frames for them guests
/// simply get no vDSO.
pub fn init() {
    NEXT_REFRESH.store(u64::MAX, Ordering::Relaxed);
    *lock(&STATE) = None;
    let image = arch::vdso::IMAGE;
    let mut pages = Vec::new();
    for chunk in image.chunks(PAGE_SIZE as usize) {
        let Ok(p) = frame::alloc() else {
            log::warn!("vdso: no memory for the vDSO; guests run without one");
            return;
        };
        frame::write(p, 0, chunk);
        pages.push(p);
    }
    let Ok(vvar) = frame::alloc() else {
        log::warn!("vdso: no memory for the vvar page; guests run without a vDSO");
        return;
    };
    let mut st = State {
        vvar: Arc::new(SpecialPages { pages: vec![vvar] }),
        image: Arc::new(SpecialPages { pages }),
        data: VvarData {
            shift: SHIFT,
            use_syscall: 1,
            ncpus: arch::cpu::ncpus() as u32,
            ..Default::default()
        },
        cal: sample(),
        rate: 0,
    };
    if arch::vdso::tsc_reliable() {
        let start = st.cal;
        let mut now = sample();
        while now.mono - start.mono < BOOT_CAL_NS {
            now = sample();
        }
        st.rate = rate_between(start, now);
        st.data.use_syscall = 0;
        rebase(&mut st, now);
        let mhz = 1000.0 * (1u64 << SHIFT) as f64 / st.rate.max(1) as f64;
        log::info!("vdso: TSC at {mhz:.3} MHz, clock reads without a trap");
    } else {
        log::info!("vdso: no invariant TSC clocksource; the vDSO makes system calls");
        publish(&mut st);
    }
    *lock(&STATE) = Some(st);
}

/// Read the TSC and the guest's clocks as close together as we can (the
/// tightest of three tries): the TSC between two monotonic reads, which
/// average to the monotonic time at that instant.
fn sample() -> Sample {
    let mut best: Option<(i64, Sample)> = None;
    for _ in 0..3 {
        let real = time::realtime_ns();
        let a = time::uptime_ns();
        let tsc = arch::vdso::tsc();
        let b = time::uptime_ns();
        let s = Sample {
            tsc,
            mono: a + (b - a) / 2,
            real,
        };
        if best.is_none_or(|(w, _)| b - a < w) {
            best = Some((b - a, s));
        }
    }
    best.map_or(
        Sample {
            tsc: 0,
            mono: 0,
            real: 0,
        },
        |(_, s)| s,
    )
}

fn rate_between(a: Sample, b: Sample) -> u64 {
    let ticks = b.tsc.saturating_sub(a.tsc).max(1) as u128;
    let ns = (b.mono - a.mono).max(1) as u128;
    ((ns << SHIFT) / ticks).min(u64::MAX as u128) as u64
}

/// The clock the published data gives at TSC reading `tsc`, from `base`
/// (the data's `mono_ns` or `real_ns`), exactly as the vDSO computes it.
fn extrapolate(d: &VvarData, base: i64, tsc: u64) -> i64 {
    let delta = tsc.saturating_sub(d.tsc_base) as u128;
    base.saturating_add(((delta * d.mult as u128) >> d.shift) as i64)
}

/// Publish a new base at sample `s`: the host's clocks, except that
/// CLOCK_MONOTONIC never steps back. If the published clock ran ahead of
/// the host's it keeps its value and runs slower until the next rebase.
fn rebase(st: &mut State, s: Sample) {
    if s.mono - st.cal.mono >= RECAL_NS {
        st.rate = rate_between(st.cal, s);
        st.cal = s;
    }
    let mut mono = s.mono;
    let mut mult = st.rate;
    if st.data.mult != 0 {
        let ahead = extrapolate(&st.data, st.data.mono_ns, s.tsc) - s.mono;
        if ahead > 0 {
            mono = s.mono + ahead;
            let slew = ahead.min(REFRESH_NS * MAX_SLEW_PPM / 1_000_000);
            mult = (st.rate as u128 * (REFRESH_NS - slew) as u128 / REFRESH_NS as u128) as u64;
        }
    }
    st.data.tsc_base = s.tsc;
    st.data.mult = mult;
    st.data.mono_ns = mono;
    st.data.real_ns = mono + (s.real - s.mono);
    publish(st);
    let ticks = ((REFRESH_NS as u128) << SHIFT) / (st.rate.max(1) as u128);
    NEXT_REFRESH.store(
        s.tsc.saturating_add(ticks.min(u64::MAX as u128) as u64),
        Ordering::Relaxed,
    );
}

/// Write the data to the vvar page under its sequence count: odd while
/// the rest changes, so a vDSO reader that overlaps retries.
fn publish(st: &mut State) {
    let pfn = st.vvar.pages[0];
    st.data.seq = st.data.seq.wrapping_add(1) | 1;
    frame::write(pfn, 0, bytemuck::bytes_of(&st.data.seq));
    fence(Ordering::SeqCst);
    frame::write(pfn, 0, bytemuck::bytes_of(&st.data));
    fence(Ordering::SeqCst);
    st.data.seq = st.data.seq.wrapping_add(1);
    frame::write(pfn, 0, bytemuck::bytes_of(&st.data.seq));
}

/// Called on every syscall entry: rebase if the last one is 100 ms old.
pub fn tick() {
    let next = NEXT_REFRESH.load(Ordering::Relaxed);
    if next != u64::MAX && arch::vdso::tsc() >= next {
        refresh();
    }
}

/// Rebase now, if the TSC clock is in use.
fn refresh() {
    let mut g = lock(&STATE);
    if let Some(st) = g.as_mut().filter(|st| st.data.use_syscall == 0) {
        rebase(st, sample());
    }
}

/// The guest's wall clock was set: publish its new offset at once.
pub fn clock_was_set() {
    refresh();
}

/// The guest's CLOCK_MONOTONIC (and BOOTTIME) as the vDSO reads it.
pub fn mono_ns() -> i64 {
    read(false).unwrap_or_else(time::uptime_ns)
}

/// The guest's CLOCK_REALTIME as the vDSO reads it.
pub fn real_ns() -> i64 {
    read(true).unwrap_or_else(time::realtime_ns)
}

fn read(real: bool) -> Option<i64> {
    let mut g = lock(&STATE);
    let st = g.as_mut().filter(|st| st.data.use_syscall == 0)?;
    let mut tsc = arch::vdso::tsc();
    if tsc >= NEXT_REFRESH.load(Ordering::Relaxed) {
        rebase(st, sample());
        tsc = arch::vdso::tsc();
    }
    let base = if real {
        st.data.real_ns
    } else {
        st.data.mono_ns
    };
    Some(extrapolate(&st.data, base, tsc))
}

/// Map the vvar page (read-only) and the vDSO (read and execute) into a
/// new image; returns the vDSO's address for AT_SYSINFO_EHDR, or 0 when
/// this boot has none.
pub fn map_into(m: &mut MmInner) -> KResult<u64> {
    let (vvar, image) = match lock(&STATE).as_ref() {
        Some(st) => (st.vvar.clone(), st.image.clone()),
        None => return Ok(0),
    };
    let vdso_addr = VVAR_ADDR + PAGE_SIZE;
    let vdso_end = vdso_addr + image.pages.len() as u64 * PAGE_SIZE;
    m.unmap(VVAR_ADDR, vdso_end);
    for (start, end, prot, pages, label) in [
        (VVAR_ADDR, vdso_addr, PROT_READ, vvar, VVAR),
        (vdso_addr, vdso_end, PROT_READ | PROT_EXEC, image, VDSO),
    ] {
        m.insert_vma(Vma {
            start,
            end,
            prot,
            shared: false,
            backing: Backing::File {
                inode: pages,
                offset: 0,
                path: label.to_owned(),
            },
            label,
        })?;
    }
    Ok(vdso_addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state on a fresh vvar frame, 1 ns per tick, based at `s`.
    fn state(s: Sample) -> State {
        let pfn = frame::alloc().unwrap();
        let mut st = State {
            vvar: Arc::new(SpecialPages { pages: vec![pfn] }),
            image: Arc::new(SpecialPages { pages: vec![] }),
            data: VvarData {
                shift: SHIFT,
                ..Default::default()
            },
            cal: s,
            rate: 1 << SHIFT,
        };
        rebase(&mut st, s);
        st
    }

    fn published(st: &State) -> VvarData {
        let mut d = VvarData::default();
        frame::read(st.vvar.pages[0], 0, bytemuck::bytes_of_mut(&mut d));
        d
    }

    #[test]
    fn rebasing_never_steps_the_monotonic_clock_back() {
        let _mem = crate::kernel::testing::setup_memory();
        let s0 = Sample {
            tsc: 1000,
            mono: 5_000,
            real: 1_000_000_005_000,
        };
        let mut st = state(s0);
        let d = published(&st);
        assert_eq!(d.seq % 2, 0, "the page is left consistent");
        assert_eq!((d.tsc_base, d.mono_ns, d.real_ns), (1000, 5_000, s0.real));
        // The host's clock advanced less than the TSC says: keep the
        // extrapolated value and slow down.
        let s1 = Sample {
            tsc: 1000 + 50_000_000,
            mono: 5_000 + 50_000_000 - 300,
            real: s0.real + 50_000_000 - 300,
        };
        let before = extrapolate(&st.data, st.data.mono_ns, s1.tsc);
        rebase(&mut st, s1);
        assert_eq!(st.data.mono_ns, before);
        assert!(st.data.mult < st.rate);
        // Wall and monotonic time move together.
        assert_eq!(st.data.real_ns - st.data.mono_ns, s0.real - s0.mono);
        // The host's clock ahead: step forward to it, at the full rate.
        let s2 = Sample {
            tsc: s1.tsc + 50_000_000,
            mono: s1.mono + 50_000_000 + 10_000,
            real: s1.real + 50_000_000 + 10_000,
        };
        assert!(extrapolate(&st.data, st.data.mono_ns, s2.tsc) < s2.mono);
        rebase(&mut st, s2);
        assert_eq!(st.data.mono_ns, s2.mono);
        assert_eq!(st.data.mult, st.rate);
        assert_eq!(published(&st).mono_ns, s2.mono);
        frame::put(st.vvar.pages[0]);
    }

    #[test]
    fn a_long_gap_between_rebases_does_not_overflow() {
        let d = VvarData {
            tsc_base: 0,
            mult: 3 << SHIFT,
            shift: SHIFT,
            ..Default::default()
        };
        // Ten years of a 3 GHz TSC.
        let ticks = 3_000_000_000u64 * 86_400 * 3650;
        assert_eq!(extrapolate(&d, 7, ticks), 7 + 3 * ticks as i64);
        // A TSC a hair behind the base counts as no time.
        let d = VvarData { tsc_base: 100, ..d };
        assert_eq!(extrapolate(&d, 7, 99), 7);
    }
}
