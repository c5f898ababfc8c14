//! jbd2, the ext3/ext4 journal: replaying committed transactions at mount,
//! and writing each sync's metadata as one transaction before it goes in
//! place (ordered mode: file data is written before the commit).
//!
//! The log always starts empty (every transaction is checkpointed and the
//! log emptied before the next one), so a transaction is written from
//! `s_first`. On-disk fields are big-endian.

use super::crc::crc32c;
use crate::drivers::block::BlockDevice;
use crate::kernel::errno::{Errno, KResult};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

const MAGIC: u32 = 0xC03B_3998;
const DESCRIPTOR: u32 = 1;
const COMMIT: u32 = 2;
const SUPER_V1: u32 = 3;
const SUPER_V2: u32 = 4;
const REVOKE: u32 = 5;

const INCOMPAT_REVOKE: u32 = 0x1;
const INCOMPAT_64BIT: u32 = 0x2;
const INCOMPAT_ASYNC_COMMIT: u32 = 0x4;
const INCOMPAT_CSUM_V2: u32 = 0x8;
const INCOMPAT_CSUM_V3: u32 = 0x10;
const SUPPORTED: u32 =
    INCOMPAT_REVOKE | INCOMPAT_64BIT | INCOMPAT_ASYNC_COMMIT | INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3;

const FLAG_ESCAPE: u32 = 1;
const FLAG_SAME_UUID: u32 = 2;
const FLAG_LAST_TAG: u32 = 8;

fn be32(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn put_be32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_be_bytes())
}
fn be16(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([b[o], b[o + 1]])
}

/// Fault injection for crash tests: with RUML_FAULT_EXT4_COMMIT=N in the
/// environment, vmlinux dies right after the Nth commit block is durable
/// and before anything is written in place (the worst moment for a
/// kill -9), exiting with status 137 like a SIGKILL.
fn crash_point(dev: &dyn BlockDevice) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COMMITS: AtomicU64 = AtomicU64::new(0);
    let Some(n) = std::env::var("RUML_FAULT_EXT4_COMMIT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    if COMMITS.fetch_add(1, Ordering::Relaxed) + 1 == n {
        // The commit is on the host disk before we die; nothing after it.
        let _ = dev.flush();
        eprintln!("ruml: RUML_FAULT_EXT4_COMMIT={n}: dying after commit {n}");
        crate::arch::host_crash_exit(137);
    }
}

pub struct Journal {
    dev: Arc<dyn BlockDevice>,
    name: String,
    /// Physical block of each logical block of the journal inode.
    map: Vec<u64>,
    bs: usize,
    sb: Vec<u8>,
    first: u32,
    maxlen: u32,
    incompat: u32,
    /// crc32c seed of the journal checksums (its UUID).
    seed: u32,
}

impl Journal {
    /// Open the journal whose blocks are `map`. Err with a message if it
    /// is unusable.
    pub fn open(
        dev: Arc<dyn BlockDevice>,
        name: &str,
        map: Vec<u64>,
        bs: usize,
    ) -> Result<Journal, String> {
        let first = *map.first().ok_or("journal inode has no blocks")?;
        let mut sb = vec![0u8; bs];
        dev.read_at(first * bs as u64, &mut sb)
            .map_err(|_| "cannot read journal superblock".to_string())?;
        let kind = be32(&sb, 4);
        if be32(&sb, 0) != MAGIC || (kind != SUPER_V1 && kind != SUPER_V2) {
            return Err("journal superblock magic number invalid".into());
        }
        if be32(&sb, 0x0C) as usize != bs {
            return Err("journal block size differs from the filesystem's".into());
        }
        let maxlen = be32(&sb, 0x10);
        let jfirst = be32(&sb, 0x14);
        if maxlen as usize > map.len() || jfirst == 0 || jfirst + 8 >= maxlen {
            return Err(format!(
                "journal geometry invalid (first {jfirst}, maxlen {maxlen}, {} blocks)",
                map.len()
            ));
        }
        let incompat = if kind == SUPER_V2 { be32(&sb, 0x28) } else { 0 };
        if incompat & !SUPPORTED != 0 {
            return Err(format!(
                "journal has unknown incompatible features 0x{:x}",
                incompat & !SUPPORTED
            ));
        }
        let seed = crc32c(!0, &sb[0x30..0x40]);
        let j = Journal {
            dev,
            name: name.to_string(),
            map,
            bs,
            sb,
            first: jfirst,
            maxlen,
            incompat,
            seed,
        };
        if j.csum() && be32(&j.sb, 0xFC) != j.sb_csum() {
            return Err("journal superblock checksum invalid".into());
        }
        Ok(j)
    }

