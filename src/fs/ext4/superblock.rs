//! The ext2/3/4 superblock: parsing, validation, feature checks, and
//! writing it back with its checksum.

use super::crc::crc32c;
use super::{le16, le32, put16, put32};

pub const SUPER_OFFSET: u64 = 1024;
pub const SUPER_MAGIC: u16 = 0xEF53;

pub const COMPAT_HAS_JOURNAL: u32 = 0x4;
pub const COMPAT_EXT_ATTR: u32 = 0x8;

pub const INCOMPAT_FILETYPE: u32 = 0x2;
pub const INCOMPAT_RECOVER: u32 = 0x4;
pub const INCOMPAT_META_BG: u32 = 0x10;
pub const INCOMPAT_EXTENTS: u32 = 0x40;
pub const INCOMPAT_64BIT: u32 = 0x80;
pub const INCOMPAT_FLEX_BG: u32 = 0x200;
pub const INCOMPAT_CSUM_SEED: u32 = 0x2000;
pub const INCOMPAT_LARGEDIR: u32 = 0x4000;

pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
pub const RO_COMPAT_LARGE_FILE: u32 = 0x2;
pub const RO_COMPAT_HUGE_FILE: u32 = 0x8;
pub const RO_COMPAT_GDT_CSUM: u32 = 0x10;
pub const RO_COMPAT_DIR_NLINK: u32 = 0x20;
pub const RO_COMPAT_EXTRA_ISIZE: u32 = 0x40;
pub const RO_COMPAT_METADATA_CSUM: u32 = 0x400;
pub const RO_COMPAT_ORPHAN_PRESENT: u32 = 0x10000;

/// INCOMPAT features we can read (and write).
const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_META_BG
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_FLEX_BG
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_LARGEDIR;

/// RO_COMPAT features we keep right when writing; others force read-only.
const RO_COMPAT_SUPPORTED: u32 = RO_COMPAT_SPARSE_SUPER
    | RO_COMPAT_LARGE_FILE
    | 0x4 // btree_dir
    | RO_COMPAT_HUGE_FILE
    | RO_COMPAT_GDT_CSUM
    | RO_COMPAT_DIR_NLINK
    | RO_COMPAT_EXTRA_ISIZE
    | RO_COMPAT_METADATA_CSUM
    | RO_COMPAT_ORPHAN_PRESENT;

const INCOMPAT_NAMES: &[(u32, &str)] = &[
    (0x1, "compression"),
    (0x8, "journal_dev"),
    (0x100, "mmp"),
    (0x400, "ea_inode"),
    (0x1000, "dirdata"),
    (0x8000, "inline_data"),
    (0x10000, "encrypt"),
    (0x20000, "casefold"),
];

const RO_COMPAT_NAMES: &[(u32, &str)] = &[
    (0x80, "has_snapshot"),
    (0x100, "quota"),
    (0x200, "bigalloc"),
    (0x800, "replica"),
    (0x1000, "read-only"),
    (0x2000, "project"),
    (0x4000, "shared_blocks"),
    (0x8000, "verity"),
];

fn feature_names(bits: u32, names: &[(u32, &str)]) -> String {
    let mut v = Vec::new();
    for b in 0..32 {
        let bit = 1u32 << b;
        if bits & bit != 0 {
            match names.iter().find(|(m, _)| *m == bit) {
                Some((_, n)) => v.push(n.to_string()),
                None => v.push(format!("0x{bit:x}")),
            }
        }
    }
    v.join(",")
}

/// The superblock as raw bytes (written back as is) plus derived geometry.
#[derive(Clone)]
pub struct Super {
    pub raw: Vec<u8>,
    pub block_size: u32,
    pub blocks_count: u64,
    pub inodes_count: u32,
    pub first_data_block: u32,
    pub blocks_per_group: u32,
    pub inodes_per_group: u32,
    pub inode_size: u32,
    pub first_ino: u32,
    pub desc_size: u32,
    pub group_count: u32,
    pub incompat: u32,
    pub ro_compat: u32,
    pub compat: u32,
    /// Seed of every metadata_csum checksum.
    pub csum_seed: u32,
}

