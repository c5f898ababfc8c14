//! System-wide /proc files: meminfo, cpuinfo, uptime, loadavg and stat
//! (the CPU's accounted user, system and idle time).

use crate::kernel::acct::{self, ticks};
use crate::kernel::errno::KResult;
use crate::kernel::task::{self, State};
use crate::kernel::{loadavg, time};

pub(super) fn meminfo() -> KResult<String> {
    let (total, free) = crate::mm::frame::stats();
    let (cached, buffers) = crate::fs::ext4::cache_frames();
    let kb = |f: u64| f * 4;
    Ok(format!(
        "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\nBuffers:        {:8} kB\nCached:         {:8} kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\nShmem:                 0 kB\n",
        kb(total),
        kb(free),
        // Clean cache comes back under pressure; dirty pages are few.
        kb(free + cached + buffers),
        kb(buffers),
        kb(cached)
    ))
}

pub(super) fn cpuinfo() -> KResult<String> {
    let (model, flags) = (crate::arch::cpu::model_name(), crate::arch::cpu::flags());
    let n = crate::arch::cpu::ncpus();
    Ok((0..n)
        .map(|p| {
            format!(
                "processor\t: {p}\nvendor_id\t: ruml\nmodel name\t: {model}\nflags\t\t: {flags}\nbogomips\t: 4000.00\nphysical id\t: 0\nsiblings\t: {n}\ncore id\t\t: {p}\ncpu cores\t: {n}\n\n"
            )
        })
        .collect())
}

/// Seconds with two decimals, as /proc/uptime.
fn secs(ns: i64) -> String {
    format!("{}.{:02}", ns / 1_000_000_000, (ns / 10_000_000) % 100)
}

pub(super) fn uptime() -> KResult<String> {
    let idle = acct::cpu_stat().idle;
    Ok(format!(
        "{} {}
",
        secs(time::uptime_ns()),
        secs(idle)
    ))
}

/// Runnable tasks and those asleep for a disk.
fn running_and_blocked() -> (usize, usize) {
    let tasks = task::all_tasks();
    let running = tasks
        .iter()
        .filter(|t| t.state() == State::Runnable)
        .count();
    let blocked = tasks
        .iter()
        .filter(|t| {
            let i = t.lock();
            i.state == State::Blocked && i.io_wait
        })
        .count();
    (running, blocked)
}

pub(super) fn loadavg() -> KResult<String> {
    loadavg::sample(time::monotonic_ns());
    let [a, b, c] = loadavg::averages();
    let (running, _) = running_and_blocked();
    Ok(format!(
        "{a} {b} {c} {running}/{} {}\n",
        task::all_tasks().len(),
        task::last_pid()
    ))
}

/// /proc/stat: the total, then each vCPU; nice, iowait, irq, softirq,
/// steal and guest time are not told apart (0).
pub(super) fn kstat() -> KResult<String> {
    let times = |c: &acct::CpuStat| {
        format!(
            "{} 0 {} {} 0 0 0 0 0 0",
            ticks(c.user),
            ticks(c.system),
            ticks(c.idle)
        )
    };
    let c = acct::cpu_stat();
    let mut cpus = format!("cpu  {}\n", times(&c));
    for n in 0..crate::arch::cpu::ncpus() {
        cpus.push_str(&format!("cpu{n} {}\n", times(&acct::cpu_stat_of(n))));
    }
    let (running, blocked) = running_and_blocked();
    Ok(format!(
        "{cpus}intr 0\nctxt {}\nbtime {}\nprocesses {}\nprocs_running {running}\nprocs_blocked {blocked}\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
        c.ctxt,
        (time::realtime_ns() - time::uptime_ns()) / 1_000_000_000,
        c.forks,
    ))
}
