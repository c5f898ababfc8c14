//! unshare(2) and setns(2), and the new namespaces clone asks for.

use super::{Data, Kind, Ns, NsProxy};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{lock, Task};
use std::sync::{Arc, Mutex};

const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SYSVSEM: u64 = 0x40000;

/// Give `p` new namespaces for the CLONE_NEW* `flags`: a new user
/// namespace first (the others are then owned by it, and the task has
/// every capability in it), then CAP_SYS_ADMIN there for the rest (EPERM).
/// Namespace kinds this kernel cannot make new ones of fail with EINVAL.
pub fn unshare_into(t: &Task, p: &mut NsProxy, flags: u64) -> KResult<()> {
    if flags & !super::SUPPORTED_NEW & super::ALL_NEW != 0 {
        return Err(Errno::EINVAL);
    }
    let mut entered = p.entered_caps;
    if flags & super::CLONE_NEWUSER != 0 {
        if chrooted(t) {
            return Err(Errno::EPERM);
        }
        let c = t.creds();
        p.user = super::user::create(&p.user, c.euid, c.egid)?;
        entered = true;
    }
    if flags & !super::CLONE_NEWUSER != 0 {
        let probe = NsProxy {
            entered_caps: entered,
            ..p.clone()
        };
        if !capable_with(t, &probe, &p.user) {
            return Err(Errno::EPERM);
        }
    }
    p.entered_caps = entered;
    // A new pid namespace goes inside the caller's own, and only once
    // before the next fork (Linux's copy_pid_ns: EINVAL when the
    // namespace for children already differs).
    if flags & super::CLONE_NEWPID != 0 && !Arc::ptr_eq(&p.pid, &p.pid_children) {
        return Err(Errno::EINVAL);
    }
    let owner = p.user.clone();
    for k in Kind::ALL {
        if k == Kind::User || flags & k.flag() == 0 {
            continue;
        }
        let data = match k {
            Kind::Uts => {
                // A copy of the names of the namespace it leaves.
                let names = lock(p.uts.uts().expect("a UTS namespace")).clone();
                Data::Uts(Mutex::new(names))
            }
            Kind::Pid => Data::Pid(super::pid::new_child(&p.pid)?),
            _ => Data::None,
        };
        let new = Ns::new(k, Some(owner.clone()), data);
        if k == Kind::Mnt {
            // A copy of the tree of the namespace it leaves; a less
            // privileged owner gets shared mounts as slaves, locked.
            let less = !p.mnt.owner.as_ref().is_some_and(|o| Arc::ptr_eq(o, &owner));
            crate::fs::mount::copy_ns(p.mnt.ino, new.ino, less);
        }
        *p.slot(k) = new;
    }
    Ok(())
}

/// `capable_in` for a task whose namespaces are about to be `p`.
fn capable_with(t: &Task, p: &NsProxy, target: &Arc<Ns>) -> bool {
    let saved = std::mem::replace(&mut lock(&t.inner).ns, p.clone());
    let r = super::capable_in(t, target, crate::kernel::caps::CAP_SYS_ADMIN);
    lock(&t.inner).ns = saved;
    r
}

/// unshare: EINVAL for unknown flags and for sharing that cannot be
/// undone in a multi-threaded process (CLONE_THREAD, CLONE_VM,
/// CLONE_SIGHAND; CLONE_NEWUSER implies CLONE_THREAD and CLONE_FS,
/// CLONE_NEWNS implies CLONE_FS).
pub fn sys_unshare(t: &Arc<Task>, flags: u64) -> KResult<u64> {
    let known = CLONE_THREAD
        | CLONE_FS
        | CLONE_SIGHAND
        | CLONE_VM
        | CLONE_FILES
        | CLONE_SYSVSEM
        | super::ALL_NEW;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let mut flags = flags;
    if flags & super::CLONE_NEWUSER != 0 {
        flags |= CLONE_THREAD | CLONE_FS;
    }
    if flags & super::CLONE_NEWNS != 0 {
        flags |= CLONE_FS;
    }
    if flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) != 0 {
        let threads = t.tg().lock().threads.len();
        if threads > 1 {
            return Err(Errno::EINVAL);
        }
    }
    let mut p = super::of(t);
    if flags & super::ALL_NEW != 0 {
        unshare_into(t, &mut p, flags & super::ALL_NEW)?;
    }
    super::commit_entered(t, &mut p);
    let mut i = lock(&t.inner);
    if flags & CLONE_FS != 0 {
        let copy = lock(&i.fs).clone();
        i.fs = Arc::new(Mutex::new(copy));
    }
    if flags & CLONE_FILES != 0 {
        let copy = lock(&i.files).clone();
        i.files = Arc::new(Mutex::new(copy));
    }
    crate::kernel::current::set_mnt_ns(p.mnt.ino);
    i.ns = p;
    Ok(0)
}

