//! ELF64 executables: parses and validates the ELF header and program headers of an x86-64 binary (no loading).
//!
//! `execve` calls [`parse`] first and maps segments only once the whole
//! file has been validated, so a bad binary fails cleanly before the old
//! address space is torn down. The checks mirror what Linux's
//! `load_elf_binary` rejects, plus a few it leaves to `mmap` to fail on
//! later (overflowing sizes, misaligned offsets), so that the loader can rely
//! on every [`LoadSegment`] being well formed.

use crate::abi::{
    self,
    elf::{Elf64Ehdr, Elf64Phdr},
};
use core::mem::size_of;
use std::fmt;

/// Page size used for the offset/address congruence check.
pub const PAGE_SIZE: u64 = 4096;
/// Exclusive upper bound of user addresses a segment may reach.
pub const USER_LIMIT: u64 = 0x0000_7fff_0000_0000;
/// Longest accepted `PT_INTERP` path, including its NUL.
pub const MAX_INTERP_LEN: u64 = 4096;
/// Largest accepted program header table (as in Linux).
const MAX_PHDR_TABLE: usize = 64 * 1024;
const MAX_PHNUM: u16 = 256;

const EHDR_LEN: usize = size_of::<Elf64Ehdr>();
const PHDR_LEN: usize = size_of::<Elf64Phdr>();

const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PT_TLS: u32 = 7;
const PT_GNU_STACK: u32 = 0x6474_e551;

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// `e_type` of an accepted binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfKind {
    /// `ET_EXEC`: loaded at the addresses in its headers.
    Exec,
    /// `ET_DYN`: position independent (PIE or the dynamic linker itself);
    /// addresses are relative to a load bias chosen by the loader.
    Dyn,
}

/// A validated ELF64 x86-64 executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFile {
    pub kind: ElfKind,
    pub entry: u64,
    pub phoff: u64,
    pub phentsize: u16,
    pub phnum: u16,
    /// `PT_LOAD` segments in file order, which is ascending, non-overlapping
    /// address order. Never empty.
    pub segments: Vec<LoadSegment>,
    /// Program interpreter (`PT_INTERP`), without its NUL.
    pub interp: Option<String>,
    /// Address of the program headers for `AT_PHDR`: `PT_PHDR`'s `p_vaddr`,
    /// else where `e_phoff` lands inside a `PT_LOAD`, else `None`.
    pub phdr_vaddr: Option<u64>,
    /// Whether the stack should be executable: `PT_GNU_STACK` has `PF_X`,
    /// or there is no `PT_GNU_STACK` at all.
    pub exec_stack: bool,
    /// `PT_TLS` as `(p_vaddr, p_memsz)`: the TLS initialisation image's
    /// address and the size of the TLS block.
    pub tls: Option<(u64, u64)>,
}

/// One `PT_LOAD` program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    pub vaddr: u64,
    pub memsz: u64,
    pub filesz: u64,
    pub offset: u64,
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    pub align: u64,
}

/// The file reader [`parse`] takes: `read_at(offset, buf)` returns the
/// number of bytes read, short only at end of file.
pub type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<usize, ()> + 'a;

/// Why a file is not a runnable ELF binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// No ELF magic: not an ELF file at all (the caller may try other
    /// binary formats, else `ENOEXEC`).
    NotElf,
    /// A valid ELF file we cannot run: wrong class, byte order, version,
    /// machine or type (`ENOEXEC`).
    Unsupported(&'static str),
    /// An ELF file with inconsistent headers (`ENOEXEC`/`EINVAL`).
    Malformed(&'static str),
    /// Reading the file failed (`EIO`).
    Io,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::NotElf => f.write_str("not an ELF file"),
            ElfError::Unsupported(why) => write!(f, "unsupported ELF file: {why}"),
            ElfError::Malformed(why) => write!(f, "malformed ELF file: {why}"),
            ElfError::Io => f.write_str("I/O error reading ELF file"),
        }
    }
}

