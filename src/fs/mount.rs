//! Mounts: which filesystem is mounted where, with which per-mount flags
//! (ro, nosuid, nodev, noexec, atime policy) and filesystem options; how
//! mount(2)'s flags and option string are split between the two; and the
//! lines /proc/mounts and /proc/PID/mountinfo show. The trees of the
//! mount namespaces live in `table`, shared-subtree propagation in
//! `propagate`.
//!
//! A mount point is the inode a mount covers in its parent mount, so
//! path walks need no mount pointer in each dentry; `mount_of` recovers
//! the mount of a walked path from its dentry chain, from the top down
//! (a chain whose names no longer lead to a moved mount loses it).

mod propagate;
mod table;

pub use propagate::PropType;
pub use table::*;

use super::vfs::Inode;
use bitflags::bitflags;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

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

/// How mount and umount events travel between mounts (Linux's shared
/// subtrees): peer groups are numbered as mountinfo's `shared:N`; a
/// slave names its master's peer group (`master:N`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Propagation {
    /// The peer group this mount shares events with (0: not shared).
    pub group: u32,
    /// The peer group it receives events from (0: not a slave).
    pub master: u32,
    /// Refused as the source of a bind mount.
    pub unbindable: bool,
}

/// One mounted filesystem (or bind mount) in one namespace's tree.
#[derive(Clone)]
pub struct Mount {
    /// Unique id, as in mountinfo.
    pub id: u32,
    /// The id of the mount this one sits on (a hidden rootfs id for the
    /// namespace's root).
    pub parent_id: u32,
    /// The inode it covers (None for the namespace's root mount).
    pub point: Option<Arc<dyn Inode>>,
    pub root: Arc<dyn Inode>,
    /// Where `root` is inside its filesystem: "/" except for bind mounts
    /// of a subdirectory.
    pub fs_root: String,
    pub source: String,
    pub fstype: String,
    /// Where the mount point is below the parent mount's root ("/" for
    /// the namespace's root): the mount's path is its parent's path
    /// joined with this, so moving or pivoting a parent moves it too.
    pub mp: String,
    pub flags: MntFlags,
    /// Filesystem options as /proc/mounts shows them after the generic
    /// ones ("size=1024k,mode=700"); may be empty.
    pub fs_options: String,
    pub prop: Propagation,
    /// Copied into a namespace owned by a less privileged user namespace:
    /// it cannot be unmounted alone there (Linux's MNT_LOCKED), and the
    /// flags in `locked_flags` cannot be cleared by a remount.
    pub locked: bool,
    pub locked_flags: MntFlags,
}

/// Mount ids: Linux's start after a few kernel-internal mounts.
static NEXT_ID: AtomicU32 = AtomicU32::new(16);

/// A fresh mount id.
pub fn new_id() -> u32 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl Mount {
    /// A new, private mount (id assigned here) of `root` on `point`; its
    /// place in the tree is set when it is added.
    pub fn new(
        point: Option<Arc<dyn Inode>>,
        root: Arc<dyn Inode>,
        source: &str,
        fstype: &str,
        flags: MntFlags,
        fs_options: &str,
    ) -> Mount {
        Mount {
            id: new_id(),
            parent_id: 1,
            point,
            root,
            fs_root: "/".into(),
            source: source.into(),
            fstype: fstype.into(),
            mp: "/".into(),
            flags,
            fs_options: fs_options.into(),
            prop: Propagation::default(),
            locked: false,
            locked_flags: MntFlags::empty(),
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

    /// The line in /proc/mounts, the mount seen at `target`.
    pub fn mounts_line(&self, target: &str) -> String {
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
            escape(target),
            self.fstype,
            o
        )
    }

    /// The line in /proc/PID/mountinfo (proc(5)): ids, device, root,
    /// mount point (`target`), mount options, the optional propagation
    /// fields (`optional`, each with a leading space), type, source and
    /// superblock options.
    pub fn mountinfo_line(&self, target: &str, optional: &str) -> String {
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
            "{} {} {}:{} {} {} {}{} - {} {} {}\n",
            self.id,
            self.parent_id,
            crate::drivers::major(dev),
            crate::drivers::minor(dev),
            escape(&self.fs_root),
            escape(target),
            mnt.join(","),
            optional,
            self.fstype,
            escape(&self.source),
            sbo
        )
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