    fn csum(&self) -> bool {
        self.incompat & (INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3) != 0
    }
    fn is64(&self) -> bool {
        self.incompat & INCOMPAT_64BIT != 0
    }
    fn tag_size(&self) -> usize {
        if self.incompat & INCOMPAT_CSUM_V3 != 0 {
            16
        } else if self.is64() {
            12
        } else {
            8
        }
    }
    fn sb_csum(&self) -> u32 {
        let mut s = self.sb[..1024].to_vec();
        put_be32(&mut s, 0xFC, 0);
        crc32c(!0, &s)
    }
    pub fn start(&self) -> u32 {
        be32(&self.sb, 0x1C)
    }
    fn sequence(&self) -> u32 {
        be32(&self.sb, 0x18)
    }
    /// Blocks a transaction may use.
    pub fn capacity(&self) -> usize {
        (self.maxlen - self.first) as usize
    }

    fn read(&self, l: u32) -> KResult<Vec<u8>> {
        let p = *self.map.get(l as usize).ok_or(Errno::EIO)?;
        let mut b = vec![0u8; self.bs];
        self.dev.read_at(p * self.bs as u64, &mut b)?;
        Ok(b)
    }
    fn write(&self, l: u32, b: &[u8]) -> KResult<()> {
        let p = *self.map.get(l as usize).ok_or(Errno::EIO)?;
        self.dev.write_at(p * self.bs as u64, b)
    }
    /// The next log position after `l` (the log is circular).
    fn next(&self, l: u32) -> u32 {
        if l + 1 >= self.maxlen {
            self.first
        } else {
            l + 1
        }
    }
    fn write_sb(&mut self, start: u32, seq: u32) -> KResult<()> {
        put_be32(&mut self.sb, 0x1C, start);
        put_be32(&mut self.sb, 0x18, seq);
        if self.csum() {
            let c = self.sb_csum();
            put_be32(&mut self.sb, 0xFC, c);
        }
        let sb = self.sb.clone();
        self.write(0, &sb)
    }

    /// Tags of a descriptor block: (fs block, flags).
    fn tags(&self, b: &[u8]) -> Vec<(u64, u32)> {
        let ts = self.tag_size();
        let end = self.bs - if self.csum() { 4 } else { 0 };
        let mut out = Vec::new();
        let mut o = 12;
        while o + ts <= end {
            let lo = be32(b, o) as u64;
            let (flags, hi) = if self.incompat & INCOMPAT_CSUM_V3 != 0 {
                (be32(b, o + 4), be32(b, o + 8) as u64)
            } else {
                (
                    be16(b, o + 6) as u32,
                    if self.is64() {
                        be32(b, o + 8) as u64
                    } else {
                        0
                    },
                )
            };
            let blk = if self.is64() { lo | hi << 32 } else { lo };
            out.push((blk, flags));
            o += ts;
            if flags & FLAG_SAME_UUID == 0 {
                o += 16;
            }
            if flags & FLAG_LAST_TAG != 0 {
                break;
            }
        }
        out
    }