impl std::error::Error for ElfError {}

impl ElfFile {
    /// The address range the `PT_LOAD` segments cover: the first segment's
    /// address rounded down to a page, and the end of the last one.
    pub fn span(&self) -> (u64, u64) {
        let start = self
            .segments
            .first()
            .map_or(0, |s| s.vaddr & !(PAGE_SIZE - 1));
        // Segments are sorted and non-overlapping, but take the maximum
        // anyway so a hand-built `ElfFile` cannot make this wrong.
        let end = self
            .segments
            .iter()
            .map(|s| s.vaddr + s.memsz)
            .max()
            .unwrap_or(0);
        (start, end)
    }
}

/// Reads and validates an ELF executable through `read_at(offset, buf)`,
/// which returns the number of bytes read (short only at end of file).
pub fn parse(read_at: &mut ReadAt<'_>) -> Result<ElfFile, ElfError> {
    let mut ehdr = [0u8; EHDR_LEN];
    let got = read_full(read_at, 0, &mut ehdr)?;
    if got < 4 || ehdr[..4] != *b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    if got < EHDR_LEN {
        return Err(ElfError::Malformed("truncated ELF header"));
    }
    if ehdr[4] != ELFCLASS64 {
        return Err(ElfError::Unsupported("not a 64-bit ELF file"));
    }
    if ehdr[5] != ELFDATA2LSB {
        return Err(ElfError::Unsupported("not little-endian"));
    }
    if ehdr[6] != EV_CURRENT {
        return Err(ElfError::Unsupported("unknown ELF version"));
    }
    let h: Elf64Ehdr = abi::read_at(&ehdr, 0);
    let kind = match h.e_type {
        ET_EXEC => ElfKind::Exec,
        ET_DYN => ElfKind::Dyn,
        _ => return Err(ElfError::Unsupported("not an executable or shared object")),
    };
    if h.e_machine != EM_X86_64 {
        return Err(ElfError::Unsupported("not an x86-64 binary"));
    }
    let entry = h.e_entry;
    let phoff = h.e_phoff;
    let phentsize = h.e_phentsize;
    let phnum = h.e_phnum;
    if usize::from(phentsize) != PHDR_LEN {
        return Err(ElfError::Malformed("bad program header size"));
    }
    if phnum == 0 || phnum > MAX_PHNUM {
        return Err(ElfError::Malformed("bad program header count"));
    }
    let table_len = usize::from(phnum) * PHDR_LEN;
    debug_assert!(table_len <= MAX_PHDR_TABLE);
    if phoff.checked_add(table_len as u64).is_none() {
        return Err(ElfError::Malformed("program header table offset overflows"));
    }

    let mut table = vec![0u8; table_len];
    if read_full(read_at, phoff, &mut table)? < table_len {
        return Err(ElfError::Malformed("truncated program header table"));
    }

    let mut file = ElfFile {
        kind,
        entry,
        phoff,
        phentsize,
        phnum,
        segments: Vec::new(),
        interp: None,
        phdr_vaddr: None,
        exec_stack: true,
        tls: None,
    };
    let mut interp_at = None;

    for ph in table.chunks_exact(PHDR_LEN) {
        let p: Elf64Phdr = abi::read_at(ph, 0);
        let (p_type, p_flags, offset, vaddr) = (p.p_type, p.p_flags, p.p_offset, p.p_vaddr);
        let (filesz, memsz, align) = (p.p_filesz, p.p_memsz, p.p_align);
        match p_type {
            PT_LOAD => {
                let segment = LoadSegment {
                    vaddr,
                    memsz,
                    filesz,
                    offset,
                    read: p_flags & PF_R != 0,
                    write: p_flags & PF_W != 0,
                    exec: p_flags & PF_X != 0,
                    align,
                };
                check_load(&segment, file.segments.last())?;
                file.segments.push(segment);
            }
            PT_INTERP => {
                if interp_at.is_some() {
                    return Err(ElfError::Malformed("more than one PT_INTERP"));
                }
                interp_at = Some((offset, filesz));
            }
            PT_PHDR => file.phdr_vaddr = Some(vaddr),
            PT_GNU_STACK => file.exec_stack = p_flags & PF_X != 0,
            PT_TLS => file.tls = Some((vaddr, memsz)),
            // Everything else (PT_DYNAMIC, PT_NOTE, PT_GNU_RELRO, ...) is
            // for the dynamic linker or debuggers, not for exec.
            _ => {}
        }
    }

    if file.segments.is_empty() {
        return Err(ElfError::Malformed("no PT_LOAD segments"));
    }
    if let Some((offset, size)) = interp_at {
        file.interp = Some(read_interp(read_at, offset, size)?);
    }
    if file.phdr_vaddr.is_none() {
        // As Linux does for AT_PHDR: find the segment whose file contents
        // include the start of the program header table.
        file.phdr_vaddr = file
            .segments
            .iter()
            .find(|s| s.offset <= phoff && phoff < s.offset + s.filesz)
            .map(|s| s.vaddr + (phoff - s.offset));
    }
    Ok(file)
}

