//! Unix98 pseudo-terminals: /dev/ptmx hands out a master, /dev/pts/N is
//! its slave. What the master writes is the slave's input; what the slave
//! writes (after its output processing) the master reads. Closing the
//! master hangs the slave up; closing the slave makes the master's reads
//! fail with EIO once the data is read (drivers/tty/pty.c).

use super::termios::Termios;
use super::{Kind, Tty, TtyDriver, TtyFile};
use crate::drivers::mkdev;
use crate::fs::file::{File, FileOps, O_CLOEXEC, O_NOCTTY};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{lock, Task};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Major number of Unix98 pty slaves (136..143).
pub const PTY_SLAVE_MAJOR: u32 = 136;
/// Most ptys at once (Linux's default kernel.pty.max is 4096).
pub const PTY_MAX: u32 = 4096;

const TIOCGPTN: u32 = 0x8004_5430;
const TIOCSPTLCK: u32 = 0x4004_5431;
const TIOCGPTLCK: u32 = 0x8004_5439;
const TIOCGPTPEER: u32 = 0x5441;
const TIOCPKT: u32 = 0x5420;
const TIOCGPKT: u32 = 0x8004_5438;

/// A master and its slave.
pub struct PtyPair {
    pub index: u32,
    pub master: Arc<Tty>,
    pub slave: Arc<Tty>,
    /// The slave cannot be opened until unlocked (TIOCSPTLCK 0, glibc's
    /// unlockpt).
    locked: AtomicBool,
    /// Who the slave node belongs to: whoever opened the master (its
    /// fsuid), so users can open their own ptys.
    owner: AtomicU32,
}

impl PtyPair {
    pub fn owner(&self) -> u32 {
        self.owner.load(Ordering::Relaxed)
    }
}

/// Pairs whose master is open (what devpts shows).
static PAIRS: Mutex<BTreeMap<u32, Arc<PtyPair>>> = Mutex::new(BTreeMap::new());
/// Indices in use: a slave may outlive its master.
static USED: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

struct MasterDriver {
    /// Set once the slave exists.
    slave: Arc<OnceLock<Weak<Tty>>>,
}

impl MasterDriver {
    fn slave(&self) -> Option<Arc<Tty>> {
        self.slave.get().and_then(|w| w.upgrade())
    }
}

struct SlaveDriver {
    master: Weak<Tty>,
    index: u32,
}

impl TtyDriver for MasterDriver {
    fn write(&self, _tty: &Tty, data: &[u8]) -> usize {
        if let Some(s) = self.slave() {
            s.receive(data);
        }
        data.len()
    }
    fn write_room(&self, _tty: &Tty) -> usize {
        self.slave().map_or(0, |s| s.receive_room())
    }
    fn unthrottle(&self, _tty: &Tty) {
        // The master read the slave's output: slave writers may go on.
        if let Some(s) = self.slave() {
            s.output_drained();
        }
    }
    fn last_close(&self, tty: &Arc<Tty>) {
        let index = tty.index;
        lock(&PAIRS).remove(&index);
        if let Some(s) = self.slave() {
            s.set_other_closed(true);
            s.hangup(false);
            if s.open_count() == 0 {
                lock(&USED).remove(&index);
            }
        } else {
            lock(&USED).remove(&index);
        }
        log::debug!("pty: master {} closed", index);
    }
    fn link(&self) -> Option<Arc<Tty>> {
        self.slave()
    }
}

impl TtyDriver for SlaveDriver {
    fn write(&self, _tty: &Tty, data: &[u8]) -> usize {
        if let Some(m) = self.master.upgrade() {
            m.receive(data);
        }
        data.len()
    }
    fn write_room(&self, _tty: &Tty) -> usize {
        self.master.upgrade().map_or(0, |m| m.receive_room())
    }
    fn flush_buffer(&self, tty: &Tty) {
        // Output the master has not read yet is discarded.
        tty.packet_event(super::TIOCPKT_FLUSHWRITE, 0);
        if let Some(m) = self.master.upgrade() {
            m.flush(true, false);
        }
    }
    fn unthrottle(&self, _tty: &Tty) {
        if let Some(m) = self.master.upgrade() {
            m.output_drained();
        }
    }
    fn last_close(&self, _tty: &Arc<Tty>) {
        let master_open = lock(&PAIRS).contains_key(&self.index);
        if master_open {
            if let Some(m) = self.master.upgrade() {
                m.set_other_closed(true);
            }
        } else {
            lock(&USED).remove(&self.index);
        }
    }
    fn link(&self) -> Option<Arc<Tty>> {
        self.master.upgrade()
    }
}

