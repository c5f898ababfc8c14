//! The mount table: which filesystem is mounted where, with which per-mount
//! flags (ro, nosuid, nodev, noexec, atime policy) and filesystem options;
//! how mount(2)'s flags and option string are split between the two; and
//! how /proc/mounts and /proc/PID/mountinfo show them.
//!
//! There is one mount namespace. Mounts are found by the identity of the
//! inode they cover, so path walks need no mount pointer in each dentry;
//! `mount_of` recovers the mount of a walked path from its dentry chain.

use super::vfs::{same_inode, Dentry, Inode, Path};
use crate::kernel::errno::{Errno, KResult};
use bitflags::bitflags;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// mount(2) flags that are not per-mount properties but requests.
pub const MS_REMOUNT: u64 = 32;
pub const MS_BIND: u64 = 4096;
pub const MS_MOVE: u64 = 8192;
pub const MS_UNBINDABLE: u64 = 1 << 17;
pub const MS_PRIVATE: u64 = 1 << 18;
pub const MS_SLAVE: u64 = 1 << 19;
pub const MS_SHARED: u64 = 1 << 20;
/// The magic number old programs put in the top half of the flags.
const MS_MGC_MSK: u64 = 0xffff_0000_0000_0000 | 0xc0ed_0000;
const MS_MGC_VAL: u64 = 0xc0ed_0000;

bitflags! {
    /// What one mount allows, with the bit values of mount(2)'s MS_* flags.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub struct MntFlags: u64 {
        const RDONLY = 1;
        const NOSUID = 2;
        const NODEV = 4;
        const NOEXEC = 8;
        const SYNCHRONOUS = 16;
        const DIRSYNC = 128;
        const NOSYMFOLLOW = 256;
        const NOATIME = 1 << 10;
        const NODIRATIME = 1 << 11;
        const RELATIME = 1 << 21;
        const STRICTATIME = 1 << 24;
        const LAZYTIME = 1 << 25;
    }
}

impl MntFlags {
    const ATIME: MntFlags = MntFlags::NOATIME
        .union(MntFlags::NODIRATIME)
        .union(MntFlags::RELATIME)
        .union(MntFlags::STRICTATIME);

    /// The flags a mount(2) call asks for. As in Linux, a mount that names
    /// no atime policy gets relatime; a remount that names none keeps the
    /// mount's current one (`old`).
    pub fn from_mount(flags: u64, old: Option<MntFlags>) -> MntFlags {
        let mut f = MntFlags::from_bits_truncate(flags);
        if !f.intersects(MntFlags::ATIME) {
            match old {
                Some(o) => f |= o & MntFlags::ATIME,
                None => f |= MntFlags::RELATIME,
            }
        }
        if f.contains(MntFlags::STRICTATIME) {
            f.remove(MntFlags::RELATIME | MntFlags::NOATIME | MntFlags::STRICTATIME);
        }
        // noatime wins over relatime (mount(8) may pass both on remount).
        if f.contains(MntFlags::NOATIME) {
            f.remove(MntFlags::RELATIME);
        }
        f
    }

    /// Linux's order in /proc/mounts: sync, dirsync, lazytime (superblock),
    /// then nosuid, nodev, noexec, atime policy, nosymfollow (mount).
    fn words(self) -> Vec<&'static str> {
        let table: [(MntFlags, &str); 10] = [
            (MntFlags::SYNCHRONOUS, "sync"),
            (MntFlags::DIRSYNC, "dirsync"),
            (MntFlags::LAZYTIME, "lazytime"),
            (MntFlags::NOSUID, "nosuid"),
            (MntFlags::NODEV, "nodev"),
            (MntFlags::NOEXEC, "noexec"),
            (MntFlags::NOATIME, "noatime"),
            (MntFlags::NODIRATIME, "nodiratime"),
            (MntFlags::RELATIME, "relatime"),
            (MntFlags::NOSYMFOLLOW, "nosymfollow"),
        ];
        table
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, w)| *w)
            .collect()
    }
}

/// Strip the legacy magic from mount(2)'s flags.
pub fn strip_magic(flags: u64) -> u64 {
    if flags & MS_MGC_MSK == MS_MGC_VAL {
        flags & 0xffff
    } else {
        flags
    }
}

