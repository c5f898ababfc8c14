//! Shared subtrees (Linux's Documentation/filesystems/sharedsubtree.rst):
//! peer groups, masters and slaves; mount(2)'s MS_SHARED, MS_PRIVATE,
//! MS_SLAVE and MS_UNBINDABLE; how a mount or unmount under a shared
//! mount is repeated on its peers and slaves in every namespace; and the
//! optional fields of mountinfo.
//!
//! A peer group is a number: the mounts with `prop.group == N` are peers,
//! and those with `prop.master == N` are its slaves (a slave can be shared
//! too, with slaves of its own). Mounts never point at each other, so
//! copies and removals only renumber.

use super::table::{join, subtree, Tables};
use super::{new_id, MntFlags, Mount, Propagation};
use crate::fs::vfs::same_inode;
use crate::kernel::errno::{Errno, KResult};
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

/// mount(2)'s propagation types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropType {
    Shared,
    Private,
    Slave,
    Unbindable,
}

impl PropType {
    /// The type mount(2)'s flags ask for: exactly one type flag, besides
    /// MS_REC and MS_SILENT; None (EINVAL) for none or several, or with
    /// any other flag (Linux 6.x refuses MS_SHARED|MS_NOSUID too).
    pub fn from_flags(flags: u64) -> Option<PropType> {
        const MS_REC: u64 = 16384;
        const MS_SILENT: u64 = 32768;
        let ty = flags & !(MS_REC | MS_SILENT);
        match ty {
            super::MS_SHARED => Some(PropType::Shared),
            super::MS_PRIVATE => Some(PropType::Private),
            super::MS_SLAVE => Some(PropType::Slave),
            super::MS_UNBINDABLE => Some(PropType::Unbindable),
            _ => None,
        }
    }
}

/// Mount `id` wherever it is.
fn find(t: &Tables, id: u32) -> Option<Arc<Mount>> {
    t.values().flatten().find(|m| m.id == id).cloned()
}

/// Change mount `id` wherever it is.
fn modify(t: &mut Tables, id: u32, f: impl FnOnce(&mut Mount)) {
    if let Some(m) = t.values_mut().flatten().find(|m| m.id == id) {
        f(Arc::make_mut(m));
    }
}

/// The lowest peer group number no mount uses (Linux's IDA).
fn new_group(t: &Tables) -> u32 {
    let used: BTreeSet<u32> = t
        .values()
        .flatten()
        .flat_map(|m| [m.prop.group, m.prop.master])
        .collect();
    (1..).find(|g| !used.contains(g)).unwrap_or(1)
}

/// Mount `id` stops being a peer (Linux's do_make_slave): while other
/// peers are left it becomes their slave; as the group's last member its
/// slaves pass to its own master (becoming private if it has none) and
/// it keeps its master. A mount that is not shared keeps what it is.
fn make_slave(t: &mut Tables, id: u32) {
    let Some(m) = find(t, id) else { return };
    let g = m.prop.group;
    if g == 0 {
        return;
    }
    let others = t
        .values()
        .flatten()
        .any(|x| x.id != id && x.prop.group == g);
    if others {
        modify(t, id, |x| {
            x.prop.group = 0;
            x.prop.master = g;
        });
    } else {
        modify(t, id, |x| x.prop.group = 0);
        remaster(t, g, m.prop.master);
    }
}

/// The slaves of group `from` become slaves of `to` (private for 0).
fn remaster(t: &mut Tables, from: u32, to: u32) {
    for x in t.values_mut().flatten() {
        if x.prop.master == from {
            Arc::make_mut(x).prop.master = to;
        }
    }
}

/// mount(2) with a propagation type on the mounts `ids`.
pub fn change_type(t: &mut Tables, ids: &[u32], ty: PropType) {
    for &id in ids {
        match ty {
            PropType::Shared => {
                if find(t, id).is_some_and(|m| m.prop.group == 0) {
                    let g = new_group(t);
                    modify(t, id, |m| m.prop.group = g);
                }
                modify(t, id, |m| m.prop.unbindable = false);
            }
            PropType::Slave => make_slave(t, id),
            PropType::Private | PropType::Unbindable => {
                make_slave(t, id);
                modify(t, id, |m| {
                    m.prop.master = 0;
                    m.prop.unbindable = ty == PropType::Unbindable;
                });
            }
        }
    }
}

