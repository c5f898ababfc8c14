//! Extent trees: mapping logical to physical blocks for files with
//! EXT4_EXTENTS_FL, and writing a whole tree back from a list of extents.
//!
//! Changes are made on the flat list of extents and the tree is rebuilt
//! from it, reusing its old node blocks: a leaf-splitting B-tree is not
//! needed for correctness, trees grow (depth > 0) and shrink as the list
//! does, and typical files have a handful of extents.

use super::bcache::BufCache;
use super::crc::crc32c;
use super::superblock::Super;
use super::{corrupt, le16, le32, put16, put32};
use crate::kernel::errno::{Errno, KResult};

pub const MAGIC: u16 = 0xF30A;
/// Longest initialized extent; unwritten ones are one shorter.
pub const MAX_LEN: u32 = 32768;
const MAX_DEPTH: u16 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    pub lblk: u32,
    pub len: u32,
    pub pblk: u64,
    /// Unwritten (preallocated): reads as zeros.
    pub uninit: bool,
}

impl Extent {
    pub fn end(&self) -> u64 {
        self.lblk as u64 + self.len as u64
    }
}

/// The result of a lookup: `len` blocks from the asked-for one are either
/// mapped contiguously from `pblk` or (pblk None / uninit) read as zeros.
#[derive(Debug, PartialEq, Eq)]
pub struct Mapping {
    pub pblk: Option<u64>,
    pub uninit: bool,
    pub len: u32,
}

struct Header {
    entries: u16,
    max: u16,
    depth: u16,
}

fn header(node: &[u8], dev: &str, ino: u32) -> KResult<Header> {
    let h = Header {
        entries: le16(node, 2),
        max: le16(node, 4),
        depth: le16(node, 6),
    };
    if le16(node, 0) != MAGIC
        || h.entries > h.max
        || 12 + h.max as usize * 12 > node.len()
        || h.depth > MAX_DEPTH
    {
        corrupt(dev, &format!("inode #{ino}: invalid extent tree header"));
        return Err(Errno::EUCLEAN);
    }
    Ok(h)
}

fn leaf_entry(node: &[u8], i: usize) -> Extent {
    let o = 12 + i * 12;
    let raw_len = le16(node, o + 4) as u32;
    let (len, uninit) = if raw_len > MAX_LEN {
        (raw_len - MAX_LEN, true)
    } else {
        (raw_len, false)
    };
    Extent {
        lblk: le32(node, o),
        len,
        pblk: le32(node, o + 8) as u64 | (le16(node, o + 6) as u64) << 32,
        uninit,
    }
}

fn index_entry(node: &[u8], i: usize) -> (u32, u64) {
    let o = 12 + i * 12;
    (
        le32(node, o),
        le32(node, o + 4) as u64 | (le16(node, o + 8) as u64) << 32,
    )
}

/// Context for reading tree nodes: geometry, checksum seed, cache.
pub struct Tree<'a> {
    pub sb: &'a Super,
    pub bc: &'a mut BufCache,
    pub dev: &'a str,
    pub ino: u32,
    /// The inode's checksum seed (metadata_csum).
    pub seed: u32,
}