impl Super {
    /// Parse and validate. `dev_size` is the device size in bytes. `Err`
    /// carries the message for the log; the caller logs it with the device.
    pub fn parse(raw: &[u8], dev_size: u64) -> Result<Super, String> {
        if raw.len() < 1024 || le16(raw, 0x38) != SUPER_MAGIC {
            return Err("VFS: Can't find ext4 filesystem".into());
        }
        let log_bs = le32(raw, 0x18);
        if log_bs > 2 {
            return Err(format!(
                "unsupported filesystem blocksize {} (at most 4096)",
                1024u64 << log_bs.min(20)
            ));
        }
        let block_size = 1024u32 << log_bs;
        if le32(raw, 0x1C) != log_bs && le32(raw, 0x64) & 0x200 == 0 {
            return Err("cluster size differs from block size without bigalloc".into());
        }
        let incompat = le32(raw, 0x60);
        let ro_compat = le32(raw, 0x64);
        let compat = le32(raw, 0x5C);
        let rev = le32(raw, 0x4C);
        if rev > 1 {
            return Err(format!("revision level {rev} is too high"));
        }
        let unknown = incompat & !INCOMPAT_SUPPORTED;
        if unknown != 0 {
            return Err(format!(
                "Couldn't mount because of unsupported optional features ({})",
                feature_names(unknown, INCOMPAT_NAMES)
            ));
        }
        let is64 = incompat & INCOMPAT_64BIT != 0;
        let mut blocks_count = le32(raw, 0x04) as u64;
        if is64 {
            blocks_count |= (le32(raw, 0x150) as u64) << 32;
        }
        let inodes_count = le32(raw, 0x00);
        let first_data_block = le32(raw, 0x14);
        let blocks_per_group = le32(raw, 0x20);
        let inodes_per_group = le32(raw, 0x28);
        let (inode_size, first_ino) = if rev == 0 {
            (128, 11)
        } else {
            (le16(raw, 0x58) as u32, le32(raw, 0x54))
        };
        let desc_size = if is64 { le16(raw, 0xFE) as u32 } else { 32 };
        if blocks_per_group == 0
            || blocks_per_group > block_size * 8
            || inodes_per_group == 0
            || inodes_per_group > block_size * 8
        {
            return Err("invalid blocks or inodes per group".into());
        }
        if !(128..=block_size).contains(&inode_size) || !inode_size.is_power_of_two() {
            return Err(format!("unsupported inode size: {inode_size}"));
        }
        if !(32..=1024).contains(&desc_size)
            || !desc_size.is_power_of_two()
            || (is64 && desc_size < 64)
        {
            return Err(format!("unsupported descriptor size {desc_size}"));
        }
        if first_data_block != (block_size == 1024) as u32
            || first_data_block as u64 >= blocks_count
        {
            return Err(format!("bad first data block {first_data_block}"));
        }
        if blocks_count.saturating_mul(block_size as u64) > dev_size {
            return Err(format!(
                "bad geometry: block count {blocks_count} exceeds size of device ({} blocks)",
                dev_size / block_size as u64
            ));
        }
        let group_count =
            (blocks_count - first_data_block as u64).div_ceil(blocks_per_group as u64);
        if group_count == 0 || group_count > u32::MAX as u64 {
            return Err("bad group count".into());
        }
        let group_count = group_count as u32;
        if (group_count as u64) * (inodes_per_group as u64) != inodes_count as u64 {
            return Err(format!(
                "inodes count not valid: {inodes_count} vs {}",
                group_count as u64 * inodes_per_group as u64
            ));
        }
        if first_ino < 11 || first_ino >= inodes_count {
            return Err(format!("invalid first ino: {first_ino}"));
        }
        let metadata_csum = ro_compat & RO_COMPAT_METADATA_CSUM != 0;
        if metadata_csum {
            if raw[0x175] != 1 {
                return Err("unknown checksum algorithm".into());
            }
            let want = le32(raw, 0x3FC);
            let got = crc32c(!0, &raw[..0x3FC]);
            if want != got {
                return Err(format!(
                    "VFS: Found ext4 filesystem with invalid superblock checksum (0x{want:08x} != 0x{got:08x})"
                ));
            }
        }
        let csum_seed = if incompat & INCOMPAT_CSUM_SEED != 0 {
            le32(raw, 0x270)
        } else {
            crc32c(!0, &raw[0x68..0x78])
        };
        Ok(Super {
            raw: raw[..1024].to_vec(),
            block_size,
            blocks_count,
            inodes_count,
            first_data_block,
            blocks_per_group,
            inodes_per_group,
            inode_size,
            first_ino,
            desc_size,
            group_count,
            incompat,
            ro_compat,
            compat,
            csum_seed,
        })
    }

