//! System V IPC: shared memory (`shm`), semaphore arrays (`sem`) and
//! message queues (`msg`), with what the three share here: the id tables,
//! `ipc64_perm`, the permission rules of Linux's ipc/util.c, and the
//! kern.* limits behind /proc/sys/kernel. POSIX message queues are
//! `mqueue`.

pub mod mqueue;
pub mod mqueue_fs;
pub mod msg;
pub mod per_ns;
pub mod proc;
pub mod sem;
pub mod shm;

use crate::abi::ipc as abi;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Creds;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: i32 = 0o1000;
pub const IPC_EXCL: i32 = 0o2000;
pub const IPC_NOWAIT: i32 = 0o4000;

pub const IPC_RMID: i32 = 0;
pub const IPC_SET: i32 = 1;
pub const IPC_STAT: i32 = 2;
pub const IPC_INFO: i32 = 3;
/// Old/new layout flag some libcs add to ctl commands; x86_64 has only
/// the 64-bit layout, so it is ignored.
pub const IPC_64: i32 = 0x100;

/// Linux's IPCMNI: ids are `seq * IPCMNI + index`.
const IPCMNI: usize = 32768;

/// Forget every object (reboot): the next boot starts empty, as Linux.
pub fn reset() {
    shm::reset();
    sem::reset();
    msg::reset();
    mqueue::reset();
}

/// A tunable of /proc/sys/kernel.
pub struct Limit(AtomicU64);

impl Limit {
    const fn new(v: u64) -> Limit {
        Limit(AtomicU64::new(v))
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed)
    }
}

/// Linux's defaults (include/uapi/linux/{shm,sem,msg}.h).
pub static SHMMAX: Limit = Limit::new(u64::MAX - (1 << 24));
pub static SHMALL: Limit = Limit::new(u64::MAX - (1 << 24));
pub static SHMMNI: Limit = Limit::new(4096);
pub static SEMMSL: Limit = Limit::new(32000);
pub static SEMMNS: Limit = Limit::new(1_024_000_000);
pub static SEMOPM: Limit = Limit::new(500);
pub static SEMMNI: Limit = Limit::new(32000);
pub static MSGMAX: Limit = Limit::new(8192);
pub static MSGMNB: Limit = Limit::new(16384);
pub static MSGMNI: Limit = Limit::new(32000);

/// The owner, creator and mode of an IPC object (kern_ipc_perm).
#[derive(Clone, Debug)]
pub struct Perm {
    pub key: i32,
    pub id: i32,
    pub seq: u16,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// The low 9 bits are permissions; shm adds SHM_DEST and SHM_LOCKED.
    pub mode: u32,
}

