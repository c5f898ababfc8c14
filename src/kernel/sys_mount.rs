//! Mount syscalls: mount (new mounts, remounts, bind and move mounts,
//! propagation changes), umount2, and statfs/fstatfs, which report the
//! mount's flags along with the filesystem's numbers. Each works on the
//! caller's mount namespace (pivot_root: `sys_pivot_root`).

use super::errno::{Errno, KResult};
use super::sys_fs::{fd_file, lookup_at, read_path, AT_FDCWD};
use super::task::Task;
use crate::abi::{self, stat::Statfs};
use crate::fs::mount::{self, MntFlags, Mount};
use crate::fs::vfs::{self, Path, S_IFMT};
use std::sync::Arc;

/// Mounting and unmounting need CAP_SYS_ADMIN over the caller's mount
/// namespace (Linux's may_mount): root, or the owner of a user namespace
/// that owns it.
pub(super) fn may_mount(t: &Task) -> KResult<()> {
    let mnt = super::ns::of(t).mnt;
    if !super::ns::capable_in(t, &mnt, super::caps::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Filesystem types a user namespace's root may mount (Linux's
/// FS_USERNS_MOUNT); None for types this kernel does not know.
fn userns_mountable(fstype: &str) -> Option<bool> {
    match fstype {
        "tmpfs" | "ramfs" | "proc" | "sysfs" | "devpts" | "mqueue" | "cgroup2" => Some(true),
        "ext2" | "ext3" | "ext4" | "hostfs" | "devtmpfs" => Some(false),
        _ => None,
    }
}

/// The mount whose root `p` is; EINVAL if `p` is not a mount's root.
pub(super) fn mount_rooted_at(p: &Path) -> KResult<Arc<Mount>> {
    let m = mount::mount_of(p).ok_or(Errno::EINVAL)?;
    if !vfs::same_inode(&m.root, &p.inode) {
        return Err(Errno::EINVAL);
    }
    Ok(m)
}

/// Mount ext2/3/4 from the block device node at `source` with the
/// filesystem's option words. Returns the root and the options shown.
fn mount_ext(
    t: &Task,
    source: &str,
    fstype: &str,
    ro: bool,
    words: &[String],
) -> KResult<(Arc<dyn vfs::Inode>, String)> {
    let dev = lookup_at(t, AT_FDCWD, source, true)?;
    let st = dev.inode.stat();
    if st.mode & S_IFMT != vfs::S_IFBLK {
        return Err(Errno::ENOTBLK);
    }
    let bdev = crate::drivers::block::by_rdev(st.rdev).ok_or(Errno::ENXIO)?;
    // Bad options fail before anything is written to the disk.
    crate::fs::ext4::options::Ext4Options::default().parse(bdev.name(), words)?;
    let fs = crate::fs::ext4::mount(bdev, Some(fstype), ro)?;
    let shown = fs.set_options(words)?;
    Ok((fs.root(), shown))
}

/// A new instance of `fstype` with its option words: root and options shown.
fn new_instance(
    t: &Task,
    source: &str,
    fstype: &str,
    ro: bool,
    words: &[String],
) -> KResult<(Arc<dyn vfs::Inode>, String)> {
    let no_options = |(root, shown): (Arc<dyn vfs::Inode>, String)| {
        if let Some(w) = words.first() {
            log::error!("{fstype}: Unknown parameter '{w}'");
            return Err(Errno::EINVAL);
        }
        Ok((root, shown))
    };
    match fstype {
        "ext2" | "ext3" | "ext4" => mount_ext(t, source, fstype, ro, words),
        "tmpfs" | "ramfs" => crate::fs::tmpfs::mount(words),
        "hostfs" => crate::fs::hostfs::mount(words),
        "devtmpfs" => no_options((crate::fs::new_devtmpfs(), "mode=755".into())),
        "proc" => no_options((
            crate::fs::procfs::new_fs(super::ns::pid::active(t)),
            String::new(),
        )),
        "sysfs" => no_options((crate::fs::sysfs::new_fs(), String::new())),
        "cgroup2" => crate::fs::cgroup::mount(words),
        "mqueue" => no_options((crate::ipc::mqueue_fs::root(), String::new())),
        "devpts" => Ok((
            crate::tty::devpts::root(),
            crate::tty::devpts::configure(words)?,
        )),
        _ => Err(Errno::ENODEV),
    }
}

/// mount -o remount: new flags for the mount and, unless MS_BIND, new
/// options for its filesystem.
fn remount(p: &Path, flags: u64, words: &[String]) -> KResult<()> {
    let m = mount_rooted_at(p)?;
    let new = MntFlags::from_mount(flags, Some(m.flags));
    // A mount locked by a copy into a less privileged namespace keeps
    // ro, nosuid, nodev, noexec and its atime policy (EPERM).
    if m.locked {
        let kept = MntFlags::RDONLY | MntFlags::NOSUID | MntFlags::NODEV | MntFlags::NOEXEC;
        let atime = MntFlags::NOATIME | MntFlags::NODIRATIME | MntFlags::RELATIME;
        if !new.contains(m.locked_flags & kept) || (new & atime) != (m.flags & atime) {
            return Err(Errno::EPERM);
        }
    }
    if flags & mount::MS_BIND != 0 {
        mount::update(m.id, |mm| mm.flags = new);
        return Ok(());
    }
    let ro = new.contains(MntFlags::RDONLY);
    let shown = if let Some(fs) = crate::fs::ext4::fs_of(&m.root) {
        let shown = fs.set_options(words)?;
        fs.remount(ro)?;
        shown
    } else if let Some(r) = crate::fs::tmpfs::remount(&m.root, words) {
        r?
    } else if m.fstype == "devpts" {
        crate::tty::devpts::configure(words)?
    } else {
        if let Some(w) = words.first() {
            log::error!("{}: Unknown parameter '{w}'", m.fstype);
            return Err(Errno::EINVAL);
        }
        m.fs_options.clone()
    };
    mount::update(m.id, |mm| {
        mm.flags = new;
        mm.fs_options = shown;
    });
    Ok(())
}

/// mount --bind SRC TARGET: the tree at SRC appears at TARGET too. The
/// new mount propagates as its source does (a peer of a shared one, a
/// slave of the same master); an unbindable source is EINVAL.
fn bind(t: &Task, src: &str, p: &Path, flags: u64) -> KResult<()> {
    if src.is_empty() {
        return Err(Errno::EINVAL);
    }
    let s = lookup_at(t, AT_FDCWD, src, true)?;
    let sm = mount::mount_of(&s).ok_or(Errno::EINVAL)?;
    if sm.prop.unbindable {
        return Err(Errno::EINVAL);
    }
    if s.inode.stat().is_dir() != p.inode.stat().is_dir() {
        return Err(if s.inode.stat().is_dir() {
            Errno::ENOTDIR
        } else {
            Errno::EISDIR
        });
    }
    let mut m = Mount::new(
        Some(p.inode.clone()),
        s.inode.clone(),
        &sm.source,
        &sm.fstype,
        sm.flags | MntFlags::from_mount(flags, Some(sm.flags)),
        &sm.fs_options,
    );
    m.fs_root = mount::path_in_mount(&s, &sm);
    m.prop = mount::Propagation {
        unbindable: false,
        ..sm.prop
    };
    let top = m.id;
    // The tree to copy is the one before the new mount: binding a tree
    // into itself (`mount --rbind / /run/x`, systemd's unit-root) does
    // not copy the new mount into itself (Linux's copy_tree runs before
    // the attach).
    let before = mount::mounts();
    let src_at = mount::place_of(&s).map(|(_, at)| at);
    mount::add_mount(m, Some(p));
    if let (true, Some(src_at)) = (flags & MS_REC != 0, src_at) {
        copy_submounts(&before, &src_at, &sm, top);
    }
    Ok(())
}

/// mount --rbind: the mounts of `g` below the source path `src_at` (on
/// mount `sm`) are copied below the new mount `top`, the same way,
/// except the unbindable ones and what is below them.
fn copy_submounts(g: &[Arc<Mount>], src_at: &str, sm: &Mount, top: u32) {
    // Old id -> copy's id, for the parents of deeper copies.
    let mut copies = std::collections::HashMap::from([(sm.id, top)]);
    for id in mount::subtree_of(g, sm.id).into_iter().skip(1) {
        let Some(c) = g.iter().find(|m| m.id == id) else {
            continue;
        };
        let Some(&parent) = copies.get(&c.parent_id) else {
            continue;
        };
        if c.prop.unbindable {
            continue;
        }
        let mp = if c.parent_id == sm.id {
            // Its place below the source path, or not copied.
            let at = mount::target_in(g, c);
            match at.strip_prefix(src_at.trim_end_matches('/')) {
                Some(r) if r.starts_with('/') => r.to_string(),
                _ => continue,
            }
        } else {
            c.mp.clone()
        };
        let mut copy = (**c).clone();
        copy.id = mount::new_id();
        copy.prop.unbindable = false;
        copy.locked = false;
        copies.insert(c.id, copy.id);
        mount::attach_at(copy, parent, mp);
    }
}

/// mount --move SRC TARGET: the mount rooted at SRC moves to TARGET.
/// Not the root, a locked mount or one under a shared mount (EINVAL).
fn move_mount(t: &Task, src: &str, p: &Path) -> KResult<()> {
    let s = lookup_at(t, AT_FDCWD, src, true)?;
    let m = mount_rooted_at(&s)?;
    if m.point.is_none() || m.locked {
        return Err(Errno::EINVAL);
    }
    let all = mount::mounts();
    if all.iter().any(|x| x.id == m.parent_id && x.prop.group != 0) {
        return Err(Errno::EINVAL);
    }
    let pm = mount::mount_of(p).ok_or(Errno::EINVAL)?;
    if pm.id == m.id {
        return Err(Errno::ELOOP);
    }
    let mp = mount::rel_path(p, &pm);
    mount::update(m.id, |mm| {
        mm.point = Some(p.inode.clone());
        mm.mp = mp;
        mm.parent_id = pm.id;
    });
    Ok(())
}

/// mount: the target is looked up first, then CAP_SYS_ADMIN over the
/// namespace is checked (EPERM), then, as Linux's path_mount: remount,
/// bind, propagation type, move, new mount.
pub fn sys_mount(
    t: &Arc<Task>,
    source: u64,
    target: u64,
    fstype: u64,
    flags: u64,
    data: u64,
) -> KResult<u64> {
    let flags = mount::strip_magic(flags);
    let target_s = read_path(t, target)?;
    let p = lookup_at(t, AT_FDCWD, &target_s, true)?;
    may_mount(t)?;
    let data_s = if data != 0 && flags & (mount::MS_BIND | mount::MS_MOVE) == 0 {
        t.mm().read_cstr(data, 4096)?
    } else {
        String::new()
    };
    let propagation = mount::MS_SHARED | mount::MS_PRIVATE | mount::MS_SLAVE | mount::MS_UNBINDABLE;
    let type_flags = flags;
    let (flags, words) = mount::split_options(flags, &data_s);
    if flags & mount::MS_REMOUNT != 0 {
        remount(&p, flags, &words)?;
        return Ok(0);
    }
    let src = if source != 0 {
        read_path(t, source).unwrap_or_default()
    } else {
        String::new()
    };
    if flags & mount::MS_BIND != 0 {
        bind(t, &src, &p, flags)?;
        return Ok(0);
    }
    if flags & propagation != 0 {
        let m = mount_rooted_at(&p)?;
        let ty = mount::PropType::from_flags(type_flags).ok_or(Errno::EINVAL)?;
        mount::change_propagation(m.id, type_flags & MS_REC != 0, ty);
        return Ok(0);
    }
    if flags & mount::MS_MOVE != 0 {
        move_mount(t, &src, &p)?;
        return Ok(0);
    }
    // A new mount without a type: EINVAL, as Linux's do_new_mount.
    if fstype == 0 {
        return Err(Errno::EINVAL);
    }
    let fstype = read_path(t, fstype)?;
    match userns_mountable(&fstype) {
        None => return Err(Errno::ENODEV),
        Some(false)
            if !t.creds().capable(super::caps::CAP_SYS_ADMIN)
                || !super::ns::of(t).user.is_init_user() =>
        {
            return Err(Errno::EPERM)
        }
        _ => {}
    }
    if !p.inode.stat().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let mflags = MntFlags::from_mount(flags, None);
    let ro = mflags.contains(MntFlags::RDONLY);
    let (root, shown) = new_instance(t, &src, &fstype, ro, &words)?;
    let source = if src.is_empty() { fstype.clone() } else { src };
    let m = Mount::new(
        Some(p.inode.clone()),
        root,
        &source,
        &fstype,
        mflags,
        &shown,
    );
    mount::add_mount(m, Some(&p));
    Ok(0)
}

/// MS_REC: a propagation change or bind for the whole subtree.
const MS_REC: u64 = 16384;

/// umount2: flags checked first (EINVAL), then the lookup, CAP_SYS_ADMIN
/// (EPERM), that the path is a mount's root (EINVAL; a path with mounts
/// stacked on it means the topmost) and not locked (EINVAL); the root is
/// EBUSY. MNT_DETACH takes the mounts below along.
pub fn sys_umount2(t: &Arc<Task>, target: u64, flags: i32) -> KResult<u64> {
    const MNT_FORCE: i32 = 1;
    const MNT_DETACH: i32 = 2;
    const MNT_EXPIRE: i32 = 4;
    const UMOUNT_NOFOLLOW: i32 = 8;
    if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let target = read_path(t, target)?;
    let p = lookup_at(t, AT_FDCWD, &target, flags & UMOUNT_NOFOLLOW == 0)?;
    may_mount(t)?;
    // The walk crossed every mount stacked there: `p` is in the topmost.
    let m = mount_rooted_at(&p)?;
    if m.locked {
        return Err(Errno::EINVAL);
    }
    if m.point.is_none() {
        // The root stays; Linux answers EBUSY as it is in use.
        return Err(Errno::EBUSY);
    }
    let ext = crate::fs::ext4::fs_of(&m.root);
    let mounts_of = |fs: &Arc<crate::fs::ext4::Ext4Fs>| {
        mount::all_mounts()
            .iter()
            .filter(|m| crate::fs::ext4::fs_of(&m.root).is_some_and(|f| Arc::ptr_eq(&f, fs)))
            .count()
    };
    // The last mount of an ext filesystem in use (open files, a working
    // directory) stays, as in Linux, unless detached lazily. The root is
    // referenced by its mount and by `p`.
    if let Some(fs) = &ext {
        if mounts_of(fs) == 1 && flags & MNT_DETACH == 0 && fs.busy(2) {
            return Err(Errno::EBUSY);
        }
    }
    mount::umount(m.id, flags & MNT_DETACH != 0)?;
    // The last mount of an ext filesystem: write it back and mark it clean
    // (a lazily detached one stays registered and is synced at power off).
    if let Some(fs) = ext {
        if mounts_of(&fs) == 0 && flags & MNT_DETACH == 0 {
            fs.unmount()?;
        }
    }
    Ok(0)
}

/// statfs's f_flags for a mount: ST_VALID and the ST_* bit of each flag.
fn st_flags(m: Option<&Mount>) -> u64 {
    const ST_VALID: u64 = 0x20;
    let Some(m) = m else { return ST_VALID };
    let table = [
        (MntFlags::NOSUID, 2),
        (MntFlags::NODEV, 4),
        (MntFlags::NOEXEC, 8),
        (MntFlags::SYNCHRONOUS, 16),
        (MntFlags::NOATIME, 1024),
        (MntFlags::NODIRATIME, 2048),
        (MntFlags::RELATIME, 4096),
        (MntFlags::NOSYMFOLLOW, 8192),
    ];
    let mut f = ST_VALID;
    for (flag, st) in table {
        if m.flags.contains(flag) {
            f |= st;
        }
    }
    if m.read_only() {
        f |= 1;
    }
    f
}

/// struct statfs for `inode` on mount `m`. Filesystems without capacity
/// (proc, sysfs, devpts, pipes) report zeros, as Linux's simple_statfs.
fn statfs_abi(inode: Option<&Arc<dyn vfs::Inode>>, magic: u64, m: Option<&Mount>) -> Statfs {
    let st = inode.and_then(|i| i.statfs()).unwrap_or(vfs::StatFs {
        magic,
        bsize: 4096,
        namelen: 255,
        ..Default::default()
    });
    Statfs {
        f_type: st.magic,
        f_bsize: st.bsize,
        f_blocks: st.blocks,
        f_bfree: st.bfree,
        f_bavail: st.bavail,
        f_files: st.files,
        f_ffree: st.ffree,
        f_fsid: st.fsid,
        f_namelen: st.namelen,
        f_frsize: st.bsize,
        f_flags: st_flags(m),
        f_spare: [0; 4],
    }
}

/// statfs
pub fn sys_statfs(t: &Arc<Task>, path: u64, buf: u64) -> KResult<u64> {
    let path = read_path(t, path)?;
    let p = lookup_at(t, AT_FDCWD, &path, true)?;
    let m = mount::mount_of(&p);
    let b = statfs_abi(Some(&p.inode), p.inode.fs_magic(), m.as_deref());
    abi::write_val(&t.mm(), buf, &b)?;
    Ok(0)
}

/// fstatfs
pub fn sys_fstatfs(t: &Arc<Task>, fd: i32, buf: u64) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    let magic = f
        .inode
        .as_ref()
        .map(|i| i.fs_magic())
        .unwrap_or(0x5049_5045);
    let m = f.path.as_ref().and_then(mount::mount_of);
    let b = statfs_abi(f.inode.as_ref(), magic, m.as_deref());
    abi::write_val(&t.mm(), buf, &b)?;
    Ok(0)
}
