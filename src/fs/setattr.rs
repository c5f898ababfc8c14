//! Who may change an inode's attributes, and what a change does to the
//! setuid and setgid bits: Linux's setattr_prepare, chown_common's and
//! notify_change's bit killing, and file_remove_privs for writes and
//! truncation. The results are `SetAttr`s for `Inode::setattr`.

use super::permission::{inode_permission, owner_or_capable, MAY_WRITE};
use super::vfs::{Inode, SetAttr, Stat, S_ISGID, S_ISUID, S_IXGRP};
use crate::kernel::caps::{CAP_CHOWN, CAP_FSETID};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Creds;

/// Linux's in_group_or_capable (CAP_FSETID).
fn in_group_or_capable(c: &Creds, gid: u32) -> bool {
    c.in_group(gid) || c.capable(CAP_FSETID)
}

/// Linux's setattr_should_drop_sgid: a group-executable setgid bit goes;
/// a setgid bit without group execute (a locking mark) only when the
/// caller is not in the file's group.
fn should_drop_sgid(c: &Creds, st: &Stat) -> bool {
    st.mode & S_ISGID != 0 && (st.mode & S_IXGRP != 0 || !in_group_or_capable(c, st.gid))
}

/// chmod to `mode`: only the owner or CAP_FOWNER (EPERM); a caller
/// outside the file's group without CAP_FSETID loses S_ISGID silently.
pub fn chmod(c: &Creds, st: &Stat, mode: u32) -> KResult<SetAttr> {
    if !owner_or_capable(c, st) {
        return Err(Errno::EPERM);
    }
    let mut mode = mode & 0o7777;
    if !in_group_or_capable(c, st.gid) {
        mode &= !S_ISGID;
    }
    Ok(SetAttr {
        mode: Some(mode),
        ..Default::default()
    })
}

/// chown to `uid` and/or `gid`: only CAP_CHOWN changes the owner; the
/// owner may change the group to one of its own. Any chown of a
/// non-directory, also by root, clears S_ISUID and a group-executable
/// S_ISGID (Linux's ATTR_KILL_SUID/ATTR_KILL_SGID).
pub fn chown(c: &Creds, st: &Stat, uid: Option<u32>, gid: Option<u32>) -> KResult<SetAttr> {
    let owner = st.uid == c.fsuid;
    let uid_ok = |u: u32| c.capable(CAP_CHOWN) || (owner && u == st.uid);
    let gid_ok = |g: u32| c.capable(CAP_CHOWN) || (owner && (c.in_group(g) || g == st.gid));
    if !uid.is_none_or(uid_ok) || !gid.is_none_or(gid_ok) {
        return Err(Errno::EPERM);
    }
    let mut a = SetAttr {
        uid,
        gid,
        ..Default::default()
    };
    if !st.is_dir() {
        let old = st.mode & 0o7777;
        let mut mode = old & !S_ISUID;
        if should_drop_sgid(c, st) {
            mode &= !S_ISGID;
        }
        if mode != old {
            // The mode change is checked like a chmod to the new group.
            if !owner_or_capable(c, st) {
                return Err(Errno::EPERM);
            }
            if !in_group_or_capable(c, gid.unwrap_or(st.gid)) {
                mode &= !S_ISGID;
            }
            a.mode = Some(mode);
        }
    }
    Ok(a)
}

/// Setting timestamps: explicit times need the owner or CAP_FOWNER
/// (EPERM); setting both to now (`explicit` false: times NULL or both
/// UTIME_NOW) is also allowed with write permission.
pub fn may_set_times(c: &Creds, inode: &dyn Inode, st: &Stat, explicit: bool) -> KResult<()> {
    if owner_or_capable(c, st) {
        return Ok(());
    }
    if explicit {
        return Err(Errno::EPERM);
    }
    inode_permission(c, inode, st, MAY_WRITE)
}

/// Linux's file_remove_privs: the mode a regular file gets when `c`
/// writes to or truncates it (S_ISUID always goes, S_ISGID as
/// `should_drop_sgid`), unless `c` has CAP_FSETID. None: no change.
pub fn remove_privs(c: &Creds, st: &Stat) -> Option<SetAttr> {
    if !st.is_reg() || c.capable(CAP_FSETID) {
        return None;
    }
    let old = st.mode & 0o7777;
    let mut mode = old & !S_ISUID;
    if should_drop_sgid(c, st) {
        mode &= !S_ISGID;
    }
    (mode != old).then(|| SetAttr {
        mode: Some(mode),
        ..Default::default()
    })
}

/// `remove_privs` applied to `inode` (a write or truncate by `c` is about
/// to happen). Root writes, the common case, cost nothing.
pub fn kill_privs(c: &Creds, inode: &dyn Inode) -> KResult<()> {
    if c.capable(CAP_FSETID) {
        return Ok(());
    }
    match remove_privs(c, &inode.stat()) {
        Some(a) => inode.setattr(&a),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::permission::tests::st;
    use crate::fs::vfs::{S_IFDIR, S_IFREG};

    fn user(uid: u32, groups: &[u32]) -> Creds {
        crate::fs::permission::tests::user(uid, uid, groups)
    }

    #[test]
    fn chmod_rules() {
        let u = user(1000, &[]);
        assert_eq!(
            chmod(&u, &st(S_IFREG | 0o644, 0, 0), 0o666).err(),
            Some(Errno::EPERM)
        );
        let a = chmod(&u, &st(S_IFREG | 0o644, 1000, 0), 0o2755).unwrap();
        assert_eq!(a.mode, Some(0o755));
        let a = chmod(&u, &st(S_IFREG | 0o644, 1000, 1000), 0o2755).unwrap();
        assert_eq!(a.mode, Some(0o2755));
    }

    #[test]
    fn chown_rules() {
        let u = user(1000, &[1002]);
        let mine = st(S_IFREG | 0o4755, 1000, 1000);
        assert_eq!(chown(&u, &mine, Some(1001), None).err(), Some(Errno::EPERM));
        assert_eq!(chown(&u, &mine, None, Some(1003)).err(), Some(Errno::EPERM));
        let a = chown(&u, &mine, None, Some(1002)).unwrap();
        assert_eq!((a.gid, a.mode), (Some(1002), Some(0o755)));
        // Root's chown clears the bits of regular files too, not of dirs.
        let a = chown(&Creds::ROOT, &st(S_IFREG | 0o6755, 0, 0), Some(0), Some(0)).unwrap();
        assert_eq!(a.mode, Some(0o755));
        let a = chown(&Creds::ROOT, &st(S_IFDIR | 0o2755, 0, 0), None, Some(5)).unwrap();
        assert_eq!(a.mode, None);
        // A locking-mark setgid bit stays for root.
        let a = chown(&Creds::ROOT, &st(S_IFREG | 0o2644, 0, 0), None, Some(5)).unwrap();
        assert_eq!(a.mode, None);
    }

    #[test]
    fn writes_remove_privs() {
        let u = user(1000, &[]);
        let m = |s: &Stat| remove_privs(&u, s).and_then(|a| a.mode);
        assert_eq!(m(&st(S_IFREG | 0o6775, 0, 1000)), Some(0o775));
        assert_eq!(m(&st(S_IFREG | 0o2664, 0, 1000)), None);
        assert_eq!(m(&st(S_IFREG | 0o2666, 0, 5)), Some(0o666));
        assert_eq!(m(&st(S_IFREG | 0o755, 0, 0)), None);
        assert!(remove_privs(&Creds::ROOT, &st(S_IFREG | 0o4755, 0, 0)).is_none());
    }
}