/// Split a comma-separated option string into mount flags it sets or
/// clears (`ro`, `nosuid`, `noatime`, ... as mount(8) would turn them
/// into MS_* bits) and the words left for the filesystem. Used for
/// `rootflags=` and for option strings given to mount(2).
pub fn split_options(flags: u64, data: &str) -> (u64, Vec<String>) {
    let mut flags = flags;
    let mut rest = Vec::new();
    for w in data.split(',').filter(|w| !w.is_empty()) {
        let (set, clear): (u64, u64) = match w {
            "ro" => (1, 0),
            "rw" => (0, 1),
            "nosuid" => (2, 0),
            "suid" => (0, 2),
            "nodev" => (4, 0),
            "dev" => (0, 4),
            "noexec" => (8, 0),
            "exec" => (0, 8),
            "sync" => (16, 0),
            "async" => (0, 16),
            "dirsync" => (128, 0),
            "nosymfollow" => (256, 0),
            "noatime" => (1 << 10, 0),
            "atime" => (0, 1 << 10),
            "nodiratime" => (1 << 11, 0),
            "diratime" => (0, 1 << 11),
            "relatime" => (1 << 21, 0),
            "norelatime" => (0, 1 << 21),
            "strictatime" => (1 << 24, 0),
            "lazytime" => (1 << 25, 0),
            "nolazytime" => (0, 1 << 25),
            // Words mount(8) understands and never passes on.
            "defaults" | "auto" | "noauto" | "user" | "nouser" | "users" | "_netdev" | "nofail"
            | "owner" | "group" | "loud" | "silent" | "remount" | "bind" | "rbind" => (0, 0),
            _ => {
                rest.push(w.to_string());
                continue;
            }
        };
        flags = (flags | set) & !clear;
    }
    (flags, rest)
}

/// One mounted filesystem (or bind mount) in the tree.
pub struct Mount {
    /// Unique id, as in mountinfo.
    pub id: u32,
    /// The id of the mount this one sits on (its own for the root).
    pub parent_id: u32,
    /// The inode it covers (None for the root mount).
    pub point: Option<Arc<dyn Inode>>,
    pub root: Arc<dyn Inode>,
    /// Where `root` is inside its filesystem: "/" except for bind mounts
    /// of a subdirectory.
    pub fs_root: String,
    pub source: String,
    pub fstype: String,
    /// Mount point as an absolute path.
    pub target: String,
    pub flags: MntFlags,
    /// Filesystem options as /proc/mounts shows them after the generic
    /// ones ("size=1024k,mode=700"); may be empty.
    pub fs_options: String,
}

impl Mount {
    /// A new mount (id assigned here) of `root` on `point`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        point: Option<Arc<dyn Inode>>,
        root: Arc<dyn Inode>,
        source: &str,
        fstype: &str,
        target: &str,
        flags: MntFlags,
        fs_options: &str,
    ) -> Mount {
        static NEXT_ID: AtomicU32 = AtomicU32::new(16);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Mount {
            id,
            parent_id: 1,
            point,
            root,
            fs_root: "/".into(),
            source: source.into(),
            fstype: fstype.into(),
            target: target.into(),
            flags,
            fs_options: fs_options.into(),
        }
    }

    /// Is the filesystem itself (not only this mount) read-only?
    fn sb_read_only(&self) -> bool {
        match crate::fs::ext4::fs_of(&self.root) {
            Some(fs) => fs.read_only(),
            None => self.flags.contains(MntFlags::RDONLY),
        }
    }

    /// Is writing through this mount refused (mount or filesystem ro)?
    pub fn read_only(&self) -> bool {
        self.flags.contains(MntFlags::RDONLY) || self.sb_read_only()
    }

    /// The line in /proc/mounts.
    pub fn mounts_line(&self) -> String {
        let mut opts = vec![if self.read_only() { "ro" } else { "rw" }];
        opts.extend(self.flags.words());
        let mut o = opts.join(",");
        if !self.fs_options.is_empty() {
            o.push(',');
            o.push_str(&self.fs_options);
        }
        format!(
            "{} {} {} {} 0 0\n",
            escape(&self.source),
            escape(&self.target),
            self.fstype,
            o
        )
    }

    /// The line in /proc/PID/mountinfo (proc(5)): ids, device, root,
    /// mount point, mount options, no propagation, type, source and
    /// superblock options.
    pub fn mountinfo_line(&self) -> String {
        let st = self.root.stat();
        let dev = match crate::fs::ext4::fs_of(&self.root) {
            Some(fs) => fs.rdev,
            None => st.dev,
        };
        let mut mnt = vec![if self.flags.contains(MntFlags::RDONLY) {
            "ro"
        } else {
            "rw"
        }];
        mnt.extend(
            (self.flags & !(MntFlags::SYNCHRONOUS | MntFlags::DIRSYNC | MntFlags::LAZYTIME))
                .words(),
        );
        let mut sb = vec![if self.sb_read_only() { "ro" } else { "rw" }];
        sb.extend(
            (self.flags & (MntFlags::SYNCHRONOUS | MntFlags::DIRSYNC | MntFlags::LAZYTIME)).words(),
        );
        let mut sbo = sb.join(",");
        if !self.fs_options.is_empty() {
            sbo.push(',');
            sbo.push_str(&self.fs_options);
        }
        format!(
            "{} {} {}:{} {} {} {} - {} {} {}\n",
            self.id,
            self.parent_id,
            crate::drivers::major(dev),
            crate::drivers::minor(dev),
            escape(&self.fs_root),
            escape(&self.target),
            mnt.join(","),
            self.fstype,
            escape(&self.source),
            sbo
        )
    }

    fn with(&self, f: impl FnOnce(&mut Mount)) -> Mount {
        let mut m = Mount {
            id: self.id,
            parent_id: self.parent_id,
            point: self.point.clone(),
            root: self.root.clone(),
            fs_root: self.fs_root.clone(),
            source: self.source.clone(),
            fstype: self.fstype.clone(),
            target: self.target.clone(),
            flags: self.flags,
            fs_options: self.fs_options.clone(),
        };
        f(&mut m);
        m
    }
}

