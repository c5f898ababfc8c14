//! /proc/PID/stat, statm and status (and task/TID/stat): a process's
//! state, accounting and memory figures in Linux's formats, field for
//! field, because procps parses them by position.

use super::pid::{group_task, state_char, thread_state_char};
use crate::kernel::acct::{self, ticks};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::{SIG_DFL, SIG_IGN};
use crate::kernel::task::{self, lock, Pid, Task, ThreadGroup, Tid};
use crate::kernel::time;
use crate::mm::stats::MemStats;
use std::fmt::Write;
use std::sync::Arc;

use crate::kernel::ns::{pid as pidns, Ns};

const PAGE_KB: u64 = 4;

/// Process `p` as the proc mount's pid namespace `ns` numbers it (0: not
/// there).
fn nr(ns: &Ns, p: Pid) -> Pid {
    pidns::nr_in(p, ns)
}

/// The NS* status lines' list: `p`'s numbers from `ns` down to its own
/// namespace, tab-separated (0 when `ns` does not see it).
fn nr_list(ns: &Ns, p: Pid) -> String {
    let v = pidns::numbers_from(p, ns);
    if v.is_empty() {
        return "0".into();
    }
    v.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("\t")
}
/// PF_RANDOMIZE, what every user process shows in Linux's stat flags.
const PF_RANDOMIZE: u64 = 0x0040_0000;
const RLIMIT_RSS: usize = 5;
const RLIMIT_SIGPENDING: usize = 11;

/// Ignored and caught signals of `t` (its handlers), as masks.
fn ignored_caught(t: &Task) -> (u64, u64) {
    let sh = t.sighand();
    let sh = lock(&sh);
    let mut ign = 0;
    let mut cgt = 0;
    for (i, a) in sh.actions.iter().enumerate() {
        match a.handler {
            SIG_IGN => ign |= 1 << i,
            SIG_DFL => {}
            _ => cgt |= 1 << i,
        }
    }
    (ign, cgt)
}

/// The task's start as clock ticks after boot.
fn start_ticks(t: &Task) -> u64 {
    let boot = time::monotonic_ns() - time::uptime_ns();
    ticks(t.lock().start_time - boot)
}

fn mem_of(t: &Task) -> (MemStats, crate::mm::stats::Layout, u64) {
    let mm = t.mm();
    let m = mm.lock();
    (m.mem_stats(), m.layout, m.brk_start)
}

