//! The control files of a cgroup directory: which exist where, what they
//! show and how writes to them are parsed (Linux's cgroup core, memory,
//! pids and cpu controller files and their errnos).

use super::tree::{self, tree, Id, CPU, MEMORY, PIDS, ROOT};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task;
use crate::mm::frame::PAGE_SIZE;

/// Where a file appears.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every group, the root too.
    All,
    /// Every group but the root.
    NonRoot,
}

pub struct Spec {
    pub name: &'static str,
    /// 0 for core files, else the controller that must be enabled (by the
    /// parent's subtree_control) for the file to exist; never at the root.
    pub controller: u8,
    pub scope: Scope,
    pub writable: bool,
    pub read: fn(Id) -> KResult<String>,
    pub write: fn(Id, &str) -> KResult<()>,
}

fn ro(_: Id, _: &str) -> KResult<()> {
    Err(Errno::EACCES)
}

const fn core(
    name: &'static str,
    scope: Scope,
    read: fn(Id) -> KResult<String>,
    write: Option<fn(Id, &str) -> KResult<()>>,
) -> Spec {
    let (writable, write) = match write {
        Some(w) => (true, w),
        None => (false, ro as fn(Id, &str) -> KResult<()>),
    };
    Spec {
        name,
        controller: 0,
        scope,
        writable,
        read,
        write,
    }
}

const fn ctl(
    controller: u8,
    name: &'static str,
    read: fn(Id) -> KResult<String>,
    write: Option<fn(Id, &str) -> KResult<()>>,
) -> Spec {
    let mut s = core(name, Scope::NonRoot, read, write);
    s.controller = controller;
    s
}

/// Every control file, in the order `ls` shows them.
pub static FILES: &[Spec] = &[
    core("cgroup.controllers", Scope::All, read_controllers, None),
    core("cgroup.events", Scope::NonRoot, read_events, None),
    core(
        "cgroup.freeze",
        Scope::NonRoot,
        read_freeze,
        Some(write_freeze),
    ),
    core(
        "cgroup.kill",
        Scope::NonRoot,
        |_| Err(Errno::EINVAL),
        Some(write_kill),
    ),
    core(
        "cgroup.max.depth",
        Scope::All,
        read_max_depth,
        Some(write_max_depth),
    ),
    core(
        "cgroup.max.descendants",
        Scope::All,
        read_max_desc,
        Some(write_max_desc),
    ),
    core("cgroup.procs", Scope::All, read_procs, Some(write_procs)),
    core("cgroup.stat", Scope::All, read_stat, None),
    core(
        "cgroup.subtree_control",
        Scope::All,
        read_subtree,
        Some(write_subtree),
    ),
    core(
        "cgroup.threads",
        Scope::All,
        read_threads,
        Some(write_threads),
    ),
    core(
        "cgroup.type",
        Scope::NonRoot,
        |_| Ok("domain\n".into()),
        Some(write_type),
    ),
    ctl(CPU, "cpu.max", read_cpu_max, Some(write_cpu_max)),
    core("cpu.stat", Scope::All, read_cpu_stat, None),
    ctl(CPU, "cpu.weight", read_cpu_weight, Some(write_cpu_weight)),
    ctl(MEMORY, "memory.current", read_mem_current, None),
    ctl(MEMORY, "memory.events", read_mem_events, None),
    ctl(
        MEMORY,
        "memory.high",
        |id| show_max(tree().get(id)?.mem_high),
        Some(write_mem_high),
    ),
    ctl(
        MEMORY,
        "memory.low",
        |id| Ok(format!("{}\n", tree().get(id)?.mem_low)),
        Some(write_mem_low),
    ),
    ctl(
        MEMORY,
        "memory.max",
        |id| show_max(tree().get(id)?.mem_max),
        Some(write_mem_max),
    ),
    ctl(
        MEMORY,
        "memory.min",
        |id| Ok(format!("{}\n", tree().get(id)?.mem_min)),
        Some(write_mem_min),
    ),
    ctl(
        PIDS,
        "pids.current",
        |id| Ok(format!("{}\n", tree().tasks(id, true).len())),
        None,
    ),
    ctl(
        PIDS,
        "pids.events",
        |id| Ok(format!("max {}\n", tree().get(id)?.pids_max_events)),
        None,
    ),
    ctl(
        PIDS,
        "pids.max",
        |id| show_max(tree().get(id)?.pids_max),
        Some(write_pids_max),
    ),
];

