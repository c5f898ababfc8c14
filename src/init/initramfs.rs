//! Initramfs images: decodes (optionally gzip-compressed) cpio archives into a list of [`CpioEntry`]s.
//!
//! The accepted layout follows Linux's `init/initramfs.c`: an image is a
//! sequence of segments, each either an uncompressed cpio archive (newc
//! `070701` or crc `070702`, ending in `TRAILER!!!`), a run of NUL padding,
//! or a gzip stream whose contents are again cpio archives and NUL padding.
//! That is what e.g. an early-microcode archive followed by a compressed
//! initramfs looks like.
//!
//! Entries are returned in archive order; when a name appears more than
//! once, the consumer should let later entries replace earlier ones, just as
//! Linux does while unpacking. Malformed input yields an error, never a panic,
//! and sizes taken from headers are checked against the data actually present
//! before anything is allocated.

use std::collections::HashMap;
use std::io::Read;

/// Upper bound on the total decompressed size of an image.
pub const MAX_DECOMPRESSED: u64 = 2 << 30;

/// Longest accepted entry name or symlink target (Linux's `PATH_MAX`).
const PATH_MAX: usize = 4096;

/// Size of a newc/crc header: 6-byte magic plus 13 eight-digit hex fields.
const HEADER_LEN: usize = 110;
const TRAILER: &str = "TRAILER!!!";

use crate::abi::stat::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};

/// One file system object from the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpioEntry {
    /// Normalised relative path: no leading `/` or `./`, no empty or `.`
    /// components, never empty.
    pub name: String,
    /// Full `st_mode`, including the `S_IFMT` file type bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u64,
    /// Device number, meaningful for character and block devices.
    pub rdev_major: u32,
    pub rdev_minor: u32,
    /// File contents, or the target of a symlink; empty for other types
    /// and for hard links.
    pub data: Vec<u8>,
    /// For a hard link: the name of the earlier entry that carries the
    /// shared inode and its data.
    pub link_to: Option<String>,
}

