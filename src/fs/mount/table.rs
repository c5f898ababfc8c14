//! The mount trees of every mount namespace, under one lock (Linux's
//! namespace semaphore and mount hash lock in one): adding, changing and
//! removing mounts, the lookups path walks make (which mount covers an
//! inode, which mount a walked path lies in), copying a tree for a new
//! namespace, and the text of /proc/PID/mounts and mountinfo.

use super::propagate::{self, PropType};
use super::{new_id, Mount};
use crate::fs::vfs::{same_inode, Dentry, Inode, Path};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::wait::WaitQueue;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

/// The initial mount namespace's id: its nsfs inode number, Linux's
/// PROC_MNT_INIT_INO.
pub const INIT_NS: u64 = 0xEFFF_FFF8;

/// Each namespace's mounts, parents before children, by namespace id.
pub(super) type Tables = BTreeMap<u64, Vec<Arc<Mount>>>;

static TABLES: Mutex<Tables> = Mutex::new(BTreeMap::new());

/// Changes with every change of a table (open files cache their mount's
/// flags against it).
static GENERATION: AtomicU32 = AtomicU32::new(1);

/// The tables' generation: equal values mean no mount changed between.
pub fn generation() -> u32 {
    GENERATION.load(Ordering::Relaxed)
}

fn lock() -> MutexGuard<'static, Tables> {
    TABLES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Woken at every change of a table: pollers of /proc/PID/mounts and
/// mountinfo (Linux's per-namespace `ns->poll`; here one queue for all,
/// and each file tells by its text whether its namespace changed).
static EVENTS: LazyLock<Arc<WaitQueue>> = LazyLock::new(|| Arc::new(WaitQueue::new()));

/// Where to sleep until a mount table changes.
pub fn events() -> Arc<WaitQueue> {
    EVENTS.clone()
}

/// The tables, for a change. Waiters run only after the change is done:
/// they need the big kernel lock, held until the caller is.
fn lock_mut() -> MutexGuard<'static, Tables> {
    let g = lock();
    GENERATION.fetch_add(1, Ordering::Relaxed);
    EVENTS.wake_all();
    g
}

/// The mount namespace of the syscall being handled (the initial one for
/// the kernel itself).
pub fn current_ns() -> u64 {
    crate::kernel::current::mnt_ns().unwrap_or(INIT_NS)
}

/// Every mount of the current namespace, parents before children.
pub fn mounts() -> Vec<Arc<Mount>> {
    mounts_in(current_ns())
}

/// Every mount of namespace `ns`.
pub fn mounts_in(ns: u64) -> Vec<Arc<Mount>> {
    lock().get(&ns).cloned().unwrap_or_default()
}

/// Every mount of every namespace (who still uses a filesystem).
pub fn all_mounts() -> Vec<Arc<Mount>> {
    lock().values().flatten().cloned().collect()
}

/// Add `m` to the current namespace's tree, on the walked path `parent`
/// of its mount point (None: as the root). Under a shared mount it joins
/// a peer group and is repeated on the parent's peers and slaves.
pub fn add_mount(mut m: Mount, parent: Option<&Path>) {
    let ns = current_ns();
    let pm = parent.and_then(|p| {
        let g = mounts_in(ns);
        mount_of_in(&g, p).map(|pm| (pm.id, rel_path(p, &pm)))
    });
    let mut t = lock_mut();
    match pm {
        Some((pid, mp)) => propagate::attach(&mut t, ns, m, pid, mp),
        None => {
            m.parent_id = 1;
            m.mp = "/".into();
            t.entry(ns).or_default().push(Arc::new(m));
        }
    }
}

/// Unmount mount `id` of the current namespace (with `detach`, its
/// whole subtree; without, EBUSY if something is mounted on it), and the
/// copies propagation made of it. The namespace's root is EBUSY, a
/// locked mount EINVAL.
pub fn umount(id: u32, detach: bool) -> KResult<()> {
    let ns = current_ns();
    propagate::umount(&mut lock_mut(), ns, id, detach)
}

/// Change the propagation type of mount `id` (with `rec`, of its whole
/// subtree too).
pub fn change_propagation(id: u32, rec: bool, ty: PropType) {
    let ns = current_ns();
    let mut t = lock_mut();
    let ids = if rec {
        subtree(t.get(&ns).map(|v| &v[..]).unwrap_or(&[]), id)
    } else {
        vec![id]
    };
    propagate::change_type(&mut t, &ids, ty);
}

