//! Extended attributes on disk: entries in an inode's extra space (after
//! i_extra_isize) and in an external xattr block (header, entries sorted
//! by index and name, values packed down from the end, entry and block
//! hashes, crc32c with metadata_csum); reading and changing them.

use super::crc::crc32c;
use super::fs::FsInner;
use super::inode::DiskInode;
use super::superblock::COMPAT_EXT_ATTR;
use super::{corrupt, le16, le32, put16, put32};
use crate::fs::vfs::{xattr_flags_allow, Timespec};
use crate::kernel::errno::{Errno, KResult};
use std::ops::Range;

/// h_magic of a block and of the in-inode area.
pub const MAGIC: u32 = 0xEA02_0000;
const BLOCK_HEADER: usize = 32;
const ENTRY_HEADER: usize = 16;
/// The in-inode area starts with the magic; entries follow.
const IBODY_HEADER: usize = 4;

/// e_name_index of the namespaces the VFS offers (the others, POSIX ACLs
/// and system.data, are neither listed nor accessible).
const PREFIXES: &[(u8, &str)] = &[(1, "user."), (4, "trusted."), (6, "security.")];

/// One attribute: namespace index, name without its prefix, value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xattr {
    pub index: u8,
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

/// ("user.foo") → (1, "foo"); None for namespaces ext4 does not store here.
pub fn split_name(full: &str) -> Option<(u8, &[u8])> {
    PREFIXES
        .iter()
        .find_map(|&(i, p)| full.strip_prefix(p).map(|n| (i, n.as_bytes())))
}

/// The full name of an attribute, if its namespace is one the VFS offers.
pub fn full_name(index: u8, name: &[u8]) -> Option<String> {
    let (_, p) = PREFIXES.iter().find(|(i, _)| *i == index)?;
    Some(format!("{p}{}", String::from_utf8_lossy(name)))
}

fn pad(n: usize) -> usize {
    (n + 3) & !3
}

fn entry_len(name_len: usize) -> usize {
    pad(ENTRY_HEADER + name_len)
}

/// ext4_xattr_hash_entry: the name, then the value in 32-bit words.
pub fn entry_hash(name: &[u8], value: &[u8]) -> u32 {
    let mut h = 0u32;
    for &c in name {
        h = (h << 5) ^ (h >> 27) ^ c as u32;
    }
    let mut v = value.to_vec();
    v.resize(pad(value.len()), 0);
    for w in v.chunks(4) {
        h = (h << 16) ^ (h >> 16) ^ le32(w, 0);
    }
    h
}

/// ext4_xattr_rehash: the block hash over the entry hashes, in order.
fn block_hash(attrs: &[Xattr]) -> u32 {
    let mut h = 0u32;
    for a in attrs {
        let e = entry_hash(&a.name, &a.value);
        if e == 0 {
            return 0;
        }
        h = (h << 16) ^ (h >> 16) ^ e;
    }
    h
}

/// The metadata_csum checksum of xattr block `blk` (its field counted as 0).
pub fn block_csum(seed: u32, blk: u64, b: &[u8]) -> u32 {
    let mut copy = b.to_vec();
    put32(&mut copy, 0x10, 0);
    crc32c(crc32c(seed, &blk.to_le_bytes()), &copy)
}

/// The order of entries in a block (ext4 searches blocks in it).
fn sort(attrs: &mut [Xattr]) {
    attrs.sort_by(|a, b| (a.index, a.name.len(), &a.name).cmp(&(b.index, b.name.len(), &b.name)));
}

