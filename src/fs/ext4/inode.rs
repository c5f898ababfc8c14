//! On-disk inodes: fields of the raw inode record, timestamps with their
//! extra (nanosecond/epoch) words, block counts, and the inode checksum.

use super::crc::crc32c;
use super::superblock::Super;
use super::{le16, le32, put16, put32};
use crate::fs::vfs::Timespec;

pub const EXT4_HUGE_FILE_FL: u32 = 0x40000;
pub const EXT4_EXTENTS_FL: u32 = 0x80000;
pub const EXT4_INDEX_FL: u32 = 0x1000;
pub const EXT4_EA_INODE_FL: u32 = 0x200000;
pub const EXT4_INLINE_DATA_FL: u32 = 0x1000_0000;

/// Size of the original (rev 0) inode: what the extra fields follow.
const GOOD_OLD_SIZE: usize = 128;

/// A raw inode record, `inode_size` bytes.
#[derive(Clone)]
pub struct DiskInode {
    pub raw: Vec<u8>,
}

impl DiskInode {
    pub fn new(raw: &[u8]) -> DiskInode {
        DiskInode { raw: raw.to_vec() }
    }

    pub fn mode(&self) -> u32 {
        le16(&self.raw, 0x00) as u32
    }
    pub fn set_mode(&mut self, m: u32) {
        put16(&mut self.raw, 0x00, m as u16)
    }
    pub fn uid(&self) -> u32 {
        le16(&self.raw, 0x02) as u32 | (le16(&self.raw, 0x78) as u32) << 16
    }
    pub fn set_uid(&mut self, u: u32) {
        put16(&mut self.raw, 0x02, u as u16);
        put16(&mut self.raw, 0x78, (u >> 16) as u16);
    }
    pub fn gid(&self) -> u32 {
        le16(&self.raw, 0x18) as u32 | (le16(&self.raw, 0x7A) as u32) << 16
    }
    pub fn set_gid(&mut self, g: u32) {
        put16(&mut self.raw, 0x18, g as u16);
        put16(&mut self.raw, 0x7A, (g >> 16) as u16);
    }
    pub fn size(&self) -> u64 {
        le32(&self.raw, 0x04) as u64 | (le32(&self.raw, 0x6C) as u64) << 32
    }
    pub fn set_size(&mut self, s: u64) {
        put32(&mut self.raw, 0x04, s as u32);
        put32(&mut self.raw, 0x6C, (s >> 32) as u32);
    }
    pub fn links(&self) -> u32 {
        le16(&self.raw, 0x1A) as u32
    }
    pub fn set_links(&mut self, n: u32) {
        put16(&mut self.raw, 0x1A, n.min(65535) as u16)
    }
    pub fn flags(&self) -> u32 {
        le32(&self.raw, 0x20)
    }
    pub fn set_flags(&mut self, f: u32) {
        put32(&mut self.raw, 0x20, f)
    }
    pub fn dtime(&self) -> u32 {
        le32(&self.raw, 0x14)
    }
    pub fn set_dtime(&mut self, t: u32) {
        put32(&mut self.raw, 0x14, t)
    }
    pub fn generation(&self) -> u32 {
        le32(&self.raw, 0x64)
    }
    pub fn set_generation(&mut self, g: u32) {
        put32(&mut self.raw, 0x64, g)
    }
    pub fn file_acl(&self) -> u64 {
        le32(&self.raw, 0x68) as u64 | (le16(&self.raw, 0x76) as u64) << 32
    }
    pub fn set_file_acl(&mut self, b: u64) {
        put32(&mut self.raw, 0x68, b as u32);
        put16(&mut self.raw, 0x76, (b >> 32) as u16);
    }
    /// The 60 bytes of i_block (extent root, block map or symlink text).
    pub fn i_block(&self) -> &[u8] {
        &self.raw[0x28..0x64]
    }
    pub fn i_block_mut(&mut self) -> &mut [u8] {
        &mut self.raw[0x28..0x64]
    }
    pub fn extra_isize(&self) -> usize {
        if self.raw.len() > GOOD_OLD_SIZE {
            le16(&self.raw, 0x80) as usize
        } else {
            0
        }
    }
    /// Is the extra field ending at `end` (offset from 0) present?
    fn fits(&self, end: usize) -> bool {
        self.raw.len() > GOOD_OLD_SIZE && GOOD_OLD_SIZE + self.extra_isize() >= end
    }