/// A mount that is gone no longer holds its peer group: as the last
/// member, its slaves pass to its master.
pub fn leave(t: &mut Tables, m: &Mount) {
    let g = m.prop.group;
    if g != 0 && !t.values().flatten().any(|x| x.prop.group == g) {
        remaster(t, g, m.prop.master);
    }
}

/// What a copy of `orig` for a new namespace propagates (Linux's
/// clone_mnt with CL_COPY_UNBINDABLE, plus CL_SHARED_TO_SLAVE and
/// CL_UNPRIVILEGED for a namespace owned by a less privileged user
/// namespace): as the original, or a slave of a shared original, locked.
pub fn copy_type(c: &mut Mount, orig: &Mount, less_privileged: bool) {
    c.prop = orig.prop;
    if less_privileged {
        if orig.prop.group != 0 {
            c.prop.group = 0;
            c.prop.master = orig.prop.group;
        }
        c.locked = true;
        c.locked_flags = orig.flags
            & (MntFlags::RDONLY
                | MntFlags::NOSUID
                | MntFlags::NODEV
                | MntFlags::NOEXEC
                | MntFlags::NOATIME
                | MntFlags::NODIRATIME
                | MntFlags::RELATIME
                | MntFlags::STRICTATIME);
    }
}

/// `fs_path` (a path in a filesystem) as seen below a mount of it whose
/// root is `root` in that filesystem; None if it is not below.
fn below(fs_path: &str, root: &str) -> Option<String> {
    if root == "/" {
        return Some(fs_path.to_string());
    }
    if fs_path == root {
        return Some("/".into());
    }
    fs_path
        .strip_prefix(root)
        .filter(|r| r.starts_with('/'))
        .map(str::to_string)
}

/// Every mount (namespace, mount) with `pred`, in every namespace.
fn select(t: &Tables, pred: impl Fn(&Mount) -> bool) -> Vec<(u64, Arc<Mount>)> {
    t.iter()
        .flat_map(|(ns, v)| v.iter().filter(|m| pred(m)).map(|m| (*ns, m.clone())))
        .collect()
}

/// Add `m` to namespace `ns` on mount `parent_id` at `mp` (Linux's
/// attach_recursive_mnt): under a shared parent it joins a peer group
/// (its own, or a new one) and a copy goes on each of the parent's peers
/// and slaves that can see the mount point — peers of `m` on the parent's
/// peers, slaves on its slaves (shared again where the slave is shared).
pub fn attach(t: &mut Tables, ns: u64, mut m: Mount, parent_id: u32, mp: String) {
    m.parent_id = parent_id;
    m.mp = mp;
    let parent = find(t, parent_id).filter(|p| p.prop.group != 0);
    let Some(p) = parent else {
        t.entry(ns).or_default().push(Arc::new(m));
        return;
    };
    if m.prop.group == 0 {
        m.prop.group = new_group(t);
    }
    let fs_path = join(&p.fs_root, &m.mp);
    let m = Arc::new(m);
    t.entry(ns).or_default().push(m.clone());
    let copy = |parent: &Mount, rel: String, group: u32, master: u32| {
        let mut c = (*m).clone();
        c.id = new_id();
        c.parent_id = parent.id;
        c.mp = rel;
        c.prop = Propagation {
            group,
            master,
            unbindable: false,
        };
        c.locked = false;
        c.locked_flags = MntFlags::empty();
        Arc::new(c)
    };
    // Peer groups in order from the parent's; each with the group its
    // copies form (0: a new one, made with the first copy) and their
    // master.
    let mut queue = VecDeque::from([(p.prop.group, m.prop.group, m.prop.master)]);
    let mut seen = BTreeSet::from([p.prop.group]);
    while let Some((gid, mut cg, cm)) = queue.pop_front() {
        let members = select(t, |x| x.prop.group == gid && x.id != p.id);
        let slaves = select(t, |x| x.prop.master == gid);
        let mut made = gid == p.prop.group;
        for (xns, x) in members {
            if let Some(rel) = below(&fs_path, &x.fs_root) {
                if cg == 0 {
                    cg = new_group(t);
                }
                let c = copy(&x, rel, cg, cm);
                t.entry(xns).or_default().push(c);
                made = true;
            }
        }
        // Slaves receive from the nearest copy above them.
        let master = if made { cg } else { cm };
        for (sns, s) in slaves {
            if s.prop.group != 0 {
                if seen.insert(s.prop.group) {
                    queue.push_back((s.prop.group, 0, master));
                }
            } else if let Some(rel) = below(&fs_path, &s.fs_root) {
                let c = copy(&s, rel, 0, master);
                t.entry(sns).or_default().push(c);
            }
        }
    }
}

