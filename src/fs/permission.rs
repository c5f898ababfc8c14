//! Discretionary access control in the VFS: Linux's generic_permission
//! and inode_permission, and the checks built on them for path walk
//! (search), open, creating and removing directory entries (sticky
//! directories) and hard links (fs.protected_hardlinks = 1). Filesystems
//! only report modes and owners; every decision is made here.

use super::file::{O_ACCMODE, O_NOATIME, O_PATH, O_RDONLY, O_TRUNC, O_WRONLY};
use super::vfs::{
    Inode, Stat, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISGID, S_ISUID, S_ISVTX, S_IXGRP,
};
use crate::kernel::caps::{CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Creds;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// fs.protected_hardlinks. 1 by default here, as Debian and systemd set
/// it at boot (Linux's own default is 0).
pub static PROTECTED_HARDLINKS: AtomicU32 = AtomicU32::new(1);
/// fs.protected_symlinks, 1 by default for the same reason.
pub static PROTECTED_SYMLINKS: AtomicU32 = AtomicU32::new(1);
/// fs.protected_fifos (0, 1 or 2; Linux's default 0).
pub static PROTECTED_FIFOS: AtomicU32 = AtomicU32::new(0);
/// fs.protected_regular (0, 1 or 2; Linux's default 0).
pub static PROTECTED_REGULAR: AtomicU32 = AtomicU32::new(0);

fn level(v: &AtomicU32) -> u32 {
    v.load(Ordering::Relaxed)
}

pub const MAY_EXEC: u32 = 1;
pub const MAY_WRITE: u32 = 2;
pub const MAY_READ: u32 = 4;

/// Owner, group or other bits of `st` against `mask`, then the root
/// overrides: CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE allow anything on
/// a directory, and anything but executing a file that has no x bit.
pub fn generic_permission(c: &Creds, st: &Stat, mask: u32) -> KResult<()> {
    let mask = mask & (MAY_READ | MAY_WRITE | MAY_EXEC);
    // Only one class counts: an owner denied by the owner bits is denied
    // even when the group or other bits would allow.
    let bits = if st.uid == c.fsuid {
        st.mode >> 6
    } else if c.in_group(st.gid) {
        st.mode >> 3
    } else {
        st.mode
    };
    if mask & !bits == 0 {
        return Ok(());
    }
    // Reading and searching a directory, and reading a file, need only
    // CAP_DAC_READ_SEARCH; the rest CAP_DAC_OVERRIDE.
    let read_search = if st.is_dir() {
        mask & MAY_WRITE == 0
    } else {
        mask == MAY_READ
    };
    if read_search && c.capable(CAP_DAC_READ_SEARCH) {
        return Ok(());
    }
    if (st.is_dir() || mask & MAY_EXEC == 0 || st.mode & 0o111 != 0) && c.capable(CAP_DAC_OVERRIDE)
    {
        return Ok(());
    }
    Err(Errno::EACCES)
}

/// The inode's own check (`Inode::permission`, by default
/// `generic_permission`), after the read-only check that comes first in
/// Linux: writing to a file, directory or symlink of a read-only
/// filesystem is EROFS whoever asks.
pub fn inode_permission(c: &Creds, inode: &dyn Inode, st: &Stat, mask: u32) -> KResult<()> {
    if mask & MAY_WRITE != 0
        && matches!(st.mode & S_IFMT, S_IFREG | S_IFDIR | S_IFLNK)
        && inode.read_only()
    {
        return Err(Errno::EROFS);
    }
    inode.permission(c, st, mask)
}

/// Search permission on a directory being walked through (`st` its stat).
pub fn may_lookup(c: &Creds, dir: &dyn Inode, st: &Stat) -> KResult<()> {
    dir.permission(c, st, MAY_EXEC)
}

/// Linux's inode_owner_or_capable (CAP_FOWNER).
pub fn owner_or_capable(c: &Creds, st: &Stat) -> bool {
    st.uid == c.fsuid || c.capable(CAP_FOWNER)
}

/// Adding `name` to `dir` (create, mkdir, mknod, symlink, link, the
/// target of rename): write and search permission on `dir`. A name that
/// already exists is EEXIST first, as Linux looks it up before checking.
pub fn may_create(c: &Creds, dir: &Arc<dyn Inode>, name: &str) -> KResult<()> {
    let st = dir.stat();
    inode_permission(c, &**dir, &st, MAY_WRITE | MAY_EXEC).map_err(|e| {
        if dir.lookup(name).is_ok() {
            Errno::EEXIST
        } else {
            e
        }
    })
}

/// Removing `name` from `dir` (unlink, rmdir, the source and a replaced
/// target of rename): write and search permission on `dir`, and in a
/// sticky directory only the owner of the entry or of the directory (or
/// CAP_FOWNER) may. A missing entry is ENOENT before EACCES, and a
/// read-only filesystem EROFS before both, as in Linux.
pub fn may_delete(c: &Creds, dir: &Arc<dyn Inode>, name: &str) -> KResult<()> {
    let st = dir.stat();
    if let Err(e) = inode_permission(c, &**dir, &st, MAY_WRITE | MAY_EXEC) {
        if e != Errno::EROFS {
            dir.lookup(name)?;
        }
        return Err(e);
    }
    if st.mode & S_ISVTX != 0 && st.uid != c.fsuid && !c.capable(CAP_FOWNER) {
        let victim = dir.lookup(name)?.stat();
        if victim.uid != c.fsuid {
            return Err(Errno::EPERM);
        }
    }
    Ok(())
}

/// What an open with `flags` needs (Linux's ACC_MODE, and O_TRUNC needs
/// write permission even with O_RDONLY).
pub fn open_mask(flags: u32) -> u32 {
    if flags & O_PATH != 0 {
        return 0;
    }
    let mut mask = match flags & O_ACCMODE {
        O_RDONLY => MAY_READ,
        O_WRONLY => MAY_WRITE,
        // O_RDWR and the odd value 3 both need read and write.
        _ => MAY_READ | MAY_WRITE,
    };
    if flags & O_TRUNC != 0 {
        mask |= MAY_WRITE;
    }
    mask
}

/// Opening an existing `inode` with `flags` (Linux's may_open without the
/// file-type checks, which open does itself): read and/or write
/// permission, and O_NOATIME only for the owner or CAP_FOWNER.
pub fn may_open(c: &Creds, inode: &dyn Inode, st: &Stat, flags: u32) -> KResult<()> {
    let mask = open_mask(flags);
    if mask == 0 {
        return Ok(());
    }
    inode_permission(c, inode, st, mask)?;
    if flags & O_NOATIME != 0 && !owner_or_capable(c, st) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Hard-linking to `target` with fs.protected_hardlinks = 1 (Debian's
/// and systemd's default): its owner may, others only to a regular file
/// that is not setuid or setgid-executable and that they may read and
/// write.
pub fn may_link(c: &Creds, target: &dyn Inode, st: &Stat) -> KResult<()> {
    if level(&PROTECTED_HARDLINKS) == 0 || owner_or_capable(c, st) {
        return Ok(());
    }
    let safe = st.is_reg()
        && st.mode & S_ISUID == 0
        && st.mode & (S_ISGID | S_IXGRP) != S_ISGID | S_IXGRP
        && inode_permission(c, target, st, MAY_READ | MAY_WRITE).is_ok();
    if safe {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// Following the symlink `link` in directory `dir` with
/// fs.protected_symlinks = 1: in a sticky world-writable directory (/tmp)
/// only links owned by the follower or by the directory's owner are
/// followed (Linux's may_follow_link); root is no exception.
pub fn may_follow_link(c: &Creds, dir: &Stat, link: &Stat) -> KResult<()> {
    const S_IWOTH: u32 = 0o002;
    if level(&PROTECTED_SYMLINKS) == 0
        || dir.mode & (S_ISVTX | S_IWOTH) != S_ISVTX | S_IWOTH
        || link.uid == c.fsuid
        || link.uid == dir.uid
    {
        return Ok(());
    }
    Err(Errno::EACCES)
}

/// O_CREAT finding an existing fifo or regular file in a sticky directory
/// with fs.protected_fifos / fs.protected_regular (Linux's
/// may_create_in_sticky): a file owned by someone else than the opener
/// and the directory's owner is refused in a world-writable directory
/// (level 1) or also a group-writable one (level 2); root too.
pub fn may_create_in_sticky(c: &Creds, dir: &Stat, file: &Stat) -> KResult<()> {
    const S_IWOTH: u32 = 0o002;
    const S_IWGRP: u32 = 0o020;
    let kind = file.mode & S_IFMT;
    let fifo = kind == super::vfs::S_IFIFO;
    let reg = kind == S_IFREG;
    if (level(&PROTECTED_FIFOS) == 0 && fifo)
        || (level(&PROTECTED_REGULAR) == 0 && reg)
        || dir.mode & S_ISVTX == 0
        || file.uid == dir.uid
        || file.uid == c.fsuid
    {
        return Ok(());
    }
    let group_level =
        (level(&PROTECTED_FIFOS) >= 2 && fifo) || (level(&PROTECTED_REGULAR) >= 2 && reg);
    if dir.mode & S_IWOTH != 0 || (dir.mode & S_IWGRP != 0 && group_level) {
        return Err(Errno::EACCES);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fs::file::O_RDWR;

    /// A process with all its uids `uid` and gids `gid`.
    pub(crate) fn user(uid: u32, gid: u32, groups: &[u32]) -> Creds {
        Creds {
            uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
            groups: groups.to_vec(),
            ..Creds::default()
        }
    }

    /// What stat says about an inode of `mode` owned by `uid`:`gid`.
    pub(crate) fn st(mode: u32, uid: u32, gid: u32) -> Stat {
        Stat {
            mode,
            uid,
            gid,
            ..Default::default()
        }
    }

    #[test]
    fn owner_group_and_other_classes() {
        let u = user(1000, 1000, &[1002]);
        assert!(generic_permission(&u, &st(S_IFREG | 0o600, 1000, 0), MAY_READ).is_ok());
        assert_eq!(
            generic_permission(&u, &st(S_IFREG | 0o600, 0, 0), MAY_READ),
            Err(Errno::EACCES)
        );
        // The owner class wins even when it allows less.
        assert_eq!(
            generic_permission(&u, &st(S_IFREG | 0o077, 1000, 0), MAY_READ),
            Err(Errno::EACCES)
        );
        assert!(generic_permission(&u, &st(S_IFREG | 0o040, 0, 1002), MAY_READ).is_ok());
        assert_eq!(
            generic_permission(&u, &st(S_IFREG | 0o604, 0, 1002), MAY_READ),
            Err(Errno::EACCES)
        );
        assert!(generic_permission(&u, &st(S_IFDIR | 0o711, 0, 0), MAY_EXEC).is_ok());
    }

    #[test]
    fn root_overrides_all_but_exec_without_x() {
        let r = Creds::ROOT;
        assert!(generic_permission(&r, &st(S_IFREG, 5, 5), MAY_READ | MAY_WRITE).is_ok());
        assert!(generic_permission(&r, &st(S_IFDIR, 5, 5), MAY_EXEC | MAY_WRITE).is_ok());
        assert_eq!(
            generic_permission(&r, &st(S_IFREG | 0o644, 0, 0), MAY_EXEC),
            Err(Errno::EACCES)
        );
        assert!(generic_permission(&r, &st(S_IFREG | 0o100, 5, 5), MAY_EXEC).is_ok());
        // fsuid decides, not euid.
        let mut fs_user = Creds::ROOT;
        fs_user.fsuid = 1000;
        fs_user.fix_setfsuid(&Creds::ROOT, Some(0));
        assert_eq!(
            generic_permission(&fs_user, &st(S_IFREG | 0o600, 0, 0), MAY_READ),
            Err(Errno::EACCES)
        );
    }

    /// A file on a read-only filesystem.
    struct RoFile;

    impl Inode for RoFile {
        fn stat(&self) -> Stat {
            st(S_IFREG | 0o666, 0, 0)
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
        fn read_only(&self) -> bool {
            true
        }
    }

    #[test]
    fn writes_on_read_only_filesystems_are_erofs_first() {
        let u = user(1000, 1000, &[]);
        let s = RoFile.stat();
        assert_eq!(
            inode_permission(&Creds::ROOT, &RoFile, &s, MAY_WRITE),
            Err(Errno::EROFS)
        );
        assert_eq!(
            inode_permission(&u, &RoFile, &st(S_IFREG | 0o600, 0, 0), MAY_WRITE),
            Err(Errno::EROFS)
        );
        assert!(inode_permission(&u, &RoFile, &s, MAY_READ).is_ok());
        // Device nodes stay writable.
        let dev = st(crate::fs::vfs::S_IFCHR | 0o666, 0, 0);
        assert!(inode_permission(&u, &RoFile, &dev, MAY_WRITE).is_ok());
    }

    #[test]
    fn open_masks() {
        assert_eq!(open_mask(O_RDONLY), MAY_READ);
        assert_eq!(open_mask(O_WRONLY | O_TRUNC), MAY_WRITE);
        assert_eq!(open_mask(O_RDONLY | O_TRUNC), MAY_READ | MAY_WRITE);
        assert_eq!(open_mask(O_RDWR), MAY_READ | MAY_WRITE);
        assert_eq!(open_mask(O_PATH | O_RDWR), 0);
    }
}