/// Does file `s` exist in group `id`?
pub fn present(s: &Spec, id: Id) -> bool {
    if id == ROOT {
        return s.scope == Scope::All && s.controller == 0;
    }
    s.controller == 0 || tree().controllers(id) & s.controller != 0
}

fn show_max(v: Option<u64>) -> KResult<String> {
    Ok(match v {
        Some(n) => format!("{n}\n"),
        None => "max\n".into(),
    })
}

/// "max" or a number (`parse`), the write's text stripped of whitespace.
fn parse_max(s: &str, parse: impl Fn(&str) -> Option<u64>) -> KResult<Option<u64>> {
    let s = s.trim();
    if s == "max" {
        return Ok(None);
    }
    parse(s).map(Some).ok_or(Errno::EINVAL)
}

/// A memory size: memparse's suffixes, kept in whole pages (Linux's
/// page_counter_memparse).
fn mem_size(s: &str) -> KResult<Option<u64>> {
    parse_max(s, |v| {
        let (num, shift) = match v.chars().last()? {
            'k' | 'K' => (&v[..v.len() - 1], 10),
            'm' | 'M' => (&v[..v.len() - 1], 20),
            'g' | 'G' => (&v[..v.len() - 1], 30),
            't' | 'T' => (&v[..v.len() - 1], 40),
            _ => (v, 0),
        };
        let b = num.parse::<u64>().ok()?.checked_mul(1u64 << shift)?;
        Some(b / PAGE_SIZE * PAGE_SIZE)
    })
}

fn read_controllers(id: Id) -> KResult<String> {
    let t = tree();
    t.get(id)?;
    Ok(format!("{}\n", tree::mask_names(t.controllers(id))))
}

fn read_subtree(id: Id) -> KResult<String> {
    Ok(format!("{}\n", tree::mask_names(tree().get(id)?.subtree)))
}

/// "+memory -cpu": Linux's cgroup_subtree_control_write. ENOENT for a
/// controller the group does not have, EBUSY to enable one in a group
/// with processes of its own (not the root: "no internal processes") or
/// to disable one a child still passes on, EINVAL for other words.
fn write_subtree(id: Id, text: &str) -> KResult<()> {
    let mut t = tree();
    let have = t.controllers(id);
    let (mut enable, mut disable) = (0u8, 0u8);
    for w in text.split_whitespace() {
        let (on, name) = match w.split_at(1) {
            ("+", n) => (true, n),
            ("-", n) => (false, n),
            _ => return Err(Errno::EINVAL),
        };
        let bit = tree::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(b, _)| *b)
            .ok_or(Errno::EINVAL)?;
        if on {
            enable |= bit;
            disable &= !bit;
        } else {
            disable |= bit;
            enable &= !bit;
        }
    }
    if enable & !have != 0 {
        return Err(Errno::ENOENT);
    }
    let g = t.get(id)?;
    let enable = enable & !g.subtree;
    if enable != 0 && id != ROOT && !t.tasks(id, false).is_empty() {
        return Err(Errno::EBUSY);
    }
    let children: Vec<Id> = g.children.values().copied().collect();
    for c in children {
        if t.get(c)?.subtree & disable != 0 {
            return Err(Errno::EBUSY);
        }
    }
    let g = t.get_mut(id)?;
    g.subtree = (g.subtree | enable) & !disable;
    Ok(())
}

fn read_events(id: Id) -> KResult<String> {
    let t = tree();
    let populated = !t.tasks(id, true).is_empty();
    Ok(format!(
        "populated {}\nfrozen {}\n",
        populated as u8,
        t.get(id)?.freeze as u8
    ))
}

fn read_freeze(id: Id) -> KResult<String> {
    Ok(format!("{}\n", tree().get(id)?.freeze as u8))
}