/// /proc/PID/stat (`tid`: /proc/PID/task/TID/stat, that thread's own
/// times, faults and state).
pub(super) fn proc_stat(ns: &Ns, pid: Pid, tid: Option<Tid>) -> KResult<String> {
    let g = task::group(pid).ok_or(Errno::ENOENT)?;
    let t = match tid {
        Some(tid) => task::task(tid).ok_or(Errno::ENOENT)?,
        None => match group_task(pid) {
            Ok(t) => t,
            Err(e) => return zombie_stat(ns, pid, &g).ok_or(e),
        },
    };
    let nice = t.lock().nice;
    let (ppid, pgid, sid, nthreads, exit_signal, rsslim, zombie, ga) = {
        let i = g.lock();
        (
            i.parent,
            i.pgid,
            i.sid,
            i.threads.len(),
            i.exit_signal,
            i.rlimits[RLIMIT_RSS].0,
            i.zombie,
            i.acct,
        )
    };
    let (state, own) = match tid {
        Some(_) => (thread_state_char(&t), t.acct.usage()),
        None => (state_char(pid), acct::process_usage(&g)),
    };
    let ch = ga.children;
    let (comm, blocked, own_pending) = {
        let i = t.lock();
        (i.comm.clone(), i.sigmask, i.pending.set)
    };
    let pending = own_pending | g.lock().pending.set;
    let (ign, cgt) = ignored_caught(&t);
    let (mem, layout, start_brk) = mem_of(&t);
    let (arg_start, arg_end, env_start, env_end) = {
        let mm = t.mm();
        let m = mm.lock();
        (m.arg_start, m.arg_end, m.env_start, m.env_end)
    };
    // tty_nr (the device number, Linux's new_encode_dev like our rdev)
    // and tpgid (its foreground group) of the controlling tty.
    let (tty_nr, tpgid) =
        crate::tty::jobctl::ctty_of(&t).map_or((0, -1), |c| (c.rdev, c.foreground()));
    let tpgid = if tpgid > 0 { nr(ns, tpgid) } else { tpgid };
    let (ppid, pgid, sid) = (nr(ns, ppid), nr(ns, pgid), nr(ns, sid));
    // The old signal fields are decimal and cover signals 1-31 only.
    let low = |m: u64| m & 0x7fff_ffff;
    // Addresses, wchan and the exit code only for those who may
    // ptrace-read the process (Linux's do_task_stat): the layout would
    // give away where ASLR put things. The code range shows as 1 1.
    let permitted =
        crate::kernel::ptrace_access::check_read(super::current_tgid().ok(), pid).is_ok();
    let show = |v: u64| if permitted { v } else { 0 };
    let (start_code, end_code) = if permitted {
        (layout.start_code, layout.end_code)
    } else {
        (1, 1)
    };
    let wchan = (permitted && matches!(state, 'S' | 'D')) as u8;
    let fields: [String; 50] = [
        state.to_string(),
        ppid.to_string(),
        pgid.to_string(),
        sid.to_string(),
        tty_nr.to_string(),
        tpgid.to_string(),
        PF_RANDOMIZE.to_string(),
        own.minflt.to_string(),
        ch.minflt.to_string(),
        own.majflt.to_string(),
        ch.majflt.to_string(),
        ticks(own.utime).to_string(),
        ticks(own.stime).to_string(),
        ticks(ch.utime).to_string(),
        ticks(ch.stime).to_string(),
        (20 + nice).to_string(), // priority
        nice.to_string(),
        nthreads.to_string(),
        "0".into(), // itrealvalue
        start_ticks(&t).to_string(),
        (mem.total * 4096).to_string(),
        mem.rss().to_string(),
        rsslim.to_string(),
        start_code.to_string(),
        end_code.to_string(),
        show(layout.start_stack).to_string(),
        "0".into(), // kstkesp
        "0".into(), // kstkeip
        low(pending).to_string(),
        low(blocked).to_string(),
        low(ign).to_string(),
        low(cgt).to_string(),
        wchan.to_string(),
        "0".into(), // nswap
        "0".into(), // cnswap
        exit_signal.to_string(),
        crate::kernel::smp::task_cpu(t.tid).to_string(), // processor
        "0".into(),                                      // rt_priority
        "0".into(),                                      // policy (SCHED_OTHER)
        "0".into(),                                      // delayacct_blkio_ticks
        "0".into(),                                      // guest_time
        "0".into(),                                      // cguest_time
        show(layout.start_data).to_string(),
        show(layout.end_data).to_string(),
        show(start_brk).to_string(),
        show(arg_start).to_string(),
        show(arg_end).to_string(),
        show(env_start).to_string(),
        show(env_end).to_string(),
        zombie.filter(|_| permitted).unwrap_or(0).to_string(),
    ];
    Ok(format!("{} ({comm}) {}\n", nr(ns, pid), fields.join(" ")))
}

/// Pages of text as Linux counts them (whole pages the code touches).
fn text_pages(l: &crate::mm::stats::Layout) -> u64 {
    let up = |a: u64| a.div_ceil(4096) * 4096;
    (up(l.end_code).saturating_sub(l.start_code & !4095)) / 4096
}

/// /proc/PID/statm: size resident shared text lib data dt, in pages.
pub(super) fn proc_statm(pid: Pid) -> KResult<String> {
    let t = group_task(pid)?;
    let (m, layout, _) = mem_of(&t);
    Ok(format!(
        "{} {} {} {} 0 {} 0\n",
        m.total,
        m.rss(),
        m.rss_file + m.rss_shmem,
        text_pages(&layout),
        m.data + m.stack
    ))
}

fn fd_size(t: &Task) -> usize {
    let files = t.files();
    let max = lock(&files).iter().map(|(fd, _)| fd).max().unwrap_or(0) as usize;
    (max + 1).next_power_of_two().max(64)
}

/// /proc/PID/status.
pub(super) fn proc_status(ns: &Ns, pid: Pid) -> KResult<String> {
    let g = task::group(pid).ok_or(Errno::ENOENT)?;
    let t = match group_task(pid) {
        Ok(t) => t,
        Err(e) => return zombie_status(ns, pid, &g).ok_or(e),
    };
    let mut s = String::new();
    status_ids(&mut s, ns, pid, &t, &g)?;
    status_memory(&mut s, &t);
    status_signals(&mut s, &t, &g);
    let sc = t.lock().seccomp.clone();
    status_tail(&mut s, &sc, crate::kernel::smp::affinity(t.tid), &g);
    Ok(s)
}