/// setns: join the namespace `fd` stands for, `nstype` 0 or its
/// CLONE_NEW* flag (EINVAL otherwise); or, for a pidfd, the namespaces
/// of its process that `nstype` names (at least one, only CLONE_NEW*
/// flags: EINVAL), all or none. Other fds: EINVAL.
pub fn sys_setns(t: &Arc<Task>, fd: i32, nstype: u64) -> KResult<u64> {
    let mut p = super::of(t);
    // An nsfs fd of a mount namespace resets root and cwd even when it is
    // the caller's own namespace.
    let mut entered_mnt = false;
    match super::nsfs::ns_of_fd(t, fd)? {
        Some(ns) => {
            if nstype != 0 && nstype != ns.kind.flag() {
                return Err(Errno::EINVAL);
            }
            entered_mnt = ns.kind == Kind::Mnt;
            join(t, &mut p, ns)?;
        }
        None => {
            let (pid, _) = crate::kernel::pidfd::target(t, fd).map_err(|_| Errno::EINVAL)?;
            if nstype == 0 || nstype & !super::ALL_NEW != 0 {
                return Err(Errno::EINVAL);
            }
            let target = crate::kernel::task::group(pid)
                .and_then(|g| g.lock().threads.first().copied())
                .and_then(crate::kernel::task::task)
                .ok_or(Errno::ESRCH)?;
            let theirs = super::of(&target);
            // The user namespace first: the rest are then checked with
            // the capabilities it gives.
            let mut kinds = vec![Kind::User];
            kinds.extend(Kind::ALL.into_iter().filter(|&k| k != Kind::User));
            for k in kinds {
                if nstype & k.flag() == 0 {
                    continue;
                }
                let ns = theirs.get(k);
                // Already there: nothing to join (Linux skips it too).
                if Arc::ptr_eq(&ns, &p.get(k)) {
                    continue;
                }
                let probe = p.clone();
                join_as(t, &probe, &mut p, ns)?;
            }
        }
    }
    entered_mnt |= !Arc::ptr_eq(&p.mnt, &super::of(t).mnt);
    crate::kernel::current::set_mnt_ns(p.mnt.ino);
    let mnt = p.mnt.ino;
    super::commit_entered(t, &mut p);
    lock(&t.inner).ns = p;
    if entered_mnt {
        // Root and working directory move to the namespace's root.
        if let Some(root) = crate::fs::mount::ns_root(mnt) {
            let fs = t.fs_shared();
            let mut f = lock(&fs);
            f.root = crate::fs::vfs::Dentry::root(root);
            f.cwd = f.root.clone();
        }
    }
    Ok(0)
}

/// Join `ns` into `p` with the checks setns makes as the task is now.
fn join(t: &Task, p: &mut NsProxy, ns: Arc<Ns>) -> KResult<()> {
    let now = p.clone();
    join_as(t, &now, p, ns)
}

/// Join `ns` into `p`, the capability checks made as if the task's
/// namespaces were `as_`. Needs CAP_SYS_ADMIN over the namespace and in
/// the task's own user namespace; a user namespace is joined only by
/// single-threaded callers, not the one they are in, not from a chroot,
/// and gives every capability in it.
fn join_as(t: &Task, as_: &NsProxy, p: &mut NsProxy, ns: Arc<Ns>) -> KResult<()> {
    match ns.kind {
        Kind::User => {
            if Arc::ptr_eq(&ns, &as_.user) {
                return Err(Errno::EINVAL);
            }
            if t.tg().lock().threads.len() > 1 {
                return Err(Errno::EINVAL);
            }
            if chrooted(t) {
                return Err(Errno::EPERM);
            }
            if !capable_with(t, as_, &ns) {
                return Err(Errno::EPERM);
            }
            p.user = ns;
            p.entered_caps = true;
        }
        k => {
            // Joining a mount namespace changes root and working
            // directory: not while another task shares them (EINVAL).
            if k == Kind::Mnt && Arc::strong_count(&t.fs_shared()) > 2 {
                return Err(Errno::EINVAL);
            }
            if !capable_with(t, as_, &ns) || !capable_with(t, as_, &as_.user) {
                return Err(Errno::EPERM);
            }
            // A pid namespace for children must be the caller's own or
            // one below it (Linux's pidns_install).
            if k == Kind::Pid && !super::pid::is_descendant(&ns, &as_.pid) {
                return Err(Errno::EINVAL);
            }
            *p.slot(k) = ns;
        }
    }
    Ok(())
}

/// clone's CLONE_NEW* checks (EINVAL for a new user or pid namespace
/// in a thread, for a new user namespace sharing root and cwd, and for a
/// new mount namespace sharing them), then the child's namespaces.
pub fn for_clone_checked(t: &Task, flags: u64) -> KResult<NsProxy> {
    if flags & (super::CLONE_NEWUSER | super::CLONE_NEWNS) != 0 && flags & CLONE_FS != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & (super::CLONE_NEWUSER | super::CLONE_NEWPID) != 0 && flags & CLONE_THREAD != 0 {
        return Err(Errno::EINVAL);
    }
    // A thread stays in its process's pid namespace: not after
    // unshare(CLONE_NEWPID) or setns to another one.
    if flags & CLONE_THREAD != 0 {
        let p = super::of(t);
        if !Arc::ptr_eq(&p.pid, &p.pid_children) {
            return Err(Errno::EINVAL);
        }
    }
    super::for_clone(t, flags)
}

/// Is `t`'s root not the filesystem's (chroot): such a task may not make
/// or join user namespaces (EPERM), as Linux's current_chrooted.
fn chrooted(t: &Task) -> bool {
    t.fs().root.parent.is_some()
}
