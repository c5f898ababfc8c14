//! Core dumps: when a process dies of a signal whose default action is
//! "core", an ELF core file (ET_CORE) with its threads' registers, its
//! process notes and the contents of its mappings is written where
//! kernel.core_pattern says, as Linux's do_coredump and elf_core_dump.
//!
//! Not done: piping to a program (a pattern starting with '|' writes
//! nothing), suid_dumpable other than 0, NT_X86_XSTATE (NT_FPREGSET holds
//! the FXSAVE area).

use super::errno::{Errno, KResult};
use super::signal::SigInfo;
use super::task::{self, Task};
use crate::abi::elf::*;
use crate::fs::file::File;
use crate::fs::vfs::{SetAttr, S_IFMT, S_IFREG};
use crate::mm::frame::PAGE_SIZE;
use crate::mm::{Backing, Vma};
use bytemuck::{bytes_of, Zeroable};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

const RLIMIT_CORE: usize = 4;
use crate::abi::fcntl::{O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY};
/// O_LARGEFILE (x86-64 opens are large-file anyway; kept as Linux passes it).
const O_LARGEFILE: u32 = 0o100000;
use crate::abi::stat::AT_FDCWD;
/// Linux's CORENAME_MAX_SIZE: the longest pattern kept.
const CORENAME_MAX: usize = 128;
/// ELF_PRARGSZ: how much of the command line prpsinfo keeps.
const PRARGSZ: usize = 80;

static PATTERN: Mutex<String> = Mutex::new(String::new());
/// kernel.core_uses_pid: append ".PID" when the pattern has no %p.
pub static USES_PID: AtomicU32 = AtomicU32::new(0);

/// kernel.core_pattern as read ("core" until set).
pub fn pattern() -> String {
    let p = PATTERN.lock().unwrap_or_else(|e| e.into_inner());
    if p.is_empty() {
        "core".into()
    } else {
        p.clone()
    }
}

/// Set kernel.core_pattern (one line, at most CORENAME_MAX bytes).
pub fn set_pattern(s: &str) -> KResult<()> {
    let s = s.trim_end_matches('\n');
    if s.len() >= CORENAME_MAX {
        return Err(Errno::EINVAL);
    }
    *PATTERN.lock().unwrap_or_else(|e| e.into_inner()) = s.to_string();
    Ok(())
}

/// The core file's name for `t` dying of `sig`: the pattern's %
/// specifiers expanded (Linux's format_corename, without pipes).
fn corename(t: &Task, sig: i32) -> Option<String> {
    let pat = pattern();
    if pat.starts_with('|') {
        log::info!("coredump: pipe patterns are not supported, no core written");
        return None;
    }
    let tgid = t.tgid();
    let creds = t.creds();
    let comm = t.lock().comm.clone();
    let mut out = String::new();
    let mut has_pid = false;
    let mut chars = pat.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('p') | Some('P') => {
                has_pid = true;
                out.push_str(&tgid.to_string());
            }
            Some('i') | Some('I') => out.push_str(&t.tid.to_string()),
            Some('u') => out.push_str(&creds.uid.to_string()),
            Some('g') => out.push_str(&creds.gid.to_string()),
            Some('s') => out.push_str(&sig.to_string()),
            Some('t') => out.push_str(&(super::time::realtime_ns() / 1_000_000_000).to_string()),
            Some('h') => out.push_str(&super::sys_proc::hostname()),
            // The name may not make a path of its own: '/' becomes '!'.
            Some('e') => out.push_str(&comm.replace('/', "!")),
            // Unknown specifiers and a lone trailing '%' vanish, as Linux.
            _ => {}
        }
    }
    if !has_pid && USES_PID.load(Relaxed) != 0 {
        out.push_str(&format!(".{tgid}"));
    }
    Some(out)
}

/// Dump `t`'s process after the fatal `info`, if its RLIMIT_CORE and
/// dumpable flag allow. True when a core file was written (the wait
/// status then carries WCOREDUMP).
pub fn dump(t: &Arc<Task>, info: &SigInfo) -> bool {
    let tg = t.tg();
    let (limit, dumpable) = {
        let g = tg.lock();
        (g.rlimits[RLIMIT_CORE].0, g.dumpable)
    };
    if limit == 0 || !dumpable {
        return false;
    }
    let Some(name) = corename(t, info.signo) else {
        return false;
    };
    match open_core(t, &name).and_then(|f| write_core(t, info, f, limit)) {
        Ok(()) => true,
        Err(e) => {
            log::info!("coredump: {name}: {e:?}");
            false
        }
    }
}

/// Create the core file as Linux does: never through a symlink; an
/// existing file is reused only if it is a regular file with one link
/// owned by the dumper's fsuid, and is then truncated.
fn open_core(t: &Arc<Task>, name: &str) -> KResult<Arc<File>> {
    use super::sys_fs::open_path;
    let flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_LARGEFILE;
    match open_path(t, AT_FDCWD, name, flags | O_EXCL, 0o600) {
        Err(Errno::EEXIST) => {}
        r => return r,
    }
    let f = open_path(t, AT_FDCWD, name, flags, 0o600)?;
    let inode = f.inode.clone().ok_or(Errno::EACCES)?;
    let st = inode.stat();
    if st.mode & S_IFMT != S_IFREG || st.nlink != 1 || st.uid != t.creds().fsuid {
        return Err(Errno::EACCES);
    }
    inode.setattr(&SetAttr {
        size: Some(0),
        ..Default::default()
    })?;
    Ok(f)
}

