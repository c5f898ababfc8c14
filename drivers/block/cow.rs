//! UML's COW file format: the header at the start of a copy-on-write
//! overlay and where its bitmap and data lie. Pure byte layout, no I/O.
//!
//! A COW file is a header, then a bitmap with one bit per 512-byte sector
//! of the backing image (bit n is bit n%8 of byte n/8; set means the
//! sector lives in the COW file), then the sectors themselves at
//! `data_offset + sector*512`, laid out as in the backing image, so the
//! file is sparse. Version 3 (what UML and uml_mkcow write today) is
//! big-endian and packed:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic 0x4F4F4F4D ("OOOM") |
//! | 4 | 4 | version (3) |
//! | 8 | 4 | backing file's mtime, seconds, truncated to 32 bits |
//! | 12 | 8 | backing file's size in bytes |
//! | 20 | 4 | sector size (512) |
//! | 24 | 4 | alignment of bitmap and data (UML uses the page size) |
//! | 28 | 4 | cow_format (0: the bitmap) |
//! | 32 | 4096 | backing file's absolute path, NUL-terminated |
//!
//! The bitmap starts at the header size rounded up to the alignment; the
//! data at the bitmap's end rounded up to the alignment. Older files are
//! read too: version 1 (host-endian, 256-byte path first), version 2
//! (big-endian, 4096-byte path first) and the unpacked version 3 some
//! 64-bit builds wrote before 2006 (a 64-bit mtime, padding at the end).

/// "OOOM" read big-endian.
pub const COW_MAGIC: u32 = 0x4f4f_4f4d;
/// Room for the backing path in version 2 and 3 headers (incl. NUL).
pub const PATH_LEN: usize = 4096;
/// Bytes in a packed version 3 header.
pub const V3_HEADER_LEN: usize = 32 + PATH_LEN;
/// The most a header of any version occupies (the unpacked v3 layout,
/// 36 + 4096 rounded to 8): read this much to parse one.
pub const MAX_HEADER_LEN: usize = 4136;
/// The sector size UML writes into new headers.
pub const SECTOR: u32 = 512;
/// The alignment UML gives new COW files (its PAGE_SIZE).
pub const ALIGN: u32 = 4096;

const V1_PATH_LEN: usize = 256;
/// magic, version, path, mtime u32, size u64, sectorsize i32 (packed).
const V1_HEADER_LEN: usize = 8 + V1_PATH_LEN + 16;
const V2_HEADER_LEN: usize = 8 + PATH_LEN + 16;

/// What a COW header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CowHeader {
    pub version: u32,
    /// Backing image path as stored (absolute when UML wrote it).
    pub backing: String,
    /// Backing image's mtime (seconds) when the overlay was made.
    pub mtime: u32,
    /// Backing image's size in bytes.
    pub size: u64,
    pub sector_size: u32,
    pub alignment: u32,
    /// Where the bitmap starts.
    pub bitmap_offset: u64,
}

impl CowHeader {
    /// Bytes of the bitmap, as UML computes them for this version (before
    /// version 3 the rounding was off by up to a byte; files made then
    /// keep that length).
    pub fn bitmap_len(&self) -> u64 {
        let ss = self.sector_size as u64;
        if self.version < 3 {
            (self.size + ss - 1) / (8 * ss)
        } else {
            self.size.div_ceil(ss).div_ceil(8)
        }
    }

    /// Where sector 0's data lies in the COW file.
    pub fn data_offset(&self) -> u64 {
        let end = self.bitmap_offset + self.bitmap_len();
        if self.version < 3 {
            round_up(end, self.sector_size as u64)
        } else {
            round_up(end, self.alignment as u64)
        }
    }
}

fn round_up(x: u64, align: u64) -> u64 {
    x.div_ceil(align) * align
}

