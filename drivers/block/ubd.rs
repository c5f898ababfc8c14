//! ubd: UML's block device over a host file. `ubd<N>[rsdc]=file` becomes
//! /dev/ubd<a+N> (major 98, minor N*16; MBR partitions at minor +1..15).
//!
//! Host I/O runs on the disk's helper threads (ubd_host), not on the vCPU.
//! Writes are queued and return at once; a flush is queued behind them and
//! completes (an interrupt) when the host's fdatasync returns, so a guest
//! task waiting for durability sleeps while others run. Reads are handed to
//! the reader thread; a task that may sleep (`read_sleeping`) does so until
//! the completion interrupt, others have the vCPU wait. Bytes of writes
//! still queued are laid over what the host returns, so a read always sees
//! the latest write.
//! A host error on a write is reported by the next flush (fsync gets EIO,
//! as Linux reports writeback errors).

use super::cow_host;
use super::ubd_host::{Completer, HostDisk, HostDone, HostOp, HostQueues, HostReq, OpenError};
use super::BlockDevice;
use crate::init::cmdline::UbdSpec;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched;
use crate::kernel::task::{State, Task};
use crate::kernel::wait::WaitQueue;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

pub const UBD_MAJOR: u32 = 98;

/// Tags of flush requests carry this bit; the rest is the flush's ticket.
const FLUSH_TAG: u64 = 1 << 63;
/// Queued write bytes above which a writer waits for the host to catch up
/// (the queue holds copies outside guest memory).
const MAX_QUEUED_BYTES: usize = 32 << 20;

/// I/O bookkeeping shared between the vCPU and the helper threads.
#[derive(Default)]
struct IoState {
    next_tag: u64,
    /// Writes queued and not done yet, by (offset, tag): read overlays.
    pending: BTreeMap<(u64, u64), Arc<[u8]>>,
    /// Offset of each pending write by tag.
    pending_off: HashMap<u64, u64>,
    /// Longest pending write ever queued (bounds the overlap search).
    max_len: u64,
    queued_bytes: usize,
    reads_done: HashMap<u64, Result<Vec<u8>, String>>,
    /// Reads a task sleeps for: their completion raises the interrupt.
    sleeping_reads: HashSet<u64>,
    /// Last flush ticket queued, and last one completed.
    flush_queued: u64,
    flush_done: u64,
    /// Something was written since `flush_queued` was queued.
    written: bool,
    /// A write failed since the last flush completed.
    write_failed: bool,
    /// Tickets whose flush reported an error (the latest few).
    flush_errors: BTreeMap<u64, ()>,
    /// Error lines for the interrupt handler to log.
    to_log: Vec<String>,
}

struct Shared {
    name: String,
    io: Mutex<IoState>,
    /// Woken on every completion: reads and flushes waited for on the vCPU.
    cv: Condvar,
    /// Guest tasks waiting for a flush sleep here; woken by the interrupt.
    flush_wq: Arc<WaitQueue>,
    /// Tasks waiting for reads sleep here; woken by the interrupt.
    read_wq: WaitQueue,
    /// A completion arrived that the interrupt handler has not seen.
    irq: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, IoState> {
        self.io.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A helper thread finished a request.
    fn complete(&self, d: HostDone) {
        let mut s = self.lock();
        if d.tag & FLUSH_TAG != 0 {
            let ticket = d.tag & !FLUSH_TAG;
            let mut failed = std::mem::take(&mut s.write_failed);
            if let Err(e) = &d.result {
                s.to_log.push(format!("flush: {e}"));
                failed = true;
            }
            if failed {
                s.flush_errors.insert(ticket, ());
                while s.flush_errors.len() > 64 {
                    s.flush_errors.pop_first();
                }
            }
            s.flush_done = s.flush_done.max(ticket);
            drop(s);
            self.irq.store(true, Ordering::SeqCst);
            crate::arch::irq::raise();
        } else if let Some(off) = s.pending_off.remove(&d.tag) {
            if let Some(data) = s.pending.remove(&(off, d.tag)) {
                s.queued_bytes -= data.len();
            }
            if let Err(e) = d.result {
                s.to_log.push(format!("write at byte {off}: {e}"));
                s.write_failed = true;
                drop(s);
                self.irq.store(true, Ordering::SeqCst);
                crate::arch::irq::raise();
            }
        } else {
            let r = d.result.map_err(|e| e.to_string());
            s.reads_done.insert(d.tag, r);
            if s.sleeping_reads.remove(&d.tag) {
                drop(s);
                self.irq.store(true, Ordering::SeqCst);
                crate::arch::irq::raise();
            }
        }
        self.cv.notify_all();
    }

    fn wait<'a>(&self, g: MutexGuard<'a, IoState>) -> MutexGuard<'a, IoState> {
        self.cv.wait(g).unwrap_or_else(|e| e.into_inner())
    }
}

