//! PID namespaces: each process has a number in its own pid namespace and
//! in every ancestor (Linux's struct pid with one upid per level). The
//! kernel keeps working with the initial namespace's numbers ("global"
//! pids, the keys of the task tables); this module maps them to the
//! numbers a namespace sees and back, allocates the per-level numbers at
//! fork and frees them with the pid, and knows each namespace's init
//! (its child reaper) and whether it still takes new processes.

use super::{Data, Kind, Ns};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{lock, Pid, Task};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Linux's MAX_PID_NS_LEVEL: deeper nesting is ENOSPC.
pub const MAX_LEVEL: usize = 32;
const PID_MAX: Pid = 32768;
/// After a wrap, numbering starts again here (Linux's RESERVED_PIDS).
const RESERVED: Pid = 300;

/// What a pid namespace holds.
pub struct PidNs {
    /// 0 for the initial namespace.
    pub level: usize,
    /// The namespace it was made in (None for the initial one).
    pub parent: Option<Arc<Ns>>,
    st: Mutex<PidState>,
}

#[derive(Default)]
struct PidState {
    /// This namespace's numbers to global pids (empty for the initial
    /// namespace, where they are the same).
    by_local: BTreeMap<Pid, Pid>,
    /// The last number handed out (ns_last_pid).
    last: Pid,
    /// The global pid of the namespace's init, once forked and until
    /// its pid is freed.
    reaper: Option<Pid>,
    /// Its init was forked (it may be gone since).
    had_init: bool,
    /// Its init exited: no process may enter any more (fork: ENOMEM).
    dead: bool,
}

impl PidNs {
    pub fn initial() -> PidNs {
        PidNs {
            level: 0,
            parent: None,
            st: Default::default(),
        }
    }
}

/// Each global pid's numbers in the non-initial namespaces it is in,
/// outermost first (a pid only in the initial namespace has none).
static UPIDS: Mutex<BTreeMap<Pid, Vec<(Arc<Ns>, Pid)>>> = Mutex::new(BTreeMap::new());

fn data(ns: &Ns) -> &PidNs {
    match &ns.data {
        Data::Pid(p) => p,
        _ => panic!("not a pid namespace"),
    }
}

/// The pid namespace data of `ns` (which must be a pid namespace).
pub fn of(ns: &Ns) -> &PidNs {
    data(ns)
}

/// A new pid namespace inside `parent` (ENOSPC past 32 levels).
pub fn new_child(parent: &Arc<Ns>) -> KResult<PidNs> {
    let level = data(parent).level + 1;
    if level > MAX_LEVEL {
        return Err(Errno::ENOSPC);
    }
    Ok(PidNs {
        level,
        parent: Some(parent.clone()),
        st: Default::default(),
    })
}

/// `ns` and its ancestors up to (not including) the initial namespace,
/// innermost first.
fn chain(ns: &Arc<Ns>) -> Vec<Arc<Ns>> {
    let mut v = Vec::new();
    let mut cur = ns.clone();
    while let Some(p) = data(&cur).parent.clone() {
        v.push(cur);
        cur = p;
    }
    v
}

/// Give the new process or thread `global` its numbers in `ns` and the
/// namespaces above it. `want`: the number it must have in `ns`
/// (clone3's set_tid). ENOMEM when `ns`'s init has exited (or its first
/// process was never its init), EEXIST when `want` is taken.
pub fn alloc(ns: &Arc<Ns>, global: Pid, want: Option<Pid>) -> KResult<()> {
    let levels = chain(ns);
    if levels.is_empty() {
        return Ok(());
    }
    let mut upids = lock(&UPIDS);
    let mut got: Vec<(Arc<Ns>, Pid)> = Vec::new();
    let undo = |got: &[(Arc<Ns>, Pid)]| {
        for (n, l) in got {
            lock(&data(n).st).by_local.remove(l);
        }
    };
    for (i, n) in levels.iter().enumerate() {
        let mut st = lock(&data(n).st);
        if st.dead {
            drop(st);
            undo(&got);
            return Err(Errno::ENOMEM);
        }
        let local = match want.filter(|_| i == 0) {
            Some(w) => {
                if st.by_local.contains_key(&w) {
                    drop(st);
                    undo(&got);
                    return Err(Errno::EEXIST);
                }
                w
            }
            None => match next_free(&mut st) {
                Some(l) => l,
                None => {
                    drop(st);
                    undo(&got);
                    return Err(Errno::EAGAIN);
                }
            },
        };
        st.by_local.insert(local, global);
        st.last = local;
        if i == 0 && local == 1 {
            st.reaper = Some(global);
            st.had_init = true;
        }
        got.push((n.clone(), local));
    }
    got.reverse();
    upids.insert(global, got);
    Ok(())
}

/// The next free number after the last one, wrapping as Linux does.
fn next_free(st: &mut PidState) -> Option<Pid> {
    let mut p = st.last;
    for _ in 0..PID_MAX {
        p += 1;
        if p >= PID_MAX {
            p = RESERVED;
        }
        if !st.by_local.contains_key(&p) {
            return Some(p);
        }
    }
    None
}

/// The pid `global` is gone (no task or process holds it): free its
/// numbers in every namespace.
pub fn release(global: Pid) {
    let Some(levels) = lock(&UPIDS).remove(&global) else {
        return;
    };
    for (n, l) in levels {
        let mut st = lock(&data(&n).st);
        st.by_local.remove(&l);
        if st.reaper == Some(global) {
            st.reaper = None;
        }
    }
}

