//! The cgroup v2 hierarchy: groups with their limits and counters, and
//! which group each task is in. One hierarchy for the whole kernel, as
//! Linux's default hierarchy: every cgroup2 mount shows it.

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{self, Tid};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

/// A group's index in the arena; the root is 0.
pub type Id = usize;
pub const ROOT: Id = 0;

/// Controller bits, in Linux's order of cgroup.controllers.
pub const CPU: u8 = 1;
pub const MEMORY: u8 = 2;
pub const PIDS: u8 = 4;
pub const ALL: u8 = CPU | MEMORY | PIDS;
pub const NAMES: [(u8, &str); 3] = [(CPU, "cpu"), (MEMORY, "memory"), (PIDS, "pids")];

/// The controllers in `mask` as Linux lists them ("cpu memory pids").
pub fn mask_names(mask: u8) -> String {
    NAMES
        .iter()
        .filter(|(b, _)| mask & b != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(" ")
}

pub struct Group {
    pub name: String,
    pub parent: Option<Id>,
    pub children: BTreeMap<String, Id>,
    /// cgroup.subtree_control: the controllers its children get.
    pub subtree: u8,
    /// memory.max in bytes (None: "max").
    pub mem_max: Option<u64>,
    /// memory.high, memory.low, memory.min: kept and shown, not acted on.
    pub mem_high: Option<u64>,
    pub mem_low: u64,
    pub mem_min: u64,
    /// memory.events: times the limit was hit, and OOM kills.
    pub mem_max_events: u64,
    pub oom_kills: u64,
    /// pids.max (None: "max") and how often a fork hit it.
    pub pids_max: Option<u64>,
    pub pids_max_events: u64,
    /// cpu.max quota (None: "max") and period, in microseconds.
    pub cpu_quota: Option<u64>,
    pub cpu_period: u64,
    pub cpu_weight: u64,
    /// cgroup.max.depth and cgroup.max.descendants (None: "max").
    pub max_depth: Option<u64>,
    pub max_descendants: Option<u64>,
    pub freeze: bool,
    /// Creation time, for the directory's stat.
    pub born: crate::fs::vfs::Timespec,
}

impl Group {
    fn new(name: &str, parent: Option<Id>) -> Group {
        Group {
            name: name.to_string(),
            parent,
            children: BTreeMap::new(),
            subtree: 0,
            mem_max: None,
            mem_high: None,
            mem_low: 0,
            mem_min: 0,
            mem_max_events: 0,
            oom_kills: 0,
            pids_max: None,
            pids_max_events: 0,
            cpu_quota: None,
            cpu_period: 100_000,
            cpu_weight: 100,
            max_depth: None,
            max_descendants: None,
            freeze: false,
            born: crate::fs::vfs::Timespec::now(),
        }
    }
}

pub struct Tree {
    groups: Vec<Option<Group>>,
    /// Tasks outside the root group; a task not here is in the root.
    /// Entries of exited tasks stay until their tid is reused (fork sets
    /// the child's entry) or a count skips them: nothing needs a hook at
    /// exit.
    member: HashMap<Tid, Id>,
}

static TREE: Mutex<Option<Tree>> = Mutex::new(None);

/// The hierarchy, locked. Never held while taking an mm lock or sleeping;
/// task-table locks may be taken under it.
pub fn tree() -> TreeGuard {
    let mut g = TREE.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        *g = Some(Tree {
            groups: vec![Some(Group::new("", None))],
            member: HashMap::new(),
        });
    }
    TreeGuard(g)
}