/// Spaces, tabs, newlines and backslashes as octal escapes, as Linux
/// writes paths in /proc/mounts.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ' ' | '\t' | '\n' | '\\' => o.push_str(&format!("\\{:03o}", c as u32)),
            _ => o.push(c),
        }
    }
    o
}

static MOUNTS: Mutex<Vec<Arc<Mount>>> = Mutex::new(Vec::new());

/// Changes with every change of the table (open files cache their
/// mount's flags against it).
static GENERATION: AtomicU32 = AtomicU32::new(1);

/// The table's generation: equal values mean no mount changed between.
pub fn generation() -> u32 {
    GENERATION.load(Ordering::Relaxed)
}

fn table() -> std::sync::MutexGuard<'static, Vec<Arc<Mount>>> {
    MOUNTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The table, for a change.
fn table_mut() -> std::sync::MutexGuard<'static, Vec<Arc<Mount>>> {
    let g = table();
    GENERATION.fetch_add(1, Ordering::Relaxed);
    g
}

/// Every mount, parents before children.
pub fn mounts() -> Vec<Arc<Mount>> {
    table().clone()
}

/// Add `m` to the tree; its parent is the mount that holds its mount point
/// (`parent`, the walked path of the point, or None for the root).
pub fn add_mount(mut m: Mount, parent: Option<&Path>) {
    m.parent_id = match parent {
        Some(p) => mount_of(p).map(|pm| pm.id).unwrap_or(1),
        None => 1,
    };
    table_mut().push(Arc::new(m));
}

/// Remove the mount whose root is `root`. EBUSY if something is mounted
/// on it.
pub fn remove_mount(root: &Arc<dyn Inode>) -> KResult<()> {
    let mut g = table_mut();
    let idx = g
        .iter()
        .rposition(|m| m.point.is_some() && same_inode(&m.root, root))
        .ok_or(Errno::EINVAL)?;
    if g.iter()
        .any(|m| m.point.as_ref().is_some_and(|p| same_inode(p, root)))
    {
        return Err(Errno::EBUSY);
    }
    g.remove(idx);
    Ok(())
}

/// Replace mount `id` with a changed copy (remount).
pub fn update(id: u32, f: impl FnOnce(&mut Mount)) {
    let mut g = table_mut();
    if let Some(m) = g.iter_mut().find(|m| m.id == id) {
        *m = Arc::new(m.with(f));
    }
}

/// If a filesystem is mounted on `inode`, the (topmost) mounted root.
pub fn covered(inode: Arc<dyn Inode>) -> Arc<dyn Inode> {
    let g = table();
    let mut cur = inode;
    loop {
        let next = g
            .iter()
            .rev()
            .find(|m| m.point.as_ref().is_some_and(|p| same_inode(p, &cur)))
            .map(|m| m.root.clone());
        match next {
            Some(n) => cur = n,
            None => return cur,
        }
    }
}

/// Is `inode` the root of a mount (for EBUSY on rmdir etc.)?
pub fn is_mount_root(inode: &Arc<dyn Inode>) -> bool {
    table().iter().any(|m| same_inode(&m.root, inode))
}