impl Tree<'_> {
    fn check_block(&self, b: u64) -> KResult<()> {
        if b < self.sb.first_data_block as u64 + 1 || b >= self.sb.blocks_count {
            corrupt(
                self.dev,
                &format!("inode #{}: extent block {b} out of range", self.ino),
            );
            return Err(Errno::EUCLEAN);
        }
        Ok(())
    }

    fn read_node(&mut self, b: u64, want_depth: u16) -> KResult<Vec<u8>> {
        self.check_block(b)?;
        let node = self.bc.read(b)?;
        let h = header(&node, self.dev, self.ino)?;
        if h.depth != want_depth {
            corrupt(
                self.dev,
                &format!("inode #{}: extent tree depth mismatch", self.ino),
            );
            return Err(Errno::EUCLEAN);
        }
        if self.sb.metadata_csum() {
            let tail = 12 + h.max as usize * 12;
            if tail + 4 > node.len() || le32(&node, tail) != crc32c(self.seed, &node[..tail]) {
                corrupt(
                    self.dev,
                    &format!("inode #{}: extent block {b} checksum invalid", self.ino),
                );
                return Err(Errno::EUCLEAN);
            }
        }
        Ok(node)
    }

    /// Map logical block `lblk` of the tree rooted in `root` (i_block).
    pub fn lookup(&mut self, root: &[u8], lblk: u32) -> KResult<Mapping> {
        let mut node = root.to_vec();
        let mut h = header(&node, self.dev, self.ino)?;
        loop {
            if h.depth == 0 {
                let mut next_start: Option<u32> = None;
                for i in 0..h.entries as usize {
                    let e = leaf_entry(&node, i);
                    if (lblk as u64) < e.lblk as u64 {
                        next_start = Some(e.lblk);
                        break;
                    }
                    if (lblk as u64) < e.end() {
                        let off = lblk - e.lblk;
                        return Ok(Mapping {
                            pblk: Some(e.pblk + off as u64),
                            uninit: e.uninit,
                            len: e.len - off,
                        });
                    }
                }
                let len = next_start
                    .map(|n| n - lblk)
                    .unwrap_or(u32::MAX - lblk)
                    .max(1);
                return Ok(Mapping {
                    pblk: None,
                    uninit: false,
                    len,
                });
            }
            // The last index entry whose start is <= lblk.
            let mut child = None;
            for i in 0..h.entries as usize {
                let (start, b) = index_entry(&node, i);
                if start > lblk && i > 0 {
                    break;
                }
                child = Some(b);
            }
            let Some(b) = child else {
                return Ok(Mapping {
                    pblk: None,
                    uninit: false,
                    len: 1,
                });
            };
            node = self.read_node(b, h.depth - 1)?;
            h = header(&node, self.dev, self.ino)?;
        }
    }

    /// Every extent in order, and the blocks of the tree's nodes.
    pub fn collect(&mut self, root: &[u8]) -> KResult<(Vec<Extent>, Vec<u64>)> {
        let mut extents = Vec::new();
        let mut nodes = Vec::new();
        let h = header(root, self.dev, self.ino)?;
        self.walk(root, h.depth, &mut extents, &mut nodes)?;
        // Sorted and non-overlapping, or the tree is corrupt.
        for w in extents.windows(2) {
            if (w[1].lblk as u64) < w[0].end() {
                corrupt(
                    self.dev,
                    &format!("inode #{}: overlapping extents", self.ino),
                );
                return Err(Errno::EUCLEAN);
            }
        }
        Ok((extents, nodes))
    }

    fn walk(
        &mut self,
        node: &[u8],
        depth: u16,
        out: &mut Vec<Extent>,
        nodes: &mut Vec<u64>,
    ) -> KResult<()> {
        let h = header(node, self.dev, self.ino)?;
        if h.depth != depth {
            corrupt(
                self.dev,
                &format!("inode #{}: extent tree depth mismatch", self.ino),
            );
            return Err(Errno::EUCLEAN);
        }
        for i in 0..h.entries as usize {
            if depth == 0 {
                let e = leaf_entry(node, i);
                if e.len == 0 {
                    continue;
                }
                if e.pblk < self.sb.first_data_block as u64
                    || e.pblk.saturating_add(e.len as u64) > self.sb.blocks_count
                {
                    corrupt(
                        self.dev,
                        &format!("inode #{}: extent beyond end of filesystem", self.ino),
                    );
                    return Err(Errno::EUCLEAN);
                }
                out.push(e);
            } else {
                let (_, b) = index_entry(node, i);
                if nodes.len() > 1 << 20 || nodes.contains(&b) {
                    corrupt(self.dev, &format!("inode #{}: extent tree loop", self.ino));
                    return Err(Errno::EUCLEAN);
                }
                let child = self.read_node(b, depth - 1)?;
                nodes.push(b);
                self.walk(&child, depth - 1, out, nodes)?;
            }
        }
        Ok(())
    }

    /// Write `extents` back as a tree rooted in `root` (the inode's i_block).
    /// Node blocks come from `old_nodes` first, then `alloc`; unused old
    /// nodes are returned. Returns (nodes used, old nodes to free).
    pub fn rebuild(
        &mut self,
        root: &mut [u8],
        extents: &[Extent],
        old_nodes: Vec<u64>,
        alloc: &mut dyn FnMut(&mut BufCache) -> KResult<u64>,
    ) -> KResult<(Vec<u64>, Vec<u64>)> {
        let bs = self.sb.block_size as usize;
        let per_block = (bs - 12) / 12;
        let root_cap = (root.len() - 12) / 12;
        let mut spare = old_nodes.into_iter();
        let mut used = Vec::new();
        // Level 0: the extents; each level above holds (first lblk, block).
        let mut level: Vec<[u8; 12]> = extents.iter().map(encode_extent).collect();
        let mut firsts: Vec<u32> = extents.iter().map(|e| e.lblk).collect();
        let mut depth = 0u16;
        while level.len() > root_cap {
            let mut up = Vec::new();
            let mut up_firsts = Vec::new();
            for (chunk, fchunk) in level.chunks(per_block).zip(firsts.chunks(per_block)) {
                let b = match spare.next() {
                    Some(b) => b,
                    None => alloc(self.bc)?,
                };
                used.push(b);
                let mut node = vec![0u8; bs];
                write_header(&mut node, chunk.len() as u16, per_block as u16, depth);
                for (i, e) in chunk.iter().enumerate() {
                    node[12 + i * 12..24 + i * 12].copy_from_slice(e);
                }
                if self.sb.metadata_csum() {
                    let tail = 12 + per_block * 12;
                    let c = crc32c(self.seed, &node[..tail]);
                    put32(&mut node, tail, c);
                }
                self.bc.write(b, &node)?;
                let mut idx = [0u8; 12];
                put32(&mut idx, 0, fchunk[0]);
                put32(&mut idx, 4, b as u32);
                put16(&mut idx, 8, (b >> 32) as u16);
                up.push(idx);
                up_firsts.push(fchunk[0]);
            }
            level = up;
            firsts = up_firsts;
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(Errno::EFBIG);
            }
        }
        root.fill(0);
        write_header(root, level.len() as u16, root_cap as u16, depth);
        for (i, e) in level.iter().enumerate() {
            root[12 + i * 12..24 + i * 12].copy_from_slice(e);
        }
        Ok((used, spare.collect()))
    }
}