    /// i_blocks in 512-byte sectors (huge_file aware).
    pub fn sectors(&self, sb: &Super) -> u64 {
        let mut v = le32(&self.raw, 0x1C) as u64;
        if sb.has_ro_compat(super::superblock::RO_COMPAT_HUGE_FILE) {
            v |= (le16(&self.raw, 0x74) as u64) << 32;
            if self.flags() & EXT4_HUGE_FILE_FL != 0 {
                v *= (sb.block_size / 512) as u64;
            }
        }
        v
    }
    pub fn set_sectors(&mut self, v: u64) {
        let f = self.flags() & !EXT4_HUGE_FILE_FL;
        self.set_flags(f);
        put32(&mut self.raw, 0x1C, v as u32);
        put16(&mut self.raw, 0x74, (v >> 32) as u16);
    }

    fn time(&self, off: usize, extra: usize) -> Timespec {
        let sec = le32(&self.raw, off) as i32 as i64;
        if self.fits(extra + 4) {
            let x = le32(&self.raw, extra);
            let epoch = (x & 3) as i64;
            Timespec {
                sec: sec + (epoch << 32),
                nsec: (x >> 2) as i64,
            }
        } else {
            Timespec { sec, nsec: 0 }
        }
    }
    fn set_time(&mut self, off: usize, extra: usize, t: Timespec) {
        put32(&mut self.raw, off, t.sec as u32);
        if self.fits(extra + 4) {
            let epoch = ((t.sec - (t.sec as i32 as i64)) >> 32) as u32 & 3;
            put32(&mut self.raw, extra, ((t.nsec as u32) << 2) | epoch);
        }
    }
    pub fn atime(&self) -> Timespec {
        self.time(0x08, 0x8C)
    }
    pub fn ctime(&self) -> Timespec {
        self.time(0x0C, 0x84)
    }
    pub fn mtime(&self) -> Timespec {
        self.time(0x10, 0x88)
    }
    pub fn set_atime(&mut self, t: Timespec) {
        self.set_time(0x08, 0x8C, t)
    }
    pub fn set_ctime(&mut self, t: Timespec) {
        self.set_time(0x0C, 0x84, t)
    }
    pub fn set_mtime(&mut self, t: Timespec) {
        self.set_time(0x10, 0x88, t)
    }
    pub fn set_crtime(&mut self, t: Timespec) {
        self.set_time(0x90, 0x94, t)
    }

    /// Per-inode checksum seed (metadata_csum).
    pub fn csum_seed(&self, fs_seed: u32, ino: u32) -> u32 {
        let c = crc32c(fs_seed, &ino.to_le_bytes());
        crc32c(c, &self.generation().to_le_bytes())
    }

    fn compute_csum(&self, sb: &Super, ino: u32) -> u32 {
        let mut r = self.raw.clone();
        put16(&mut r, 0x7C, 0);
        let hi = self.fits(0x84);
        if hi {
            put16(&mut r, 0x82, 0);
        }
        crc32c(self.csum_seed(sb.csum_seed, ino), &r)
    }

    /// Does the stored checksum match (or is there none)?
    pub fn verify(&self, sb: &Super, ino: u32) -> bool {
        if !sb.metadata_csum() {
            return true;
        }
        let c = self.compute_csum(sb, ino);
        let lo = le16(&self.raw, 0x7C) as u32;
        if self.fits(0x84) {
            (le16(&self.raw, 0x82) as u32) << 16 | lo == c
        } else {
            lo == c & 0xFFFF
        }
    }

    /// Update the checksum before writing.
    pub fn seal(&mut self, sb: &Super, ino: u32) {
        if !sb.metadata_csum() {
            return;
        }
        let c = self.compute_csum(sb, ino);
        put16(&mut self.raw, 0x7C, c as u16);
        if self.fits(0x84) {
            put16(&mut self.raw, 0x82, (c >> 16) as u16);
        }
    }
}