/// Queued writes a read overlaps: (tag, offset, bytes).
type Overlays = Vec<(u64, u64, Arc<[u8]>)>;

pub struct Ubd {
    name: String,
    rdev: u64,
    read_only: bool,
    size: u64,
    shared: Arc<Shared>,
    queues: HostQueues,
}

fn io_error(name: &str, what: &str) -> Errno {
    log::error!("blk_update_request: I/O error, dev {name}, {what}");
    Errno::EIO
}

impl Ubd {
    /// Queue a flush behind every write so far (none if nothing was
    /// written since the last one) and return its ticket.
    fn queue_flush(&self) -> KResult<u64> {
        let mut s = self.shared.lock();
        if !s.written {
            return Ok(s.flush_queued);
        }
        s.flush_queued += 1;
        s.written = false;
        let ticket = s.flush_queued;
        drop(s);
        self.queues
            .submit_write(HostReq {
                tag: FLUSH_TAG | ticket,
                op: HostOp::Flush,
            })
            .map_err(|e| io_error(&self.name, &format!("flush: {e}")))?;
        Ok(ticket)
    }

    /// Queue a read of `len` bytes at `off` (a sleeper's completion
    /// raises the interrupt); its tag, and the queued writes it overlaps,
    /// oldest first, to lay over what the host returns (they are newer).
    fn read_submit(&self, off: u64, len: usize, sleeper: bool) -> KResult<(u64, Overlays)> {
        let end = off + len as u64;
        let mut s = self.shared.lock();
        let from = (off.saturating_sub(s.max_len), 0);
        let mut over: Overlays = s
            .pending
            .range(from..(end, 0))
            .filter(|((o, _), d)| o + d.len() as u64 > off)
            .map(|((o, t), d)| (*t, *o, d.clone()))
            .collect();
        over.sort_by_key(|x| x.0);
        let tag = s.next_tag;
        s.next_tag += 1;
        if sleeper {
            s.sleeping_reads.insert(tag);
        }
        drop(s);
        self.queues
            .submit_read(HostReq {
                tag,
                op: HostOp::Read { off, len },
            })
            .map_err(|e| {
                self.shared.lock().sleeping_reads.remove(&tag);
                io_error(&self.name, &format!("read at byte {off}: {e}"))
            })?;
        Ok((tag, over))
    }

    /// Copy a finished read into `buf`, queued writes laid over it.
    fn read_finish(
        &self,
        off: u64,
        buf: &mut [u8],
        r: Result<Vec<u8>, String>,
        over: Overlays,
    ) -> KResult<()> {
        let end = off + buf.len() as u64;
        let data = r.map_err(|e| io_error(&self.name, &format!("read at byte {off}: {e}")))?;
        buf.copy_from_slice(&data);
        for (_, o, d) in over {
            let lo = o.max(off);
            let hi = (o + d.len() as u64).min(end);
            buf[(lo - off) as usize..(hi - off) as usize]
                .copy_from_slice(&d[(lo - o) as usize..(hi - o) as usize]);
        }
        Ok(())
    }

    fn ticket_result(s: &IoState, ticket: u64) -> Option<KResult<()>> {
        if s.flush_done < ticket {
            return None;
        }
        Some(if s.flush_errors.contains_key(&ticket) {
            Err(Errno::EIO)
        } else {
            Ok(())
        })
    }
}

