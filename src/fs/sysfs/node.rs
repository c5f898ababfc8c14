//! The sysfs inode: a tree of directories, attribute files and symlinks
//! that the kernel builds and the guest can only read (and chmod), as
//! Linux's kernfs.

use crate::fs::vfs::*;
use crate::kernel::errno::{Errno, KResult};
use std::any::Any;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// Every sysfs mount shows the same filesystem, so it has one device
/// number.
fn dev() -> u64 {
    static DEV: OnceLock<u64> = OnceLock::new();
    *DEV.get_or_init(crate::fs::tmpfs::new_dev)
}

/// The size Linux reports for every attribute file, whatever it holds
/// (it makes the text when the file is read).
const ATTR_SIZE: u64 = 4096;

enum Kind {
    Dir(Mutex<BTreeMap<String, Arc<SysNode>>>),
    /// Attribute text, and whether it takes writes: writing `uevent` is
    /// accepted and ignored (Linux would resend the event; nothing here
    /// listens).
    Attr(String, bool),
    /// A read-only attribute whose text is made at each read (network
    /// interface state and counters).
    Live(Box<dyn Fn() -> String + Send + Sync>),
    Link(String),
}

pub struct SysNode {
    ino: u64,
    /// Mode, owner and times (chmod and chown work, as in Linux).
    meta: Mutex<Stat>,
    kind: Kind,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SysNode {
    fn new(mode: u32, kind: Kind) -> Arc<SysNode> {
        let now = Timespec::now();
        Arc::new(SysNode {
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            meta: Mutex::new(Stat {
                mode,
                atime: now,
                mtime: now,
                ctime: now,
                ..Default::default()
            }),
            kind,
        })
    }

    /// A new, empty root directory (read-only, as Linux's /sys).
    pub fn root() -> Arc<SysNode> {
        Self::new(S_IFDIR | 0o555, Kind::Dir(Mutex::new(BTreeMap::new())))
    }

    fn children(&self) -> KResult<MutexGuard<'_, BTreeMap<String, Arc<SysNode>>>> {
        match &self.kind {
            Kind::Dir(d) => Ok(lock(d)),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The error for a change to this directory (`err`: only the kernel
    /// changes sysfs), or ENOTDIR if it is not one.
    fn refuse_change(&self, err: Errno) -> Errno {
        match self.kind {
            Kind::Dir(_) => err,
            _ => Errno::ENOTDIR,
        }
    }

    fn add(&self, name: &str, node: Arc<SysNode>) {
        if let Ok(mut d) = self.children() {
            d.insert(name.to_string(), node);
        }
    }

    /// The directory at `path` below this one ("a/b/c"), made if missing.
    pub fn dir(self: &Arc<Self>, path: &str) -> Arc<SysNode> {
        let mut cur = self.clone();
        for name in path.split('/').filter(|s| !s.is_empty()) {
            let next = {
                let Ok(mut d) = cur.children() else {
                    return cur;
                };
                d.entry(name.to_string())
                    .or_insert_with(|| {
                        Self::new(S_IFDIR | 0o755, Kind::Dir(Mutex::new(BTreeMap::new())))
                    })
                    .clone()
            };
            cur = next;
        }
        cur
    }

    /// A read-only attribute file.
    pub fn attr(&self, name: &str, text: impl Into<String>) {
        self.add(
            name,
            Self::new(S_IFREG | 0o444, Kind::Attr(text.into(), false)),
        );
    }

    /// A read-only attribute made by `f` when read.
    pub fn attr_live(&self, name: &str, f: impl Fn() -> String + Send + Sync + 'static) {
        self.add(name, Self::new(S_IFREG | 0o444, Kind::Live(Box::new(f))));
    }

    /// An attribute root may write (`uevent`).
    pub fn attr_rw(&self, name: &str, text: impl Into<String>) {
        self.add(
            name,
            Self::new(S_IFREG | 0o644, Kind::Attr(text.into(), true)),
        );
    }

    pub fn link(&self, name: &str, target: impl Into<String>) {
        self.add(name, Self::new(S_IFLNK | 0o777, Kind::Link(target.into())));
    }
}

impl Inode for SysNode {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stat(&self) -> Stat {
        let (size, nlink) = match &self.kind {
            Kind::Attr(..) | Kind::Live(_) => (ATTR_SIZE, 1),
            Kind::Link(_) => (0, 1),
            Kind::Dir(d) => {
                let subdirs = lock(d)
                    .values()
                    .filter(|n| matches!(n.kind, Kind::Dir(_)))
                    .count();
                (0, 2 + subdirs as u32)
            }
        };
        Stat {
            dev: dev(),
            ino: self.ino,
            nlink,
            size,
            blksize: 4096,
            ..lock(&self.meta).clone()
        }
    }

    /// chmod, chown and utimes work as on Linux; truncating an attribute
    /// (`echo add > uevent` opens with O_TRUNC) does nothing.
    fn setattr(&self, a: &SetAttr) -> KResult<()> {
        a.apply(&mut lock(&self.meta));
        Ok(())
    }

    fn lookup(&self, name: &str) -> KResult<Arc<dyn Inode>> {
        let node = self.children()?.get(name).cloned().ok_or(Errno::ENOENT)?;
        Ok(node)
    }

    /// Only the kernel adds files: Linux answers EACCES for a new file
    /// (no ->create) and EPERM for the rest.
    fn create(&self, _name: &str, mode: u32, _rdev: u64, _owner: Owner) -> KResult<Arc<dyn Inode>> {
        Err(self.refuse_change(if mode & S_IFMT == S_IFREG {
            Errno::EACCES
        } else {
            Errno::EPERM
        }))
    }
    fn symlink(&self, _name: &str, _target: &str, _owner: Owner) -> KResult<()> {
        Err(self.refuse_change(Errno::EPERM))
    }
    fn link(&self, _name: &str, _target: &Arc<dyn Inode>) -> KResult<()> {
        Err(self.refuse_change(Errno::EPERM))
    }
    fn unlink(&self, _name: &str, _dir: bool) -> KResult<()> {
        Err(self.refuse_change(Errno::EPERM))
    }
    fn rename(&self, _old: &str, _nd: &Arc<dyn Inode>, _new: &str, _flags: u32) -> KResult<()> {
        Err(self.refuse_change(Errno::EPERM))
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Ok(self
            .children()?
            .iter()
            .map(|(name, node)| DirEntry {
                name: name.clone(),
                ino: node.ino,
                dtype: dtype_of(lock(&node.meta).mode),
            })
            .collect())
    }

    fn readlink(&self) -> KResult<String> {
        match &self.kind {
            Kind::Link(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let live;
        let text = match &self.kind {
            Kind::Attr(text, _) => text,
            Kind::Live(f) => {
                live = f();
                &live
            }
            _ => return Err(Errno::EISDIR),
        };
        let t = text.as_bytes();
        let p = (off as usize).min(t.len());
        let n = buf.len().min(t.len() - p);
        buf[..n].copy_from_slice(&t[p..p + n]);
        Ok(n)
    }

    fn write_at(&self, _off: u64, buf: &[u8]) -> KResult<usize> {
        match &self.kind {
            Kind::Attr(..) => Ok(buf.len()),
            Kind::Live(_) => Err(Errno::EACCES),
            _ => Err(Errno::EISDIR),
        }
    }

    /// Opening for writing an attribute that takes no writes, or whose
    /// write bits are off, is EACCES even for root (kernfs checks itself).
    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn crate::fs::file::FileOps>>> {
        use crate::fs::file::{O_ACCMODE, O_RDONLY};
        if let Kind::Live(_) = self.kind {
            if flags & O_ACCMODE != O_RDONLY {
                return Err(Errno::EACCES);
            }
        }
        if let Kind::Attr(_, takes_writes) = self.kind {
            let mode_ok = lock(&self.meta).mode & 0o222 != 0;
            if flags & O_ACCMODE != O_RDONLY && !(takes_writes && mode_ok) {
                return Err(Errno::EACCES);
            }
        }
        Ok(None)
    }

    fn fs_magic(&self) -> u64 {
        SYSFS_MAGIC
    }

    /// No capacity, as Linux's simple_statfs: `df` leaves it out.
    fn statfs(&self) -> Option<StatFs> {
        Some(StatFs {
            magic: SYSFS_MAGIC,
            bsize: 4096,
            namelen: 255,
            ..Default::default()
        })
    }
}