/// Why an image could not be unpacked. Offsets are byte positions in the
/// input, or in the decompressed data for archives inside a gzip stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitramfsError {
    /// The data ends in the middle of an archive.
    #[error("initramfs truncated (archive entry at offset {offset})")]
    Truncated { offset: u64 },
    /// Something other than a cpio archive, padding or gzip stream.
    #[error("initramfs: {reason} at offset {offset}")]
    BadMagic { offset: u64, reason: &'static str },
    /// The data is compressed with a method we do not support.
    #[error("initramfs: {method} compression at offset {offset} is not supported (use gzip)")]
    UnsupportedCompression { offset: u64, method: &'static str },
    /// A header or entry is inconsistent.
    #[error("initramfs: malformed entry at offset {offset}: {reason}")]
    Malformed { offset: u64, reason: String },
    /// A crc-format entry's data does not match its checksum.
    #[error("initramfs: bad data checksum for '{name}' at offset {offset}")]
    BadChecksum { offset: u64, name: String },
    /// The gzip stream is corrupt.
    #[error("initramfs: gzip stream at offset {offset}: {reason}")]
    Decompress { offset: u64, reason: String },
    /// Decompressed data exceeds the size limit.
    #[error("initramfs: decompressed size exceeds {limit} bytes")]
    TooLarge { limit: u64 },
}

/// Unpacks an initramfs image.
pub fn unpack(bytes: &[u8]) -> Result<Vec<CpioEntry>, InitramfsError> {
    unpack_with_limit(bytes, MAX_DECOMPRESSED)
}

/// [`unpack`] with a configurable decompression limit (tests use a small one).
fn unpack_with_limit(bytes: &[u8], limit: u64) -> Result<Vec<CpioEntry>, InitramfsError> {
    let mut unpacker = Unpacker {
        entries: Vec::new(),
        budget: limit,
        limit,
    };
    unpacker.stream(bytes, true)?;
    Ok(unpacker.entries)
}

struct Unpacker {
    entries: Vec<CpioEntry>,
    /// Decompressed bytes still allowed.
    budget: u64,
    limit: u64,
}

/// Identity of an inode for hard-link detection, as in Linux's `find_link`.
#[derive(Hash, PartialEq, Eq)]
struct InodeKey {
    ino: u32,
    dev_major: u32,
    dev_minor: u32,
    file_type: u32,
}

/// The numeric fields of a newc/crc header.
struct Header {
    crc: bool,
    ino: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    mtime: u32,
    filesize: u32,
    dev_major: u32,
    dev_minor: u32,
    rdev_major: u32,
    rdev_minor: u32,
    namesize: u32,
    check: u32,
}

impl Unpacker {
    /// Walks a sequence of archives and NUL padding. At top level
    /// (`compressed_ok`), gzip streams may appear between them too; inside
    /// a decompressed stream Linux allows only archives and padding.
    fn stream(&mut self, data: &[u8], compressed_ok: bool) -> Result<(), InitramfsError> {
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            if rest[0] == 0 {
                pos += 1;
                continue;
            }
            // Linux only recognises an archive at a 4-byte aligned offset.
            if rest[0] == b'0' && pos.is_multiple_of(4) {
                pos = self.archive(data, pos)?;
                continue;
            }
            if !compressed_ok {
                let reason = if rest[0] == b'0' {
                    "misaligned archive after padding"
                } else {
                    "junk within compressed archive"
                };
                return Err(InitramfsError::BadMagic {
                    offset: pos as u64,
                    reason,
                });
            }
            pos += self.gzip(data, pos)?;
        }
        Ok(())
    }

    /// Decompresses one gzip member at `data[pos..]` and unpacks its
    /// contents; returns the number of compressed bytes consumed.
    /// Consecutive members are handled by the caller's loop, which also
    /// lets uncompressed archives follow a compressed one.
    fn gzip(&mut self, data: &[u8], pos: usize) -> Result<usize, InitramfsError> {
        let rest = &data[pos..];
        let offset = pos as u64;
        if !rest.starts_with(&[0x1f, 0x8b]) {
            return Err(match compression_method(rest) {
                Some(method) => InitramfsError::UnsupportedCompression { offset, method },
                None => InitramfsError::BadMagic {
                    offset,
                    reason: "no cpio magic and not a gzip stream",
                },
            });
        }

        // The bufread decoder reads from the slice directly and stops at
        // the end of the member, so the remaining input tells how much
        // was consumed.
        let mut decoder = flate2::bufread::GzDecoder::new(rest);
        let mut out = Vec::new();
        // Read one byte past the budget to detect overflow without ever
        // buffering more than the limit.
        (&mut decoder)
            .take(self.budget.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| InitramfsError::Decompress {
                offset,
                reason: e.to_string(),
            })?;
        if out.len() as u64 > self.budget {
            return Err(InitramfsError::TooLarge { limit: self.limit });
        }
        self.budget -= out.len() as u64;
        let consumed = rest.len() - decoder.into_inner().len();
        if consumed == 0 {
            // Cannot happen for a stream that starts with the gzip magic,
            // but guarantees the caller's loop makes progress.
            return Err(InitramfsError::Decompress {
                offset,
                reason: "empty gzip stream".to_owned(),
            });
        }

        self.stream(&out, false)?;
        Ok(consumed)
    }

    /// Unpacks one archive starting at `data[start..]`, up to and including
    /// its trailer; returns the offset just past the trailer's padding.
    fn archive(&mut self, data: &[u8], start: usize) -> Result<usize, InitramfsError> {
        // Hard links pair up only within one archive (Linux frees its link
        // hash at each trailer).
        let mut inodes: HashMap<InodeKey, usize> = HashMap::new();
        let mut pos = start;
        loop {
            let offset = pos as u64;
            let truncated = InitramfsError::Truncated { offset };
            let malformed = |reason: String| InitramfsError::Malformed { offset, reason };

            let raw = data.get(pos..pos + HEADER_LEN).ok_or(truncated.clone())?;
            let hdr =
                parse_header(raw).map_err(|reason| InitramfsError::BadMagic { offset, reason })?;

            // All lengths below come from the header; every one is checked
            // against the data present before it is used.
            let name_start = pos + HEADER_LEN;
            let namesize = hdr.namesize as usize;
            if namesize == 0 || namesize > PATH_MAX + 1 {
                return Err(malformed(format!("invalid name size {namesize}")));
            }
            let name_bytes = data
                .get(name_start..name_start + namesize)
                .ok_or(truncated.clone())?;
            // Padding may be missing at the very end of the input (after
            // the trailer); anything that should follow it is caught as
            // truncated anyway.
            let data_start = align4(name_start + namesize).min(data.len());
            let data_end = data_start + hdr.filesize as usize;
            let body = data.get(data_start..data_end).ok_or(truncated.clone())?;
            pos = align4(data_end).min(data.len());

            let name = match name_bytes.split_last() {
                Some((0, name)) if !name.contains(&0) => name,
                _ => return Err(malformed("name is not NUL-terminated".to_owned())),
            };
            let name = std::str::from_utf8(name)
                .map_err(|_| malformed("name is not valid UTF-8".to_owned()))?;
            if name == TRAILER {
                return Ok(pos);
            }

            if hdr.crc && hdr.mode & S_IFMT == S_IFREG {
                let sum = body.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)));
                if sum != hdr.check {
                    return Err(InitramfsError::BadChecksum {
                        offset,
                        name: name.to_owned(),
                    });
                }
            }

            let file_type = hdr.mode & S_IFMT;
            let keeps_data = match file_type {
                S_IFREG => true,
                S_IFLNK => {
                    if body.is_empty() || body.len() > PATH_MAX {
                        return Err(malformed(format!(
                            "invalid symlink target length {}",
                            body.len()
                        )));
                    }
                    true
                }
                // Linux ignores any data attached to other types.
                S_IFDIR | S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => false,
                _ => {
                    return Err(malformed(format!(
                        "unknown file type in mode {:o}",
                        hdr.mode
                    )))
                }
            };

            // "." (the root itself) is skipped: the root directory exists.
            let Some(name) = normalize(name).map_err(|r| malformed(r.to_owned()))? else {
                continue;
            };

            let mut entry = CpioEntry {
                name,
                mode: hdr.mode,
                uid: hdr.uid,
                gid: hdr.gid,
                mtime: u64::from(hdr.mtime),
                rdev_major: hdr.rdev_major,
                rdev_minor: hdr.rdev_minor,
                data: if keeps_data {
                    body.to_vec()
                } else {
                    Vec::new()
                },
                link_to: None,
            };

            // Directories and symlinks cannot be hard links (Linux only
            // links regular files and special files).
            if hdr.nlink >= 2 && !matches!(file_type, S_IFDIR | S_IFLNK) {
                let key = InodeKey {
                    ino: hdr.ino,
                    dev_major: hdr.dev_major,
                    dev_minor: hdr.dev_minor,
                    file_type,
                };
                if let Some(&first) = inodes.get(&key) {
                    // newc stores the data with the last name of the group;
                    // move it to the first, which the others link to.
                    let data = std::mem::take(&mut entry.data);
                    let target = &mut self.entries[first];
                    if !data.is_empty() {
                        target.data = data;
                    }
                    entry.link_to = Some(target.name.clone());
                } else {
                    inodes.insert(key, self.entries.len());
                }
            }
            self.entries.push(entry);
        }
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Parses the fixed-size header; the error is a reason for `BadMagic`.
fn parse_header(raw: &[u8]) -> Result<Header, &'static str> {
    let crc = match &raw[..6] {
        b"070701" => false,
        b"070702" => true,
        b"070707" => return Err("old cpio format (use 'cpio -H newc')"),
        _ => return Err("no cpio magic"),
    };
    let mut fields = [0u32; 13];
    for (i, field) in fields.iter_mut().enumerate() {
        let hex = &raw[6 + i * 8..6 + (i + 1) * 8];
        *field = std::str::from_utf8(hex)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .ok_or("invalid hex number in cpio header")?;
    }
    let [ino, mode, uid, gid, nlink, mtime, filesize, dev_major, dev_minor, rdev_major, rdev_minor, namesize, check] =
        fields;
    Ok(Header {
        crc,
        ino,
        mode,
        uid,
        gid,
        nlink,
        mtime,
        filesize,
        dev_major,
        dev_minor,
        rdev_major,
        rdev_minor,
        namesize,
        check,
    })
}