impl BlockDevice for Ubd {
    fn name(&self) -> &str {
        &self.name
    }
    fn rdev(&self) -> u64 {
        self.rdev
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn read_only(&self) -> bool {
        self.read_only
    }
    fn sysfs_parent(&self) -> String {
        // UML registers one platform device per ubd, numbered by index.
        format!(
            "platform/uml-blkdev.{}",
            crate::drivers::minor(self.rdev) / 16
        )
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        super::check_range(&self.name, self.size(), off, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        let (tag, over) = self.read_submit(off, buf.len(), false)?;
        let mut s = self.shared.lock();
        let r = loop {
            if let Some(r) = s.reads_done.remove(&tag) {
                break r;
            }
            s = self.shared.wait(s);
        };
        drop(s);
        self.read_finish(off, buf, r, over)
    }
    fn read_sleeping(&self, off: u64, buf: &mut [u8], t: &Task) -> KResult<()> {
        super::check_range(&self.name, self.size(), off, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        let (tag, over) = self.read_submit(off, buf.len(), true)?;
        let r = loop {
            let mut s = self.shared.lock();
            if let Some(r) = s.reads_done.remove(&tag) {
                break r;
            }
            if t.state() == State::Dead {
                // Ended under its sleep: it sleeps no more; the host
                // read is short.
                s = self.shared.wait(s);
                drop(s);
                continue;
            }
            // The interrupt runs on the vCPU between tasks' kernel code
            // (and other vCPUs' waits for the kernel lock this one
            // holds), so a completion arriving now still finds this
            // task on the queue.
            self.shared.read_wq.add(t.tid);
            drop(s);
            sched::wait_uninterruptible(t, None);
        };
        self.read_finish(off, buf, r, over)
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        super::check_range(&self.name, self.size(), off, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        let data: Arc<[u8]> = Arc::from(buf);
        let mut s = self.shared.lock();
        while s.queued_bytes > MAX_QUEUED_BYTES {
            s = self.shared.wait(s);
        }
        let tag = s.next_tag;
        s.next_tag += 1;
        s.pending.insert((off, tag), data.clone());
        s.pending_off.insert(tag, off);
        s.max_len = s.max_len.max(buf.len() as u64);
        s.queued_bytes += buf.len();
        s.written = true;
        drop(s);
        self.queues
            .submit_write(HostReq {
                tag,
                op: HostOp::Write { off, data },
            })
            .map_err(|e| io_error(&self.name, &format!("write at byte {off}: {e}")))
    }
    fn flush(&self) -> KResult<()> {
        if self.read_only {
            return Ok(());
        }
        let ticket = self.queue_flush()?;
        let mut s = self.shared.lock();
        loop {
            if let Some(r) = Self::ticket_result(&s, ticket) {
                return r;
            }
            s = self.shared.wait(s);
        }
    }
    fn flush_start(&self) -> KResult<u64> {
        if self.read_only {
            return Ok(0);
        }
        self.queue_flush()
    }
    fn flush_result(&self, ticket: u64) -> Option<KResult<()>> {
        Self::ticket_result(&self.shared.lock(), ticket)
    }
    fn flush_wq(&self) -> Option<Arc<WaitQueue>> {
        Some(self.shared.flush_wq.clone())
    }
}

static DISKS: Mutex<Vec<Arc<Shared>>> = Mutex::new(Vec::new());

/// The ubd interrupt (vCPU side): log host errors the helpers met and
/// wake the tasks waiting for flushes and reads.
pub fn interrupt() {
    let disks: Vec<Arc<Shared>> = DISKS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for d in disks {
        if !d.irq.swap(false, Ordering::SeqCst) {
            continue;
        }
        let lines = std::mem::take(&mut d.lock().to_log);
        for l in lines {
            log::error!("blk_update_request: I/O error, dev {}, {l}", d.name);
        }
        d.flush_wq.wake_all();
        d.read_wq.wake_all();
    }
}

/// Forget a removed disk's interrupt state (its helper threads end when
/// the last reference to the disk goes).
pub fn forget(name: &str) {
    DISKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|d| d.name != name);
}

/// "ubda" for 0, ..., "ubdh" for 7.
pub fn disk_name(index: u8) -> String {
    format!("ubd{}", (b'a' + index) as char)
}

/// Open every configured ubd's host file, taking its lock. Runs before
/// anything boots: an error here is one line for stderr, and vmlinux exits
/// with status 2.
pub fn open_all(specs: &[UbdSpec]) -> Result<Vec<Opened>, String> {
    let mut specs: Vec<&UbdSpec> = specs.iter().collect();
    specs.sort_by_key(|s| s.index);
    let mut disks = Vec::new();
    for s in specs {
        let word = format!("ubd{}", s.index);
        let describe = |path: &Path, e: OpenError| match e {
            OpenError::Locked(pid) => {
                let holder = pid
                    .map(|p| format!("locked by pid {p}"))
                    .unwrap_or_else(|| "it is locked".to_owned());
                format!(
                    "{word}: {} is in use by another instance ({holder}); give {word}c= to share it on purpose",
                    path.display()
                )
            }
            OpenError::Io(e) => format!("{word}: cannot open {}: {e}", path.display()),
        };
        // The COW file (or image) is locked as the flags say; a backing
        // image is only ever read, so it gets a read lock, which other
        // instances on the same backing image share.
        let open_file = |path: &Path, writable: bool, create: bool| {
            HostDisk::open_file(path, !writable, s.sync && writable, s.shared, create)
                .map_err(|e| describe(path, e))
        };
        let mut notes = Vec::new();
        let mut file = s.file.display().to_string();
        let host = if s.no_cow {
            // 'd': the file is the data, whatever it starts with.
            open_file(&s.file, !s.read_only, false)
                .and_then(|f| HostDisk::plain(f).map_err(|e| describe(&s.file, OpenError::Io(e))))?
        } else {
            match cow_host::open(&s.file, s.backing.as_deref(), !s.read_only, &open_file)
                .map_err(|e| prefix(&word, e))?
            {
                cow_host::Opened::Plain(f) => {
                    HostDisk::plain(f).map_err(|e| describe(&s.file, OpenError::Io(e)))?
                }
                cow_host::Opened::Cow(c, n) => {
                    file = format!("{} (COW over {})", s.file.display(), c.backing_name());
                    notes = n;
                    HostDisk::cow(c)
                }
            }
        };
        disks.push(Opened {
            index: s.index,
            read_only: s.read_only,
            host,
            file,
            notes,
        });
    }
    Ok(disks)
}

/// A host file opened and locked before boot, waiting for `register`.
pub struct Opened {
    index: u8,
    read_only: bool,
    host: HostDisk,
    /// How the log names it.
    file: String,
    /// Lines for the kernel log once it is up (a COW file created, ...).
    notes: Vec<String>,
}

/// Messages from `open_file` already name the device; others get it.
fn prefix(word: &str, e: String) -> String {
    if e.starts_with(&format!("{word}: ")) {
        e
    } else {
        format!("{word}: {e}")
    }
}

/// Start the helper threads of opened disks and register them (and their
/// partitions), once the console is up.
pub fn register(disks: Vec<Opened>) {
    for o in disks {
        let name = disk_name(o.index);
        for n in &o.notes {
            log::info!("{name}: {n}");
        }
        let size = o.host.size();
        let shared = Arc::new(Shared {
            name: name.clone(),
            io: Mutex::new(IoState::default()),
            cv: Condvar::new(),
            flush_wq: Arc::new(WaitQueue::new()),
            read_wq: WaitQueue::new(),
            irq: AtomicBool::new(false),
        });
        let sh = shared.clone();
        let done: Completer = Arc::new(move |d| sh.complete(d));
        let queues = match o.host.start(&name, done) {
            Ok(q) => q,
            Err(e) => {
                log::error!("{name}: cannot start I/O threads: {e}");
                continue;
            }
        };
        DISKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(shared.clone());
        log::info!(
            "{}: {}, {} sectors{}",
            name,
            o.file,
            size / super::SECTOR_SIZE,
            if o.read_only { " (read-only)" } else { "" }
        );
        super::register_disk(Arc::new(Ubd {
            name,
            rdev: crate::drivers::mkdev(UBD_MAJOR, o.index as u32 * 16),
            read_only: o.read_only,
            size,
            shared,
            queues,
        }));
    }
}
