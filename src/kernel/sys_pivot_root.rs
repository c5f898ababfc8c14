//! pivot_root(2): the caller's mount namespace gets a new root mount, the
//! old one moves below it, and the processes whose root or working
//! directory was the old root move to the new one (Linux's checks, in
//! Linux's order).

use super::errno::{Errno, KResult};
use super::sys_fs::{lookup_at, read_path, AT_FDCWD};
use super::sys_mount::may_mount;
use super::task::{self, lock, Task};
use crate::fs::mount::{self, Mount};
use crate::fs::vfs::{same_inode, Dentry, Path};
use std::sync::Arc;

/// A directory named by the caller (ENOTDIR otherwise).
fn dir(t: &Task, addr: u64) -> KResult<Path> {
    let name = read_path(t, addr)?;
    let p = lookup_at(t, AT_FDCWD, &name, true)?;
    if !p.inode.stat().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(p)
}

/// Is `path` (a place in the namespace) `base` or below it?
fn at_or_below(path: &str, base: &str) -> bool {
    base == "/" || path == base || path.strip_prefix(base).is_some_and(|r| r.starts_with('/'))
}

/// pivot_root(new_root, put_old). EPERM without CAP_SYS_ADMIN over the
/// namespace; EINVAL when put_old's mount or the parent of the new or
/// current root's mount is shared, the new root's mount is locked, the
/// current root or new_root is not the root of a mount, the current root
/// is the rootfs (it has no parent), put_old is not at or below new_root
/// or new_root not below the current root; EBUSY when new_root or
/// put_old is on the current root's mount.
pub fn sys_pivot_root(t: &Arc<Task>, new_root: u64, put_old: u64) -> KResult<u64> {
    may_mount(t)?;
    let new = dir(t, new_root)?;
    let old = dir(t, put_old)?;
    let root = t.fs().root;
    let (root_mnt, root_at) = mount::place_of(&root).ok_or(Errno::EINVAL)?;
    let (new_mnt, new_at) = mount::place_of(&new).ok_or(Errno::EINVAL)?;
    let (old_mnt, old_at) = mount::place_of(&old).ok_or(Errno::EINVAL)?;
    let all = mount::mounts();
    let parent_shared = |m: &Mount| {
        m.point.is_some() && all.iter().any(|x| x.id == m.parent_id && x.prop.group != 0)
    };
    if old_mnt.prop.group != 0 || parent_shared(&new_mnt) || parent_shared(&root_mnt) {
        return Err(Errno::EINVAL);
    }
    if new_mnt.locked {
        return Err(Errno::EINVAL);
    }
    if new_mnt.id == root_mnt.id || old_mnt.id == root_mnt.id {
        return Err(Errno::EBUSY);
    }
    if !same_inode(&root.inode, &root_mnt.root) {
        return Err(Errno::EINVAL);
    }
    // Linux's rootfs is the one mount without a parent; the namespace's
    // root mounted from a disk sits on it.
    if root_mnt.point.is_none() && root_mnt.fstype == "rootfs" {
        return Err(Errno::EINVAL);
    }
    if !same_inode(&new.inode, &new_mnt.root) || new_mnt.point.is_none() {
        return Err(Errno::EINVAL);
    }
    if !at_or_below(&old_at, &new_at) || !at_or_below(&new_at, &root_at) {
        return Err(Errno::EINVAL);
    }
    let mp = mount::rel_path(&old, &old_mnt);
    mount::pivot(root_mnt.id, new_mnt.id, old_mnt.id, old.inode.clone(), mp);
    // Every process of the namespace rooted (or working) at the old root
    // moves to the new one.
    let ns = super::ns::of(t).mnt.ino;
    let new_root = Dentry::root(new.inode.clone());
    for other in task::all_tasks() {
        if super::ns::of(&other).mnt.ino != ns {
            continue;
        }
        let fs = other.fs_shared();
        let mut f = lock(&fs);
        if same_inode(&f.root.inode, &root.inode) {
            f.root = new_root.clone();
        }
        if same_inode(&f.cwd.inode, &root.inode) || same_inode(&f.cwd.inode, &new.inode) {
            f.cwd = new_root.clone();
        }
    }
    Ok(0)
}