/// A fresh version 3 header (exactly [`V3_HEADER_LEN`] bytes) for a
/// backing image at absolute path `backing` with this mtime and size, as
/// UML writes it. The bitmap starts at [`bitmap_offset_v3`].
pub fn encode_v3(backing: &str, mtime: u32, size: u64) -> Result<Vec<u8>, String> {
    if backing.len() > PATH_LEN - 1 {
        return Err(format!(
            "backing file name \"{backing}\" is too long - names are limited to {} characters",
            PATH_LEN - 1
        ));
    }
    if backing.as_bytes().contains(&0) {
        return Err("backing file name contains a NUL byte".to_owned());
    }
    let mut h = Vec::with_capacity(V3_HEADER_LEN);
    h.extend_from_slice(&COW_MAGIC.to_be_bytes());
    h.extend_from_slice(&3u32.to_be_bytes());
    h.extend_from_slice(&mtime.to_be_bytes());
    h.extend_from_slice(&size.to_be_bytes());
    h.extend_from_slice(&SECTOR.to_be_bytes());
    h.extend_from_slice(&ALIGN.to_be_bytes());
    h.extend_from_slice(&0u32.to_be_bytes());
    h.extend_from_slice(backing.as_bytes());
    h.resize(V3_HEADER_LEN, 0);
    Ok(h)
}