/// Where events on mount `p` go: its peers and, through slaves, their
/// peers, as (namespace, mount). Nothing for a mount that is not shared.
fn receivers(t: &Tables, p: &Mount) -> Vec<(u64, Arc<Mount>)> {
    let mut out = Vec::new();
    if p.prop.group == 0 {
        return out;
    }
    let mut queue = VecDeque::from([p.prop.group]);
    let mut seen = BTreeSet::from([p.prop.group]);
    while let Some(g) = queue.pop_front() {
        out.extend(select(t, |x| x.prop.group == g && x.id != p.id));
        for (sns, s) in select(t, |x| x.prop.master == g) {
            if s.prop.group != 0 {
                if seen.insert(s.prop.group) {
                    queue.push_back(s.prop.group);
                }
            } else {
                out.push((sns, s));
            }
        }
    }
    out
}

/// Unmount mount `id` of namespace `ns` (Linux's do_umount and
/// umount_tree): the namespace's root is EBUSY, a locked mount EINVAL;
/// without `detach` a mount with mounts on it is EBUSY. The copies of it
/// on the parent's receivers go too (those with nothing mounted on them;
/// with `detach`, with what is).
pub fn umount(t: &mut Tables, ns: u64, id: u32, detach: bool) -> KResult<()> {
    let g = t.get(&ns).cloned().unwrap_or_default();
    let m = g
        .iter()
        .find(|m| m.id == id)
        .cloned()
        .ok_or(Errno::EINVAL)?;
    let Some(point) = m.point.clone() else {
        return Err(Errno::EBUSY);
    };
    if m.locked {
        return Err(Errno::EINVAL);
    }
    let mine = subtree(&g, id);
    if !detach && mine.len() > 1 {
        return Err(Errno::EBUSY);
    }
    let mut victims: Vec<(u64, Vec<u32>)> = vec![(ns, mine)];
    if let Some(parent) = find(t, m.parent_id) {
        for (xns, x) in receivers(t, &parent) {
            let xg = t.get(&xns).cloned().unwrap_or_default();
            let c = xg.iter().rev().find(|c| {
                c.parent_id == x.id && c.point.as_ref().is_some_and(|p| same_inode(p, &point))
            });
            if let Some(c) = c {
                let sub = subtree(&xg, c.id);
                if detach || sub.len() == 1 {
                    victims.push((xns, sub));
                }
            }
        }
    }
    for (vns, ids) in victims {
        let gone: Vec<Arc<Mount>> = match t.get_mut(&vns) {
            Some(v) => {
                let (gone, keep) = v.drain(..).partition(|m| ids.contains(&m.id));
                *v = keep;
                gone
            }
            None => continue,
        };
        for m in gone {
            leave(t, &m);
        }
    }
    Ok(())
}