/// Strips leading `/` and `./`, drops empty and `.` components. Returns
/// `None` for the root itself. `..` is rejected rather than resolved: it
/// has no legitimate use in an initramfs and would let an entry escape the
/// directory it is unpacked into.
fn normalize(name: &str) -> Result<Option<String>, &'static str> {
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("name contains '..'"),
            part => parts.push(part),
        }
    }
    Ok(if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    })
}

/// Names the compression of data Linux could decompress but we cannot.
fn compression_method(data: &[u8]) -> Option<&'static str> {
    const MAGICS: &[(&[u8], &str)] = &[
        (b"BZh", "bzip2"),
        (&[0xfd, b'7', b'z', b'X', b'Z', 0], "xz"),
        (&[0x5d, 0, 0], "lzma"),
        (&[0x89, b'L', b'Z', b'O'], "lzo"),
        (&[0x02, 0x21, 0x4c, 0x18], "lz4"),
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
        (&[0x1f, 0x9e], "old gzip"),
    ];
    MAGICS
        .iter()
        .find(|(magic, _)| data.starts_with(magic))
        .map(|&(_, method)| method)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Builds newc/crc archives.
    struct Writer {
        buf: Vec<u8>,
        crc: bool,
        next_ino: u32,
    }

    struct Spec<'a> {
        name: &'a str,
        mode: u32,
        ino: Option<u32>,
        nlink: u32,
        data: &'a [u8],
        rdev: (u32, u32),
    }

    fn spec<'a>(name: &'a str, mode: u32, data: &'a [u8]) -> Spec<'a> {
        Spec {
            name,
            mode,
            ino: None,
            nlink: 1,
            data,
            rdev: (0, 0),
        }
    }

    impl Writer {
        fn new() -> Self {
            Writer {
                buf: Vec::new(),
                crc: false,
                next_ino: 1000,
            }
        }

        fn crc() -> Self {
            Writer {
                crc: true,
                ..Writer::new()
            }
        }

        fn raw_header(&mut self, fields: [u32; 13], name: &str, data: &[u8]) {
            self.buf
                .extend_from_slice(if self.crc { b"070702" } else { b"070701" });
            for f in fields {
                self.buf.extend_from_slice(format!("{f:08X}").as_bytes());
            }
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.push(0);
            self.pad();
            self.buf.extend_from_slice(data);
            self.pad();
        }

        fn pad(&mut self) {
            while !self.buf.len().is_multiple_of(4) {
                self.buf.push(0);
            }
        }

        fn add(&mut self, s: Spec) -> &mut Self {
            let ino = s.ino.unwrap_or_else(|| {
                self.next_ino += 1;
                self.next_ino
            });
            let check = if self.crc {
                s.data.iter().map(|&b| u32::from(b)).sum()
            } else {
                0
            };
            let fields = [
                ino,
                s.mode,
                1,
                2,
                s.nlink,
                1_700_000_000,
                s.data.len() as u32,
                8,
                1,
                s.rdev.0,
                s.rdev.1,
                s.name.len() as u32 + 1,
                check,
            ];
            self.raw_header(fields, s.name, s.data);
            self
        }

        fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
            self.add(spec(name, S_IFREG | 0o644, data))
        }

        fn dir(&mut self, name: &str) -> &mut Self {
            self.add(spec(name, S_IFDIR | 0o755, b""))
        }

        fn trailer(&mut self) -> &mut Self {
            self.add(Spec {
                ino: Some(0),
                ..spec(TRAILER, 0, b"")
            })
        }

        fn finish(&mut self) -> Vec<u8> {
            std::mem::take(&mut self.buf)
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn names(entries: &[CpioEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.name.as_str()).collect()
    }

    fn sample() -> Vec<u8> {
        Writer::new()
            .dir(".")
            .dir("bin")
            .file("bin/busybox", b"\x7fELF...")
            .add(spec("bin/sh", S_IFLNK | 0o777, b"busybox"))
            .dir("dev")
            .add(Spec {
                rdev: (5, 1),
                ..spec("dev/console", S_IFCHR | 0o600, b"")
            })
            .add(Spec {
                rdev: (8, 0),
                ..spec("dev/sda", S_IFBLK | 0o660, b"")
            })
            .add(spec("dev/fifo", S_IFIFO | 0o644, b""))
            .file("init", b"#!/bin/sh\necho hi\n")
            .trailer()
            .finish()
    }

    fn check_sample(entries: &[CpioEntry]) {
        assert_eq!(
            names(entries),
            [
                "bin",
                "bin/busybox",
                "bin/sh",
                "dev",
                "dev/console",
                "dev/sda",
                "dev/fifo",
                "init"
            ]
        );
        let e = &entries[0];
        assert_eq!(e.mode, S_IFDIR | 0o755);
        assert_eq!((e.uid, e.gid, e.mtime), (1, 2, 1_700_000_000));
        assert!(e.data.is_empty());
        assert_eq!(entries[1].data, b"\x7fELF...");
        assert_eq!(entries[2].mode & S_IFMT, S_IFLNK);
        assert_eq!(entries[2].data, b"busybox");
        assert_eq!((entries[4].rdev_major, entries[4].rdev_minor), (5, 1));
        assert_eq!(entries[4].mode, S_IFCHR | 0o600);
        assert_eq!((entries[5].rdev_major, entries[5].rdev_minor), (8, 0));
        assert_eq!(entries[6].mode & S_IFMT, S_IFIFO);
        assert_eq!(entries[7].data, b"#!/bin/sh\necho hi\n");
        assert!(entries.iter().all(|e| e.link_to.is_none()));
    }

    #[test]
    fn newc_archive() {
        check_sample(&unpack(&sample()).unwrap());
    }

    #[test]
    fn crc_archive() {
        let mut w = Writer::crc();
        w.file("a", b"hello").file("b", b"").trailer();
        let entries = unpack(&w.finish()).unwrap();
        assert_eq!(names(&entries), ["a", "b"]);
        assert_eq!(entries[0].data, b"hello");
    }

    #[test]
    fn crc_mismatch() {
        let mut w = Writer::crc();
        w.file("a", b"hello").trailer();
        let mut bytes = w.finish();
        let pos = bytes.windows(5).position(|w| w == b"hello").unwrap();
        bytes[pos] = b'j';
        assert_eq!(
            unpack(&bytes),
            Err(InitramfsError::BadChecksum {
                offset: 0,
                name: "a".to_owned()
            })
        );
    }

    #[test]
    fn empty_input() {
        assert_eq!(unpack(b""), Ok(Vec::new()));
        assert_eq!(unpack(&[0; 512]), Ok(Vec::new()));
        assert_eq!(unpack(&Writer::new().trailer().finish()), Ok(Vec::new()));
    }

    #[test]
    fn name_normalization() {
        let bytes = Writer::new()
            .dir("./")
            .dir("/")
            .dir("./etc")
            .file("/etc/passwd", b"root")
            .file("etc//./group", b"")
            .dir("usr/")
            .trailer()
            .finish();
        let entries = unpack(&bytes).unwrap();
        assert_eq!(names(&entries), ["etc", "etc/passwd", "etc/group", "usr"]);
        assert_eq!(normalize("."), Ok(None));
        assert_eq!(normalize("././"), Ok(None));
        assert_eq!(normalize("./a/./b/"), Ok(Some("a/b".to_owned())));
        assert!(normalize("a/../b").is_err());

        let bytes = Writer::new().file("../etc/passwd", b"x").trailer().finish();
        assert!(matches!(
            unpack(&bytes),
            Err(InitramfsError::Malformed { .. })
        ));
    }

    #[test]
    fn gzip_round_trip() {
        let entries = unpack(&gzip(&sample())).unwrap();
        check_sample(&entries);
    }

    #[test]
    fn concatenated_archives_and_padding() {
        // An uncompressed archive (like early microcode), padding, then a
        // compressed one, then another uncompressed one: all accepted.
        let mut bytes = Writer::new()
            .dir("kernel")
            .file("kernel/ucode.bin", b"ucode")
            .trailer()
            .finish();
        bytes.extend_from_slice(&[0; 512]);
        let mut inner = Writer::new().file("a", b"1").trailer().finish();
        inner.extend_from_slice(&[0; 64]);
        inner.extend(Writer::new().file("b", b"22").trailer().finish());
        bytes.extend(gzip(&inner));
        // Two gzip members back to back.
        bytes.extend(gzip(&Writer::new().file("c", b"333").trailer().finish()));
        bytes.extend_from_slice(&[0; 3]);
        // After odd padding the next archive must realign to 4 bytes.
        bytes.push(0);
        bytes.extend(Writer::new().file("a", b"override").trailer().finish());
        let entries = unpack(&bytes).unwrap();
        assert_eq!(
            names(&entries),
            ["kernel", "kernel/ucode.bin", "a", "b", "c", "a"]
        );
        assert_eq!(entries[5].data, b"override");
    }

    #[test]
    fn gzip_cap() {
        let big = Writer::new()
            .file("big", &[7u8; 100_000])
            .trailer()
            .finish();
        let compressed = gzip(&big);
        assert!(unpack_with_limit(&compressed, big.len() as u64).is_ok());
        assert_eq!(
            unpack_with_limit(&compressed, 50_000),
            Err(InitramfsError::TooLarge { limit: 50_000 })
        );
        // The budget is shared by all streams.
        let mut twice = compressed.clone();
        twice.extend(&compressed);
        assert_eq!(
            unpack_with_limit(&twice, big.len() as u64 + 10),
            Err(InitramfsError::TooLarge {
                limit: big.len() as u64 + 10
            })
        );
    }

    #[test]
    fn hard_links() {
        // GNU cpio style: the data travels with the last name of the group.
        let link = |name, data| Spec {
            ino: Some(42),
            nlink: 3,
            ..spec(name, S_IFREG | 0o755, data)
        };
        let bytes = Writer::new()
            .add(link("bin/a", b""))
            .add(link("bin/b", b""))
            .file("other", b"x")
            .add(link("bin/c", b"payload"))
            .trailer()
            .finish();
        let entries = unpack(&bytes).unwrap();
        assert_eq!(names(&entries), ["bin/a", "bin/b", "other", "bin/c"]);
        assert_eq!(entries[0].data, b"payload");
        assert_eq!(entries[0].link_to, None);
        assert_eq!(entries[1].link_to.as_deref(), Some("bin/a"));
        assert_eq!(entries[3].link_to.as_deref(), Some("bin/a"));
        assert!(entries[1].data.is_empty() && entries[3].data.is_empty());
        assert_eq!(entries[2].link_to, None);

        // Data on the first entry (other writers) also works.
        let bytes = Writer::new()
            .add(link("x", b"data"))
            .add(link("y", b""))
            .trailer()
            .finish();
        let entries = unpack(&bytes).unwrap();
        assert_eq!(entries[0].data, b"data");
        assert_eq!(entries[1].link_to.as_deref(), Some("x"));
    }

    #[test]
    fn hard_links_need_matching_identity() {
        let with = |name, ino, nlink, mode| Spec {
            ino: Some(ino),
            nlink,
            ..spec(name, mode, b"")
        };
        let bytes = Writer::new()
            // nlink 1: same inode number means nothing.
            .add(with("a", 1, 1, S_IFREG | 0o644))
            .add(with("b", 1, 1, S_IFREG | 0o644))
            // Different types never link.
            .add(with("c", 2, 2, S_IFREG | 0o644))
            .add(with("d", 2, 2, S_IFIFO | 0o644))
            // Directories never link.
            .add(with("e", 3, 2, S_IFDIR | 0o755))
            .add(with("f", 3, 2, S_IFDIR | 0o755))
            .trailer()
            // The link table is per archive.
            .add(with("g", 2, 2, S_IFREG | 0o644))
            .trailer()
            .finish();
        let entries = unpack(&bytes).unwrap();
        assert!(entries.iter().all(|e| e.link_to.is_none()), "{entries:?}");

        // Special files do link.
        let bytes = Writer::new()
            .add(with("p", 9, 2, S_IFIFO | 0o644))
            .add(with("q", 9, 2, S_IFIFO | 0o644))
            .trailer()
            .finish();
        let entries = unpack(&bytes).unwrap();
        assert_eq!(entries[1].link_to.as_deref(), Some("p"));
    }

    #[test]
    fn non_file_data_is_ignored() {
        let bytes = Writer::new()
            .add(spec("d", S_IFDIR | 0o755, b"junk"))
            .trailer()
            .finish();
        let entries = unpack(&bytes).unwrap();
        assert!(entries[0].data.is_empty());
    }

    #[test]
    fn truncation_never_panics_and_is_detected() {
        let bytes = sample();
        // Every proper prefix that ends inside an entry is an error. (The
        // archive's last few bytes are the trailer's padding, which may be
        // missing.)
        let trailer_end = bytes.len();
        for len in 1..trailer_end {
            let result = unpack(&bytes[..len]);
            if bytes[len..].iter().all(|&b| b == 0) && len >= trailer_end - 3 {
                assert!(result.is_ok(), "len {len}");
            } else {
                assert!(result.is_err(), "len {len}: {result:?}");
            }
        }
        let compressed = gzip(&bytes);
        for len in 1..compressed.len() {
            assert!(unpack(&compressed[..len]).is_err(), "gzip len {len}");
        }
    }

    #[test]
    fn missing_trailer_is_truncation() {
        let bytes = Writer::new().file("a", b"abc").finish();
        assert_eq!(
            unpack(&bytes),
            Err(InitramfsError::Truncated {
                offset: bytes.len() as u64
            })
        );
    }

    #[test]
    fn random_corruption_never_panics() {
        let original = sample();
        let compressed = gzip(&original);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..3000 {
            let mut bytes = if round % 4 == 0 {
                compressed.clone()
            } else {
                original.clone()
            };
            for _ in 0..1 + next() % 4 {
                let i = (next() % bytes.len() as u64) as usize;
                // Favour digits so header fields stay hex-ish and the
                // parser gets past the magic check.
                bytes[i] = if next() % 2 == 0 {
                    b"0123456789ABCDEF"[(next() % 16) as usize]
                } else {
                    next() as u8
                };
            }
            let _ = unpack(&bytes);
        }
    }

    #[test]
    fn huge_sizes_are_rejected_without_allocating() {
        let mut w = Writer::new();
        // filesize 0xFFFFFFFF with almost no data behind it.
        w.raw_header(
            [1, S_IFREG | 0o644, 0, 0, 1, 0, u32::MAX, 0, 0, 0, 0, 2, 0],
            "a",
            b"",
        );
        assert_eq!(
            unpack(&w.finish()),
            Err(InitramfsError::Truncated { offset: 0 })
        );

        let mut w = Writer::new();
        w.raw_header(
            [1, S_IFREG | 0o644, 0, 0, 1, 0, 0, 0, 0, 0, 0, u32::MAX, 0],
            "a",
            b"",
        );
        assert!(matches!(
            unpack(&w.finish()),
            Err(InitramfsError::Malformed { .. })
        ));
    }

    #[test]
    fn malformed_headers() {
        let good = sample();

        let mut bytes = good.clone();
        bytes[..6].copy_from_slice(b"070707");
        assert_eq!(
            unpack(&bytes),
            Err(InitramfsError::BadMagic {
                offset: 0,
                reason: "old cpio format (use 'cpio -H newc')"
            })
        );

        let mut bytes = good.clone();
        bytes[..6].copy_from_slice(b"070703");
        assert!(matches!(
            unpack(&bytes),
            Err(InitramfsError::BadMagic { .. })
        ));

        let mut bytes = good.clone();
        bytes[10] = b'g';
        assert!(matches!(
            unpack(&bytes),
            Err(InitramfsError::BadMagic { .. })
        ));

        // Name without its NUL (namesize one too small).
        let mut w = Writer::new();
        w.raw_header([1, S_IFREG, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "ab", b"");
        assert!(matches!(
            unpack(&w.finish()),
            Err(InitramfsError::Malformed { .. })
        ));

        // Zero name size.
        let mut w = Writer::new();
        w.raw_header([1, S_IFREG, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], "", b"");
        assert!(matches!(
            unpack(&w.finish()),
            Err(InitramfsError::Malformed { .. })
        ));

        // Unknown file type.
        let bytes = Writer::new().add(spec("x", 0o644, b"")).trailer().finish();
        assert!(matches!(
            unpack(&bytes),
            Err(InitramfsError::Malformed { .. })
        ));

        // Empty symlink target.
        let bytes = Writer::new()
            .add(spec("l", S_IFLNK | 0o777, b""))
            .trailer()
            .finish();
        assert!(matches!(
            unpack(&bytes),
            Err(InitramfsError::Malformed { .. })
        ));

        // Non-UTF-8 name.
        let mut bytes = Writer::new().file("\u{e9}", b"").trailer().finish();
        bytes[HEADER_LEN] = 0xff;
        assert!(matches!(
            unpack(&bytes),
            Err(InitramfsError::Malformed { .. })
        ));
    }

    #[test]
    fn junk_and_unsupported_compression() {
        assert_eq!(
            unpack(b"hello world"),
            Err(InitramfsError::BadMagic {
                offset: 0,
                reason: "no cpio magic and not a gzip stream"
            })
        );
        let mut xz = vec![0xfd, b'7', b'z', b'X', b'Z', 0];
        xz.extend_from_slice(&[0; 32]);
        assert_eq!(
            unpack(&xz),
            Err(InitramfsError::UnsupportedCompression {
                offset: 0,
                method: "xz"
            })
        );
        let mut bytes = sample();
        let end = bytes.len() as u64;
        bytes.extend_from_slice(&[0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]);
        assert_eq!(
            unpack(&bytes),
            Err(InitramfsError::UnsupportedCompression {
                offset: end,
                method: "zstd"
            })
        );

        // Junk inside a compressed stream.
        let mut inner = sample();
        inner.extend_from_slice(b"junk");
        assert!(matches!(
            unpack(&gzip(&inner)),
            Err(InitramfsError::BadMagic {
                reason: "junk within compressed archive",
                ..
            })
        ));
        // A compressed stream may not contain another one.
        assert!(matches!(
            unpack(&gzip(&gzip(&sample()))),
            Err(InitramfsError::BadMagic { .. })
        ));
        // Corrupt gzip data.
        let mut bad = gzip(&sample());
        let mid = bad.len() / 2;
        bad[mid] ^= 0xff;
        assert!(unpack(&bad).is_err());
    }

    #[test]
    fn misaligned_archive() {
        // A '0' at an unaligned offset is not an archive start.
        let mut bytes = vec![0];
        bytes.extend(sample());
        assert!(unpack(&bytes).is_err());
        let mut inner = vec![0];
        inner.extend(sample());
        assert!(matches!(
            unpack(&gzip(&inner)),
            Err(InitramfsError::BadMagic {
                reason: "misaligned archive after padding",
                ..
            })
        ));
    }

    #[test]
    fn display() {
        let e: Box<dyn std::error::Error> = Box::new(InitramfsError::Truncated { offset: 12 });
        assert_eq!(
            e.to_string(),
            "initramfs truncated (archive entry at offset 12)"
        );
    }

    /// A temporary directory removed on drop.
    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn host_cpio_archive() {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = TempDir(
            std::env::temp_dir().join(format!("ruml-initramfs-{}-{n}", std::process::id())),
        );
        let root = &dir.0;
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::write(root.join("init"), b"#!/bin/sh\n").unwrap();
        std::fs::write(root.join("bin/tool"), vec![0xa5; 5000]).unwrap();
        std::fs::hard_link(root.join("bin/tool"), root.join("bin/alias")).unwrap();
        std::os::unix::fs::symlink("tool", root.join("bin/link")).unwrap();

        let child = Command::new("cpio")
            .args(["-o", "-H", "newc", "--quiet"])
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("cpio not installed; skipping");
                return;
            }
            Err(e) => panic!("running cpio: {e}"),
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b".\n./init\n./bin\n./bin/tool\n./bin/alias\n./bin/link\n")
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());

        for image in [output.stdout.clone(), gzip(&output.stdout)] {
            let entries = unpack(&image).unwrap();
            assert_eq!(
                names(&entries),
                ["init", "bin", "bin/tool", "bin/alias", "bin/link"]
            );
            assert_eq!(entries[0].data, b"#!/bin/sh\n");
            assert_eq!(entries[0].mode & S_IFMT, S_IFREG);
            assert_eq!(entries[1].mode & S_IFMT, S_IFDIR);
            // GNU cpio puts the data on the last link; we move it to the first.
            assert_eq!(entries[2].data, vec![0xa5; 5000]);
            assert_eq!(entries[2].link_to, None);
            assert_eq!(entries[3].link_to.as_deref(), Some("bin/tool"));
            assert!(entries[3].data.is_empty());
            assert_eq!(entries[4].mode & S_IFMT, S_IFLNK);
            assert_eq!(entries[4].data, b"tool");
        }
    }
}