/// The mount a walked path lies in: the nearest dentry up the chain that
/// was reached by crossing a mount point. A dentry whose inode roots a
/// mount is that mount's only if its name in the parent leads, through
/// the mounts stacked there, to it: a bind-mounted directory seen at its
/// original place is not in the bind mount.
pub fn mount_of(path: &Path) -> Option<Arc<Mount>> {
    // A copy: `lookup` below must not run under the table's lock.
    let g = mounts();
    let mut cur: &Arc<Dentry> = path;
    loop {
        if g.iter().any(|m| same_inode(&m.root, &cur.inode)) {
            let Some(parent) = &cur.parent else {
                return g.iter().find(|m| m.point.is_none()).cloned();
            };
            if let Ok(under) = parent.inode.lookup(&cur.name) {
                if let Some(m) = top_mount_on(&g, under) {
                    return Some(m);
                }
            }
        }
        match &cur.parent {
            Some(p) => cur = p,
            None => return g.iter().find(|m| m.point.is_none()).cloned(),
        }
    }
}

/// The last of the mounts stacked on `inode` (None if nothing is mounted
/// there), as `covered` follows them.
fn top_mount_on(g: &[Arc<Mount>], inode: Arc<dyn Inode>) -> Option<Arc<Mount>> {
    let mut cur = inode;
    let mut top = None;
    while let Some(m) = g
        .iter()
        .rev()
        .find(|m| m.point.as_ref().is_some_and(|p| same_inode(p, &cur)))
    {
        cur = m.root.clone();
        top = Some(m.clone());
    }
    top
}

/// The path of `path` inside the filesystem of its mount `m` ("/" for
/// the mount's root).
pub fn path_in_mount(path: &Path, m: &Mount) -> String {
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
    let inner = parts.join("/");
    let base = m.fs_root.trim_end_matches('/');
    if inner.is_empty() {
        if base.is_empty() {
            "/".into()
        } else {
            base.into()
        }
    } else {
        format!("{base}/{inner}")
    }
}

/// The flags of the mount `path` lies in (empty if it is in none).
pub fn flags_of(path: &Path) -> MntFlags {
    mount_of(path).map(|m| m.flags).unwrap_or_default()
}

/// EROFS if files under `path` cannot be changed through its mount.
pub fn want_write(path: &Path) -> KResult<()> {
    match mount_of(path) {
        Some(m) if m.read_only() => Err(Errno::EROFS),
        _ => Ok(()),
    }
}

/// Forget every mount (reboot).
pub fn clear_mounts() {
    table_mut().clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_words_become_flags() {
        let (f, rest) = split_options(0, "ro,nosuid,size=1m,noatime,mode=700,defaults");
        assert_eq!(f, 1 | 2 | (1 << 10));
        assert_eq!(rest, vec!["size=1m".to_string(), "mode=700".into()]);
        let (f, _) = split_options(1 | 8, "rw,exec");
        assert_eq!(f, 0);
    }

    #[test]
    fn atime_policy_defaults_to_relatime_and_survives_remount() {
        let f = MntFlags::from_mount(2, None);
        assert_eq!(f, MntFlags::NOSUID | MntFlags::RELATIME);
        let f = MntFlags::from_mount(1 << 10, None);
        assert_eq!(f, MntFlags::NOATIME);
        let f = MntFlags::from_mount(1, Some(MntFlags::NOATIME));
        assert_eq!(f, MntFlags::RDONLY | MntFlags::NOATIME);
        let f = MntFlags::from_mount(1 << 24, Some(MntFlags::NOATIME));
        assert_eq!(f, MntFlags::empty());
        let f = MntFlags::from_mount((1 << 10) | (1 << 21), None);
        assert_eq!(f, MntFlags::NOATIME);
    }

    #[test]
    fn words_in_linux_order() {
        let f = MntFlags::NOEXEC | MntFlags::NOSUID | MntFlags::RELATIME | MntFlags::NODEV;
        assert_eq!(f.words(), vec!["nosuid", "nodev", "noexec", "relatime"]);
    }

    #[test]
    fn escapes_like_proc_mounts() {
        assert_eq!(escape("/a b\\c"), "/a\\040b\\134c");
    }

    #[test]
    fn legacy_magic_is_stripped() {
        assert_eq!(strip_magic(0xc0ed_0000 | 1), 1);
        assert_eq!(strip_magic(1 << 21), 1 << 21);
    }
}
