//! System V shared memory: shmget, shmat, shmdt, shmctl.
//!
//! A segment is an anonymous tmpfs file (as shared anonymous mmap is)
//! wrapped in a `ShmFile`, and an attach is an ordinary shared VMA backed
//! by it. The VMAs' references to the `ShmFile` are the attach count:
//! fork copies them, exec, exit and munmap drop them, and a split VMA
//! counts twice, as Linux's shm_nattch (which shm_open bumps for every
//! new vma). After IPC_RMID the table keeps only a weak reference, and
//! the last VMA to go drops the segment (`ShmFile`'s Drop).

use super::per_ns::PerNs;
use super::{now, Ids, IPC_64, IPC_INFO, IPC_RMID, IPC_SET};
use super::{IPC_STAT, SHMALL, SHMMAX, SHMMNI};
use crate::abi::ipc as abi;
use crate::fs::vfs::{Inode, Stat};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Task;
use crate::mm::frame::Pfn;
use crate::mm::{page_up, Backing, Vma, PROT_EXEC, PROT_READ, PROT_WRITE};
use std::any::Any;
use std::sync::{Arc, OnceLock, Weak};

pub const SHM_RDONLY: i32 = 0o10000;
pub const SHM_RND: i32 = 0o20000;
pub const SHM_REMAP: i32 = 0o40000;
pub const SHM_EXEC: i32 = 0o100000;
const SHM_LOCK: i32 = 11;
const SHM_UNLOCK: i32 = 12;
const SHM_STAT: i32 = 13;
const SHM_INFO: i32 = 14;
const SHM_STAT_ANY: i32 = 15;
/// Mode bits: removed but still attached; locked in memory.
const SHM_DEST: u32 = 0o1000;
const SHM_LOCKED: u32 = 0o2000;
/// x86_64's SHMLBA: attach addresses are page aligned.
const SHMLBA: u64 = 4096;

/// A segment's memory, as the VMAs see it.
pub struct ShmFile {
    inner: Arc<dyn Inode>,
    id: OnceLock<i32>,
    /// Its IPC namespace: the last detach may happen in any process.
    ns: u64,
    key: i32,
    size: u64,
}

