//! Block group descriptors: where each group's bitmaps and inode table
//! are, its free counts and flags, and their checksums.

use super::crc::{crc16, crc32c};
use super::superblock::{Super, INCOMPAT_META_BG};
use super::{le16, le32, put16, put32};

pub const BG_INODE_UNINIT: u16 = 0x1;
pub const BG_BLOCK_UNINIT: u16 = 0x2;
pub const BG_INODE_ZEROED: u16 = 0x4;

/// One descriptor as raw bytes (`desc_size` long).
#[derive(Clone)]
pub struct Group {
    pub raw: Vec<u8>,
    is64: bool,
}

macro_rules! split_field {
    ($get:ident, $set:ident, $lo:expr, $hi:expr, u32) => {
        pub fn $get(&self) -> u64 {
            let mut v = le32(&self.raw, $lo) as u64;
            if self.is64 {
                v |= (le32(&self.raw, $hi) as u64) << 32;
            }
            v
        }
        #[allow(dead_code)]
        pub fn $set(&mut self, v: u64) {
            put32(&mut self.raw, $lo, v as u32);
            if self.is64 {
                put32(&mut self.raw, $hi, (v >> 32) as u32);
            }
        }
    };
    ($get:ident, $set:ident, $lo:expr, $hi:expr, u16) => {
        pub fn $get(&self) -> u32 {
            let mut v = le16(&self.raw, $lo) as u32;
            if self.is64 {
                v |= (le16(&self.raw, $hi) as u32) << 16;
            }
            v
        }
        pub fn $set(&mut self, v: u32) {
            put16(&mut self.raw, $lo, v as u16);
            if self.is64 {
                put16(&mut self.raw, $hi, (v >> 16) as u16);
            }
        }
    };
}

impl Group {
    pub fn new(raw: &[u8], sb: &Super) -> Group {
        Group {
            raw: raw.to_vec(),
            is64: sb.is64() && raw.len() >= 64,
        }
    }
    split_field!(block_bitmap, set_block_bitmap, 0x00, 0x20, u32);
    split_field!(inode_bitmap, set_inode_bitmap, 0x04, 0x24, u32);
    split_field!(inode_table, set_inode_table, 0x08, 0x28, u32);
    split_field!(free_blocks, set_free_blocks, 0x0C, 0x2C, u16);
    split_field!(free_inodes, set_free_inodes, 0x0E, 0x2E, u16);
    split_field!(used_dirs, set_used_dirs, 0x10, 0x30, u16);
    split_field!(itable_unused, set_itable_unused, 0x1C, 0x32, u16);

    pub fn flags(&self) -> u16 {
        le16(&self.raw, 0x12)
    }
    pub fn set_flags(&mut self, f: u16) {
        put16(&mut self.raw, 0x12, f)
    }

    /// Store the bitmap checksums (metadata_csum).
    pub fn set_block_bitmap_csum(&mut self, c: u32) {
        put16(&mut self.raw, 0x18, c as u16);
        if self.is64 {
            put16(&mut self.raw, 0x38, (c >> 16) as u16);
        }
    }
    pub fn set_inode_bitmap_csum(&mut self, c: u32) {
        put16(&mut self.raw, 0x1A, c as u16);
        if self.is64 {
            put16(&mut self.raw, 0x3A, (c >> 16) as u16);
        }
    }
    pub fn block_bitmap_csum(&self) -> u32 {
        let mut v = le16(&self.raw, 0x18) as u32;
        if self.is64 {
            v |= (le16(&self.raw, 0x38) as u32) << 16;
        }
        v
    }
    pub fn inode_bitmap_csum(&self) -> u32 {
        let mut v = le16(&self.raw, 0x1A) as u32;
        if self.is64 {
            v |= (le16(&self.raw, 0x3A) as u32) << 16;
        }
        v
    }

    /// The descriptor checksum for group `g` (0 when the fs has none).
    pub fn checksum(&self, sb: &Super, g: u32) -> u16 {
        if sb.metadata_csum() {
            let mut c = crc32c(sb.csum_seed, &g.to_le_bytes());
            c = crc32c(c, &self.raw[..0x1E]);
            c = crc32c(c, &[0, 0]);
            if self.raw.len() > 0x20 {
                c = crc32c(c, &self.raw[0x20..]);
            }
            (c & 0xFFFF) as u16
        } else if sb.gdt_csum() {
            let mut c = crc16(!0, &sb.raw[0x68..0x78]);
            c = crc16(c, &g.to_le_bytes());
            c = crc16(c, &self.raw[..0x1E]);
            if self.raw.len() > 0x20 {
                c = crc16(c, &self.raw[0x20..]);
            }
            c
        } else {
            0
        }
    }

    pub fn stored_checksum(&self) -> u16 {
        le16(&self.raw, 0x1E)
    }

    /// Bytes to write back, with the checksum updated.
    pub fn to_disk(&mut self, sb: &Super, g: u32) -> &[u8] {
        let c = self.checksum(sb, g);
        if sb.metadata_csum() || sb.gdt_csum() {
            put16(&mut self.raw, 0x1E, c);
        }
        &self.raw
    }
}

/// The block holding descriptor `g`, and its byte offset in it.
pub fn desc_location(sb: &Super, g: u32) -> (u64, usize) {
    let per_block = sb.block_size / sb.desc_size;
    let blk_idx = g / per_block;
    let off = ((g % per_block) * sb.desc_size) as usize;
    if sb.has_incompat(INCOMPAT_META_BG) && blk_idx >= sb.first_meta_bg() {
        // meta_bg: descriptor block of meta group m lives in its first group.
        let first = blk_idx * per_block;
        let base = group_first_block(sb, first);
        (base + sb.group_has_super(first) as u64, off)
    } else {
        (sb.first_data_block as u64 + 1 + blk_idx as u64, off)
    }
}

/// First block of group `g`.
pub fn group_first_block(sb: &Super, g: u32) -> u64 {
    sb.first_data_block as u64 + g as u64 * sb.blocks_per_group as u64
}

/// Number of blocks in group `g` (the last one may be short).
pub fn group_blocks(sb: &Super, g: u32) -> u32 {
    let first = group_first_block(sb, g);
    (sb.blocks_count - first).min(sb.blocks_per_group as u64) as u32
}

/// Blocks of the primary descriptor table (without meta_bg).
pub fn gdt_blocks(sb: &Super) -> u64 {
    let per_block = (sb.block_size / sb.desc_size) as u64;
    let n = (sb.group_count as u64).div_ceil(per_block);
    if sb.has_incompat(INCOMPAT_META_BG) {
        n.min(sb.first_meta_bg() as u64)
    } else {
        n
    }
}
