//! The mqueue filesystem (`mount -t mqueue none /dev/mqueue`): one flat
//! directory showing every POSIX message queue as a file whose contents
//! are its QSIZE/NOTIFY/SIGNO/NOTIFY_PID line, as Linux's ipc/mqueue.c.
//! Creating a file makes a queue with the default attributes, removing
//! it is mq_unlink, chmod/chown change who may open the queue. There is
//! one instance: every mount shows the same queues (the name table of
//! `mqueue`).

use super::mqueue::{self, MqFile, Queue};
use crate::fs::file::FileOps;
use crate::fs::vfs::{
    DirEntry, Inode, Owner, SetAttr, Stat, Timespec, S_IFDIR, S_IFMT, S_IFREG, S_ISVTX,
};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::lock;
use std::any::Any;
use std::sync::{Arc, OnceLock};

/// statfs's f_type for the mqueue filesystem.
pub const MQUEUE_MAGIC: u64 = 0x1980_0202;
/// What Linux counts as the size of a directory entry and of a queue's
/// file (DIRENT_SIZE, FILENT_SIZE): the directory grows by one per queue.
const DIRENT_SIZE: u64 = 20;
const FILENT_SIZE: u64 = 80;

fn dev() -> u64 {
    static DEV: OnceLock<u64> = OnceLock::new();
    *DEV.get_or_init(crate::fs::tmpfs::new_dev)
}

fn mount_time() -> Timespec {
    static T: OnceLock<Timespec> = OnceLock::new();
    *T.get_or_init(Timespec::now)
}

/// The root of the mqueue filesystem.
pub fn root() -> Arc<dyn Inode> {
    static ROOT: OnceLock<Arc<Root>> = OnceLock::new();
    ROOT.get_or_init(|| Arc::new(Root)).clone()
}

struct Root;

/// A queue's file.
struct Node {
    q: Arc<Queue>,
}

impl Inode for Root {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn stat(&self) -> Stat {
        let t = mount_time();
        Stat {
            dev: dev(),
            ino: 1,
            // Anyone may make queues; only their owners remove them.
            mode: S_IFDIR | S_ISVTX | 0o777,
            nlink: 2,
            size: (2 + mqueue::all().len() as u64) * DIRENT_SIZE,
            blksize: 4096,
            atime: t,
            mtime: t,
            ctime: t,
            ..Default::default()
        }
    }
    fn lookup(&self, name: &str) -> KResult<Arc<dyn Inode>> {
        let q = mqueue::find(name).ok_or(Errno::ENOENT)?;
        Ok(Arc::new(Node { q }))
    }
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Ok(mqueue::all()
            .into_iter()
            .map(|q| DirEntry {
                name: q.name.clone(),
                ino: q.ino,
                dtype: crate::fs::vfs::dtype_of(S_IFREG),
            })
            .collect())
    }
    /// open(O_CREAT) or mknod of a regular file makes a queue with the
    /// default attributes; nothing else can be made here (EPERM, as a
    /// directory without those operations).
    fn create(&self, name: &str, mode: u32, _rdev: u64, owner: Owner) -> KResult<Arc<dyn Inode>> {
        if mode & S_IFMT != S_IFREG {
            return Err(Errno::EPERM);
        }
        mqueue::check_name(name).map_err(|_| Errno::EINVAL)?;
        let (q, _) = crate::kernel::current::with_creds(|c| {
            let attrs = mqueue::new_attrs(c, None)?;
            mqueue::lookup_or_create(name, c, Some((mode & 0o777, attrs)))
        })?;
        {
            let mut st = lock(&q.st);
            st.uid = owner.uid;
            st.gid = owner.gid;
        }
        Ok(Arc::new(Node { q }))
    }
    fn symlink(&self, _name: &str, _target: &str, _owner: Owner) -> KResult<()> {
        Err(Errno::EPERM)
    }
    fn link(&self, _name: &str, _target: &Arc<dyn Inode>) -> KResult<()> {
        Err(Errno::EPERM)
    }
    fn rename(&self, _old: &str, _nd: &Arc<dyn Inode>, _new: &str, _flags: u32) -> KResult<()> {
        Err(Errno::EPERM)
    }
    fn unlink(&self, name: &str, dir: bool) -> KResult<()> {
        if dir {
            return Err(Errno::ENOTDIR);
        }
        mqueue::remove(name)
    }
    fn fs_magic(&self) -> u64 {
        MQUEUE_MAGIC
    }
}

impl Inode for Node {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn stat(&self) -> Stat {
        let st = lock(&self.q.st);
        Stat {
            dev: dev(),
            ino: self.q.ino,
            mode: S_IFREG | st.mode,
            nlink: 1,
            uid: st.uid,
            gid: st.gid,
            size: FILENT_SIZE,
            blksize: 4096,
            atime: self.q.born,
            mtime: self.q.born,
            ctime: self.q.born,
            ..Default::default()
        }
    }
    /// chmod/chown: who may open the queue from now on. A size change
    /// (truncate) is accepted and changes nothing, as Linux's simple
    /// setattr on a file with no data.
    fn setattr(&self, a: &SetAttr) -> KResult<()> {
        let mut st = lock(&self.q.st);
        if let Some(m) = a.mode {
            st.mode = m & 0o7777;
        }
        if let Some(u) = a.uid {
            st.uid = u;
        }
        if let Some(g) = a.gid {
            st.gid = g;
        }
        Ok(())
    }
    /// Opening the file opens the queue (mq_* calls work on the fd; read
    /// shows its status line).
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        Ok(Some(Arc::new(MqFile { q: self.q.clone() })))
    }
    fn fs_magic(&self) -> u64 {
        MQUEUE_MAGIC
    }
}
