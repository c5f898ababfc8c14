//! devpts: the filesystem on /dev/pts. It shows `ptmx` and one node per
//! pty whose master is open; the nodes come and go with the masters. There
//! is one instance: every mount shows the same ptys.

use super::pty::{self, PTY_SLAVE_MAJOR};
use crate::drivers::mkdev;
use crate::fs::file::FileOps;
use crate::fs::vfs::{
    DirEntry, Inode, Owner, SetAttr, Stat, Timespec, DEVPTS_SUPER_MAGIC, S_IFCHR, S_IFDIR,
};
use crate::kernel::errno::{Errno, KResult};
use std::any::Any;
use std::sync::{Arc, Mutex, OnceLock};

/// The mount options (shared by every mount: there is one instance).
#[derive(Clone, Copy)]
struct Options {
    /// Group of new slave nodes (gid=; None: the opener's).
    gid: Option<u32>,
    /// Mode of slave nodes (mode=).
    mode: u32,
    /// Mode of /dev/pts/ptmx (ptmxmode=).
    ptmxmode: u32,
}

/// As an init system mounts it: gid=5 (tty), mode=620, ptmxmode=000.
static OPTS: Mutex<Options> = Mutex::new(Options {
    gid: Some(5),
    mode: 0o620,
    ptmxmode: 0,
});

fn opts() -> Options {
    *OPTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Apply devpts mount options (gid=, mode=, ptmxmode=, newinstance,
/// max=); options not named keep their value. Returns what /proc/mounts
/// shows.
pub fn configure(words: &[String]) -> KResult<String> {
    let mut o = opts();
    for w in words {
        let (k, v) = w.split_once('=').unwrap_or((w.as_str(), ""));
        let oct = || u32::from_str_radix(v, 8).ok().filter(|m| *m <= 0o7777);
        match k {
            "gid" => o.gid = Some(v.parse().map_err(|_| Errno::EINVAL)?),
            "mode" => o.mode = oct().ok_or(Errno::EINVAL)?,
            "ptmxmode" => o.ptmxmode = oct().ok_or(Errno::EINVAL)?,
            "newinstance" | "max" => {}
            _ => {
                log::error!("devpts: called with bogus options \"{w}\"");
                return Err(Errno::EINVAL);
            }
        }
    }
    *OPTS.lock().unwrap_or_else(|e| e.into_inner()) = o;
    Ok(show_options())
}

/// The options as /proc/mounts shows them.
pub fn show_options() -> String {
    let o = opts();
    let mut s = String::new();
    if let Some(g) = o.gid {
        s.push_str(&format!("gid={g},"));
    }
    s.push_str(&format!("mode={:03o},ptmxmode={:03o}", o.mode, o.ptmxmode));
    s
}

static ROOT: OnceLock<Arc<Root>> = OnceLock::new();

fn dev() -> u64 {
    static DEV: OnceLock<u64> = OnceLock::new();
    *DEV.get_or_init(crate::fs::tmpfs::new_dev)
}

fn boot_time() -> Timespec {
    static T: OnceLock<Timespec> = OnceLock::new();
    *T.get_or_init(Timespec::now)
}

/// The devpts root (mount -t devpts).
pub fn root() -> Arc<dyn Inode> {
    ROOT.get_or_init(|| Arc::new(Root)).clone()
}

struct Root;

/// `ptmx` (index None) or slave N.
struct Node {
    index: Option<u32>,
}

impl Inode for Root {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn stat(&self) -> Stat {
        let t = boot_time();
        Stat {
            dev: dev(),
            ino: 1,
            mode: S_IFDIR | 0o755,
            nlink: 2,
            blksize: 1024,
            atime: t,
            mtime: t,
            ctime: t,
            ..Default::default()
        }
    }
    fn lookup(&self, name: &str) -> KResult<Arc<dyn Inode>> {
        if name == "ptmx" {
            return Ok(Arc::new(Node { index: None }));
        }
        let n: u32 = name.parse().map_err(|_| Errno::ENOENT)?;
        if n.to_string() != name || pty::pair(n).is_none() {
            return Err(Errno::ENOENT);
        }
        Ok(Arc::new(Node { index: Some(n) }))
    }
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        let mut v = vec![DirEntry {
            name: "ptmx".into(),
            ino: 2,
            dtype: 2,
        }];
        for i in pty::indices() {
            v.push(DirEntry {
                name: i.to_string(),
                ino: i as u64 + 3,
                dtype: 2,
            });
        }
        Ok(v)
    }
    fn create(
        &self,
        _name: &str,
        _mode: u32,
        _rdev: u64,
        _owner: Owner,
    ) -> KResult<Arc<dyn Inode>> {
        Err(Errno::EPERM)
    }
    fn unlink(&self, _name: &str, _dir: bool) -> KResult<()> {
        Err(Errno::EPERM)
    }
    fn fs_magic(&self) -> u64 {
        DEVPTS_SUPER_MAGIC
    }
}

impl Inode for Node {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn stat(&self) -> Stat {
        let t = boot_time();
        let (ino, mode, uid, gid, rdev) = match self.index {
            // Linux's default ptmxmode is 000: /dev/ptmx is the node to use.
            None => (2, S_IFCHR | opts().ptmxmode, 0, 0, mkdev(5, 2)),
            Some(i) => (
                i as u64 + 3,
                S_IFCHR | opts().mode,
                pty::pair(i).map_or(0, |p| p.owner()),
                opts().gid.unwrap_or(0),
                mkdev(PTY_SLAVE_MAJOR + i / 256, i % 256),
            ),
        };
        Stat {
            dev: dev(),
            ino,
            mode,
            nlink: 1,
            uid,
            gid,
            rdev,
            blksize: 1024,
            atime: t,
            mtime: t,
            ctime: t,
            ..Default::default()
        }
    }
    fn setattr(&self, _a: &SetAttr) -> KResult<()> {
        // chmod/chown of a slave (grantpt): the fixed mode already is
        // what it asks for.
        Ok(())
    }
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        match self.index {
            None => pty::open_ptmx().map(Some),
            Some(i) => {
                let f: Arc<dyn FileOps> = pty::open_slave(i)?;
                Ok(Some(f))
            }
        }
    }
    fn fs_magic(&self) -> u64 {
        DEVPTS_SUPER_MAGIC
    }
}