/// Process `global` exited: if it was a member of a namespace whose
/// init is gone, the init's parent may be waiting for the last of them.
pub fn member_exited(global: Pid) {
    use crate::kernel::task;
    let ns = ns_of_pid(global);
    if data(&ns).level == 0 || !lock(&data(&ns).st).dead {
        return;
    }
    let Some(init) = reaper(&ns).filter(|&r| r != global) else {
        return;
    };
    let parent = task::group(init).map(|g| g.lock().parent);
    if let Some(pg) = parent.and_then(task::group) {
        pg.child_wq.wake_all();
    }
}

/// Is `global` a dead namespace's init with other members still running:
/// its parent may not reap it before they are gone (Linux's init waits
/// for them in zap_pid_ns_processes).
pub fn init_still_zapping(global: Pid) -> bool {
    use crate::kernel::task;
    let Some(ns) = init_of(global) else {
        return false;
    };
    let members: Vec<Pid> = {
        let st = lock(&data(&ns).st);
        if !st.dead {
            return false;
        }
        st.by_local.values().copied().collect()
    };
    members
        .into_iter()
        .filter(|&m| m != global)
        .any(|m| task::group(m).is_some_and(|g| g.lock().zombie.is_none()))
}

/// Forget every namespace number (reboot).
pub fn clear_all() {
    let all = std::mem::take(&mut *lock(&UPIDS));
    drop(all);
}

/// The number `global` has in `ns`; 0 when it is not in it (Linux's
/// pid_nr_ns).
pub fn nr_in(global: Pid, ns: &Ns) -> Pid {
    if global <= 0 {
        return 0;
    }
    if data(ns).level == 0 {
        return global;
    }
    lock(&UPIDS)
        .get(&global)
        .and_then(|v| v.iter().find(|(n, _)| std::ptr::eq(&**n, ns)).map(|x| x.1))
        .unwrap_or(0)
}

/// The global pid of number `local` in `ns`, if there is one.
pub fn find_in(local: Pid, ns: &Ns) -> Option<Pid> {
    if local <= 0 {
        return None;
    }
    if data(ns).level == 0 {
        return Some(local);
    }
    lock(&data(ns).st).by_local.get(&local).copied()
}

/// The innermost pid namespace `global` is in (the one it was forked
/// into).
pub fn ns_of_pid(global: Pid) -> Arc<Ns> {
    lock(&UPIDS)
        .get(&global)
        .and_then(|v| v.last().map(|x| x.0.clone()))
        .unwrap_or_else(|| super::INIT.of(Kind::Pid))
}

/// `global`'s numbers from namespace `from` down to its own (the NSpid
/// line); empty when `from` does not see it.
pub fn numbers_from(global: Pid, from: &Ns) -> Vec<Pid> {
    let levels = lock(&UPIDS).get(&global).cloned().unwrap_or_default();
    let mut v = Vec::new();
    if data(from).level == 0 {
        v.push(global);
        v.extend(levels.iter().map(|x| x.1));
        return v;
    }
    match levels.iter().position(|(n, _)| std::ptr::eq(&**n, from)) {
        Some(i) => levels[i..].iter().map(|x| x.1).collect(),
        None => v,
    }
}

/// The pid namespace `t` lives in (Linux's task_active_pid_ns).
pub fn active(t: &Task) -> Arc<Ns> {
    t.lock().ns.pid.clone()
}

/// `global` as `t` sees it (0: not visible).
pub fn vnr(t: &Task, global: Pid) -> Pid {
    nr_in(global, &active(t))
}

/// The global pid of `local` as `t` names it.
pub fn find(t: &Task, local: Pid) -> Option<Pid> {
    find_in(local, &active(t))
}

/// The global pid of `ns`'s init (its child reaper), while it lives.
pub fn reaper(ns: &Ns) -> Option<Pid> {
    if data(ns).level == 0 {
        return Some(1);
    }
    lock(&data(ns).st).reaper
}

/// Has `ns`'s init exited (the namespace takes no new processes).
pub fn is_dead(ns: &Ns) -> bool {
    data(ns).level > 0 && lock(&data(ns).st).dead
}

/// Was `ns`'s init ever forked (/proc/PID/ns/pid_for_children shows it
/// from then on).
pub fn had_init(ns: &Ns) -> bool {
    data(ns).level == 0 || lock(&data(ns).st).had_init
}

/// Is process `global` the init of a non-initial pid namespace; that
/// namespace if so.
pub fn init_of(global: Pid) -> Option<Arc<Ns>> {
    let ns = ns_of_pid(global);
    (data(&ns).level > 0 && reaper(&ns) == Some(global)).then_some(ns)
}

/// `ns`'s init is exiting: no process may enter it any more; the global
/// pids of the processes in it (for SIGKILL).
pub fn zap(ns: &Ns) -> Vec<Pid> {
    let mut st = lock(&data(ns).st);
    st.dead = true;
    st.by_local.values().copied().collect()
}

/// The last number handed out in `ns` (ns_last_pid).
pub fn last_in(ns: &Ns) -> Pid {
    if data(ns).level == 0 {
        return crate::kernel::task::last_pid();
    }
    lock(&data(ns).st).last
}

/// Write ns_last_pid (CAP_SYS_ADMIN over the namespace's owner).
pub fn set_last_in(ns: &Ns, v: Pid) -> KResult<()> {
    if !(0..PID_MAX).contains(&v) {
        return Err(Errno::EINVAL);
    }
    if data(ns).level == 0 {
        crate::kernel::task::set_last_pid(v);
        return Ok(());
    }
    lock(&data(ns).st).last = v;
    Ok(())
}

/// Is `ns` `anc` or one of its descendants.
pub fn is_descendant(ns: &Arc<Ns>, anc: &Arc<Ns>) -> bool {
    let mut cur = Some(ns.clone());
    while let Some(n) = cur {
        if Arc::ptr_eq(&n, anc) {
            return true;
        }
        cur = data(&n).parent.clone();
    }
    false
}