/// cgroup.freeze: 0 or 1 (ERANGE otherwise). Freezing is recorded but
/// tasks keep running.
fn write_freeze(id: Id, text: &str) -> KResult<()> {
    let v: i64 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
    if !(0..=1).contains(&v) {
        return Err(Errno::ERANGE);
    }
    tree().get_mut(id)?.freeze = v == 1;
    Ok(())
}

/// cgroup.kill: "1" kills every process in the group and below.
fn write_kill(id: Id, text: &str) -> KResult<()> {
    let v: i64 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
    if v != 1 {
        return Err(Errno::ERANGE);
    }
    let procs = tree().procs(id, true);
    for p in procs {
        let _ = crate::kernel::signal::send_to_process(
            p,
            crate::kernel::signal::SigInfo::kernel(crate::kernel::signal::SIGKILL),
        );
    }
    Ok(())
}

fn read_max_depth(id: Id) -> KResult<String> {
    show_max(tree().get(id)?.max_depth)
}

fn write_max_depth(id: Id, text: &str) -> KResult<()> {
    let v = parse_max(text, |s| s.parse().ok())?;
    tree().get_mut(id)?.max_depth = v;
    Ok(())
}

fn read_max_desc(id: Id) -> KResult<String> {
    show_max(tree().get(id)?.max_descendants)
}

fn write_max_desc(id: Id, text: &str) -> KResult<()> {
    let v = parse_max(text, |s| s.parse().ok())?;
    tree().get_mut(id)?.max_descendants = v;
    Ok(())
}

fn read_stat(id: Id) -> KResult<String> {
    let t = tree();
    t.get(id)?;
    Ok(format!(
        "nr_descendants {}\nnr_dying_descendants 0\n",
        t.nr_descendants(id)
    ))
}

fn lines(v: Vec<i32>) -> String {
    v.iter().map(|p| format!("{p}\n")).collect()
}

fn read_procs(id: Id) -> KResult<String> {
    let t = tree();
    t.get(id)?;
    Ok(lines(t.procs(id, false)))
}

fn read_threads(id: Id) -> KResult<String> {
    let t = tree();
    t.get(id)?;
    Ok(lines(t.tasks(id, false)))
}

/// The pid written to cgroup.procs or cgroup.threads: 0 is the writer.
fn target_pid(text: &str) -> KResult<i32> {
    let pid: i32 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid == 0 {
        return crate::kernel::current::tgid().ok_or(Errno::ESRCH);
    }
    Ok(pid)
}

/// Move process `pid` (every thread of it) into `id`: EBUSY if `id` is
/// not the root and passes controllers to children (no internal
/// processes), ESRCH for no such process.
fn write_procs(id: Id, text: &str) -> KResult<()> {
    let pid = target_pid(text)?;
    let tg = task::find_tg_of(pid).ok_or(Errno::ESRCH)?;
    let threads = tg.lock().threads.clone();
    let mut t = tree();
    if id != ROOT && t.get(id)?.subtree != 0 {
        return Err(Errno::EBUSY);
    }
    t.get(id)?;
    for tid in threads {
        t.set(tid, id);
    }
    Ok(())
}

/// A domain group takes single threads only from itself (Linux:
/// EOPNOTSUPP to split a process across domain groups).
fn write_threads(id: Id, text: &str) -> KResult<()> {
    let pid = target_pid(text)?;
    task::task(pid).ok_or(Errno::ESRCH)?;
    let t = tree();
    if t.group_of(pid) == id {
        return Ok(());
    }
    Err(Errno::EOPNOTSUPP)
}

/// cgroup.type: only "threaded" is a valid change, and threaded
/// subtrees are not built here.
fn write_type(_: Id, text: &str) -> KResult<()> {
    match text.trim() {
        "threaded" => Err(Errno::EOPNOTSUPP),
        _ => Err(Errno::EINVAL),
    }
}

fn read_cpu_max(id: Id) -> KResult<String> {
    let t = tree();
    let g = t.get(id)?;
    Ok(match g.cpu_quota {
        Some(q) => format!("{q} {}\n", g.cpu_period),
        None => format!("max {}\n", g.cpu_period),
    })
}