fn write_header(node: &mut [u8], entries: u16, max: u16, depth: u16) {
    put16(node, 0, MAGIC);
    put16(node, 2, entries);
    put16(node, 4, max);
    put16(node, 6, depth);
    put32(node, 8, 0);
}

fn encode_extent(e: &Extent) -> [u8; 12] {
    let mut b = [0u8; 12];
    put32(&mut b, 0, e.lblk);
    put16(
        &mut b,
        4,
        (e.len + if e.uninit { MAX_LEN } else { 0 }) as u16,
    );
    put16(&mut b, 6, (e.pblk >> 32) as u16);
    put32(&mut b, 8, e.pblk as u32);
    b
}

/// An empty root (for a new inode's i_block).
pub fn empty_root(root: &mut [u8]) {
    root.fill(0);
    write_header(root, 0, ((root.len() - 12) / 12) as u16, 0);
}

/// Map `lblk` to `pblk` in the list (the block was a hole or unwritten),
/// merging with neighbours where contiguous.
pub fn insert(list: &mut Vec<Extent>, lblk: u32, pblk: u64) {
    let new = Extent {
        lblk,
        len: 1,
        pblk,
        uninit: false,
    };
    // Split an unwritten extent that covers lblk.
    if let Some(i) = list
        .iter()
        .position(|e| e.lblk <= lblk && (lblk as u64) < e.end())
    {
        let e = list.remove(i);
        let mut parts = Vec::new();
        if e.lblk < lblk {
            parts.push(Extent {
                len: lblk - e.lblk,
                ..e
            });
        }
        if (lblk as u64 + 1) < e.end() {
            let off = lblk + 1 - e.lblk;
            parts.push(Extent {
                lblk: lblk + 1,
                len: e.len - off,
                pblk: e.pblk + off as u64,
                uninit: e.uninit,
            });
        }
        for (k, p) in parts.into_iter().enumerate() {
            list.insert(i + k, p);
        }
    }
    let pos = list.partition_point(|e| e.lblk < lblk);
    list.insert(pos, new);
    // Merge with the previous and next extents.
    let merge = |a: &Extent, b: &Extent| {
        !a.uninit
            && !b.uninit
            && a.end() == b.lblk as u64
            && a.pblk + a.len as u64 == b.pblk
            && a.len + b.len <= MAX_LEN
    };
    if pos + 1 < list.len() && merge(&list[pos], &list[pos + 1]) {
        let n = list.remove(pos + 1);
        list[pos].len += n.len;
    }
    if pos > 0 && merge(&list[pos - 1], &list[pos]) {
        let n = list.remove(pos);
        list[pos - 1].len += n.len;
    }
}

/// Cut the list at logical block `from`: everything at or past it is
/// removed. Returns the freed physical runs (start, count).
pub fn truncate(list: &mut Vec<Extent>, from: u32) -> Vec<(u64, u32)> {
    let mut freed = Vec::new();
    let mut keep = Vec::new();
    for e in list.drain(..) {
        if e.end() <= from as u64 {
            keep.push(e);
        } else if e.lblk >= from {
            freed.push((e.pblk, e.len));
        } else {
            let n = from - e.lblk;
            freed.push((e.pblk + n as u64, e.len - n));
            keep.push(Extent { len: n, ..e });
        }
    }
    *list = keep;
    freed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(lblk: u32, len: u32, pblk: u64) -> Extent {
        Extent {
            lblk,
            len,
            pblk,
            uninit: false,
        }
    }

    #[test]
    fn insert_merges_and_splits() {
        let mut l = Vec::new();
        insert(&mut l, 0, 100);
        insert(&mut l, 1, 101);
        insert(&mut l, 3, 103);
        assert_eq!(l, vec![ext(0, 2, 100), ext(3, 1, 103)]);
        insert(&mut l, 2, 102);
        assert_eq!(l, vec![ext(0, 4, 100)]);
        let mut l = vec![Extent {
            lblk: 10,
            len: 5,
            pblk: 50,
            uninit: true,
        }];
        insert(&mut l, 12, 52);
        assert_eq!(l.len(), 3);
        assert_eq!(l[1], ext(12, 1, 52));
        assert!(l[0].uninit && l[0].len == 2 && l[2].uninit && l[2].lblk == 13 && l[2].pblk == 53);
    }

    #[test]
    fn truncate_trims() {
        let mut l = vec![ext(0, 4, 100), ext(10, 4, 200)];
        let f = truncate(&mut l, 2);
        assert_eq!(l, vec![ext(0, 2, 100)]);
        assert_eq!(f, vec![(102, 2), (200, 4)]);
    }
}