/// mountinfo's optional fields for mount `m` of namespace `ns`, each with
/// a leading space: `shared:N`, `master:N`, `propagate_from:N` (the
/// nearest group up the master chain with a member in `ns`, when that is
/// not the master itself) and `unbindable`.
pub fn optional_fields(t: &Tables, ns: u64, m: &Mount) -> String {
    let mut s = String::new();
    if m.prop.group != 0 {
        s.push_str(&format!(" shared:{}", m.prop.group));
    }
    if m.prop.master != 0 {
        s.push_str(&format!(" master:{}", m.prop.master));
        let mine = t.get(&ns).map(|v| &v[..]).unwrap_or(&[]);
        let mut g = m.prop.master;
        for _ in 0..64 {
            if mine.iter().any(|x| x.prop.group == g) {
                if g != m.prop.master {
                    s.push_str(&format!(" propagate_from:{g}"));
                }
                break;
            }
            g = match t.values().flatten().find(|x| x.prop.group == g) {
                Some(x) if x.prop.master != 0 => x.prop.master,
                _ => break,
            };
        }
    }
    if m.prop.unbindable {
        s.push_str(" unbindable");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpfs_mount(group: u32, master: u32) -> Mount {
        let root = crate::fs::tmpfs::new_fs(0o755);
        let mut m = Mount::new(None, root, "t", "tmpfs", MntFlags::empty(), "");
        m.prop.group = group;
        m.prop.master = master;
        m
    }

    #[test]
    fn one_type_flag_only() {
        assert_eq!(PropType::from_flags(1 << 20), Some(PropType::Shared));
        assert_eq!(
            PropType::from_flags((1 << 18) | 16384),
            Some(PropType::Private)
        );
        assert_eq!(PropType::from_flags((1 << 20) | (1 << 18)), None);
        assert_eq!(PropType::from_flags((1 << 20) | 2), None);
    }

    #[test]
    fn paths_below_a_bind_root() {
        assert_eq!(below("/a/b", "/"), Some("/a/b".into()));
        assert_eq!(below("/a/b", "/a"), Some("/b".into()));
        assert_eq!(below("/a", "/a"), Some("/".into()));
        assert_eq!(below("/ab", "/a"), None);
    }

    /// A mount on a shared root is copied onto its peer in another
    /// namespace and onto a slave; its unmount removes both copies; the
    /// slave's own mount does not come back.
    #[test]
    fn mounts_and_unmounts_travel_to_peers_and_slaves() {
        let _mem = crate::kernel::testing::setup_memory();
        let mut t = Tables::new();
        let a = tmpfs_mount(1, 0);
        let mut b = a.clone();
        b.id = new_id();
        let mut c = a.clone();
        c.id = new_id();
        c.prop = Propagation {
            group: 0,
            master: 1,
            unbindable: false,
        };
        let (aid, bid, cid) = (a.id, b.id, c.id);
        t.insert(1, vec![Arc::new(a.clone())]);
        t.insert(2, vec![Arc::new(b)]);
        t.insert(3, vec![Arc::new(c)]);
        let point = a.root.clone();
        let new = tmpfs_mount(0, 0);
        let nid = new.id;
        let mut new = new;
        new.point = Some(point.clone());
        attach(&mut t, 1, new, aid, "/".into());
        let in_b = t[&2].iter().find(|m| m.parent_id == bid).cloned().unwrap();
        let in_c = t[&3].iter().find(|m| m.parent_id == cid).cloned().unwrap();
        let group = t[&1].iter().find(|m| m.id == nid).unwrap().prop.group;
        assert_ne!(group, 0);
        assert_eq!(in_b.prop.group, group);
        assert_eq!((in_c.prop.group, in_c.prop.master), (0, group));
        // The slave's own mount stays there.
        let mut own = tmpfs_mount(0, 0);
        own.point = Some(in_c.root.clone());
        attach(&mut t, 3, own, in_c.id, "/".into());
        assert_eq!(t[&1].len(), 2);
        umount(&mut t, 1, nid, false).unwrap();
        assert_eq!(t[&1].len(), 1);
        assert_eq!(t[&2].len(), 1);
        // The copy on the slave has a mount on it: it stays.
        assert_eq!(t[&3].len(), 3);
    }

    /// The last peer made private passes its slaves to its own master.
    #[test]
    fn last_peer_hands_slaves_on() {
        let _mem = crate::kernel::testing::setup_memory();
        let mut t = Tables::new();
        let a = tmpfs_mount(2, 1);
        let s = tmpfs_mount(0, 2);
        let (aid, sid) = (a.id, s.id);
        t.insert(1, vec![Arc::new(a), Arc::new(s)]);
        change_type(&mut t, &[aid], PropType::Private);
        let s = find(&t, sid).unwrap();
        assert_eq!(s.prop.master, 1);
        let a = find(&t, aid).unwrap();
        assert_eq!(a.prop, Propagation::default());
    }
}