    /// Replay committed transactions into the filesystem (writing the
    /// device directly) and empty the log. Returns how many were replayed.
    pub fn replay(&mut self, fs_blocks: u64) -> KResult<u32> {
        if self.start() == 0 {
            return Ok(0);
        }
        let start = self.start();
        let first_seq = self.sequence();
        // Pass 1: find the end of the log and the revoked blocks.
        let mut revoked: HashMap<u64, u32> = HashMap::new();
        let mut seq = first_seq;
        let mut l = start;
        let mut steps = 0usize;
        loop {
            let b = self.read(l)?;
            if be32(&b, 0) != MAGIC || be32(&b, 8) != seq {
                break;
            }
            match be32(&b, 4) {
                DESCRIPTOR => {
                    for _ in 0..self.tags(&b).len() {
                        l = self.next(l);
                        steps += 1;
                    }
                }
                COMMIT => {
                    if self.csum() {
                        let mut c = b.clone();
                        put_be32(&mut c, 16, 0);
                        if be32(&b, 16) != crc32c(self.seed, &c) {
                            log::warn!("JBD2: Invalid checksum recovering commit block of transaction {seq} on {}", self.name);
                            break;
                        }
                    }
                    seq = seq.wrapping_add(1);
                }
                REVOKE => {
                    let count = (be32(&b, 12) as usize).min(self.bs);
                    let rs = if self.is64() { 8 } else { 4 };
                    let mut o = 16;
                    while o + rs <= count {
                        let blk = if self.is64() {
                            (be32(&b, o) as u64) << 32 | be32(&b, o + 4) as u64
                        } else {
                            be32(&b, o) as u64
                        };
                        let e = revoked.entry(blk).or_insert(seq);
                        if seq.wrapping_sub(*e) as i32 > 0 {
                            *e = seq;
                        }
                        o += rs;
                    }
                }
                _ => break,
            }
            l = self.next(l);
            steps += 1;
            if steps > self.maxlen as usize {
                break;
            }
        }
        let end_seq = seq;
        // Pass 2: write the logged blocks of committed transactions.
        let mut seq = first_seq;
        let mut l = start;
        let mut written = 0usize;
        while seq != end_seq {
            let b = self.read(l)?;
            if be32(&b, 0) != MAGIC || be32(&b, 8) != seq {
                break;
            }
            match be32(&b, 4) {
                DESCRIPTOR => {
                    for (blk, flags) in self.tags(&b) {
                        l = self.next(l);
                        let mut data = self.read(l)?;
                        let skip = revoked
                            .get(&blk)
                            .is_some_and(|&r| r.wrapping_sub(seq) as i32 >= 0);
                        if skip {
                            continue;
                        }
                        if blk >= fs_blocks {
                            log::error!(
                                "JBD2: logged block {blk} beyond the filesystem on {}",
                                self.name
                            );
                            return Err(Errno::EUCLEAN);
                        }
                        if flags & FLAG_ESCAPE != 0 {
                            put_be32(&mut data, 0, MAGIC);
                        }
                        self.dev.write_at(blk * self.bs as u64, &data)?;
                        written += 1;
                    }
                }
                COMMIT => seq = seq.wrapping_add(1),
                _ => {}
            }
            l = self.next(l);
        }
        self.dev.flush()?;
        let n = end_seq.wrapping_sub(first_seq);
        log::info!(
            "JBD2: recovery complete on {}: {n} transactions, {written} blocks replayed",
            self.name
        );
        self.write_sb(0, end_seq)?;
        self.dev.flush()?;
        Ok(n)
    }

