//! Block devices: the `BlockDevice` trait the filesystems use, the registry
//! of disks and partitions by device number and name, and what
//! /proc/partitions shows of them.

pub mod blkdev_file;
pub mod cow;
pub mod cow_host;
pub mod partition;
pub mod ubd;
#[allow(unsafe_code)]
pub mod ubd_host;
pub mod ubd_hotplug;

use crate::kernel::errno::{Errno, KResult};
use std::sync::{Arc, Mutex};

/// Bytes in a sector (the unit of /sys/block/*/size and BLKGETSIZE).
pub const SECTOR_SIZE: u64 = 512;

/// A random-access store of bytes with a fixed size. Offsets and lengths
/// need not be sector-aligned; out-of-range access is EIO.
pub trait BlockDevice: Send + Sync {
    /// Kernel name, e.g. "ubda" or "ubda1".
    fn name(&self) -> &str;
    /// Device number (major 98 for ubd).
    fn rdev(&self) -> u64;
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Whether writes are refused (flag `r`).
    fn read_only(&self) -> bool;
    /// Read, waiting for the host on the vCPU (the caller may hold host
    /// locks).
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()>;
    /// Read while task `t` sleeps ('D', not ended by signals) and the
    /// vCPU runs other tasks, until the completion interrupt wakes it.
    /// The caller holds no host lock (it may hold `KMutex`es).
    fn read_sleeping(
        &self,
        off: u64,
        buf: &mut [u8],
        _t: &crate::kernel::task::Task,
    ) -> KResult<()> {
        self.read_at(off, buf)
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()>;
    /// Make everything written so far durable (host fdatasync), waiting
    /// for it.
    fn flush(&self) -> KResult<()>;
    /// Queue a flush behind everything written so far without waiting;
    /// the ticket is for `flush_result`. Writes queued after it are not
    /// covered (use it as an ordering barrier too).
    fn flush_start(&self) -> KResult<u64> {
        self.flush().map(|_| 0)
    }
    /// Has flush `ticket` completed, and how?
    fn flush_result(&self, _ticket: u64) -> Option<KResult<()>> {
        Some(Ok(()))
    }
    /// Where tasks sleep until a flush completes (None: flushes are
    /// synchronous).
    fn flush_wq(&self) -> Option<Arc<crate::kernel::wait::WaitQueue>> {
        None
    }
    /// Where it hangs in /sys/devices (the parent Linux's driver gives
    /// the disk), e.g. "platform/uml-blkdev.0".
    fn sysfs_parent(&self) -> String {
        "virtual".into()
    }
    /// For a partition: its disk and where it lies there.
    fn partition(&self) -> Option<PartInfo> {
        None
    }
}

/// Where a partition lies on its disk.
pub struct PartInfo {
    pub disk: Arc<dyn BlockDevice>,
    /// 1..=4 (the minor offset from the disk).
    pub number: u32,
    pub start_sector: u64,
}

/// Wait until flush `ticket` of `dev` has completed: task `t` sleeps (in
/// disk wait, 'D', not ended by signals) until the device's interrupt
/// says it may have, and asks again.
pub fn wait_flush(
    dev: &dyn BlockDevice,
    ticket: u64,
    t: &crate::kernel::task::Task,
) -> KResult<()> {
    loop {
        if let Some(r) = dev.flush_result(ticket) {
            return r;
        }
        match dev.flush_wq() {
            // The interrupt runs on the vCPU between tasks' code, so a
            // completion arriving now still finds this task on the queue.
            Some(wq) => {
                wq.add(t.tid);
                if !crate::kernel::sched::wait_uninterruptible(t, None) {
                    // Killed meanwhile: the result no longer matters.
                    return Err(Errno::EINTR);
                }
            }
            None => return dev.flush(),
        }
    }
}

/// Check that `[off, off+len)` lies inside a device of `size` bytes.
pub fn check_range(name: &str, size: u64, off: u64, len: usize) -> KResult<()> {
    match off.checked_add(len as u64) {
        Some(end) if end <= size => Ok(()),
        _ => {
            log::error!(
                "blk_update_request: I/O error, dev {name}, offset {off} beyond end of device"
            );
            Err(Errno::EIO)
        }
    }
}

/// A slice of a disk: an MBR partition.
pub struct Partition {
    name: String,
    rdev: u64,
    number: u32,
    disk: Arc<dyn BlockDevice>,
    start: u64,
    len: u64,
}

impl BlockDevice for Partition {
    fn name(&self) -> &str {
        &self.name
    }
    fn rdev(&self) -> u64 {
        self.rdev
    }
    fn size(&self) -> u64 {
        self.len
    }
    fn read_only(&self) -> bool {
        self.disk.read_only()
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        check_range(&self.name, self.len, off, buf.len())?;
        self.disk.read_at(self.start + off, buf)
    }
    fn read_sleeping(
        &self,
        off: u64,
        buf: &mut [u8],
        t: &crate::kernel::task::Task,
    ) -> KResult<()> {
        check_range(&self.name, self.len, off, buf.len())?;
        self.disk.read_sleeping(self.start + off, buf, t)
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        check_range(&self.name, self.len, off, buf.len())?;
        self.disk.write_at(self.start + off, buf)
    }
    fn flush(&self) -> KResult<()> {
        self.disk.flush()
    }
    fn flush_start(&self) -> KResult<u64> {
        self.disk.flush_start()
    }
    fn flush_result(&self, ticket: u64) -> Option<KResult<()>> {
        self.disk.flush_result(ticket)
    }
    fn flush_wq(&self) -> Option<Arc<crate::kernel::wait::WaitQueue>> {
        self.disk.flush_wq()
    }
    fn sysfs_parent(&self) -> String {
        self.disk.sysfs_parent()
    }
    fn partition(&self) -> Option<PartInfo> {
        Some(PartInfo {
            disk: self.disk.clone(),
            number: self.number,
            start_sector: self.start / SECTOR_SIZE,
        })
    }
}

static DEVICES: Mutex<Vec<Arc<dyn BlockDevice>>> = Mutex::new(Vec::new());

fn devices() -> std::sync::MutexGuard<'static, Vec<Arc<dyn BlockDevice>>> {
    DEVICES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Add a disk and the partitions found in its MBR.
pub fn register_disk(disk: Arc<dyn BlockDevice>) {
    let mut parts = Vec::new();
    let mut mbr = [0u8; 512];
    if disk.size() >= 512 && disk.read_at(0, &mut mbr).is_ok() {
        for p in partition::parse_mbr(&mbr, disk.size() / SECTOR_SIZE) {
            let rdev = disk.rdev() + p.number as u64;
            parts.push(Arc::new(Partition {
                name: format!("{}{}", disk.name(), p.number),
                rdev,
                number: p.number as u32,
                disk: disk.clone(),
                start: p.start_sector * SECTOR_SIZE,
                len: p.sectors * SECTOR_SIZE,
            }) as Arc<dyn BlockDevice>);
        }
    }
    if !parts.is_empty() {
        let names: Vec<&str> = parts.iter().map(|p| p.name()).collect();
        log::info!(" {}: {}", disk.name(), names.join(" "));
    }
    let mut d = devices();
    d.retain(|x| x.rdev() != disk.rdev());
    d.push(disk);
    d.extend(parts);
}

/// Take a disk and its partitions away (hot-unplug). EBUSY while anyone
/// but the registry holds one of them (a mount, an open file); returns
/// the names removed.
pub fn unregister_disk(rdev: u64) -> KResult<Vec<String>> {
    let mut d = devices();
    let mine = |x: &Arc<dyn BlockDevice>| x.rdev() >= rdev && x.rdev() < rdev + 16;
    let parts = d.iter().filter(|x| mine(x) && x.rdev() != rdev).count();
    for x in d.iter().filter(|x| mine(x)) {
        // The registry's reference, and each partition's on its disk.
        let expected = if x.rdev() == rdev { 1 + parts } else { 1 };
        if Arc::strong_count(x) > expected {
            return Err(Errno::EBUSY);
        }
    }
    let names = d
        .iter()
        .filter(|x| mine(x))
        .map(|x| x.name().to_owned())
        .collect();
    d.retain(|x| !mine(x));
    Ok(names)
}

/// Every registered disk and partition, in registration order.
pub fn all() -> Vec<Arc<dyn BlockDevice>> {
    devices().clone()
}

pub fn by_rdev(rdev: u64) -> Option<Arc<dyn BlockDevice>> {
    devices().iter().find(|d| d.rdev() == rdev).cloned()
}

/// Look a device up by "/dev/ubda", "ubda", or "98:0".
pub fn by_name(name: &str) -> Option<Arc<dyn BlockDevice>> {
    let n = name.strip_prefix("/dev/").unwrap_or(name);
    if let Some((maj, min)) = n.split_once(':') {
        if let (Ok(maj), Ok(min)) = (maj.parse(), min.parse()) {
            return by_rdev(super::mkdev(maj, min));
        }
    }
    devices().iter().find(|d| d.name() == n).cloned()
}

/// /proc/partitions.
pub fn proc_partitions() -> String {
    let mut s = String::from("major minor  #blocks  name\n\n");
    for d in all() {
        s.push_str(&format!(
            "{:4}  {:7} {:10} {}\n",
            super::major(d.rdev()),
            super::minor(d.rdev()),
            d.size() / 1024,
            d.name()
        ));
    }
    s
}