/// The entries from offset `first` of `buf` (up to a zero word), with
/// values at `base` + e_value_offs, all inside `buf`.
pub fn parse(buf: &[u8], first: usize, base: usize) -> Result<Vec<Xattr>, String> {
    let end = buf.len();
    let mut v = Vec::new();
    let mut off = first;
    loop {
        if off + 4 > end {
            return Err("entries run past the end".into());
        }
        if le32(buf, off) == 0 {
            return Ok(v);
        }
        let nlen = buf[off] as usize;
        if nlen == 0 || off + ENTRY_HEADER + nlen > end {
            return Err(format!("entry at {off} out of bounds"));
        }
        if le32(buf, off + 4) != 0 {
            return Err("values in EA inodes are not supported".into());
        }
        let vstart = base + le16(buf, off + 2) as usize;
        let vsize = le32(buf, off + 8) as usize;
        if vsize > 0 && (vstart < off + entry_len(nlen) || vstart + vsize > end) {
            return Err(format!("value of entry at {off} out of bounds"));
        }
        v.push(Xattr {
            index: buf[off + 1],
            name: buf[off + ENTRY_HEADER..off + ENTRY_HEADER + nlen].to_vec(),
            value: if vsize > 0 {
                buf[vstart..vstart + vsize].to_vec()
            } else {
                Vec::new()
            },
        });
        off += entry_len(nlen);
    }
}

/// Write `attrs` into `area` from offset `first` (entries, then a zero
/// word), values packed down from the end with offsets from `base`. The
/// bytes from `first` on are rewritten. False if they do not fit.
pub fn layout(attrs: &[Xattr], area: &mut [u8], first: usize, base: usize) -> bool {
    let need: usize = attrs
        .iter()
        .map(|a| entry_len(a.name.len()) + pad(a.value.len()))
        .sum::<usize>()
        + 4;
    if first + need > area.len()
        || attrs
            .iter()
            .any(|a| a.name.is_empty() || a.name.len() > 255)
    {
        return false;
    }
    area[first..].fill(0);
    let mut off = first;
    let mut vend = area.len();
    for a in attrs {
        let voff = if a.value.is_empty() {
            0
        } else {
            vend -= pad(a.value.len());
            area[vend..vend + a.value.len()].copy_from_slice(&a.value);
            vend - base
        };
        let n = a.name.len();
        area[off] = n as u8;
        area[off + 1] = a.index;
        put16(area, off + 2, voff as u16);
        put32(area, off + 8, a.value.len() as u32);
        put32(area, off + 12, entry_hash(&a.name, &a.value));
        area[off + ENTRY_HEADER..off + ENTRY_HEADER + n].copy_from_slice(&a.name);
        off += entry_len(n);
    }
    true
}

/// The bytes of the raw inode that can hold attributes, if any.
fn ibody_range(di: &DiskInode) -> Option<Range<usize>> {
    let start = 128 + di.extra_isize();
    (di.raw.len() > 128 && start + IBODY_HEADER + ENTRY_HEADER + 4 <= di.raw.len())
        .then(|| start..di.raw.len())
}

/// Lay out the in-inode attributes into `area` (the inode's ibody range).
fn layout_ibody(attrs: &[Xattr], area: &mut [u8]) -> bool {
    if attrs.is_empty() {
        area.fill(0);
        return true;
    }
    if !layout(attrs, area, IBODY_HEADER, IBODY_HEADER) {
        return false;
    }
    put32(area, 0, MAGIC);
    true
}

/// Where a change leaves the xattr block.
enum BlockChange {
    Same,
    Remove,
    Write(Vec<u8>),
}

impl FsInner {
    fn xattr_corrupt(&self, ino: u32, what: &str) -> Errno {
        corrupt(&self.name, &format!("inode #{ino}: {what}"));
        Errno::EUCLEAN
    }

    /// The attributes of `ino`: those in the inode, its xattr block
    /// number (0: none) and those in the block.
    fn read_xattrs(&mut self, ino: u32) -> KResult<(Vec<Xattr>, u64, Vec<Xattr>)> {
        let di = self.di(ino)?.clone();
        let ib = match ibody_range(&di) {
            Some(r) if le32(&di.raw, r.start) == MAGIC => {
                parse(&di.raw[r], IBODY_HEADER, IBODY_HEADER).map_err(|m| {
                    self.xattr_corrupt(ino, &format!("in-inode extended attributes: {m}"))
                })?
            }
            _ => Vec::new(),
        };
        let b = di.file_acl();
        if b == 0 {
            return Ok((ib, 0, Vec::new()));
        }
        if b >= self.sb.blocks_count || b <= self.sb.first_data_block as u64 {
            return Err(self.xattr_corrupt(ino, &format!("xattr block {b} out of range")));
        }
        let blk = self.bc.read(b)?;
        if le32(&blk, 0) != MAGIC || le32(&blk, 8) != 1 {
            return Err(self.xattr_corrupt(ino, &format!("bad xattr block {b} header")));
        }
        if self.sb.metadata_csum() && le32(&blk, 0x10) != block_csum(self.sb.csum_seed, b, &blk) {
            return Err(self.xattr_corrupt(ino, &format!("xattr block {b} checksum invalid")));
        }
        let bl = parse(&blk, BLOCK_HEADER, 0)
            .map_err(|m| self.xattr_corrupt(ino, &format!("xattr block {b}: {m}")))?;
        Ok((ib, b, bl))
    }