    /// Write `blocks` (fs block -> contents) as one committed transaction.
    /// After it returns they may be written in place; call `checkpointed`
    /// once they are. Returns the device's flush ticket after which the
    /// transaction is durable.
    pub fn commit(&mut self, blocks: &BTreeMap<u64, Vec<u8>>) -> KResult<u64> {
        let ts = self.tag_size();
        let tail = if self.csum() { 4 } else { 0 };
        // The first tag carries the UUID.
        let per_desc = (self.bs - 12 - tail - 16) / ts;
        let ndesc = blocks.len().div_ceil(per_desc);
        if blocks.len() + ndesc + 1 > self.capacity() {
            return Err(Errno::ENOSPC);
        }
        if !self.is64() && blocks.keys().any(|&b| b > u32::MAX as u64) {
            return Err(Errno::EFBIG);
        }
        let seq = self.sequence();
        // The log now holds a transaction: point the superblock at it.
        self.write_sb(self.first, seq)?;
        let list: Vec<(&u64, &Vec<u8>)> = blocks.iter().collect();
        let mut l = self.first;
        for chunk in list.chunks(per_desc) {
            let mut d = vec![0u8; self.bs];
            put_be32(&mut d, 0, MAGIC);
            put_be32(&mut d, 4, DESCRIPTOR);
            put_be32(&mut d, 8, seq);
            let mut o = 12;
            for (i, (blk, data)) in chunk.iter().enumerate() {
                let mut flags = 0;
                if i > 0 {
                    flags |= FLAG_SAME_UUID;
                }
                if i + 1 == chunk.len() {
                    flags |= FLAG_LAST_TAG;
                }
                if be32(data, 0) == MAGIC {
                    flags |= FLAG_ESCAPE;
                }
                put_be32(&mut d, o, **blk as u32);
                if self.incompat & INCOMPAT_CSUM_V3 != 0 {
                    put_be32(&mut d, o + 4, flags);
                    put_be32(&mut d, o + 8, (**blk >> 32) as u32);
                    let c = crc32c(crc32c(self.seed, &seq.to_be_bytes()), data);
                    put_be32(&mut d, o + 12, c);
                } else {
                    d[o + 6..o + 8].copy_from_slice(&(flags as u16).to_be_bytes());
                    if self.incompat & INCOMPAT_CSUM_V2 != 0 {
                        let c = crc32c(crc32c(self.seed, &seq.to_be_bytes()), data);
                        d[o + 4..o + 6].copy_from_slice(&(c as u16).to_be_bytes());
                    }
                    if self.is64() {
                        put_be32(&mut d, o + 8, (**blk >> 32) as u32);
                    }
                }
                o += ts;
                if i == 0 {
                    d[o..o + 16].copy_from_slice(&self.sb[0x30..0x40]);
                    o += 16;
                }
            }
            if self.csum() {
                let c = crc32c(self.seed, &d);
                let n = self.bs;
                put_be32(&mut d, n - 4, c);
            }
            self.write(l, &d)?;
            l = self.next(l);
            for (_, data) in chunk {
                if be32(data, 0) == MAGIC {
                    let mut e = (*data).clone();
                    put_be32(&mut e, 0, 0);
                    self.write(l, &e)?;
                } else {
                    self.write(l, data)?;
                }
                l = self.next(l);
            }
        }
        // Everything before the commit block (file data included) must be
        // durable before it: a flush queued here is that barrier (the
        // device does writes and flushes in order).
        self.dev.flush_start()?;
        let mut c = vec![0u8; self.bs];
        put_be32(&mut c, 0, MAGIC);
        put_be32(&mut c, 4, COMMIT);
        put_be32(&mut c, 8, seq);
        let now = crate::fs::vfs::Timespec::now();
        c[0x30..0x38].copy_from_slice(&(now.sec as u64).to_be_bytes());
        put_be32(&mut c, 0x38, now.nsec as u32);
        if self.csum() {
            let k = crc32c(self.seed, &c);
            put_be32(&mut c, 16, k);
        }
        self.write(l, &c)?;
        // And the commit block before any in-place write.
        let ticket = self.dev.flush_start()?;
        put_be32(&mut self.sb, 0x18, seq);
        crash_point(&*self.dev);
        Ok(ticket)
    }

    /// The last transaction is in place: empty the log.
    pub fn checkpointed(&mut self) -> KResult<()> {
        let next = self.sequence().wrapping_add(1);
        self.write_sb(0, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A disk in memory.
    struct MemDisk(Mutex<Vec<u8>>);

    impl BlockDevice for MemDisk {
        fn name(&self) -> &str {
            "mem"
        }
        fn rdev(&self) -> u64 {
            0
        }
        fn size(&self) -> u64 {
            self.0.lock().unwrap().len() as u64
        }
        fn read_only(&self) -> bool {
            false
        }
        fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
            let d = self.0.lock().unwrap();
            buf.copy_from_slice(&d[off as usize..off as usize + buf.len()]);
            Ok(())
        }
        fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
            let mut d = self.0.lock().unwrap();
            d[off as usize..off as usize + buf.len()].copy_from_slice(buf);
            Ok(())
        }
        fn flush(&self) -> KResult<()> {
            Ok(())
        }
    }