/// Validates one `PT_LOAD` against itself and its predecessor.
fn check_load(seg: &LoadSegment, prev: Option<&LoadSegment>) -> Result<(), ElfError> {
    if seg.filesz > seg.memsz {
        return Err(ElfError::Malformed("PT_LOAD file size exceeds memory size"));
    }
    if seg.offset.checked_add(seg.filesz).is_none() {
        return Err(ElfError::Malformed("PT_LOAD file range overflows"));
    }
    let end = seg
        .vaddr
        .checked_add(seg.memsz)
        .ok_or(ElfError::Malformed("PT_LOAD address range overflows"))?;
    if end >= USER_LIMIT {
        return Err(ElfError::Malformed("PT_LOAD beyond user address space"));
    }
    // mmap needs the file offset and the address to share a page offset.
    if seg.offset % PAGE_SIZE != seg.vaddr % PAGE_SIZE {
        return Err(ElfError::Malformed(
            "PT_LOAD offset and address differ modulo the page size",
        ));
    }
    if let Some(prev) = prev {
        if seg.vaddr < prev.vaddr {
            return Err(ElfError::Malformed("PT_LOAD segments not in address order"));
        }
        // `prev`'s end cannot overflow: it passed this check already.
        if seg.vaddr < prev.vaddr + prev.memsz {
            return Err(ElfError::Malformed("PT_LOAD segments overlap"));
        }
    }
    Ok(())
}

/// Reads and checks the `PT_INTERP` path.
fn read_interp(read_at: &mut ReadAt<'_>, offset: u64, size: u64) -> Result<String, ElfError> {
    if !(2..=MAX_INTERP_LEN).contains(&size) {
        return Err(ElfError::Malformed("bad PT_INTERP size"));
    }
    if offset.checked_add(size).is_none() {
        return Err(ElfError::Malformed("PT_INTERP range overflows"));
    }
    // `size` is at most MAX_INTERP_LEN, so this allocation is bounded.
    let mut buf = vec![0u8; size as usize];
    if read_full(read_at, offset, &mut buf)? < buf.len() {
        return Err(ElfError::Malformed("truncated PT_INTERP"));
    }
    let Some((0, path)) = buf.split_last() else {
        return Err(ElfError::Malformed("PT_INTERP not NUL-terminated"));
    };
    // Like Linux, the path is the C string up to the first NUL.
    let path = path.split(|&b| b == 0).next().unwrap_or_default();
    if path.is_empty() {
        return Err(ElfError::Malformed("empty PT_INTERP"));
    }
    String::from_utf8(path.to_vec()).map_err(|_| ElfError::Malformed("PT_INTERP not valid UTF-8"))
}

