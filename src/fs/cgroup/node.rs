//! cgroup2 inodes: a directory per group (mkdir and rmdir make and
//! remove groups) and its control files, whose text is made at each read
//! and parsed at each write, as Linux's kernfs-backed cgroupfs.

use super::files::{present, Spec, FILES};
use super::tree::{tree, Id};
use crate::fs::vfs::*;
use crate::kernel::errno::{Errno, KResult};
use std::any::Any;
use std::sync::{Arc, OnceLock};

pub const CGROUP2_SUPER_MAGIC: u64 = 0x6367_7270;

fn dev() -> u64 {
    static DEV: OnceLock<u64> = OnceLock::new();
    *DEV.get_or_init(crate::fs::tmpfs::new_dev)
}

/// Inode numbers: a group's directory and its files share a block.
fn ino(id: Id, file: usize) -> u64 {
    ((id as u64 + 1) << 8) | file as u64
}

pub struct Dir {
    pub id: Id,
}

pub struct Ctl {
    id: Id,
    idx: usize,
}

impl Ctl {
    fn spec(&self) -> &'static Spec {
        &FILES[self.idx]
    }
}

fn base_stat(id: Id) -> Stat {
    let born = tree().get(id).map(|g| g.born).unwrap_or_default();
    Stat {
        dev: dev(),
        blksize: 4096,
        atime: born,
        mtime: born,
        ctime: born,
        ..Default::default()
    }
}

impl Inode for Dir {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stat(&self) -> Stat {
        let subdirs = tree().get(self.id).map(|g| g.children.len()).unwrap_or(0);
        Stat {
            ino: ino(self.id, 0),
            mode: S_IFDIR | 0o755,
            nlink: 2 + subdirs as u32,
            ..base_stat(self.id)
        }
    }

    fn setattr(&self, a: &SetAttr) -> KResult<()> {
        // Ownership delegation (chown of a group's directory) is not kept.
        if a.uid.is_some() || a.gid.is_some() || a.mode.is_some() {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    fn lookup(&self, name: &str) -> KResult<Arc<dyn Inode>> {
        let child = tree().get(self.id)?.children.get(name).copied();
        if let Some(id) = child {
            return Ok(Arc::new(Dir { id }));
        }
        FILES
            .iter()
            .position(|s| s.name == name && present(s, self.id))
            .map(|idx| Arc::new(Ctl { id: self.id, idx }) as Arc<dyn Inode>)
            .ok_or(Errno::ENOENT)
    }

    /// mkdir makes a group; files cannot be made (EACCES for a regular
    /// file, as kernfs without ->create; EPERM for the rest).
    fn create(&self, name: &str, mode: u32, _rdev: u64, _owner: Owner) -> KResult<Arc<dyn Inode>> {
        if mode & S_IFMT != S_IFDIR {
            return Err(if mode & S_IFMT == S_IFREG {
                Errno::EACCES
            } else {
                Errno::EPERM
            });
        }
        if FILES.iter().any(|s| s.name == name && present(s, self.id)) {
            return Err(Errno::EEXIST);
        }
        let id = tree().mkdir(self.id, name)?;
        Ok(Arc::new(Dir { id }))
    }

    fn unlink(&self, name: &str, dir: bool) -> KResult<()> {
        if !dir {
            return Err(Errno::EPERM);
        }
        let is_file = FILES.iter().any(|s| s.name == name && present(s, self.id));
        if is_file {
            return Err(Errno::ENOTDIR);
        }
        tree().rmdir(self.id, name)
    }

    fn symlink(&self, _name: &str, _target: &str, _owner: Owner) -> KResult<()> {
        Err(Errno::EPERM)
    }

    fn link(&self, _name: &str, _target: &Arc<dyn Inode>) -> KResult<()> {
        Err(Errno::EPERM)
    }

    /// Renaming a group within its parent is allowed in Linux; moving it
    /// elsewhere is not. Neither is done here.
    fn rename(&self, _old: &str, _nd: &Arc<dyn Inode>, _new: &str, _flags: u32) -> KResult<()> {
        Err(Errno::EPERM)
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        let mut v: Vec<DirEntry> = FILES
            .iter()
            .enumerate()
            .filter(|(_, s)| present(s, self.id))
            .map(|(i, s)| DirEntry {
                name: s.name.to_string(),
                ino: ino(self.id, i + 1),
                dtype: dtype_of(S_IFREG),
            })
            .collect();
        let t = tree();
        for (name, &id) in &t.get(self.id)?.children {
            v.push(DirEntry {
                name: name.clone(),
                ino: ino(id, 0),
                dtype: dtype_of(S_IFDIR),
            });
        }
        Ok(v)
    }

    fn fs_magic(&self) -> u64 {
        CGROUP2_SUPER_MAGIC
    }

    fn statfs(&self) -> Option<StatFs> {
        Some(StatFs {
            magic: CGROUP2_SUPER_MAGIC,
            bsize: 4096,
            namelen: 255,
            ..Default::default()
        })
    }
}

impl Inode for Ctl {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stat(&self) -> Stat {
        let s = self.spec();
        Stat {
            ino: ino(self.id, self.idx + 1),
            mode: S_IFREG | if s.writable { 0o644 } else { 0o444 },
            nlink: 1,
            ..base_stat(self.id)
        }
    }

    /// `echo x > file` opens with O_TRUNC: accepted, nothing to cut.
    fn setattr(&self, a: &SetAttr) -> KResult<()> {
        if a.uid.is_some() || a.gid.is_some() || a.mode.is_some() {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let text = (self.spec().read)(self.id)?;
        let t = text.as_bytes();
        let p = (off as usize).min(t.len());
        let n = buf.len().min(t.len() - p);
        buf[..n].copy_from_slice(&t[p..p + n]);
        Ok(n)
    }

    /// Each write is one command, whatever the offset (kernfs hands the
    /// whole buffer to the file's handler).
    fn write_at(&self, _off: u64, buf: &[u8]) -> KResult<usize> {
        let text = std::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
        (self.spec().write)(self.id, text)?;
        Ok(buf.len())
    }

    /// Opening a read-only control file for writing is EACCES even for
    /// root, as kernfs_fop_open.
    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn crate::fs::file::FileOps>>> {
        use crate::fs::file::{O_ACCMODE, O_RDONLY};
        if flags & O_ACCMODE != O_RDONLY && !self.spec().writable {
            return Err(Errno::EACCES);
        }
        tree().get(self.id)?;
        Ok(None)
    }

    fn fs_magic(&self) -> u64 {
        CGROUP2_SUPER_MAGIC
    }
}