/// `id` and the ids of every mount below it in `g`, parents first.
pub fn subtree_of(g: &[Arc<Mount>], id: u32) -> Vec<u32> {
    subtree(g, id)
}

/// `id` and the ids of every mount below it in `g`, parents first.
pub(super) fn subtree(g: &[Arc<Mount>], id: u32) -> Vec<u32> {
    let mut out = vec![id];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(
            g.iter()
                .filter(|m| m.parent_id == p && m.point.is_some() && m.id != p)
                .map(|m| m.id),
        );
        i += 1;
    }
    out
}

/// Replace mount `id` with a changed copy (remount, move).
pub fn update(id: u32, f: impl FnOnce(&mut Mount)) {
    let mut t = lock_mut();
    if let Some(m) = t.values_mut().flatten().find(|m| m.id == id) {
        f(Arc::make_mut(m));
    }
}

/// Give namespace `to` a copy of namespace `from`'s tree: new mount ids,
/// the same filesystems. Copies of shared mounts are peers of the
/// originals and slaves stay slaves of the same master; when the new
/// namespace is owned by a less privileged user namespace, shared mounts
/// become slaves and every mount is locked (Linux's copy_mnt_ns).
pub fn copy_ns(from: u64, to: u64, less_privileged: bool) {
    let mut t = lock_mut();
    let src = t.get(&from).cloned().unwrap_or_default();
    let mut ids: HashMap<u32, u32> = src.iter().map(|m| (m.id, new_id())).collect();
    let copy: Vec<Arc<Mount>> = src
        .iter()
        .map(|m| {
            let mut c = (**m).clone();
            c.id = ids[&m.id];
            // The hidden rootfs below the root gets a new id too.
            c.parent_id = *ids.entry(m.parent_id).or_insert_with(new_id);
            propagate::copy_type(&mut c, m, less_privileged);
            Arc::new(c)
        })
        .collect();
    t.insert(to, copy);
}

/// Namespace `ns` is gone: its mounts go, their slaves elsewhere
/// re-mastered as for an unmount.
pub fn drop_ns(ns: u64) {
    let mut t = lock_mut();
    if let Some(v) = t.remove(&ns) {
        for m in v {
            propagate::leave(&mut t, &m);
        }
    }
}

/// What a walk from the directory `dir` into its entry `inode` reaches
/// in the current namespace: the root of the topmost mount stacked on
/// that entry in `dir`'s mount, or the entry itself. A mount covers its
/// mount point in its parent mount only (Linux's (vfsmount, dentry)
/// mount points): `mount --rbind / /x` and a bind onto `/x/dev/kmsg`
/// leave `/dev/kmsg` as it was.
pub fn covered(dir: &Path, inode: Arc<dyn Inode>) -> Arc<dyn Inode> {
    let ns = current_ns();
    {
        // Most entries are no mount point anywhere: no copy of the table.
        let t = lock();
        let Some(g) = t.get(&ns) else {
            return inode;
        };
        if !g
            .iter()
            .any(|m| m.point.as_ref().is_some_and(|p| same_inode(p, &inode)))
        {
            return inode;
        }
    }
    // A copy: `mount_of_in` looks names up, not under the table's lock.
    let g = mounts_in(ns);
    let Some(pm) = mount_of_in(&g, dir) else {
        return inode;
    };
    match stacked_on(&g, pm.id, inode.clone()) {
        Some(m) => m.root.clone(),
        None => inode,
    }
}

/// The topmost of the mounts stacked on `inode` in mount `parent` (None
/// if nothing is mounted there): one mounted on it in `parent`, then one
/// mounted on that one's root in it, and so on (a directory bound onto
/// itself has its own root as mount point, in the mount below it).
fn stacked_on(g: &[Arc<Mount>], parent: u32, inode: Arc<dyn Inode>) -> Option<Arc<Mount>> {
    let (mut under, mut cur) = (parent, inode);
    let mut top = None;
    // Bounded: a damaged table must not hang a walk.
    for _ in 0..=g.len() {
        let Some(m) = g.iter().rev().find(|m| {
            m.parent_id == under
                && m.id != under
                && m.point.as_ref().is_some_and(|p| same_inode(p, &cur))
        }) else {
            break;
        };
        under = m.id;
        cur = m.root.clone();
        top = Some(m.clone());
    }
    top
}