/// Fills `buf` from `offset`, retrying short reads; returns how much was
/// read, which is less than `buf.len()` only at end of file.
fn read_full(read_at: &mut ReadAt<'_>, offset: u64, buf: &mut [u8]) -> Result<usize, ElfError> {
    let mut done = 0;
    while done < buf.len() {
        let Some(at) = offset.checked_add(done as u64) else {
            break;
        };
        match read_at(at, &mut buf[done..]).map_err(|()| ElfError::Io)? {
            0 => break,
            // Never trust the callback to stay within the buffer.
            n => done += n.min(buf.len() - done),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    const PHOFF: usize = offset_of!(Elf64Ehdr, e_phoff);
    const PHENTSIZE: usize = offset_of!(Elf64Ehdr, e_phentsize);
    const PHNUM: usize = offset_of!(Elf64Ehdr, e_phnum);
    use std::os::unix::fs::FileExt;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn parse_bytes(bytes: &[u8]) -> Result<ElfFile, ElfError> {
        parse(&mut |off, buf: &mut [u8]| {
            let start = usize::try_from(off).unwrap_or(usize::MAX).min(bytes.len());
            let n = buf.len().min(bytes.len() - start);
            buf[..n].copy_from_slice(&bytes[start..start + n]);
            Ok(n)
        })
    }

    fn parse_path(path: &Path) -> Option<Result<ElfFile, ElfError>> {
        let file = std::fs::File::open(path).ok()?;
        Some(parse(&mut |off, buf: &mut [u8]| {
            file.read_at(buf, off).map_err(|_| ())
        }))
    }

    #[derive(Clone, Copy)]
    struct Ph {
        p_type: u32,
        flags: u32,
        offset: u64,
        vaddr: u64,
        filesz: u64,
        memsz: u64,
        align: u64,
    }

    fn load(offset: u64, vaddr: u64, filesz: u64, memsz: u64, flags: u32) -> Ph {
        Ph {
            p_type: PT_LOAD,
            flags,
            offset,
            vaddr,
            filesz,
            memsz,
            align: 0x1000,
        }
    }

    fn other(p_type: u32, offset: u64, vaddr: u64, size: u64, flags: u32) -> Ph {
        Ph {
            p_type,
            flags,
            offset,
            vaddr,
            filesz: size,
            memsz: size,
            align: 8,
        }
    }

    const INTERP: &[u8] = b"/lib64/ld-linux-x86-64.so.2\0";
    const INTERP_OFF: u64 = 0x200;

    /// An ELF image: header at 0, program headers at 64, interpreter
    /// string at 0x200 (unless the headers cover it), file padded to at
    /// least 0x3000 bytes.
    fn build(e_type: u16, phdrs: &[Ph]) -> Vec<u8> {
        let mut b = vec![0u8; 0x3000.max(EHDR_LEN + phdrs.len() * PHDR_LEN)];
        b[INTERP_OFF as usize..INTERP_OFF as usize + INTERP.len()].copy_from_slice(INTERP);
        let mut ident = [0u8; 16];
        ident[..4].copy_from_slice(b"\x7fELF");
        ident[4] = ELFCLASS64;
        ident[5] = ELFDATA2LSB;
        ident[6] = EV_CURRENT;
        let h = Elf64Ehdr {
            e_ident: ident,
            e_type,
            e_machine: EM_X86_64,
            e_version: 1,
            e_entry: 0x401000,
            e_phoff: EHDR_LEN as u64,
            e_ehsize: EHDR_LEN as u16,
            e_phentsize: PHDR_LEN as u16,
            e_phnum: phdrs.len() as u16,
            ..Default::default()
        };
        abi::write_at(&mut b, 0, &h);
        for (i, ph) in phdrs.iter().enumerate() {
            let p = Elf64Phdr {
                p_type: ph.p_type,
                p_flags: ph.flags,
                p_offset: ph.offset,
                p_vaddr: ph.vaddr,
                p_paddr: ph.vaddr,
                p_filesz: ph.filesz,
                p_memsz: ph.memsz,
                p_align: ph.align,
            };
            abi::write_at(&mut b, EHDR_LEN + i * PHDR_LEN, &p);
        }
        b
    }

    /// A typical dynamically linked executable.
    fn typical() -> Vec<u8> {
        build(
            ET_EXEC,
            &[
                other(PT_PHDR, 64, 0x400040, 5 * 56, PF_R),
                other(PT_INTERP, INTERP_OFF, 0x400200, INTERP.len() as u64, PF_R),
                load(0, 0x400000, 0x1000, 0x1000, PF_R | PF_X),
                load(0x1000, 0x601000, 0x800, 0x3000, PF_R | PF_W),
                other(PT_GNU_STACK, 0, 0, 0, PF_R | PF_W),
            ],
        )
    }

    fn malformed(bytes: &[u8]) -> &'static str {
        match parse_bytes(bytes) {
            Err(ElfError::Malformed(why)) => why,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn typical_executable() {
        let elf = parse_bytes(&typical()).unwrap();
        assert_eq!(elf.kind, ElfKind::Exec);
        assert_eq!(elf.entry, 0x401000);
        assert_eq!((elf.phoff, elf.phentsize, elf.phnum), (64, 56, 5));
        assert_eq!(elf.interp.as_deref(), Some("/lib64/ld-linux-x86-64.so.2"));
        assert_eq!(elf.phdr_vaddr, Some(0x400040));
        assert!(!elf.exec_stack);
        assert_eq!(elf.tls, None);
        assert_eq!(
            elf.segments,
            [
                LoadSegment {
                    vaddr: 0x400000,
                    memsz: 0x1000,
                    filesz: 0x1000,
                    offset: 0,
                    read: true,
                    write: false,
                    exec: true,
                    align: 0x1000,
                },
                LoadSegment {
                    vaddr: 0x601000,
                    memsz: 0x3000,
                    filesz: 0x800,
                    offset: 0x1000,
                    read: true,
                    write: true,
                    exec: false,
                    align: 0x1000,
                },
            ]
        );
        assert_eq!(elf.span(), (0x400000, 0x604000));
    }

    #[test]
    fn static_pie_defaults() {
        // No PT_PHDR, PT_INTERP or PT_GNU_STACK; unaligned first segment.
        let bytes = build(
            ET_DYN,
            &[
                load(0x10, 0x10, 0x500, 0x500, PF_R | PF_X),
                other(PT_TLS, 0x400, 0x400, 0x10, PF_R),
            ],
        );
        let elf = parse_bytes(&bytes).unwrap();
        assert_eq!(elf.kind, ElfKind::Dyn);
        assert_eq!(elf.interp, None);
        assert!(elf.exec_stack);
        assert_eq!(elf.tls, Some((0x400, 0x10)));
        // e_phoff (64) lies in the segment at file offset 0x10.
        assert_eq!(elf.phdr_vaddr, Some(64));
        assert_eq!(elf.span(), (0, 0x510));
    }

    #[test]
    fn phdr_not_loaded() {
        let bytes = build(ET_EXEC, &[load(0x1000, 0x401000, 0x100, 0x100, PF_R)]);
        assert_eq!(parse_bytes(&bytes).unwrap().phdr_vaddr, None);
    }

    #[test]
    fn gnu_stack_exec() {
        let bytes = build(
            ET_EXEC,
            &[
                load(0, 0x400000, 0x100, 0x100, PF_R),
                other(PT_GNU_STACK, 0, 0, 0, PF_R | PF_W | PF_X),
            ],
        );
        assert!(parse_bytes(&bytes).unwrap().exec_stack);
    }

    #[test]
    fn identification_errors() {
        assert_eq!(parse_bytes(b""), Err(ElfError::NotElf));
        assert_eq!(parse_bytes(b"\x7fEL"), Err(ElfError::NotElf));
        assert_eq!(parse_bytes(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        assert_eq!(parse_bytes(&[0; 4096]), Err(ElfError::NotElf));
        assert_eq!(
            parse_bytes(b"\x7fELF\x02\x01\x01"),
            Err(ElfError::Malformed("truncated ELF header"))
        );

        let good = typical();
        let with = |at: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[at..at + bytes.len()].copy_from_slice(bytes);
            parse_bytes(&b)
        };
        assert!(matches!(with(4, &[1]), Err(ElfError::Unsupported(_))));
        assert!(matches!(with(5, &[2]), Err(ElfError::Unsupported(_))));
        assert!(matches!(with(6, &[0]), Err(ElfError::Unsupported(_))));
        for e_type in [0u16, 1, 4, 0xfe00] {
            assert_eq!(
                with(offset_of!(Elf64Ehdr, e_type), abi::bytes(&e_type)),
                Err(ElfError::Unsupported("not an executable or shared object"))
            );
        }
        for machine in [3u16, 40, 183] {
            assert_eq!(
                with(offset_of!(Elf64Ehdr, e_machine), abi::bytes(&machine)),
                Err(ElfError::Unsupported("not an x86-64 binary"))
            );
        }
    }

    #[test]
    fn program_header_table_errors() {
        let good = typical();
        let with = |at: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[at..at + bytes.len()].copy_from_slice(bytes);
            b
        };
        assert_eq!(
            malformed(&with(PHENTSIZE, abi::bytes(&32u16))),
            "bad program header size"
        );
        assert_eq!(
            malformed(&with(PHNUM, abi::bytes(&0u16))),
            "bad program header count"
        );
        assert_eq!(
            malformed(&with(PHNUM, abi::bytes(&257u16))),
            "bad program header count"
        );
        assert_eq!(
            malformed(&with(PHNUM, abi::bytes(&0xffffu16))),
            "bad program header count"
        );
        assert_eq!(
            malformed(&with(PHOFF, abi::bytes(&(u64::MAX - 10)))),
            "program header table offset overflows"
        );
        assert_eq!(
            malformed(&with(PHOFF, abi::bytes(&0x2f00u64))),
            "truncated program header table"
        );
        // 256 headers (the maximum) are fine; unknown types are ignored.
        let mut phdrs = vec![other(0x7000_0000, 0, 0, 0, 0); 255];
        phdrs.push(load(0, 0x400000, 0x100, 0x100, PF_R));
        let elf = parse_bytes(&build(ET_EXEC, &phdrs)).unwrap();
        assert_eq!(elf.phnum, 256);
        assert_eq!(elf.segments.len(), 1);
    }

    #[test]
    fn load_segment_errors() {
        let rx = PF_R | PF_X;
        let cases: &[(&[Ph], &str)] = &[
            (&[other(PT_GNU_STACK, 0, 0, 0, 0)], "no PT_LOAD segments"),
            (
                &[load(0, 0x400000, 0x2000, 0x1000, rx)],
                "PT_LOAD file size exceeds memory size",
            ),
            (
                &[load(u64::MAX - 0xfff, 0x400000, 0x1000, 0x1000, rx)],
                "PT_LOAD file range overflows",
            ),
            (
                &[load(0, 0xffff_ffff_ffff_f000, 0, 0x2000, rx)],
                "PT_LOAD address range overflows",
            ),
            (
                &[load(0, USER_LIMIT - 0x1000, 0, 0x1000, rx)],
                "PT_LOAD beyond user address space",
            ),
            (
                &[load(0, 0xffff_8000_0000_0000, 0, 0x1000, rx)],
                "PT_LOAD beyond user address space",
            ),
            (
                &[load(0x10, 0x400000, 0x100, 0x100, rx)],
                "PT_LOAD offset and address differ modulo the page size",
            ),
            (
                &[
                    load(0x1000, 0x601000, 0x100, 0x100, rx),
                    load(0, 0x400000, 0x100, 0x100, rx),
                ],
                "PT_LOAD segments not in address order",
            ),
            (
                &[
                    load(0, 0x400000, 0x1000, 0x2000, rx),
                    load(0x1000, 0x401000, 0x100, 0x100, rx),
                ],
                "PT_LOAD segments overlap",
            ),
        ];
        for (phdrs, why) in cases {
            assert_eq!(malformed(&build(ET_EXEC, phdrs)), *why, "{why}");
        }

        // Touching segments, an empty segment and one ending just below
        // the limit are all fine.
        let ok = build(
            ET_EXEC,
            &[
                load(0, 0x400000, 0x1000, 0x1000, rx),
                load(0x1000, 0x401000, 0x100, 0x100, PF_R),
                load(0x1000, 0x402000, 0, 0, PF_R),
                load(0, USER_LIMIT - 0x2000, 0, 0x1fff, PF_R | PF_W),
            ],
        );
        let elf = parse_bytes(&ok).unwrap();
        assert_eq!(elf.segments.len(), 4);
        assert_eq!(elf.span(), (0x400000, USER_LIMIT - 1));
    }

    #[test]
    fn interp_errors() {
        let interp = |offset, size| {
            build(
                ET_EXEC,
                &[
                    other(PT_INTERP, offset, 0, size, PF_R),
                    load(0, 0x400000, 0x1000, 0x1000, PF_R),
                ],
            )
        };
        let len = INTERP.len() as u64;
        assert_eq!(malformed(&interp(INTERP_OFF, 0)), "bad PT_INTERP size");
        assert_eq!(malformed(&interp(INTERP_OFF, 1)), "bad PT_INTERP size");
        assert_eq!(malformed(&interp(INTERP_OFF, 4097)), "bad PT_INTERP size");
        assert_eq!(
            malformed(&interp(u64::MAX - 4, len)),
            "PT_INTERP range overflows"
        );
        assert_eq!(malformed(&interp(0x2ff0, len)), "truncated PT_INTERP");
        assert_eq!(
            malformed(&interp(INTERP_OFF, len - 1)),
            "PT_INTERP not NUL-terminated"
        );
        assert_eq!(malformed(&interp(INTERP_OFF - 2, 2)), "empty PT_INTERP");

        // Text after an embedded NUL is ignored, as in Linux.
        let mut bytes = interp(INTERP_OFF, len + 4);
        bytes[INTERP_OFF as usize + 4] = 0;
        let elf = parse_bytes(&bytes).unwrap();
        assert_eq!(elf.interp.as_deref(), Some("/lib"));

        let mut bytes = interp(INTERP_OFF, len);
        bytes[INTERP_OFF as usize + 1] = 0xff;
        assert_eq!(malformed(&bytes), "PT_INTERP not valid UTF-8");

        let two = build(
            ET_EXEC,
            &[
                other(PT_INTERP, INTERP_OFF, 0, len, PF_R),
                other(PT_INTERP, INTERP_OFF, 0, len, PF_R),
                load(0, 0x400000, 0x1000, 0x1000, PF_R),
            ],
        );
        assert_eq!(malformed(&two), "more than one PT_INTERP");
    }

    #[test]
    fn io_errors_and_short_reads() {
        assert_eq!(parse(&mut |_, _| Err(())), Err(ElfError::Io));
        let bytes = typical();
        // Fail only when reading the interpreter.
        let result = parse(&mut |off, buf: &mut [u8]| {
            if off >= INTERP_OFF {
                return Err(());
            }
            let n = buf.len().min(bytes.len() - off as usize);
            buf[..n].copy_from_slice(&bytes[off as usize..off as usize + n]);
            Ok(n)
        });
        assert_eq!(result, Err(ElfError::Io));

        // A reader returning one byte at a time, or lying about how much
        // it read, still works.
        let expected = parse_bytes(&bytes).unwrap();
        let result = parse(&mut |off, buf: &mut [u8]| {
            let off = off as usize;
            if off >= bytes.len() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = bytes[off];
            Ok(1)
        });
        assert_eq!(result, Ok(expected.clone()));
        let result = parse(&mut |off, buf: &mut [u8]| {
            let n = buf.len().min(bytes.len() - off as usize);
            buf[..n].copy_from_slice(&bytes[off as usize..off as usize + n]);
            Ok(n + 100)
        });
        assert_eq!(result, Ok(expected));
    }

    #[test]
    fn truncations_never_panic() {
        let bytes = typical();
        // Everything up to the end of the interpreter string is needed.
        for len in 0..INTERP_OFF as usize + INTERP.len() {
            let result = parse_bytes(&bytes[..len]);
            assert!(result.is_err(), "len {len}");
        }
    }

    /// Xorshift: deterministic pseudo-random numbers without a dependency.
    fn rng(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    fn fuzz(original: &[u8], header_len: usize, rounds: usize) {
        let mut next = rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..rounds {
            let mut bytes = original.to_vec();
            for _ in 0..1 + next() % 6 {
                let i = (next() % header_len as u64) as usize;
                bytes[i] = match next() % 4 {
                    0 => 0,
                    1 => 0xff,
                    _ => next() as u8,
                };
            }
            let _ = parse_bytes(&bytes);
        }
    }

    #[test]
    fn random_corruption_never_panics() {
        let bytes = typical();
        fuzz(&bytes, 64 + 5 * 56, 20_000);
    }

    #[test]
    fn host_binaries() {
        let mut seen = 0;
        for path in ["/bin/ls", "/bin/busybox", "/bin/sh", "/usr/bin/env"] {
            let Some(result) = parse_path(Path::new(path)) else {
                eprintln!("{path} not present; skipping");
                continue;
            };
            // Host binaries of another architecture are legitimately
            // unsupported; anything else must parse.
            let elf = match result {
                Err(ElfError::Unsupported(why)) => {
                    eprintln!("{path}: {why}; skipping");
                    continue;
                }
                other => other.unwrap_or_else(|e| panic!("{path}: {e}")),
            };
            seen += 1;
            assert!(!elf.segments.is_empty());
            assert!(elf.phdr_vaddr.is_some(), "{path}");
            let (start, end) = elf.span();
            assert!(start < end && start % PAGE_SIZE == 0);
            if let Some(interp) = &elf.interp {
                assert!(interp.starts_with('/'), "{path}: {interp}");
            }

            // Random damage to a real header must never panic.
            let bytes = std::fs::read(path).unwrap();
            let header_len = (elf.phoff as usize + usize::from(elf.phnum) * 56).min(bytes.len());
            fuzz(&bytes, header_len, 2_000);
        }
        eprintln!("parsed {seen} host binaries");
    }

    #[test]
    fn static_binary_from_gcc() {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir: PathBuf =
            std::env::temp_dir().join(format!("ruml-elf-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("hello.c");
        let exe = dir.join("hello");
        std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
        let status = Command::new("gcc")
            .arg("-static")
            .arg("-o")
            .arg(&exe)
            .arg(&src)
            .output();
        let built = matches!(&status, Ok(out) if out.status.success());
        let result = built.then(|| parse_path(&exe)).flatten();
        let _ = std::fs::remove_dir_all(&dir);
        let Some(result) = result else {
            eprintln!("gcc -static unavailable; skipping");
            return;
        };
        let elf = result.unwrap();
        assert_eq!(elf.interp, None);
        assert!(!elf.exec_stack);
        assert!(elf.segments.iter().any(|s| s.exec));
        assert!(elf.segments.iter().any(|s| s.write));
        assert!(elf.phdr_vaddr.is_some());
        // glibc static binaries use TLS.
        assert!(elf.tls.is_some());
    }

    #[test]
    fn display() {
        assert_eq!(ElfError::NotElf.to_string(), "not an ELF file");
        assert_eq!(
            ElfError::Malformed("no PT_LOAD segments").to_string(),
            "malformed ELF file: no PT_LOAD segments"
        );
        let e: Box<dyn std::error::Error> = Box::new(ElfError::Io);
        assert_eq!(e.to_string(), "I/O error reading ELF file");
    }
}
