//! Directory blocks: the linear chain of entries (inode, rec_len,
//! name_len, file_type, name), the metadata_csum tail, and inserting and
//! removing entries. htree directories are read linearly (their index
//! blocks look like empty entries).

use super::crc::crc32c;
use super::{le16, le32, put16, put32};

pub const FT_UNKNOWN: u8 = 0;
pub const TAIL_LEN: usize = 12;

#[derive(Debug, Clone)]
pub struct Entry {
    pub off: usize,
    pub ino: u32,
    pub rec_len: usize,
    pub ftype: u8,
    pub name: Vec<u8>,
}

/// Does the block end in a checksum tail?
pub fn has_tail(b: &[u8]) -> bool {
    let t = b.len() - TAIL_LEN;
    le32(b, t) == 0 && le16(b, t + 4) == 12 && b[t + 6] == 0 && b[t + 7] == 0xDE
}

/// The tail checksum (seed: the directory inode's).
pub fn tail_csum(b: &[u8], seed: u32) -> u32 {
    crc32c(seed, &b[..b.len() - TAIL_LEN])
}

pub fn verify_tail(b: &[u8], seed: u32) -> bool {
    le32(b, b.len() - 4) == tail_csum(b, seed)
}

/// Recompute the tail checksum, if the block has a tail.
pub fn seal(b: &mut [u8], seed: u32) {
    if has_tail(b) {
        let c = tail_csum(b, seed);
        let n = b.len();
        put32(b, n - 4, c);
    }
}

fn entry_len(name_len: usize) -> usize {
    (8 + name_len).div_ceil(4) * 4
}

/// All entries of the block, validated. `Err` names what is wrong.
/// With `filetype`, byte 7 is the type; else name_len is 16 bits.
pub fn parse(b: &[u8], filetype: bool, max_ino: u32) -> Result<Vec<Entry>, String> {
    let end = if has_tail(b) {
        b.len() - TAIL_LEN
    } else {
        b.len()
    };
    let mut out = Vec::new();
    let mut off = 0;
    while off < end {
        if off + 8 > end {
            return Err(format!(
                "directory entry at offset {off} runs past the block"
            ));
        }
        let ino = le32(b, off);
        let rec_len = le16(b, off + 4) as usize;
        let (name_len, ftype) = if filetype {
            (b[off + 6] as usize, b[off + 7])
        } else {
            (le16(b, off + 6) as usize, FT_UNKNOWN)
        };
        if rec_len < 8
            || rec_len % 4 != 0
            || off + rec_len > end
            || (ino != 0 && entry_len(name_len) > rec_len)
        {
            return Err(format!(
                "bad entry in directory: rec_len={rec_len}, name_len={name_len}, offset={off}"
            ));
        }
        if ino > max_ino {
            return Err(format!(
                "bad entry in directory: inode out of bounds ({ino})"
            ));
        }
        out.push(Entry {
            off,
            ino,
            rec_len,
            ftype,
            name: b[off + 8..off + 8 + name_len.min(rec_len - 8)].to_vec(),
        });
        off += rec_len;
    }
    Ok(out)
}

fn write_entry(
    b: &mut [u8],
    off: usize,
    ino: u32,
    rec_len: usize,
    name: &[u8],
    ftype: u8,
    filetype: bool,
) {
    put32(b, off, ino);
    put16(b, off + 4, rec_len as u16);
    if filetype {
        b[off + 6] = name.len() as u8;
        b[off + 7] = ftype;
    } else {
        put16(b, off + 6, name.len() as u16);
    }
    b[off + 8..off + 8 + name.len()].copy_from_slice(name);
}

/// A new empty block (with a tail when `csum`).
pub fn empty_block(bs: usize, csum: bool) -> Vec<u8> {
    let mut b = vec![0u8; bs];
    let end = if csum { bs - TAIL_LEN } else { bs };
    put16(&mut b, 4, end as u16);
    if csum {
        put16(&mut b, end + 4, 12);
        b[end + 7] = 0xDE;
    }
    b
}