/// The capability, seccomp, CPU and context-switch lines of status.
fn status_tail(s: &mut String, sc: &crate::kernel::seccomp::State, mask: u64, g: &ThreadGroup) {
    let c = g.lock().creds.clone();
    let u = acct::process_usage(&g);
    let _ = write!(
        s,
        "CapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\nCapAmb:\t{:016x}\n\
         NoNewPrivs:\t{}\nSeccomp:\t{}\nSeccomp_filters:\t{}\n\
         Speculation_Store_Bypass:\tunknown\nSpeculationIndirectBranch:\tunknown\n\
         Cpus_allowed:\t{mask:x}\nCpus_allowed_list:\t{}\nMems_allowed:\t1\nMems_allowed_list:\t0\n\
         voluntary_ctxt_switches:\t{}\nnonvoluntary_ctxt_switches:\t{}\n",
        c.cap_inheritable,
        c.cap_permitted,
        c.cap_effective,
        c.cap_bset,
        c.cap_ambient,
        sc.no_new_privs as u8,
        sc.mode,
        sc.filters,
        cpu_list(mask),
        u.nvcsw,
        u.nivcsw
    );
}

/// A CPU mask as Linux's list format: "0-1", "0,2-3".
fn cpu_list(mask: u64) -> String {
    let mut parts = Vec::new();
    let mut c = 0;
    while c < 64 {
        if mask & (1 << c) == 0 {
            c += 1;
            continue;
        }
        let start = c;
        while c < 64 && mask & (1 << c) != 0 {
            c += 1;
        }
        parts.push(if c - 1 == start {
            start.to_string()
        } else {
            format!("{start}-{}", c - 1)
        });
    }
    parts.join(",")
}

/// The name, start (clock ticks after boot) and wait status of a process
/// whose threads are all gone (a zombie), if it is one.
fn zombie_of(g: &ThreadGroup) -> Option<(String, u64, i32)> {
    let i = g.lock();
    let status = i.zombie?;
    let (comm, start_ns) = i.last_thread.clone()?;
    let boot = time::monotonic_ns() - time::uptime_ns();
    Some((comm, ticks(start_ns - boot), status))
}

/// /proc/PID/stat of a zombie, as Linux shows one: state Z, its ids and
/// times, no memory (the address space is gone), one thread, the exit
/// status for those who may ptrace-read it.
fn zombie_stat(ns: &Ns, pid: Pid, g: &ThreadGroup) -> Option<String> {
    let (comm, start, status) = zombie_of(g)?;
    let (ppid, pgid, sid, exit_signal, rsslim, ga) = {
        let i = g.lock();
        (
            i.parent,
            i.pgid,
            i.sid,
            i.exit_signal,
            i.rlimits[RLIMIT_RSS].0,
            i.acct,
        )
    };
    let own = acct::process_usage(g);
    let ch = ga.children;
    let (ppid, pgid, sid) = (nr(ns, ppid), nr(ns, pgid), nr(ns, sid));
    let shown = nr(ns, pid);
    let permitted =
        crate::kernel::ptrace_access::check_read(super::current_tgid().ok(), pid).is_ok();
    let code = if permitted { status } else { 0 };
    // wchan: 1 for a task not running, to those permitted.
    let wchan = permitted as u8;
    Some(format!(
        "{shown} ({comm}) Z {ppid} {pgid} {sid} 0 -1 {PF_RANDOMIZE} {} {} {} {} {} {} {} {} 20 0 1 0 {start} \
         0 0 {rsslim} 0 0 0 0 0 0 0 0 0 {wchan} 0 0 {exit_signal} 0 0 0 0 0 0 0 0 0 0 0 0 0 {code}\n",
        own.minflt,
        ch.minflt,
        own.majflt,
        ch.majflt,
        ticks(own.utime),
        ticks(own.stime),
        ticks(ch.utime),
        ticks(ch.stime),
    ))
}

/// /proc/PID/status of a zombie: ids and state, no umask or memory lines
/// (Linux prints those only while the process has them), nothing pending.
fn zombie_status(ns: &Ns, pid: Pid, g: &ThreadGroup) -> Option<String> {
    let (comm, _, _) = zombie_of(g)?;
    let (ppid, pgid, sid, c, sigq_max) = {
        let i = g.lock();
        (
            i.parent,
            i.pgid,
            i.sid,
            i.creds.clone(),
            i.rlimits[RLIMIT_SIGPENDING].0,
        )
    };
    let groups: String = c.groups.iter().map(|g| format!("{g} ")).collect();
    let (nspid, nspgid, nssid) = (nr_list(ns, pid), nr_list(ns, pgid), nr_list(ns, sid));
    let (ppid, pid) = (nr(ns, ppid), nr(ns, pid));
    let mut s = format!(
        "Name:\t{comm}\nState:\tZ (zombie)\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{ppid}\nTracerPid:\t0\n\
         Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t0\nGroups:\t{}\n\
         NStgid:\t{nspid}\nNSpid:\t{nspid}\nNSpgid:\t{nspgid}\nNSsid:\t{nssid}\n\
         Threads:\t1\nSigQ:\t0/{sigq_max}\nSigPnd:\t{z:016x}\nShdPnd:\t{z:016x}\n\
         SigBlk:\t{z:016x}\nSigIgn:\t{z:016x}\nSigCgt:\t{z:016x}\n",
        c.uid,
        c.euid,
        c.suid,
        c.fsuid,
        c.gid,
        c.egid,
        c.sgid,
        c.fsgid,
        if groups.is_empty() { " ".into() } else { groups },
        z = 0,
    );
    status_tail(
        &mut s,
        &Default::default(),
        crate::kernel::smp::online_mask(),
        g,
    );
    Some(s)
}