/// Writes the file in order, stopping at the size limit.
struct Sink<'a> {
    t: &'a Arc<Task>,
    f: Arc<File>,
    pos: u64,
    limit: u64,
}

impl Sink<'_> {
    fn put(&mut self, mut data: &[u8]) -> KResult<()> {
        if self.pos + data.len() as u64 > self.limit {
            return Err(Errno::EFBIG);
        }
        while !data.is_empty() {
            let n = super::sys_fs::write_from(self.t, &self.f, data)? as usize;
            if n == 0 {
                return Err(Errno::EIO);
            }
            data = &data[n..];
            self.pos += n as u64;
        }
        Ok(())
    }

    fn zeros(&mut self, n: u64) -> KResult<()> {
        let z = [0u8; 4096];
        let mut left = n;
        while left > 0 {
            let k = left.min(4096);
            self.put(&z[..k as usize])?;
            left -= k;
        }
        Ok(())
    }
}

/// Append one note (name "CORE") to `buf`, padded as ELF notes are.
fn note(buf: &mut Vec<u8>, ty: u32, desc: &[u8]) {
    let name = b"CORE\0";
    let h = Elf64Nhdr {
        n_namesz: name.len() as u32,
        n_descsz: desc.len() as u32,
        n_type: ty,
    };
    buf.extend_from_slice(bytes_of(&h));
    buf.extend_from_slice(name);
    pad4(buf);
    buf.extend_from_slice(desc);
    pad4(buf);
}