impl Perm {
    /// Linux's ipcperms: `flag`'s rwx bits (in any of the three places)
    /// must be granted to the caller by the owner, group or other bits.
    pub fn check(&self, c: &Creds, flag: u32) -> KResult<()> {
        let requested = (flag >> 6) | (flag >> 3) | flag;
        let mut granted = self.mode;
        if c.euid == self.cuid || c.euid == self.uid {
            granted >>= 6;
        } else if c.in_group(self.cgid) || c.in_group(self.gid) {
            granted >>= 3;
        }
        if requested & !granted & 0o7 != 0 && !c.capable(crate::kernel::caps::CAP_IPC_OWNER) {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    /// IPC_SET and IPC_RMID: only the owner, the creator or root.
    pub fn check_owner(&self, c: &Creds) -> KResult<()> {
        if c.euid == self.cuid
            || c.euid == self.uid
            || c.capable(crate::kernel::caps::CAP_SYS_ADMIN)
        {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// As the guest's `struct ipc64_perm`.
    pub fn encode(&self) -> abi::Ipc64Perm {
        abi::Ipc64Perm {
            key: self.key,
            uid: self.uid,
            gid: self.gid,
            cuid: self.cuid,
            cgid: self.cgid,
            mode: self.mode,
            seq: self.seq,
            ..Default::default()
        }
    }

    /// IPC_SET's part: uid, gid and the permission bits from a
    /// `struct ipc64_perm`.
    pub fn set_from(&mut self, p: &abi::Ipc64Perm) {
        self.uid = p.uid;
        self.gid = p.gid;
        self.mode = (self.mode & !0o777) | (p.mode & 0o777);
    }
}

/// Wall-clock seconds, for the objects' times.
pub fn now() -> u64 {
    (crate::kernel::time::realtime_ns() / 1_000_000_000) as u64
}

/// One object kind's table (Linux's ipc_ids): index → object.
pub struct Ids<T> {
    map: BTreeMap<usize, (Perm, T)>,
    seq: u16,
    next: usize,
}

impl<T> Ids<T> {
    pub const fn new() -> Ids<T> {
        Ids {
            map: BTreeMap::new(),
            seq: 0,
            next: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The highest index in use (IPC_INFO's answer), 0 when empty.
    pub fn max_idx(&self) -> usize {
        self.map.keys().next_back().copied().unwrap_or(0)
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Perm, T)> {
        self.map.values()
    }

    /// The live object with `key` (not IPC_PRIVATE ones).
    fn by_key(&mut self, key: i32) -> Option<&mut (Perm, T)> {
        self.map
            .values_mut()
            .find(|(p, _)| p.key == key && key != IPC_PRIVATE)
    }

    /// Look an id up; EINVAL if it is not (or no longer) there.
    pub fn get(&mut self, id: i32) -> KResult<&mut (Perm, T)> {
        if id < 0 {
            return Err(Errno::EINVAL);
        }
        let idx = id as usize % IPCMNI;
        match self.map.get_mut(&idx) {
            Some(e) if e.0.id == id => Ok(e),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The object at table index `idx` (the *_STAT commands).
    pub fn at(&mut self, idx: i32) -> KResult<&mut (Perm, T)> {
        if idx < 0 {
            return Err(Errno::EINVAL);
        }
        self.map.get_mut(&(idx as usize)).ok_or(Errno::EINVAL)
    }

    pub fn remove(&mut self, id: i32) -> Option<(Perm, T)> {
        let idx = id as usize % IPCMNI;
        match self.map.get(&idx) {
            Some(e) if e.0.id == id => self.map.remove(&idx),
            _ => None,
        }
    }

    /// Add an object; ENOSPC when `max` objects exist. Indexes are handed
    /// out cyclically and the sequence number moves on at every wrap, so
    /// a removed object's id is not soon given to a new one.
    fn insert(&mut self, mut perm: Perm, obj: T, max: u64) -> KResult<i32> {
        let max = (max as usize).min(IPCMNI);
        if self.map.len() >= max {
            return Err(Errno::ENOSPC);
        }
        let mut idx = self.next;
        loop {
            if idx >= max {
                idx = 0;
                self.seq = (self.seq + 1) % (i32::MAX as usize / IPCMNI) as u16;
            }
            if !self.map.contains_key(&idx) {
                break;
            }
            idx += 1;
        }
        self.next = idx + 1;
        perm.seq = self.seq;
        perm.id = (self.seq as usize * IPCMNI + idx) as i32;
        let id = perm.id;
        self.map.insert(idx, (perm, obj));
        Ok(id)
    }

    /// Linux's ipcget: find or create by `key` with `flg`'s IPC_CREAT,
    /// IPC_EXCL and permission bits. `check` is the kind's extra test of
    /// an existing object (size, nsems), made before the permissions.
    pub fn get_or_create(
        &mut self,
        c: &Creds,
        key: i32,
        flg: i32,
        max: u64,
        check: impl FnOnce(&T) -> KResult<()>,
        create: impl FnOnce() -> KResult<T>,
    ) -> KResult<i32> {
        if key != IPC_PRIVATE {
            if let Some((perm, obj)) = self.by_key(key) {
                if flg & IPC_CREAT != 0 && flg & IPC_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                check(obj)?;
                perm.check(c, flg as u32 & 0o777)?;
                return Ok(perm.id);
            }
            if flg & IPC_CREAT == 0 {
                return Err(Errno::ENOENT);
            }
        }
        if self.map.len() >= (max as usize).min(IPCMNI) {
            return Err(Errno::ENOSPC);
        }
        let obj = create()?;
        let perm = Perm {
            key,
            id: 0,
            seq: 0,
            uid: c.euid,
            gid: c.egid,
            cuid: c.euid,
            cgid: c.egid,
            mode: flg as u32 & 0o777,
        };
        self.insert(perm, obj, max)
    }
}

/// The common answer of the *_STAT commands: the id for `*_STAT` by
/// index, 0 for IPC_STAT by id.
pub fn stat_ret(by_index: bool, perm: &Perm) -> u64 {
    if by_index {
        perm.id as u64
    } else {
        0
    }
}
