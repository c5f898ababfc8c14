//! cgroup v2 (`mount -t cgroup2 none /sys/fs/cgroup`): the hierarchy of
//! control groups, its filesystem, and the kernel's hooks into it —
//! fork checks pids.max and puts the child in its parent's group, a page
//! fault past memory.max OOM-kills the faulting process, /proc/PID/cgroup
//! shows where a process is.
//!
//! Accounting here: pids counts live tasks (threads included) in a group
//! and below; memory counts the resident pages of the group's address
//! spaces (no page cache or kernel memory); cpu sums the tasks' CPU time.
//! cpu.max and cpu.weight are kept and shown but do not throttle.

mod files;
mod node;
mod tree;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{self, Task, Tid};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Has any group ever had a memory.max? Until then a page fault costs
/// nothing here.
static MEM_LIMITS: AtomicBool = AtomicBool::new(false);

/// Mount options Linux's cgroup2 takes; each is accepted and shown.
const OPTIONS: [&str; 5] = [
    "nsdelegate",
    "favordynmods",
    "memory_localevents",
    "memory_recursiveprot",
    "memory_hugetlb_accounting",
];

/// A cgroup2 mount: the root of the one hierarchy and the options shown.
pub fn mount(words: &[String]) -> KResult<(Arc<dyn crate::fs::vfs::Inode>, String)> {
    let mut shown = Vec::new();
    for w in words {
        if !OPTIONS.contains(&w.as_str()) {
            log::error!("cgroup2: Unknown parameter '{w}'");
            return Err(Errno::EINVAL);
        }
        shown.push(w.as_str());
    }
    Ok((Arc::new(node::Dir { id: tree::ROOT }), shown.join(",")))
}

/// The group of task `tid`.
pub fn group_of(tid: Tid) -> tree::Id {
    tree::tree().group_of(tid)
}

/// clone3's CLONE_INTO_CGROUP: the group whose directory `fd` is open on
/// (EBADF for a bad fd or another file, ENODEV for a removed group). A
/// domain group takes a new process only if it passes no controllers to
/// children (EBUSY, as cgroup.procs), and a thread only into its
/// process's group (EOPNOTSUPP: this kernel has no threaded groups).
pub fn clone_target(t: &Task, fd: i32, thread: bool) -> KResult<tree::Id> {
    let f = crate::kernel::sys_fs::fd_file(t, fd)?;
    let id = f
        .inode
        .as_ref()
        .and_then(|i| i.as_any().downcast_ref::<node::Dir>().map(|d| d.id))
        .ok_or(Errno::EBADF)?;
    let tr = tree::tree();
    let g = tr.get(id)?;
    if thread && id != tr.group_of(t.tid) {
        return Err(Errno::EOPNOTSUPP);
    }
    if id != tree::ROOT && g.subtree != 0 {
        return Err(Errno::EBUSY);
    }
    Ok(id)
}

/// Before fork makes a task that will start in group `g`: EAGAIN if `g`
/// or an ancestor with the pids controller is at its pids.max (Linux's
/// pids_can_fork).
pub fn may_fork_into(g: tree::Id) -> KResult<()> {
    let mut tr = tree::tree();
    for a in tr.ancestry(g) {
        let Some(max) = tr.get(a)?.pids_max else {
            continue;
        };
        if tr.controllers(a) & tree::PIDS == 0 {
            continue;
        }
        if tr.tasks(a, true).len() as u64 >= max {
            let path = tr.path(a);
            let grp = tr.get_mut(a)?;
            grp.pids_max_events += 1;
            if grp.pids_max_events == 1 {
                log::info!("cgroup: fork rejected by pids controller in {path}");
            }
            return Err(Errno::EAGAIN);
        }
    }
    Ok(())
}

/// A new task `child` starts in group `g`.
pub fn forked_into(child: Tid, g: tree::Id) {
    tree::tree().set(child, g);
}

/// Bytes resident in the address spaces of the tasks in `id` and below,
/// each address space once.
fn memory_usage(id: tree::Id) -> u64 {
    let tids = tree::tree().tasks(id, true);
    let mut seen = Vec::new();
    let mut pages = 0;
    for tid in tids {
        let Some(t) = task::task(tid) else { continue };
        let mm = t.mm();
        let key = Arc::as_ptr(&mm) as usize;
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        pages += mm.lock().resident_pages();
    }
    pages * crate::mm::frame::PAGE_SIZE
}

/// After a page fault gave `t` a page: if that took its group (or an
/// ancestor) past memory.max, OOM-kill `t`'s process, as Linux's memcg
/// OOM killer does when reclaim cannot bring the group back under it.
pub fn after_fault(t: &Arc<Task>) {
    if !MEM_LIMITS.load(Ordering::Relaxed) {
        return;
    }
    let limits: Vec<(tree::Id, u64)> = {
        let tr = tree::tree();
        let g = tr.group_of(t.tid);
        tr.ancestry(g)
            .into_iter()
            .filter(|&a| tr.controllers(a) & tree::MEMORY != 0)
            .filter_map(|a| Some((a, tr.get(a).ok()?.mem_max?)))
            .collect()
    };
    for (a, max) in limits {
        if memory_usage(a) <= max {
            continue;
        }
        let path = {
            let mut tr = tree::tree();
            if let Ok(g) = tr.get_mut(a) {
                g.mem_max_events += 1;
                g.oom_kills += 1;
            }
            tr.path(a)
        };
        log::error!(
            "memory: usage {}kB, limit {}kB; oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg={path}",
            memory_usage(a) / 1024,
            max / 1024
        );
        crate::kernel::oom::kill_in(t, "Memory cgroup out of memory");
        return;
    }
}

/// /proc/PID/cgroup: "0::/path" for the group of process `pid`.
pub fn proc_cgroup(pid: task::Pid) -> KResult<String> {
    task::group(pid).ok_or(Errno::ESRCH)?;
    let tr = tree::tree();
    Ok(format!("0::{}\n", tr.path(tr.group_of(pid))))
}