/// Is `inode` the root of a mount of the current namespace (for EBUSY on
/// rmdir etc.)?
pub fn is_mount_root(inode: &Arc<dyn Inode>) -> bool {
    let ns = current_ns();
    lock()
        .get(&ns)
        .is_some_and(|g| g.iter().any(|m| same_inode(&m.root, inode)))
}

/// The mount a walked path lies in, in the current namespace.
pub fn mount_of(path: &Path) -> Option<Arc<Mount>> {
    // A copy: `lookup` below must not run under the table's lock.
    mount_of_in(&mounts(), path)
}

/// The mount a walked path lies in among `g`: from the top of the
/// dentry chain down, each dentry whose inode roots a mount is in the
/// mount stacked on its name in its parent's mount, if one is (a
/// bind-mounted directory seen at its original place is not in the bind
/// mount); any other dentry is in its parent's mount.
pub fn mount_of_in(g: &[Arc<Mount>], path: &Path) -> Option<Arc<Mount>> {
    // The chain, leaf first; walked from the top without recursion (paths
    // may be thousands of components deep).
    let mut chain = vec![path];
    while let Some(p) = &chain[chain.len() - 1].parent {
        chain.push(p);
    }
    let top = chain.pop()?;
    let roots = |d: &Dentry| g.iter().any(|m| same_inode(&m.root, &d.inode));
    let mut cur = if roots(top) {
        // A root made by pivot_root below a chroot roots a mount that is
        // not the namespace's root.
        g.iter()
            .find(|m| m.point.is_none() && same_inode(&m.root, &top.inode))
            .or_else(|| g.iter().rev().find(|m| same_inode(&m.root, &top.inode)))
            .cloned()
    } else {
        g.iter().find(|m| m.point.is_none()).cloned()
    }?;
    let mut parent = top;
    for d in chain.into_iter().rev() {
        if roots(d) {
            if let Ok(under) = parent.inode.lookup(&d.name) {
                if let Some(m) = stacked_on(g, cur.id, under) {
                    cur = m;
                }
            }
        }
        parent = d;
    }
    Some(cur)
}

/// The last of the mounts stacked on `inode` (None if nothing is mounted
/// there), as `covered` follows them. Each step up looks only at mounts
/// later in the table than the one below (a mount on top of another is
/// its child, made after it): a directory bound onto itself (`mount
/// --bind D D`, as systemd does for its read-only paths) has its own
/// root as mount point and would otherwise lead back to itself.
fn top_mount_on(g: &[Arc<Mount>], inode: Arc<dyn Inode>) -> Option<Arc<Mount>> {
    let mut cur = inode;
    let mut top = None;
    let mut after = 0;
    while let Some((i, m)) = g
        .iter()
        .enumerate()
        .skip(after)
        .rev()
        .find(|(_, m)| m.point.as_ref().is_some_and(|p| same_inode(p, &cur)))
    {
        cur = m.root.clone();
        top = Some(m.clone());
        after = i + 1;
    }
    top
}

