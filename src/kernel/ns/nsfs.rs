//! nsfs: the files that stand for namespaces (what /proc/PID/ns/* links
//! lead to and what setns takes), and their NS_GET_* ioctls.

use super::{Kind, Ns};
use crate::fs::file::{File, FileOps, O_RDONLY};
use crate::fs::vfs::{Dentry, Inode, Path, Stat, S_IFREG};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{lock, Task};
use std::sync::Arc;

/// nsfs's device number (an anonymous superblock, 0:4 as on Linux).
const NSFS_DEV: u64 = 4;

const NS_GET_USERNS: u32 = 0xb701;
const NS_GET_PARENT: u32 = 0xb702;
const NS_GET_NSTYPE: u32 = 0xb703;
const NS_GET_OWNER_UID: u32 = 0xb704;

/// The link text of a namespace ("uts:[4026531838]").
pub fn link_text(ns: &Ns) -> String {
    format!("{}:[{}]", ns.kind.name(), ns.ino)
}

/// The inode of a namespace.
pub struct NsInode(pub Arc<Ns>);

impl Inode for NsInode {
    fn stat(&self) -> Stat {
        Stat {
            dev: NSFS_DEV,
            ino: self.0.ino,
            mode: S_IFREG | 0o444,
            nlink: 1,
            blksize: 4096,
            ..Default::default()
        }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        Ok(Some(Arc::new(NsFile(self.0.clone()))))
    }
}

/// Where a /proc/PID/ns link leads: the namespace's nsfs dentry.
pub fn path_of(ns: &Arc<Ns>) -> Path {
    Arc::new(Dentry {
        name: link_text(ns),
        parent: None,
        inode: Arc::new(NsInode(ns.clone())),
    })
}

/// An open namespace file.
pub struct NsFile(pub Arc<Ns>);

impl FileOps for NsFile {
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
    fn stat(&self) -> Option<Stat> {
        Some(NsInode(self.0.clone()).stat())
    }
    fn ioctl(&self, _f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        let ns = &self.0;
        match cmd {
            NS_GET_USERNS => {
                // The owner, if the caller's user namespace is it or one
                // of its ancestors (EPERM otherwise, as for the initial
                // user namespace's missing owner).
                let owner = ns.owner.clone().ok_or(Errno::EPERM)?;
                if !in_scope(t, &owner) {
                    return Err(Errno::EPERM);
                }
                install(t, &owner)
            }
            NS_GET_PARENT => {
                // Only user (and pid) namespaces have parents.
                if ns.kind != Kind::User && ns.kind != Kind::Pid {
                    return Err(Errno::EINVAL);
                }
                if ns.kind == Kind::Pid {
                    // The parent, if the caller's own pid namespace is it
                    // or one of its ancestors (Linux's pidns_get_parent).
                    let p = super::pid::of(ns).parent.clone().ok_or(Errno::EPERM)?;
                    if !super::pid::is_descendant(&p, &super::pid::active(t)) {
                        return Err(Errno::EPERM);
                    }
                    return install(t, &p);
                }
                let p = ns.owner.clone().ok_or(Errno::EPERM)?;
                if !in_scope(t, &p) {
                    return Err(Errno::EPERM);
                }
                install(t, &p)
            }
            NS_GET_NSTYPE => Ok(ns.kind.flag()),
            NS_GET_OWNER_UID => {
                let u = ns.userns().ok_or(Errno::EINVAL)?;
                let shown = super::user::show_id(t, true, u.owner_uid);
                t.mm().write_u32(arg, shown)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }
}

/// Is user namespace `ns` the caller's or an ancestor-descendant it can
/// see (Linux's in_userns: `ns` is the caller's or a descendant of it).
fn in_scope(t: &Task, ns: &Arc<Ns>) -> bool {
    let mine = super::of(t).user;
    let mut cur = Some(ns.clone());
    while let Some(n) = cur {
        if Arc::ptr_eq(&n, &mine) {
            return true;
        }
        cur = n.owner.clone();
    }
    false
}

/// A new close-on-exec fd for namespace `ns` in `t`'s table.
fn install(t: &Task, ns: &Arc<Ns>) -> KResult<u64> {
    let p = path_of(ns);
    let f = File::new(
        Arc::new(NsFile(ns.clone())),
        Some(p.inode.clone()),
        Some(p),
        O_RDONLY,
    );
    let nofile = t.nofile();
    Ok(lock(&t.files()).install(f, true, nofile)? as u64)
}

/// The namespace an fd stands for, if it is a namespace file.
pub fn ns_of_fd(t: &Task, fd: i32) -> KResult<Option<Arc<Ns>>> {
    let f = crate::kernel::sys_fs::fd_file(t, fd)?;
    Ok(f.ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<NsFile>().ok())
        .map(|n| n.0.clone()))
}