/// Open /dev/ptmx: a new pair, its master opened.
pub fn open_ptmx() -> KResult<Arc<dyn FileOps>> {
    let index = {
        let mut used = lock(&USED);
        let i = (0..PTY_MAX)
            .find(|i| !used.contains(i))
            .ok_or(Errno::ENOSPC)?;
        used.insert(i);
        i
    };
    let slave_cell = Arc::new(OnceLock::new());
    let master = Tty::new(
        "ptmx",
        mkdev(5, 2),
        Kind::PtyMaster,
        index,
        Termios::pty_master(),
        Box::new(MasterDriver {
            slave: slave_cell.clone(),
        }),
    );
    let slave = Tty::new(
        &format!("pts/{index}"),
        mkdev(PTY_SLAVE_MAJOR + index / 256, index % 256),
        Kind::PtySlave,
        index,
        Termios::pty_slave(),
        Box::new(SlaveDriver {
            master: Arc::downgrade(&master),
            index,
        }),
    );
    let _ = slave_cell.set(Arc::downgrade(&slave));
    let pair = Arc::new(PtyPair {
        index,
        master,
        slave,
        locked: AtomicBool::new(true),
        owner: AtomicU32::new(0),
    });
    lock(&PAIRS).insert(index, pair.clone());
    log::debug!("pty: allocated /dev/pts/{}", index);
    Ok(TtyFile::new(&pair.master, false))
}

/// The master of pair `index` was opened by a process with fsuid `uid`.
pub fn set_owner(index: u32, uid: u32) {
    if let Some(p) = pair(index) {
        p.owner.store(uid, Ordering::Relaxed);
    }
}

/// The open pair with `index`.
pub fn pair(index: u32) -> Option<Arc<PtyPair>> {
    lock(&PAIRS).get(&index).cloned()
}

/// Indices of the ptys whose master is open.
pub fn indices() -> Vec<u32> {
    lock(&PAIRS).keys().copied().collect()
}

/// Open slave `index` (/dev/pts/N or its device number).
pub fn open_slave(index: u32) -> KResult<Arc<TtyFile>> {
    let p = pair(index).ok_or(Errno::EIO)?;
    if p.locked.load(Ordering::Relaxed) {
        return Err(Errno::EIO);
    }
    p.master.set_other_closed(false);
    Ok(TtyFile::new(&p.slave, false))
}

/// Master-only requests; None if `cmd` is not one.
pub fn ioctl(tty: &Arc<Tty>, f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> Option<KResult<u64>> {
    if !matches!(
        cmd,
        TIOCGPTN | TIOCSPTLCK | TIOCGPTLCK | TIOCGPTPEER | TIOCPKT | TIOCGPKT
    ) {
        return None;
    }
    if tty.kind != Kind::PtyMaster {
        return Some(Err(Errno::ENOTTY));
    }
    let _ = f;
    Some((|| {
        let p = pair(tty.index).ok_or(Errno::EIO)?;
        let mm = t.mm();
        match cmd {
            TIOCGPTN => mm.write_u32(arg, p.index)?,
            TIOCSPTLCK => {
                let v = mm.read_u32(arg)?;
                p.locked.store(v != 0, Ordering::Relaxed);
            }
            TIOCGPTLCK => mm.write_u32(arg, p.locked.load(Ordering::Relaxed) as u32)?,
            TIOCPKT => tty.set_packet(mm.read_u32(arg)? != 0),
            TIOCGPKT => mm.write_u32(arg, tty.packet() as u32)?,
            _ => {
                // TIOCGPTPEER: open the slave without a path lookup.
                let flags = arg as u32;
                let ops: Arc<dyn FileOps> = open_slave(p.index)?;
                // Named like an open of /dev/pts/N, so fstat matches the
                // node and ttyname(3) finds it. Only the name is looked
                // up (no permission checks, as Linux opens the peer
                // directly), so the kernel looks as root.
                let fs = t.fs();
                let path = crate::fs::vfs::walk(
                    &fs.root,
                    &fs.root,
                    &format!("/dev/pts/{}", p.index),
                    true,
                    &crate::kernel::task::Creds::ROOT,
                )
                .ok();
                let inode = path.as_ref().map(|d| d.inode.clone());
                let file = File::new(ops, inode, path, flags);
                if flags & O_NOCTTY == 0 {
                    // A tty's `opened` only acquires; it never replaces.
                    file.ops.opened(&file, t)?;
                }
                let nofile = t.nofile();
                let fd = lock(&t.files()).install(file, flags & O_CLOEXEC != 0, nofile)?;
                return Ok(fd as u64);
            }
        }
        Ok(0)
    })())
}

/// Forget all ptys (reboot).
pub fn reset() {
    lock(&PAIRS).clear();
    lock(&USED).clear();
}