/// The first block of a new directory: "." and "..".
pub fn new_dir_block(bs: usize, csum: bool, me: u32, parent: u32, filetype: bool) -> Vec<u8> {
    let mut b = empty_block(bs, csum);
    let end = if csum { bs - TAIL_LEN } else { bs };
    write_entry(&mut b, 0, me, 12, b".", 2, filetype);
    write_entry(&mut b, 12, parent, end - 12, b"..", 2, filetype);
    b
}

/// Put an entry into the block if there is room; true on success.
pub fn insert(
    b: &mut [u8],
    entries: &[Entry],
    name: &[u8],
    ino: u32,
    ftype: u8,
    filetype: bool,
) -> bool {
    let need = entry_len(name.len());
    for e in entries {
        if e.ino == 0 && e.rec_len >= need {
            write_entry(b, e.off, ino, e.rec_len, name, ftype, filetype);
            return true;
        }
        let used = entry_len(e.name.len());
        if e.ino != 0 && e.rec_len >= used + need {
            put16(b, e.off + 4, used as u16);
            write_entry(
                b,
                e.off + used,
                ino,
                e.rec_len - used,
                name,
                ftype,
                filetype,
            );
            return true;
        }
    }
    false
}

/// Remove the entry `name`; true if it was there.
pub fn remove(b: &mut [u8], entries: &[Entry], name: &[u8]) -> bool {
    for (i, e) in entries.iter().enumerate() {
        if e.ino != 0 && e.name == name {
            if i == 0 {
                put32(b, e.off, 0);
            } else {
                let p = &entries[i - 1];
                put16(b, p.off + 4, (p.rec_len + e.rec_len) as u16);
            }
            return true;
        }
    }
    false
}

/// Point the existing entry `name` at `ino` (rename over, "..").
pub fn retarget(
    b: &mut [u8],
    entries: &[Entry],
    name: &[u8],
    ino: u32,
    ftype: u8,
    filetype: bool,
) -> bool {
    for e in entries {
        if e.ino != 0 && e.name == name {
            put32(b, e.off, ino);
            if filetype {
                b[e.off + 7] = ftype;
            }
            return true;
        }
    }
    false
}

/// Turn an htree block into a linear one: the root keeps "." and ".."
/// (".." shrinks to make room for a tail); interior index blocks become
/// empty blocks. Leaves are untouched.
pub fn unindex_block(b: &mut [u8], first: bool, csum: bool) -> bool {
    let bs = b.len();
    let end = if csum { bs - TAIL_LEN } else { bs };
    if first {
        if le16(b, 4) != 12 {
            return false;
        }
        put16(b, 16, (end - 12) as u16);
        b[24..].fill(0);
        if csum {
            put16(b, end + 4, 12);
            b[end + 7] = 0xDE;
        }
        return true;
    }
    if le32(b, 0) == 0 && le16(b, 4) as usize == bs {
        b.copy_from_slice(&empty_block(bs, csum));
        return true;
    }
    false
}

/// DT_/EXT4_FT_ type for a mode.
pub fn ftype_of(mode: u32) -> u8 {
    match mode & 0o170000 {
        0o100000 => 1,
        0o040000 => 2,
        0o020000 => 3,
        0o060000 => 4,
        0o010000 => 5,
        0o140000 => 6,
        0o120000 => 7,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_roundtrip() {
        let mut b = new_dir_block(1024, true, 12, 2, true);
        let e = parse(&b, true, 100).unwrap();
        assert_eq!(e.len(), 2);
        assert!(insert(&mut b, &e, b"hello", 13, 1, true));
        let e = parse(&b, true, 100).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[2].name, b"hello");
        assert!(remove(&mut b, &e, b"hello"));
        let e = parse(&b, true, 100).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].rec_len, 1024 - 12 - 12);
        seal(&mut b, 7);
        assert!(verify_tail(&b, 7));
    }

    #[test]
    fn rejects_garbage() {
        let mut b = empty_block(1024, false);
        put16(&mut b, 4, 3);
        assert!(parse(&b, true, 100).is_err());
        let mut b = empty_block(1024, false);
        put16(&mut b, 4, 2048);
        assert!(parse(&b, true, 100).is_err());
    }
}