    /// RO_COMPAT features that force a read-only mount, by name.
    pub fn ro_only_features(&self) -> Option<String> {
        let bits = self.ro_compat & !RO_COMPAT_SUPPORTED;
        (bits != 0).then(|| feature_names(bits, RO_COMPAT_NAMES))
    }

    pub fn has_incompat(&self, f: u32) -> bool {
        self.incompat & f != 0
    }
    pub fn has_ro_compat(&self, f: u32) -> bool {
        self.ro_compat & f != 0
    }
    pub fn metadata_csum(&self) -> bool {
        self.has_ro_compat(RO_COMPAT_METADATA_CSUM)
    }
    pub fn gdt_csum(&self) -> bool {
        self.has_ro_compat(RO_COMPAT_GDT_CSUM)
    }
    pub fn is64(&self) -> bool {
        self.has_incompat(INCOMPAT_64BIT)
    }
    pub fn extents(&self) -> bool {
        self.has_incompat(INCOMPAT_EXTENTS)
    }
    pub fn filetype(&self) -> bool {
        self.has_incompat(INCOMPAT_FILETYPE)
    }

    pub fn set_free_blocks(&mut self, v: u64) {
        put32(&mut self.raw, 0x0C, v as u32);
        if self.is64() {
            put32(&mut self.raw, 0x158, (v >> 32) as u32);
        }
    }
    pub fn reserved_blocks(&self) -> u64 {
        let mut v = le32(&self.raw, 0x08) as u64;
        if self.is64() {
            v |= (le32(&self.raw, 0x154) as u64) << 32;
        }
        v
    }
    /// s_def_resuid, s_def_resgid: who besides root may use the
    /// reserved blocks.
    pub fn def_resuid(&self) -> u32 {
        le16(&self.raw, 0x50) as u32
    }
    pub fn def_resgid(&self) -> u32 {
        le16(&self.raw, 0x52) as u32
    }
    pub fn set_free_inodes(&mut self, v: u32) {
        put32(&mut self.raw, 0x10, v)
    }
    pub fn state(&self) -> u16 {
        le16(&self.raw, 0x3A)
    }
    pub fn set_state(&mut self, v: u16) {
        put16(&mut self.raw, 0x3A, v)
    }
    pub fn first_meta_bg(&self) -> u32 {
        le32(&self.raw, 0x104)
    }
    pub fn reserved_gdt_blocks(&self) -> u32 {
        le16(&self.raw, 0xCE) as u32
    }
    pub fn journal_inum(&self) -> u32 {
        le32(&self.raw, 0xE0)
    }
    pub fn volume_name(&self) -> String {
        let v = &self.raw[0x78..0x88];
        let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
        String::from_utf8_lossy(&v[..end]).into_owned()
    }

    /// The 1024 bytes to write at SUPER_OFFSET, with the checksum updated.
    pub fn to_disk(&mut self) -> Vec<u8> {
        if self.metadata_csum() {
            let c = crc32c(!0, &self.raw[..0x3FC]);
            put32(&mut self.raw, 0x3FC, c);
        }
        self.raw.clone()
    }

    /// Does group `g` hold a superblock backup (sparse_super: 0, 1 and
    /// powers of 3, 5 and 7)?
    pub fn group_has_super(&self, g: u32) -> bool {
        if g <= 1 || !self.has_ro_compat(RO_COMPAT_SPARSE_SUPER) {
            return true;
        }
        if g % 2 == 0 {
            return false;
        }
        [3u32, 5, 7].iter().any(|&b| {
            let mut n = b;
            while n < g {
                n = match n.checked_mul(b) {
                    Some(x) => x,
                    None => return false,
                };
            }
            n == g
        })
    }
}