    const BS: usize = 1024;

    /// A 64-block journal at blocks 100.. of a 200-block disk.
    fn setup(incompat: u32) -> (Arc<MemDisk>, Vec<u64>) {
        let disk = Arc::new(MemDisk(Mutex::new(vec![0u8; 200 * BS])));
        let mut sb = vec![0u8; BS];
        put_be32(&mut sb, 0, MAGIC);
        put_be32(&mut sb, 4, SUPER_V2);
        put_be32(&mut sb, 0x0C, BS as u32);
        put_be32(&mut sb, 0x10, 64);
        put_be32(&mut sb, 0x14, 1);
        put_be32(&mut sb, 0x18, 5);
        put_be32(&mut sb, 0x28, incompat);
        sb[0x30..0x40].copy_from_slice(b"0123456789abcdef");
        if incompat & (INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3) != 0 {
            let mut s = sb.clone();
            put_be32(&mut s, 0xFC, 0);
            let c = crc32c(!0, &s);
            put_be32(&mut sb, 0xFC, c);
        }
        disk.write_at(100 * BS as u64, &sb).unwrap();
        (disk, (100..164).collect())
    }

    fn block(fill: u8, magic: bool) -> Vec<u8> {
        let mut b = vec![fill; BS];
        if magic {
            put_be32(&mut b, 0, MAGIC);
        }
        b
    }

    fn roundtrip(incompat: u32) {
        let (disk, map) = setup(incompat);
        let mut j = Journal::open(disk.clone(), "mem", map.clone(), BS).unwrap();
        let mut tx = BTreeMap::new();
        tx.insert(3u64, block(0xAA, false));
        tx.insert(7u64, block(0xBB, true)); // needs escaping
        j.commit(&tx).unwrap();
        // Crash before the checkpoint: nothing in place yet.
        let mut b = vec![0u8; BS];
        disk.read_at(3 * BS as u64, &mut b).unwrap();
        assert!(b.iter().all(|&x| x == 0));
        let mut j = Journal::open(disk.clone(), "mem", map.clone(), BS).unwrap();
        assert_eq!(j.start(), 1);
        assert_eq!(j.replay(200).unwrap(), 1);
        for (blk, data) in &tx {
            disk.read_at(blk * BS as u64, &mut b).unwrap();
            assert_eq!(&b, data);
        }
        // The log is empty afterwards, with the next sequence number.
        let j = Journal::open(disk, "mem", map, BS).unwrap();
        assert_eq!(j.start(), 0);
        assert_eq!(j.sequence(), 6);
    }

    #[test]
    fn commit_then_replay() {
        roundtrip(0);
        roundtrip(INCOMPAT_64BIT);
        roundtrip(INCOMPAT_CSUM_V3 | INCOMPAT_64BIT);
    }

    #[test]
    fn uncommitted_transaction_is_not_replayed() {
        let (disk, map) = setup(INCOMPAT_CSUM_V3);
        let mut j = Journal::open(disk.clone(), "mem", map.clone(), BS).unwrap();
        let mut tx = BTreeMap::new();
        tx.insert(3u64, block(0xAA, false));
        j.commit(&tx).unwrap();
        // Lose the commit block (log block 1 descriptor, 2 data, 3 commit).
        disk.write_at(map[3] * BS as u64, &vec![0u8; BS]).unwrap();
        let mut j = Journal::open(disk.clone(), "mem", map, BS).unwrap();
        assert_eq!(j.replay(200).unwrap(), 0);
        let mut b = vec![0u8; BS];
        disk.read_at(3 * BS as u64, &mut b).unwrap();
        assert!(b.iter().all(|&x| x == 0));
    }

    #[test]
    fn too_big_for_the_log() {
        let (disk, map) = setup(0);
        let mut j = Journal::open(disk, "mem", map, BS).unwrap();
        let tx: BTreeMap<u64, Vec<u8>> = (0..80u64).map(|b| (b, block(1, false))).collect();
        assert_eq!(j.commit(&tx), Err(Errno::ENOSPC));
    }
}