fn status_ids(s: &mut String, ns: &Ns, pid: Pid, t: &Task, g: &ThreadGroup) -> KResult<()> {
    let (ppid, pgid, sid, c) = {
        let i = g.lock();
        (i.parent, i.pgid, i.sid, i.creds.clone())
    };
    let st = match state_char(pid) {
        'R' => "R (running)",
        'T' => "T (stopped)",
        't' => "t (tracing stop)",
        'Z' => "Z (zombie)",
        'D' => "D (disk sleep)",
        _ => "S (sleeping)",
    };
    let groups: String = c.groups.iter().map(|g| format!("{g} ")).collect();
    // Not inside write!: a task lock taken in its arguments would be held
    // across the whole statement.
    let comm = t.lock().comm.clone();
    let umask = t.fs().umask;
    let tracer = crate::kernel::ptrace::tracer_of(t.tid);
    let tracer = if tracer > 0 { nr(ns, tracer) } else { tracer };
    let (nspid, nspgid, nssid) = (nr_list(ns, pid), nr_list(ns, pgid), nr_list(ns, sid));
    let (ppid, pid) = (nr(ns, ppid), nr(ns, pid));
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t{:04o}\nState:\t{st}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{ppid}\nTracerPid:\t{tracer}\n\
         Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{}\nGroups:\t{}\n\
         NStgid:\t{nspid}\nNSpid:\t{nspid}\nNSpgid:\t{nspgid}\nNSsid:\t{nssid}\n",
        comm,
        umask,
        c.uid,
        c.euid,
        c.suid,
        c.fsuid,
        c.gid,
        c.egid,
        c.sgid,
        c.fsgid,
        fd_size(t),
        // Linux leaves a space after the list, also an empty one.
        if groups.is_empty() { " ".into() } else { groups },
    );
    Ok(())
}

fn status_memory(s: &mut String, t: &Task) {
    let (m, layout, _) = mem_of(t);
    let exec_kb = m.exec * PAGE_KB;
    let exe_kb = (text_pages(&layout) * PAGE_KB).min(exec_kb);
    let lines: [(&str, u64); 16] = [
        ("VmPeak", m.peak_total * PAGE_KB),
        ("VmSize", m.total * PAGE_KB),
        ("VmLck", m.locked * PAGE_KB),
        ("VmPin", 0),
        ("VmHWM", m.peak_rss * PAGE_KB),
        ("VmRSS", m.rss() * PAGE_KB),
        ("RssAnon", m.rss_anon * PAGE_KB),
        ("RssFile", m.rss_file * PAGE_KB),
        ("RssShmem", m.rss_shmem * PAGE_KB),
        ("VmData", m.data * PAGE_KB),
        ("VmStk", m.stack * PAGE_KB),
        ("VmExe", exe_kb),
        ("VmLib", exec_kb - exe_kb),
        ("VmPTE", m.pte_bytes / 1024),
        ("VmSwap", 0),
        ("HugetlbPages", 0),
    ];
    for (name, kb) in lines {
        let _ = writeln!(s, "{name}:\t{kb:8} kB");
    }
    s.push_str("CoreDumping:\t0\nTHP_enabled:\t0\n");
}

fn status_signals(s: &mut String, t: &Arc<Task>, g: &ThreadGroup) {
    let (threads, shared, sigq_max) = {
        let i = g.lock();
        (
            i.threads.len(),
            i.pending.set,
            i.rlimits[RLIMIT_SIGPENDING].0,
        )
    };
    let (own, blocked) = {
        let i = t.lock();
        (i.pending.set, i.sigmask)
    };
    let queued = (own | shared).count_ones();
    let (ign, cgt) = ignored_caught(t);
    let _ = write!(
        s,
        "Threads:\t{threads}\nSigQ:\t{queued}/{sigq_max}\nSigPnd:\t{own:016x}\nShdPnd:\t{shared:016x}\n\
         SigBlk:\t{blocked:016x}\nSigIgn:\t{ign:016x}\nSigCgt:\t{cgt:016x}\n"
    );
}