fn pad4(buf: &mut Vec<u8>) {
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

/// How much of `v` is written, as Linux's default coredump_filter (0x33):
/// anonymous and written private mappings whole, the first page of a
/// file mapped from offset 0 (its ELF header), nothing else.
fn dump_size(v: &Vma) -> u64 {
    const PROT_READ: u32 = 1;
    const PROT_WRITE: u32 = 2;
    if v.is_vvar() || v.prot & PROT_READ == 0 {
        return 0;
    }
    match &v.backing {
        // The vDSO is the kernel's code, not a file's: written whole so
        // a debugger can unwind through it.
        _ if v.label == crate::mm::special::VDSO => v.end - v.start,
        Backing::Anon => v.end - v.start,
        Backing::File { .. } if !v.shared && v.prot & PROT_WRITE != 0 => v.end - v.start,
        Backing::File { offset: 0, .. } => PAGE_SIZE.min(v.end - v.start),
        Backing::File { .. } => 0,
    }
}

fn prstatus(t: &Task, sig: i32) -> ElfPrstatus {
    let (regs, mask, pend) = {
        let i = t.lock();
        (i.ctx.regs, i.sigmask, i.pending.set)
    };
    let (pgrp, sid) = t.session_and_pgrp();
    let ppid = t.tg().lock().parent;
    let mut p = ElfPrstatus::zeroed();
    p.pr_info[0] = sig;
    p.pr_cursig = sig as i16;
    p.pr_sigpend = pend;
    p.pr_sighold = mask;
    p.pr_pid = t.tid;
    p.pr_ppid = ppid;
    p.pr_pgrp = pgrp;
    p.pr_sid = sid;
    p.pr_reg = bytemuck::cast(regs);
    p.pr_fpvalid = 1;
    p
}

/// The thread's FXSAVE area (the first 512 bytes of its XSAVE image),
/// brought up to date from the host.
fn fpregs(t: &Task) -> Vec<u8> {
    let mm = t.mm();
    let ml = mm.lock();
    let mut i = t.lock();
    ml.sync_fpu(&mut i.ctx);
    let mut v = i.ctx.fpu.clone();
    v.resize(512, 0);
    v.truncate(512);
    v
}

fn prpsinfo(t: &Task, args: &[u8]) -> ElfPrpsinfo {
    let creds = t.creds();
    let (pgrp, sid) = t.session_and_pgrp();
    let ppid = t.tg().lock().parent;
    let mut p = ElfPrpsinfo::zeroed();
    p.pr_sname = b'R';
    p.pr_uid = creds.uid;
    p.pr_gid = creds.gid;
    p.pr_pid = t.tgid();
    p.pr_ppid = ppid;
    p.pr_pgrp = pgrp;
    p.pr_sid = sid;
    let comm = t.lock().comm.clone();
    let n = comm.len().min(15);
    p.pr_fname[..n].copy_from_slice(&comm.as_bytes()[..n]);
    // The command line with its NULs as spaces, always NUL-terminated.
    let n = args.len().min(PRARGSZ - 1);
    for (d, &s) in p.pr_psargs.iter_mut().zip(&args[..n]) {
        *d = if s == 0 { b' ' } else { s };
    }
    p
}

/// NT_FILE: (start, end, file offset in pages) of each file mapping,
/// then their names.
fn file_note(vmas: &[Vma]) -> Vec<u8> {
    let files: Vec<(&Vma, u64, &str)> = vmas
        .iter()
        .filter_map(|v| match &v.backing {
            // [vdso] and [vvar] are special mappings, not files.
            Backing::File { .. } if !v.label.is_empty() => None,
            Backing::File { offset, path, .. } => Some((v, *offset, path.as_str())),
            Backing::Anon => None,
        })
        .collect();
    let mut b = Vec::new();
    b.extend_from_slice(&(files.len() as u64).to_le_bytes());
    b.extend_from_slice(&PAGE_SIZE.to_le_bytes());
    for (v, off, _) in &files {
        for w in [v.start, v.end, off / PAGE_SIZE] {
            b.extend_from_slice(&w.to_le_bytes());
        }
    }
    for (_, _, p) in &files {
        b.extend_from_slice(p.as_bytes());
        b.push(0);
    }
    b
}

fn write_core(t: &Arc<Task>, info: &SigInfo, f: Arc<File>, limit: u64) -> KResult<()> {
    let mm = t.mm();
    let (vmas, auxv, args) = {
        let ml = mm.lock();
        let vmas: Vec<Vma> = ml.vmas().cloned().collect();
        let (a, e) = (ml.arg_start, ml.arg_end);
        (vmas, ml.saved_auxv.clone(), (a, e))
    };
    let args = mm
        .read_vec(
            args.0,
            (args.1.saturating_sub(args.0) as usize).min(PRARGSZ),
        )
        .unwrap_or_default();
    let sig = info.signo;
    // The dumping thread first (gdb takes the first NT_PRSTATUS as the
    // crashing thread), then the others.
    let mut threads = vec![t.clone()];
    for tid in t.tg().lock().threads.clone() {
        if tid != t.tid {
            if let Some(o) = task::task(tid) {
                threads.push(o);
            }
        }
    }
    let mut notes = Vec::new();
    for (n, th) in threads.iter().enumerate() {
        note(&mut notes, NT_PRSTATUS, bytes_of(&prstatus(th, sig)));
        if n == 0 {
            note(&mut notes, NT_PRPSINFO, bytes_of(&prpsinfo(t, &args)));
            note(&mut notes, NT_SIGINFO, bytes_of(&info.to_abi()));
            let aux: Vec<u8> = auxv.iter().flat_map(|w| w.to_le_bytes()).collect();
            note(&mut notes, NT_AUXV, &aux);
            note(&mut notes, NT_FILE, &file_note(&vmas));
        }
        note(&mut notes, NT_FPREGSET, &fpregs(th));
    }
    let phnum = 1 + vmas.len();
    let ehdr_size = core::mem::size_of::<Elf64Ehdr>() as u64;
    let phdr_size = core::mem::size_of::<Elf64Phdr>() as u64;
    let notes_off = ehdr_size + phdr_size * phnum as u64;
    let data_off = crate::mm::page_up(notes_off + notes.len() as u64);
    let mut e = Elf64Ehdr::default();
    e.e_ident[..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
    e.e_type = ET_CORE;
    e.e_machine = EM_X86_64;
    e.e_version = 1;
    e.e_phoff = ehdr_size;
    e.e_ehsize = ehdr_size as u16;
    e.e_phentsize = phdr_size as u16;
    e.e_phnum = phnum as u16;
    let mut phdrs = vec![Elf64Phdr {
        p_type: PT_NOTE,
        p_offset: notes_off,
        p_filesz: notes.len() as u64,
        ..Default::default()
    }];
    let mut off = data_off;
    for v in &vmas {
        let size = dump_size(v);
        let mut flags = 0;
        for (p, fl) in [(1, PF_R), (2, PF_W), (4, PF_X)] {
            if v.prot & p != 0 {
                flags |= fl;
            }
        }
        phdrs.push(Elf64Phdr {
            p_type: PT_LOAD,
            p_flags: flags,
            p_offset: off,
            p_vaddr: v.start,
            p_paddr: 0,
            p_filesz: size,
            p_memsz: v.end - v.start,
            p_align: PAGE_SIZE,
        });
        off += size;
    }
    let mut s = Sink {
        t,
        f,
        pos: 0,
        limit,
    };
    s.put(bytes_of(&e))?;
    for p in &phdrs {
        s.put(bytes_of(p))?;
    }
    s.put(&notes)?;
    s.zeros(data_off - s.pos)?;
    let mut page = vec![0u8; PAGE_SIZE as usize];
    for v in &vmas {
        let mut a = v.start;
        while a < v.start + dump_size(v) {
            // A page that cannot be read is written as zeros (Linux
            // writes the zero page for what it cannot get).
            if mm.read(a, &mut page).is_err() {
                page.fill(0);
            }
            s.put(&page)?;
            a += PAGE_SIZE;
        }
    }
    Ok(())
}