/// The header [`encode_v3`] makes, parsed back.
pub fn new_v3(backing: &str, mtime: u32, size: u64) -> CowHeader {
    CowHeader {
        version: 3,
        backing: backing.to_owned(),
        mtime,
        size,
        sector_size: SECTOR,
        alignment: ALIGN,
        bitmap_offset: round_up(V3_HEADER_LEN as u64, ALIGN as u64),
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}
fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}
fn ne32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}
fn ne64(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

/// The NUL-terminated string in `b`.
fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Parse the start of a file (`buf`: up to [`MAX_HEADER_LEN`] bytes, less
/// if the file is shorter). `Ok(None)`: no COW magic, the file is a plain
/// image. `Err`: it claims to be a COW file but the header is unusable.
pub fn parse(buf: &[u8]) -> Result<Option<CowHeader>, String> {
    if buf.len() < 8 {
        return Ok(None);
    }
    // UML accepts the magic in either byte order; the version follows it.
    let version = if ne32(buf, 0) == COW_MAGIC {
        ne32(buf, 4)
    } else if be32(buf, 0) == COW_MAGIC {
        be32(buf, 4)
    } else {
        return Ok(None);
    };
    let short = |n: usize| {
        (buf.len() < n)
            .then(|| format!("short COW header (version {version}, {} bytes)", buf.len()))
    };
    let h = match version {
        1 => {
            if let Some(e) = short(V1_HEADER_LEN) {
                return Err(e);
            }
            // Version 1 stored its numbers in the writer's byte order.
            let p = 8 + V1_PATH_LEN;
            let sector_size = ne32(buf, p + 12);
            CowHeader {
                version,
                backing: c_string(&buf[8..p]),
                mtime: ne32(buf, p),
                size: ne64(buf, p + 4),
                sector_size,
                alignment: sector_size,
                bitmap_offset: V1_HEADER_LEN as u64,
            }
        }
        2 => {
            if let Some(e) = short(V2_HEADER_LEN) {
                return Err(e);
            }
            let p = 8 + PATH_LEN;
            let sector_size = be32(buf, p + 12);
            CowHeader {
                version,
                backing: c_string(&buf[8..p]),
                mtime: be32(buf, p),
                size: be64(buf, p + 4),
                sector_size,
                alignment: sector_size,
                bitmap_offset: V2_HEADER_LEN as u64,
            }
        }
        // The packed layout has the path at 32, never empty; the old
        // unpacked one has cow_format (always 0) there.
        3 if buf.len() >= 36 && be32(buf, 32) != 0 => {
            if let Some(e) = short(V3_HEADER_LEN) {
                return Err(e);
            }
            let alignment = be32(buf, 24);
            CowHeader {
                version,
                backing: c_string(&buf[32..V3_HEADER_LEN]),
                mtime: be32(buf, 8),
                size: be64(buf, 12),
                sector_size: be32(buf, 20),
                alignment,
                bitmap_offset: round_up(V3_HEADER_LEN as u64, alignment.max(1) as u64),
            }
        }
        3 => {
            if let Some(e) = short(MAX_HEADER_LEN) {
                return Err(e);
            }
            // A 64-bit mtime field whose first four bytes UML reads back
            // as the 32-bit big-endian value (what the old writer meant).
            let alignment = be32(buf, 28);
            CowHeader {
                version,
                backing: c_string(&buf[36..36 + PATH_LEN]),
                mtime: be32(buf, 8),
                size: be64(buf, 16),
                sector_size: be32(buf, 24),
                alignment,
                bitmap_offset: round_up(MAX_HEADER_LEN as u64, alignment.max(1) as u64),
            }
        }
        v => return Err(format!("invalid COW version {v}")),
    };
    if h.sector_size == 0 || h.sector_size % 512 != 0 {
        return Err(format!("invalid COW sector size {}", h.sector_size));
    }
    if h.alignment == 0 {
        return Err("invalid COW header, align == 0".to_owned());
    }
    if h.backing.is_empty() {
        return Err("COW header names no backing file".to_owned());
    }
    Ok(Some(h))
}

/// Is sector `n`'s bit set in `bitmap`?
pub fn test_bit(bitmap: &[u8], n: u64) -> bool {
    bitmap
        .get((n / 8) as usize)
        .is_some_and(|b| b & (1 << (n % 8)) != 0)
}

/// Set sector `n`'s bit; false if it was set already.
pub fn set_bit(bitmap: &mut [u8], n: u64) -> bool {
    match bitmap.get_mut((n / 8) as usize) {
        Some(b) if *b & (1 << (n % 8)) == 0 => {
            *b |= 1 << (n % 8);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_round_trip_and_layout() {
        let h = encode_v3("/images/base.img", 0x6b13_29fb, 10_000_000).unwrap();
        assert_eq!(h.len(), 4128);
        assert_eq!(&h[..4], b"OOOM");
        let p = parse(&h).unwrap().unwrap();
        assert_eq!(p, new_v3("/images/base.img", 0x6b13_29fb, 10_000_000));
        // As uml_mkcow lays out a 10,000,000-byte backing file: bitmap at
        // 8192, 2442 bytes of it, data at 12288.
        assert_eq!(p.bitmap_offset, 8192);
        assert_eq!(p.bitmap_len(), 2442);
        assert_eq!(p.data_offset(), 12288);
    }

    #[test]
    fn plain_images_and_bad_headers() {
        assert_eq!(parse(&[0u8; 4096]).unwrap(), None);
        assert_eq!(parse(b"OOO").unwrap(), None);
        let mut h = encode_v3("/b", 1, 4096).unwrap();
        h[7] = 9;
        assert!(parse(&h).is_err());
        let h = encode_v3("/b", 1, 4096).unwrap();
        assert!(parse(&h[..100]).is_err());
        assert!(encode_v3(&"x".repeat(PATH_LEN), 1, 1).is_err());
    }

    #[test]
    fn older_layouts() {
        // Version 2: path first, then big-endian mtime, size, sector size.
        let mut v2 = vec![0u8; V2_HEADER_LEN];
        v2[..4].copy_from_slice(&COW_MAGIC.to_be_bytes());
        v2[4..8].copy_from_slice(&2u32.to_be_bytes());
        v2[8..10].copy_from_slice(b"/x");
        let p = 8 + PATH_LEN;
        v2[p..p + 4].copy_from_slice(&7u32.to_be_bytes());
        v2[p + 4..p + 12].copy_from_slice(&(1u64 << 20).to_be_bytes());
        v2[p + 12..p + 16].copy_from_slice(&512u32.to_be_bytes());
        let h = parse(&v2).unwrap().unwrap();
        assert_eq!((h.backing.as_str(), h.mtime, h.size), ("/x", 7, 1 << 20));
        assert_eq!(h.bitmap_offset, 4120);
        assert_eq!(h.data_offset(), round_up(4120 + 256, 512));

        // Unpacked version 3: 64-bit mtime slot, cow_format where the
        // packed path would start.
        let mut v3b = vec![0u8; MAX_HEADER_LEN];
        v3b[..4].copy_from_slice(&COW_MAGIC.to_be_bytes());
        v3b[4..8].copy_from_slice(&3u32.to_be_bytes());
        v3b[8..12].copy_from_slice(&9u32.to_be_bytes());
        v3b[16..24].copy_from_slice(&8192u64.to_be_bytes());
        v3b[24..28].copy_from_slice(&512u32.to_be_bytes());
        v3b[28..32].copy_from_slice(&4096u32.to_be_bytes());
        v3b[36..38].copy_from_slice(b"/y");
        let h = parse(&v3b).unwrap().unwrap();
        assert_eq!((h.backing.as_str(), h.mtime, h.size), ("/y", 9, 8192));
        assert_eq!(h.bitmap_offset, 8192);
    }

    #[test]
    fn bits() {
        let mut b = vec![0u8; 2];
        assert!(set_bit(&mut b, 9));
        assert!(!set_bit(&mut b, 9));
        assert_eq!(b, [0, 2]);
        assert!(test_bit(&b, 9) && !test_bit(&b, 8) && !test_bit(&b, 100));
    }
}