pub struct TreeGuard(MutexGuard<'static, Option<Tree>>);

impl std::ops::Deref for TreeGuard {
    type Target = Tree;
    fn deref(&self) -> &Tree {
        self.0.as_ref().expect("made by tree()")
    }
}

impl std::ops::DerefMut for TreeGuard {
    fn deref_mut(&mut self) -> &mut Tree {
        self.0.as_mut().expect("made by tree()")
    }
}

fn alive(tid: Tid) -> bool {
    task::task(tid).is_some()
}

impl Tree {
    pub fn get(&self, id: Id) -> KResult<&Group> {
        self.groups
            .get(id)
            .and_then(|g| g.as_ref())
            .ok_or(Errno::ENODEV)
    }

    pub fn get_mut(&mut self, id: Id) -> KResult<&mut Group> {
        self.groups
            .get_mut(id)
            .and_then(|g| g.as_mut())
            .ok_or(Errno::ENODEV)
    }

    /// The controllers group `id` has: its parent's subtree_control, or
    /// all of them at the root.
    pub fn controllers(&self, id: Id) -> u8 {
        match self.get(id).ok().and_then(|g| g.parent) {
            Some(p) => self.get(p).map(|g| g.subtree).unwrap_or(0),
            None => ALL,
        }
    }

    /// The group of task `tid`.
    pub fn group_of(&self, tid: Tid) -> Id {
        match self.member.get(&tid) {
            Some(&id) if self.get(id).is_ok() => id,
            _ => ROOT,
        }
    }

    /// Is `id` `anc` or below it?
    pub fn is_under(&self, mut id: Id, anc: Id) -> bool {
        loop {
            if id == anc {
                return true;
            }
            match self.get(id).ok().and_then(|g| g.parent) {
                Some(p) => id = p,
                None => return false,
            }
        }
    }

    /// Live tasks in `id` itself (`subtree`: or below it), sorted.
    pub fn tasks(&self, id: Id, subtree: bool) -> Vec<Tid> {
        let mut v: Vec<Tid> = task::all_tasks()
            .iter()
            .map(|t| t.tid)
            .filter(|&tid| {
                let g = self.group_of(tid);
                if subtree {
                    self.is_under(g, id)
                } else {
                    g == id
                }
            })
            .collect();
        v.sort_unstable();
        v
    }

    /// The thread-group ids of the live processes with a task in `id`
    /// (or below it), sorted, each once.
    pub fn procs(&self, id: Id, subtree: bool) -> Vec<task::Pid> {
        let mut v: Vec<task::Pid> = self
            .tasks(id, subtree)
            .into_iter()
            .filter_map(|tid| task::task(tid).map(|t| t.tgid()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Put task `tid` in group `id`.
    pub fn set(&mut self, tid: Tid, id: Id) {
        if id == ROOT {
            self.member.remove(&tid);
        } else {
            self.member.insert(tid, id);
        }
        self.member.retain(|&t, _| t == tid || alive(t));
    }

    /// The path of `id` below the root ("/" for the root).
    pub fn path(&self, id: Id) -> String {
        let mut parts = Vec::new();
        let mut cur = id;
        while let Ok(g) = self.get(cur) {
            match g.parent {
                Some(p) => {
                    parts.push(g.name.clone());
                    cur = p;
                }
                None => break,
            }
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    fn descendants(&self, id: Id) -> u64 {
        let Ok(g) = self.get(id) else { return 0 };
        g.children.values().map(|&c| 1 + self.descendants(c)).sum()
    }

    pub fn nr_descendants(&self, id: Id) -> u64 {
        self.descendants(id)
    }

    /// mkdir: a new child `name` of `parent`. EAGAIN past an ancestor's
    /// cgroup.max.depth or cgroup.max.descendants, as Linux's
    /// cgroup_check_hierarchy_limits.
    pub fn mkdir(&mut self, parent: Id, name: &str) -> KResult<Id> {
        // The new group is `dist` levels below each ancestor.
        let mut dist = 1;
        let mut cur = Some(parent);
        while let Some(a) = cur {
            let g = self.get(a)?;
            if g.max_depth.is_some_and(|m| dist > m)
                || g.max_descendants.is_some_and(|m| self.descendants(a) >= m)
            {
                return Err(Errno::EAGAIN);
            }
            dist += 1;
            cur = g.parent;
        }
        if self.get(parent)?.children.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let id = self.groups.len();
        self.groups.push(Some(Group::new(name, Some(parent))));
        self.get_mut(parent)?.children.insert(name.to_string(), id);
        Ok(id)
    }

    /// rmdir: EBUSY while it has live tasks or children, as Linux's
    /// cgroup_destroy_locked.
    pub fn rmdir(&mut self, parent: Id, name: &str) -> KResult<()> {
        let id = *self.get(parent)?.children.get(name).ok_or(Errno::ENOENT)?;
        if !self.get(id)?.children.is_empty() || !self.tasks(id, false).is_empty() {
            return Err(Errno::EBUSY);
        }
        self.get_mut(parent)?.children.remove(name);
        self.groups[id] = None;
        self.member.retain(|_, g| *g != id);
        Ok(())
    }

    /// The groups from `id` up to (not including) the root.
    pub fn ancestry(&self, id: Id) -> Vec<Id> {
        let mut v = Vec::new();
        let mut cur = id;
        while let Ok(g) = self.get(cur) {
            match g.parent {
                Some(p) => {
                    v.push(cur);
                    cur = p;
                }
                None => break,
            }
        }
        v
    }
}