impl Inode for ShmFile {
    fn stat(&self) -> Stat {
        let mut st = self.inner.stat();
        st.size = self.size;
        st
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn page(&self, idx: u64) -> KResult<Pfn> {
        self.inner.page(idx)
    }
    fn cached_page(&self, idx: u64) -> Option<Pfn> {
        self.inner.cached_page(idx)
    }
}

impl Drop for ShmFile {
    fn drop(&mut self) {
        // The last attach of a removed segment went: forget it. (Never
        // reached while the table holds its strong reference.)
        if let Some(&id) = self.id.get() {
            let mut t = SHM.lock_in(self.ns);
            if t.get(id).is_ok_and(|(_, s)| s.held.is_none()) {
                t.remove(id);
            }
        }
    }
}

/// One segment's table entry.
pub struct Shm {
    size: u64,
    file: Weak<ShmFile>,
    /// The table's own reference; None once IPC_RMID marked it.
    held: Option<Arc<ShmFile>>,
    atime: u64,
    dtime: u64,
    ctime: u64,
    cpid: i32,
    lpid: i32,
}

impl Shm {
    fn nattch(&self) -> u64 {
        (self.file.strong_count() - self.held.is_some() as usize) as u64
    }
    fn pages(&self) -> u64 {
        page_up(self.size) / 4096
    }
    /// Pages of the segment in memory.
    fn rss(&self) -> u64 {
        self.file.upgrade().map_or(0, |f| f.inner.stat().blocks / 8)
    }
}

static SHM: PerNs<Ids<Shm>> = PerNs::new(Ids::new);

/// shmget
pub fn shmget(t: &Arc<Task>, key: i32, size: u64, flg: i32) -> KResult<u64> {
    let c = t.creds();
    let mut ids = SHM.lock();
    let total: u64 = ids.iter().map(|(_, s)| s.pages()).sum();
    let id = ids.get_or_create(
        &c,
        key,
        flg,
        SHMMNI.get(),
        |s| {
            if s.size < size {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            }
        },
        || {
            if size < 1 || size > SHMMAX.get() {
                return Err(Errno::EINVAL);
            }
            let pages = page_up(size) / 4096;
            // Linux's overcommit heuristic refuses what could never fit
            // in memory.
            if pages > crate::mm::frame::stats().0 {
                return Err(Errno::ENOMEM);
            }
            if total.checked_add(pages).is_none_or(|n| n > SHMALL.get()) {
                return Err(Errno::ENOSPC);
            }
            let file = Arc::new(ShmFile {
                inner: crate::fs::tmpfs::anon_file(),
                id: OnceLock::new(),
                ns: crate::kernel::ns::current_ipc(),
                key,
                size,
            });
            Ok(Shm {
                size,
                file: Arc::downgrade(&file),
                held: Some(file),
                atime: 0,
                dtime: 0,
                ctime: now(),
                cpid: t.tgid(),
                lpid: 0,
            })
        },
    )?;
    if let Ok((_, s)) = ids.get(id) {
        if let Some(f) = &s.held {
            let _ = f.id.set(id);
        }
    }
    Ok(id as u64)
}

/// shmat
pub fn shmat(t: &Arc<Task>, id: i32, addr: u64, flg: i32) -> KResult<u64> {
    let mut addr = addr;
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    if addr != 0 {
        if addr & (SHMLBA - 1) != 0 {
            if flg & SHM_RND == 0 {
                return Err(Errno::EINVAL);
            }
            addr &= !(SHMLBA - 1);
            if addr == 0 && flg & SHM_REMAP != 0 {
                return Err(Errno::EINVAL);
            }
        }
    } else if flg & SHM_REMAP != 0 {
        return Err(Errno::EINVAL);
    }
    let (mut prot, mut acc) = if flg & SHM_RDONLY != 0 {
        (PROT_READ, 0o444)
    } else {
        (PROT_READ | PROT_WRITE, 0o666)
    };
    if flg & SHM_EXEC != 0 {
        prot |= PROT_EXEC;
        acc |= 0o111;
    }
    let c = t.creds();
    let file = {
        let mut ids = SHM.lock();
        let (perm, s) = ids.get(id)?;
        perm.check(&c, acc)?;
        s.file.upgrade().ok_or(Errno::EIDRM)?
    };
    let len = page_up(file.size);
    let mm = t.mm();
    let mut m = mm.lock();
    let start = if addr != 0 {
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if flg & SHM_REMAP == 0 {
            if m.vmas().any(|v| v.start < end && v.end > addr) {
                return Err(Errno::EINVAL);
            }
        } else {
            crate::mm::check_user_range(addr, end)?;
            m.unmap(addr, end);
        }
        addr
    } else {
        m.unmapped_area(0, len)?
    };
    m.insert_vma(Vma {
        start,
        end: start + len,
        prot,
        shared: true,
        backing: Backing::File {
            inode: file.clone(),
            offset: 0,
            path: format!("/SYSV{:08x} (deleted)", file.key as u32),
        },
        label: "",
    })?;
    drop(m);
    drop(file);
    if let Ok((_, s)) = SHM.lock().get(id) {
        s.atime = now();
        s.lpid = t.tgid();
    }
    Ok(start)
}

/// shmdt: detach the attach that starts at `addr`.
pub fn shmdt(t: &Arc<Task>, addr: u64) -> KResult<u64> {
    if addr % 4096 != 0 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let mut m = mm.lock();
    let shm_of = |v: &Vma| -> Option<Arc<dyn Inode>> {
        match &v.backing {
            Backing::File { inode, offset, .. } if inode.as_any().is::<ShmFile>() => {
                Some(inode.clone()).filter(|_| *offset == v.start - addr)
            }
            _ => None,
        }
    };
    let first = m
        .find_vma(addr)
        .filter(|v| v.start == addr)
        .and_then(shm_of)
        .ok_or(Errno::EINVAL)?;
    let (id, size) = {
        let f = first.as_any().downcast_ref::<ShmFile>().unwrap();
        (f.id.get().copied(), page_up(f.size))
    };
    // Every piece of this attach (mprotect may have split it).
    let end = addr + size;
    let ranges: Vec<(u64, u64)> = m
        .vmas()
        .filter(|v| v.start >= addr && v.start < end)
        .filter(|v| shm_of(v).is_some_and(|i| Arc::ptr_eq(&i, &first)))
        .map(|v| (v.start, v.end))
        .collect();
    drop(first);
    for (s, e) in ranges {
        m.unmap(s, e);
    }
    drop(m);
    if let Some(id) = id {
        if let Ok((_, s)) = SHM.lock().get(id) {
            s.dtime = now();
            s.lpid = t.tgid();
        }
    }
    Ok(0)
}

/// shmctl
pub fn shmctl(t: &Arc<Task>, id: i32, cmd: i32, buf: u64) -> KResult<u64> {
    let cmd = cmd & !IPC_64;
    let c = t.creds();
    let mm = t.mm();
    match cmd {
        IPC_INFO => {
            let b = abi::Shminfo64 {
                shmmax: SHMMAX.get(),
                shmmin: 1,
                shmmni: SHMMNI.get(),
                shmseg: SHMMNI.get(),
                shmall: SHMALL.get(),
                ..Default::default()
            };
            let max = SHM.lock().max_idx();
            crate::abi::write_val(&mm, buf, &b)?;
            Ok(max as u64)
        }
        SHM_INFO => {
            let (max, used, tot, rss) = {
                let ids = SHM.lock();
                let tot: u64 = ids.iter().map(|(_, s)| s.pages()).sum();
                let rss: u64 = ids.iter().map(|(_, s)| s.rss()).sum();
                (ids.max_idx(), ids.len(), tot, rss)
            };
            let b = abi::ShmInfo {
                used_ids: used as i32,
                shm_tot: tot,
                shm_rss: rss,
                ..Default::default()
            };
            crate::abi::write_val(&mm, buf, &b)?;
            Ok(max as u64)
        }
        IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
            let mut b = abi::ShmidDs::default();
            let ret = {
                let mut ids = SHM.lock();
                let (perm, s) = if cmd == IPC_STAT {
                    ids.get(id)?
                } else {
                    ids.at(id)?
                };
                if cmd != SHM_STAT_ANY {
                    perm.check(&c, 0o444)?;
                }
                b.shm_perm = perm.encode();
                b.shm_segsz = s.size;
                b.shm_atime = s.atime;
                b.shm_dtime = s.dtime;
                b.shm_ctime = s.ctime;
                b.shm_cpid = s.cpid as i32;
                b.shm_lpid = s.lpid as i32;
                b.shm_nattch = s.nattch();
                super::stat_ret(cmd != IPC_STAT, perm)
            };
            crate::abi::write_val(&mm, buf, &b)?;
            Ok(ret)
        }
        IPC_SET => {
            let b: abi::Ipc64Perm = crate::abi::read_val(&mm, buf)?;
            let mut ids = SHM.lock();
            let (perm, s) = ids.get(id)?;
            perm.check_owner(&c)?;
            perm.set_from(&b);
            s.ctime = now();
            Ok(0)
        }
        IPC_RMID => {
            let held = {
                let mut ids = SHM.lock();
                let (perm, s) = ids.get(id)?;
                perm.check_owner(&c)?;
                let held = s.held.take();
                if s.nattch() == 0 {
                    ids.remove(id);
                } else {
                    // Attached still: gone by key now, by id when the last
                    // attach goes.
                    perm.mode |= SHM_DEST;
                    perm.key = super::IPC_PRIVATE;
                }
                held
            };
            // Dropped with the table unlocked: it may be the last reference.
            drop(held);
            Ok(0)
        }
        SHM_LOCK | SHM_UNLOCK => {
            let memlock = t.tg().lock().rlimits[8].0;
            let mut ids = SHM.lock();
            let (perm, _) = ids.get(id)?;
            if !c.capable(crate::kernel::caps::CAP_IPC_LOCK) {
                perm.check_owner(&c)?;
                if memlock == 0 {
                    return Err(Errno::EPERM);
                }
            }
            if cmd == SHM_LOCK {
                perm.mode |= SHM_LOCKED;
            } else {
                perm.mode &= !SHM_LOCKED;
            }
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Forget every segment (reboot). The table's references are dropped
/// with it unlocked: `ShmFile`'s drop looks at the table.
pub fn reset() {
    let old = SHM.take_all();
    drop(old);
}

/// /proc/sysvipc/shm
pub fn proc_text() -> String {
    let mut out = String::from("       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n");
    for (p, s) in SHM.lock().iter() {
        out += &format!(
            "{:10} {:10}  {:4o} {:21} {:5} {:5}  {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10} {:21} {:21}\n",
            p.key,
            p.id,
            p.mode & 0o7777,
            s.size,
            s.cpid,
            s.lpid,
            s.nattch(),
            p.uid,
            p.gid,
            p.cuid,
            p.cgid,
            s.atime,
            s.dtime,
            s.ctime,
            s.rss() * 4096,
            0
        );
    }
    out
}