    /// The value of attribute (`index`, `name`) of `ino`.
    pub fn xattr_get(&mut self, ino: u32, index: u8, name: &[u8]) -> KResult<Vec<u8>> {
        let (ib, _, bl) = self.read_xattrs(ino)?;
        ib.into_iter()
            .chain(bl)
            .find(|a| a.index == index && a.name == name)
            .map(|a| a.value)
            .ok_or(Errno::ENODATA)
    }

    /// Every attribute of `ino` as (index, name): in-inode ones first.
    pub fn xattr_list(&mut self, ino: u32) -> KResult<Vec<(u8, Vec<u8>)>> {
        let (ib, _, bl) = self.read_xattrs(ino)?;
        Ok(ib
            .into_iter()
            .chain(bl)
            .map(|a| (a.index, a.name))
            .collect())
    }

    /// Set (`Some`) or remove (`None`) attribute (`index`, `name`) of
    /// `ino`, with XATTR_CREATE/XATTR_REPLACE `flags`. A new value goes in
    /// the inode if it fits there, else in the xattr block (ENOSPC if it
    /// fits in neither). A block shared with other inodes is copied first.
    pub fn xattr_set(
        &mut self,
        ino: u32,
        index: u8,
        name: &[u8],
        value: Option<&[u8]>,
        flags: u32,
    ) -> KResult<()> {
        if self.ro {
            return Err(Errno::EROFS);
        }
        if name.is_empty() || name.len() > 255 {
            return Err(Errno::ERANGE);
        }
        let (mut ib, old_b, mut bl) = self.read_xattrs(ino)?;
        let is = |a: &Xattr| a.index == index && a.name == name;
        let exists = ib.iter().any(is) || bl.iter().any(is);
        if value.is_none() && !exists {
            return Err(Errno::ENODATA);
        }
        xattr_flags_allow(exists, flags)?;
        sort(&mut bl);
        let old_bl = bl.clone();
        ib.retain(|a| !is(a));
        bl.retain(|a| !is(a));
        let mut raw = self.di(ino)?.raw.clone();
        let range = ibody_range(&DiskInode::new(&raw));
        if let Some(v) = value {
            let new = Xattr {
                index,
                name: name.to_vec(),
                value: v.to_vec(),
            };
            let mut with = ib.clone();
            with.push(new.clone());
            sort(&mut with);
            match &range {
                Some(r) if layout_ibody(&with, &mut raw[r.clone()]) => ib = with,
                _ => {
                    bl.push(new);
                    sort(&mut bl);
                }
            }
        }
        if let Some(r) = &range {
            if !layout_ibody(&ib, &mut raw[r.clone()]) {
                return Err(self.xattr_corrupt(ino, "in-inode extended attributes do not fit"));
            }
        }
        let bs = self.bs() as usize;
        let change = if bl == old_bl {
            BlockChange::Same
        } else if bl.is_empty() {
            BlockChange::Remove
        } else {
            let mut b = vec![0u8; bs];
            if !layout(&bl, &mut b, BLOCK_HEADER, 0) {
                return Err(Errno::ENOSPC);
            }
            put32(&mut b, 0, MAGIC);
            put32(&mut b, 4, 1);
            put32(&mut b, 8, 1);
            put32(&mut b, 0xC, block_hash(&bl));
            BlockChange::Write(b)
        };
        // Everything that can fail for want of room is done: change things.
        let spb = (bs / 512) as i64;
        let mut acl = old_b;
        match change {
            BlockChange::Same => {}
            BlockChange::Remove => {
                self.release_xattr_block(old_b)?;
                self.add_sectors(ino, -spb)?;
                acl = 0;
            }
            BlockChange::Write(mut b) => {
                let shared = old_b != 0 && le32(&self.bc.read(old_b)?, 4) > 1;
                if old_b == 0 || shared {
                    let group = ((ino - 1) / self.sb.inodes_per_group) as u64;
                    let goal =
                        group * self.sb.blocks_per_group as u64 + self.sb.first_data_block as u64;
                    acl = self.alloc_block(goal)?;
                    self.sb_dirty = true;
                    if shared {
                        self.release_xattr_block(old_b)?;
                    } else {
                        self.add_sectors(ino, spb)?;
                    }
                }
                if self.sb.metadata_csum() {
                    let c = block_csum(self.sb.csum_seed, acl, &b);
                    put32(&mut b, 0x10, c);
                }
                self.bc.write(acl, &b)?;
            }
        }
        let now = Timespec::now();
        self.modify(ino, |di| {
            if let Some(r) = range {
                di.raw[r.clone()].copy_from_slice(&raw[r]);
            }
            di.set_file_acl(acl);
            di.set_ctime(now);
        })?;
        if self.sb.compat & COMPAT_EXT_ATTR == 0 {
            self.sb.compat |= COMPAT_EXT_ATTR;
            let c = self.sb.compat;
            put32(&mut self.sb.raw, 0x5C, c);
            self.sb_dirty = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(index: u8, name: &str, value: &[u8]) -> Xattr {
        Xattr {
            index,
            name: name.as_bytes().to_vec(),
            value: value.to_vec(),
        }
    }

    #[test]
    fn block_layout_round_trips() {
        let mut attrs = vec![
            x(1, "zeta", b"last"),
            x(1, "a", b""),
            x(6, "selinux", b"system_u:object_r:etc_t:s0\0"),
            x(4, "big", &[7u8; 1000]),
        ];
        sort(&mut attrs);
        assert_eq!(attrs[0].name, b"a");
        let mut b = vec![0u8; 4096];
        assert!(layout(&attrs, &mut b, BLOCK_HEADER, 0));
        assert_eq!(parse(&b, BLOCK_HEADER, 0).unwrap(), attrs);
        let mut small = vec![0u8; 1024];
        assert!(!layout(
            &[x(1, "v", &[1u8; 1000])],
            &mut small,
            BLOCK_HEADER,
            0
        ));
    }

    #[test]
    fn ibody_layout_round_trips_and_empties() {
        let mut area = vec![0xAAu8; 96];
        let attrs = vec![x(1, "k", b"value")];
        assert!(layout_ibody(&attrs, &mut area));
        assert_eq!(le32(&area, 0), MAGIC);
        assert_eq!(parse(&area, 4, 4).unwrap(), attrs);
        assert!(!layout_ibody(&[x(1, "k", &[0u8; 80])], &mut area));
        assert!(layout_ibody(&[], &mut area));
        assert!(area.iter().all(|&b| b == 0));
    }

    #[test]
    fn names_map_to_indexes() {
        assert_eq!(split_name("user.x"), Some((1, &b"x"[..])));
        assert_eq!(split_name("trusted.t"), Some((4, &b"t"[..])));
        assert_eq!(split_name("system.posix_acl_access"), None);
        assert_eq!(
            full_name(6, b"selinux").as_deref(),
            Some("security.selinux")
        );
        assert_eq!(full_name(2, b""), None);
    }

    #[test]
    fn corrupt_entries_are_errors() {
        let mut b = vec![0u8; 64];
        b[0] = 3;
        b[1] = 1;
        put16(&mut b, 2, 60);
        put32(&mut b, 8, 10);
        assert!(parse(&b, 0, 0).is_err());
        let b = vec![1u8; 8];
        assert!(parse(&b, 0, 0).is_err());
    }
}