/// The path of `path` below the root of its mount `m` ("/" for the root).
pub fn rel_path(path: &Path, m: &Mount) -> String {
    let mut parts = Vec::new();
    let mut cur: &Arc<Dentry> = path;
    while !same_inode(&cur.inode, &m.root) {
        parts.push(cur.name.clone());
        match &cur.parent {
            Some(p) => cur = p,
            None => break,
        }
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}

/// The path of `path` inside the filesystem of its mount `m` ("/" for
/// the filesystem's root).
pub fn path_in_mount(path: &Path, m: &Mount) -> String {
    join(&m.fs_root, &rel_path(path, m))
}

/// `base` and a path below it ("/" is the base itself).
pub(super) fn join(base: &str, rel: &str) -> String {
    let b = base.trim_end_matches('/');
    match (b.is_empty(), rel == "/") {
        (true, _) => rel.to_string(),
        (false, true) => b.to_string(),
        (false, false) => format!("{b}{rel}"),
    }
}

/// Where mount `m` is seen in its namespace `g`: its parents' mount
/// points joined.
pub fn target_in(g: &[Arc<Mount>], m: &Mount) -> String {
    let mut parts = Vec::new();
    let mut cur = m;
    // Bounded: a damaged table must not hang a reader.
    for _ in 0..g.len() + 1 {
        if cur.point.is_none() {
            break;
        }
        parts.push(cur.mp.as_str());
        match g.iter().find(|x| x.id == cur.parent_id) {
            Some(p) => cur = p,
            None => break,
        }
    }
    let s: String = parts.iter().rev().filter(|p| **p != "/").copied().collect();
    if s.is_empty() {
        "/".into()
    } else {
        s
    }
}

/// The mount, in the current namespace, of the walked path `path`, with
/// the path's place in the namespace (for pivot_root's reachability).
pub fn place_of(path: &Path) -> Option<(Arc<Mount>, String)> {
    let g = mounts();
    let m = mount_of_in(&g, path)?;
    let full = join(&target_in(&g, &m), &rel_path(path, &m));
    Some((m, full))
}

/// /proc/PID/mounts (or, with `info`, mountinfo) of a process in
/// namespace `ns` whose root is `root`: the mounts it can reach, with
/// paths as it sees them.
pub fn proc_text(ns: u64, root: &Path, info: bool) -> String {
    let all = lock().clone();
    let g = all.get(&ns).cloned().unwrap_or_default();
    let base = match mount_of_in(&g, root) {
        Some(rm) => join(&target_in(&g, &rm), &rel_path(root, &rm)),
        None => "/".into(),
    };
    let mut out = String::new();
    for m in &g {
        let t = target_in(&g, m);
        let shown = if base == "/" {
            t
        } else if t == base {
            "/".into()
        } else if let Some(rest) = t.strip_prefix(&base).filter(|r| r.starts_with('/')) {
            rest.to_string()
        } else {
            continue;
        };
        if info {
            out.push_str(&m.mountinfo_line(&shown, &propagate::optional_fields(&all, ns, m)));
        } else {
            out.push_str(&m.mounts_line(&shown));
        }
    }
    out
}

/// The flags of the mount `path` lies in (empty if it is in none).
pub fn flags_of(path: &Path) -> super::MntFlags {
    mount_of(path).map(|m| m.flags).unwrap_or_default()
}

/// EROFS if files under `path` cannot be changed through its mount.
pub fn want_write(path: &Path) -> KResult<()> {
    match mount_of(path) {
        Some(m) if m.read_only() => Err(Errno::EROFS),
        _ => Ok(()),
    }
}

/// Forget every mount of every namespace (reboot).
pub fn clear_mounts() {
    lock_mut().clear();
}

/// pivot_root's change of the current namespace's tree: `new` takes the
/// place of `root` (its parent and mount point), and `root` is mounted
/// on `put_old` (mount point `mp` below mount `old`).
pub fn pivot(root: u32, new: u32, old: u32, put_old: Arc<dyn Inode>, mp: String) {
    let ns = current_ns();
    let mut t = lock_mut();
    let Some(g) = t.get_mut(&ns) else { return };
    let Some(r) = g.iter().find(|m| m.id == root).cloned() else {
        return;
    };
    for m in g.iter_mut() {
        if m.id == new {
            let m = Arc::make_mut(m);
            m.parent_id = r.parent_id;
            m.point = r.point.clone();
            m.mp = r.mp.clone();
            if r.locked {
                m.locked = true;
            }
        } else if m.id == root {
            let m = Arc::make_mut(m);
            m.parent_id = old;
            m.point = Some(put_old.clone());
            m.mp = mp.clone();
            m.locked = false;
        }
    }
}

/// The root directory of namespace `ns`: its root mount's root, or what
/// is mounted on top of it (where setns puts root and cwd).
pub fn ns_root(ns: u64) -> Option<Arc<dyn Inode>> {
    let t = lock();
    let g = t.get(&ns)?;
    let root = g.iter().find(|m| m.point.is_none())?.root.clone();
    Some(match top_mount_on(g, root.clone()) {
        Some(m) => m.root.clone(),
        None => root,
    })
}

/// Add `m` to the current namespace's tree on mount `parent_id` at `mp`
/// (below the parent's root), propagating as `add_mount` does (the
/// submounts `mount --rbind` copies).
pub fn attach_at(m: Mount, parent_id: u32, mp: String) {
    let ns = current_ns();
    propagate::attach(&mut lock_mut(), ns, m, parent_id, mp);
}