/// "$MAX [$PERIOD]": quota at least 1 ms, period 1 ms..1 s (EINVAL), as
/// Linux's tg_set_cfs_bandwidth.
fn write_cpu_max(id: Id, text: &str) -> KResult<()> {
    let mut w = text.split_whitespace();
    let quota = parse_max(w.next().ok_or(Errno::EINVAL)?, |s| s.parse().ok())?;
    let mut t = tree();
    let period = match w.next() {
        Some(p) => p.parse::<u64>().map_err(|_| Errno::EINVAL)?,
        None => t.get(id)?.cpu_period,
    };
    if w.next().is_some() || !(1000..=1_000_000).contains(&period) {
        return Err(Errno::EINVAL);
    }
    if quota.is_some_and(|q| q < 1000) {
        return Err(Errno::EINVAL);
    }
    let g = t.get_mut(id)?;
    g.cpu_quota = quota;
    g.cpu_period = period;
    Ok(())
}

fn read_cpu_weight(id: Id) -> KResult<String> {
    Ok(format!("{}\n", tree().get(id)?.cpu_weight))
}

/// 1..10000, ERANGE outside (Linux's cpu_weight_write_u64).
fn write_cpu_weight(id: Id, text: &str) -> KResult<()> {
    let v: u64 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
    if !(1..=10000).contains(&v) {
        return Err(Errno::ERANGE);
    }
    tree().get_mut(id)?.cpu_weight = v;
    Ok(())
}

/// cpu.stat: the CPU time of the live tasks in the group and below.
fn read_cpu_stat(id: Id) -> KResult<String> {
    let tids = {
        let t = tree();
        t.get(id)?;
        t.tasks(id, true)
    };
    let (mut user, mut sys) = (0i64, 0i64);
    for tid in tids {
        if let Some(x) = task::task(tid) {
            let u = x.acct.usage();
            user += u.utime;
            sys += u.stime;
        }
    }
    let (user, sys) = (user / 1000, sys / 1000);
    let mut s = format!(
        "usage_usec {}\nuser_usec {user}\nsystem_usec {sys}\n",
        user + sys
    );
    if id != ROOT {
        s.push_str("nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n");
    }
    Ok(s)
}

fn read_mem_current(id: Id) -> KResult<String> {
    tree().get(id)?;
    Ok(format!("{}\n", super::memory_usage(id)))
}

fn read_mem_events(id: Id) -> KResult<String> {
    let t = tree();
    let g = t.get(id)?;
    Ok(format!(
        "low 0\nhigh 0\nmax {}\noom {}\noom_kill {}\noom_group_kill 0\n",
        g.mem_max_events, g.oom_kills, g.oom_kills
    ))
}

fn write_mem_max(id: Id, text: &str) -> KResult<()> {
    let v = mem_size(text)?;
    tree().get_mut(id)?.mem_max = v;
    if v.is_some() {
        super::MEM_LIMITS.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}

fn write_mem_high(id: Id, text: &str) -> KResult<()> {
    let v = mem_size(text)?;
    tree().get_mut(id)?.mem_high = v;
    Ok(())
}

fn write_mem_low(id: Id, text: &str) -> KResult<()> {
    let v = mem_size(text)?.unwrap_or(u64::MAX / PAGE_SIZE * PAGE_SIZE);
    tree().get_mut(id)?.mem_low = v;
    Ok(())
}

fn write_mem_min(id: Id, text: &str) -> KResult<()> {
    let v = mem_size(text)?.unwrap_or(u64::MAX / PAGE_SIZE * PAGE_SIZE);
    tree().get_mut(id)?.mem_min = v;
    Ok(())
}

/// pids.max: "max" or 0..PID_MAX_LIMIT (EINVAL otherwise).
fn write_pids_max(id: Id, text: &str) -> KResult<()> {
    let v = parse_max(text, |s| s.parse::<u64>().ok().filter(|&n| n <= 4_194_304))?;
    tree().get_mut(id)?.pids_max = v;
    Ok(())
}
