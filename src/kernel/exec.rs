//! execve: load an ELF program (static, static-PIE or dynamic with its
//! interpreter) or a `#!` script into a fresh address space, with Linux's
//! initial stack (argv, envp, auxv).

use super::cred;
use super::errno::{Errno, KResult};
use super::exit;
use super::sys_fs::{self, read_path};
use super::task::{lock, Creds, Task};
use crate::arch::{self, Context};
use crate::fs::elf::{self, ElfError, ElfFile, ElfKind};
use crate::fs::mount::MntFlags;
use crate::fs::permission;
use crate::fs::vfs::{Inode, Path};
use crate::mm::{
    page_down, page_up, Backing, Mm, Vma, PROT_EXEC, PROT_READ, PROT_WRITE, STACK_SIZE, STACK_TOP,
};
use std::sync::{Arc, Mutex};

/// Where a position-independent main program is loaded (as Linux).
const ET_DYN_BASE: u64 = 0x5555_5555_4000;
/// One argument or environment string, its NUL included (32 pages).
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// _STK_LIM / 4 * 3: the most argv + envp may take whatever the stack limit.
const MAX_ARGS_CEILING: usize = (8 << 20) / 4 * 3;
/// ARG_MAX: what they may always take, however small the stack limit.
const ARG_MAX: usize = 32 * 4096;

/// How many bytes argv + envp (strings and pointers) may take: a quarter
/// of the stack limit, within [ARG_MAX, MAX_ARGS_CEILING] (Linux's
/// bprm_stack_limits), so the new stack has room for more than them.
fn args_limit(t: &Task) -> usize {
    let stack = t.tg().lock().rlimits[3].0;
    (stack / 4).min(MAX_ARGS_CEILING as u64).max(ARG_MAX as u64) as usize
}

/// Read a NULL-terminated array of strings, adding each string (with its
/// NUL) and pointer to `total`; E2BIG once a string or the total is too big.
fn read_str_array(
    t: &Task,
    mut addr: u64,
    total: &mut usize,
    limit: usize,
) -> KResult<Vec<Vec<u8>>> {
    let mut v = Vec::new();
    if addr == 0 {
        return Ok(v);
    }
    let mm = t.mm();
    loop {
        let p = mm.read_u64(addr)?;
        if p == 0 {
            return Ok(v);
        }
        let s = match mm.read_cstr_bytes(p, MAX_ARG_STRLEN) {
            Err(Errno::ENAMETOOLONG) => return Err(Errno::E2BIG),
            r => r?,
        };
        if s.len() + 1 > MAX_ARG_STRLEN {
            return Err(Errno::E2BIG);
        }
        *total += s.len() + 1 + 8;
        if *total > limit {
            return Err(Errno::E2BIG);
        }
        v.push(s);
        addr += 8;
    }
}

/// execve, execveat
pub fn sys_execve(
    t: &Arc<Task>,
    dirfd: i32,
    path: u64,
    argv: u64,
    envp: u64,
    flags: u32,
) -> KResult<u64> {
    if flags & !(sys_fs::AT_SYMLINK_NOFOLLOW | sys_fs::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    let limit = args_limit(t);
    // The file name is copied onto the new stack too.
    let mut total = path.len() + 1;
    let argv = read_str_array(t, argv, &mut total, limit)?;
    let envp = read_str_array(t, envp, &mut total, limit)?;
    let target = if path.is_empty() {
        if flags & sys_fs::AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        Target::Fd(dirfd)
    } else {
        Target::Path {
            dirfd,
            path: &path,
            nofollow: flags & sys_fs::AT_SYMLINK_NOFOLLOW != 0,
        }
    };
    let nr = t.lock().ctx.regs.orig_rax;
    exec_target(t, target, argv, envp)?;
    super::ptrace::exec_event(t, nr);
    Err(Errno::EJUSTRETURN)
}

/// What execve was asked to run: a path (relative to a directory fd), or
/// with execveat's AT_EMPTY_PATH the file an fd refers to (fexecve).
pub enum Target<'a> {
    Path {
        dirfd: i32,
        path: &'a str,
        nofollow: bool,
    },
    Fd(i32),
}

impl Target<'_> {
    /// Linux's bprm->filename: the path as given, or for a path relative
    /// to a directory fd and for an fd itself "/dev/fd/N[/path]" (what a
    /// script's interpreter is handed and AT_EXECFN points at).
    fn filename(&self) -> String {
        match *self {
            Target::Path { dirfd, path, .. }
                if dirfd != sys_fs::AT_FDCWD && !path.starts_with('/') =>
            {
                format!("/dev/fd/{dirfd}/{path}")
            }
            Target::Path { path, .. } => path.to_string(),
            Target::Fd(fd) => format!("/dev/fd/{fd}"),
        }
    }

    /// The fd a "/dev/fd/N" file name goes through, if any.
    fn fd(&self) -> Option<i32> {
        match *self {
            Target::Path { dirfd, path, .. }
                if dirfd != sys_fs::AT_FDCWD && !path.starts_with('/') =>
            {
                Some(dirfd)
            }
            Target::Path { .. } => None,
            Target::Fd(fd) => Some(fd),
        }
    }
}

struct Image {
    elf: ElfFile,
    inode: Arc<dyn Inode>,
    path: String,
}

fn load_elf(inode: &Arc<dyn Inode>) -> Result<ElfFile, Errno> {
    let r = elf::parse(&mut |off, buf| inode.read_at(off, buf).map_err(|_| ()));
    r.map_err(|e| match e {
        ElfError::NotElf | ElfError::Unsupported(_) => Errno::ENOEXEC,
        ElfError::Malformed(m) => {
            log::debug!("exec: malformed ELF: {m}");
            Errno::ENOEXEC
        }
        ElfError::Io => Errno::EIO,
    })
}

/// Look `path` up for execution by `c` (Linux's do_open_execat).
/// Returns the inode, its absolute path name and whether its mount is
/// nosuid.
fn open_exec(
    t: &Task,
    c: &Creds,
    dirfd: i32,
    path: &str,
    nofollow: bool,
) -> KResult<(Arc<dyn Inode>, String, bool)> {
    let p = sys_fs::lookup_as(t, c, dirfd, path, !nofollow)?;
    check_exec(t, c, &p)
}

/// The file an fd refers to, for execution by `c` (fexecve).
fn open_exec_fd(t: &Task, c: &Creds, fd: i32) -> KResult<(Arc<dyn Inode>, String, bool)> {
    let f = sys_fs::fd_file(t, fd)?;
    let p = f.path.clone().ok_or(Errno::EACCES)?;
    check_exec(t, c, &p)
}

/// May `c` run the file at `p`: a regular file with execute permission,
/// which for root means at least one x bit. Read permission is not
/// needed: the kernel reads the file.
fn check_exec(t: &Task, c: &Creds, p: &Path) -> KResult<(Arc<dyn Inode>, String, bool)> {
    let st = p.inode.stat();
    if st.is_symlink() {
        return Err(Errno::ELOOP);
    }
    if !st.is_reg() {
        return Err(Errno::EACCES);
    }
    // A filesystem mounted noexec runs no programs; on nosuid the
    // setuid and setgid bits do nothing.
    let mnt = crate::fs::mount::flags_of(p);
    if mnt.contains(MntFlags::NOEXEC) {
        return Err(Errno::EACCES);
    }
    permission::inode_permission(c, &*p.inode, &st, permission::MAY_EXEC)?;
    // Linux's do_open_execat opens the file: fanotify hears an open for
    // execution, after asking its permission groups.
    {
        use crate::abi::fanotify::{FAN_OPEN, FAN_OPEN_EXEC, FAN_OPEN_EXEC_PERM, FAN_OPEN_PERM};
        crate::fs::fanotify::permission(t, p, FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM)?;
        crate::fs::fanotify::notify(p, FAN_OPEN | FAN_OPEN_EXEC);
    }
    let nosuid = mnt.contains(MntFlags::NOSUID);
    Ok((p.inode.clone(), p.path_name(&t.fs().root), nosuid))
}

/// May `c` read `inode` (would_dump's check)?
fn may_read(c: &Creds, inode: &Arc<dyn Inode>) -> bool {
    permission::inode_permission(c, &**inode, &inode.stat(), permission::MAY_READ).is_ok()
}

/// Run `path` (relative to `dirfd`) in `t`, as execve.
pub fn do_execve(
    t: &Arc<Task>,
    dirfd: i32,
    path: &str,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    nofollow: bool,
) -> KResult<()> {
    let target = Target::Path {
        dirfd,
        path,
        nofollow,
    };
    exec_target(t, target, argv, envp)
}

/// Run `target` in `t`: the work of execve and execveat.
pub fn exec_target(
    t: &Arc<Task>,
    target: Target,
    mut argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> KResult<()> {
    let exec_name = target.filename();
    // Linux's BINPRM_FLAGS_PATH_INACCESSIBLE: a script reached through a
    // close-on-exec fd cannot be run, its interpreter could not open the
    // "/dev/fd/N" it would be handed.
    let fd_inaccessible = target.fd().is_some_and(|fd| {
        lock(&t.files())
            .entry(fd)
            .map(|e| e.cloexec)
            .unwrap_or(false)
    });
    // What the next interpreter is handed as the script's name.
    let mut path = exec_name.clone();
    let mut depth = 0;
    let creds = t.creds();
    // Linux's would_dump: a program its runner may not read leaves the
    // process non-dumpable, so /proc cannot show what exec hid.
    let mut unreadable = false;
    let (inode, full, nosuid) = loop {
        let (inode, full, nosuid) = match (&target, depth) {
            (Target::Fd(fd), 0) => open_exec_fd(t, &creds, *fd)?,
            (
                Target::Path {
                    dirfd,
                    path,
                    nofollow,
                },
                0,
            ) => open_exec(t, &creds, *dirfd, path, *nofollow)?,
            _ => open_exec(t, &creds, sys_fs::AT_FDCWD, &path, false)?,
        };
        if depth == 0 {
            unreadable |= !may_read(&creds, &inode);
        }
        let mut head = [0u8; 256];
        let n = inode.read_at(0, &mut head)?;
        if n >= 2 && &head[..2] == b"#!" {
            if fd_inaccessible {
                return Err(Errno::ENOENT);
            }
            depth += 1;
            if depth > 4 {
                return Err(Errno::ELOOP);
            }
            let line_end = head[..n].iter().position(|&c| c == b'\n').unwrap_or(n);
            let line = String::from_utf8_lossy(&head[2..line_end])
                .trim()
                .to_string();
            let mut parts = line.splitn(2, [' ', '\t']);
            let interp = parts.next().unwrap_or("").to_string();
            if interp.is_empty() {
                return Err(Errno::ENOEXEC);
            }
            let arg = parts
                .next()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            let mut nargv = vec![interp.clone().into_bytes()];
            if let Some(a) = arg {
                nargv.push(a.into_bytes());
            }
            nargv.push(path.clone().into_bytes());
            if argv.len() > 1 {
                nargv.extend(argv.drain(1..));
            }
            argv = nargv;
            path = interp;
            continue;
        }
        break (inode, full, nosuid);
    };
    // The ids the program runs with come from the file finally run (the
    // interpreter of a script, not the script).
    let st = inode.stat();
    // no_new_privs: the set-id bits give nothing (Linux resets the
    // effective ids to the real ones when they would change).
    let nnp = t.lock().seccomp.no_new_privs;
    // File capabilities count on no nosuid mount (Linux's get_file_caps).
    let fcaps = (!nosuid)
        .then(|| super::caps::file_caps(t, &inode))
        .flatten();
    let nosuid = nosuid || nnp;
    let mode = if nosuid {
        st.mode & !(crate::fs::vfs::S_ISUID | crate::fs::vfs::S_ISGID)
    } else {
        st.mode
    };
    let (mut new_creds, secure) = cred::exec_creds(&creds, mode, st.uid, st.gid);
    let root = super::caps::root_uid(t);
    let secure = super::caps::bprm_caps(&creds, &mut new_creds, fcaps, root, nnp)? || secure;
    let main = Image {
        elf: load_elf(&inode)?,
        inode,
        path: full.clone(),
    };
    let interp = match &main.elf.interp {
        Some(ip) => {
            let (ii, ipath, _) =
                open_exec(t, &creds, sys_fs::AT_FDCWD, ip, false).map_err(|e| {
                    if e == Errno::EACCES {
                        Errno::ELIBBAD
                    } else {
                        e
                    }
                })?;
            unreadable |= !may_read(&creds, &ii);
            let e = load_elf(&ii).map_err(|_| Errno::ELIBBAD)?;
            Some(Image {
                elf: e,
                inode: ii,
                path: ipath,
            })
        }
        None => None,
    };
    // Point of no return: build the new address space. An address space
    // nobody else uses (no other thread, no vfork parent) is emptied and
    // reused, which saves starting a host process.
    let old = t.mm();
    let alone = t.tg().lock().threads.len() == 1 && Arc::strong_count(&old) == 2;
    // The old image's peak stays the process's ru_maxrss.
    let peak = old.lock().peak_rss_kb();
    {
        let tg = t.tg();
        let mut g = tg.lock();
        g.acct.maxrss_kb = g.acct.maxrss_kb.max(peak);
    }
    let mm = if alone {
        old.lock().clear();
        old
    } else {
        drop(old);
        Mm::new()?
    };
    let ids = (&new_creds, secure);
    let r = build(&mm, &main, interp.as_ref(), &argv, &envp, &exec_name, ids);
    let (entry, sp) = match r {
        Ok(v) => v,
        Err(e) => {
            log::debug!("exec {}: {:?}", full, e);
            if alone {
                // The old image is gone: the process cannot go on.
                exit::group_exit(t, super::signal::SIGKILL);
                return Err(Errno::EJUSTRETURN);
            }
            return Err(e);
        }
    };
    // De-thread: other threads of this process go away.
    let tg = t.tg();
    let others: Vec<_> = tg
        .lock()
        .threads
        .iter()
        .copied()
        .filter(|&x| x != t.tid)
        .collect();
    for o in others {
        if let Some(ot) = super::task::task(o) {
            exit::exit_thread(&ot);
        }
    }
    {
        let mut g = tg.lock();
        g.exec_done = true;
        // Linux's begin_new_exec: dumpable again unless the ids differ
        // (setuid or setgid exec) or the program was unreadable.
        g.dumpable = !secure && !unreadable;
        g.creds = new_creds;
    }
    let vfork_parent = {
        let mut i = t.lock();
        i.mm = mm;
        let mut ctx = Context::new();
        ctx.regs.rip = entry;
        ctx.regs.rsp = sp;
        i.ctx = ctx;
        i.altstack = (0, 0, super::signal::SS_DISABLE);
        i.clear_child_tid = 0;
        i.robust_list = 0;
        i.rseq = None;
        // Linux names the task after the file as it was asked for (the
        // symlink, the script), not what it resolved to.
        // From an fd, Linux (6.13+) takes the name of the file run.
        let comm = match target {
            Target::Fd(_) => full.rsplit('/').next().unwrap_or(""),
            Target::Path { .. } => exec_name.rsplit('/').next().unwrap_or(""),
        };
        let comm = comm.strip_suffix(" (deleted)").unwrap_or(comm);
        i.comm = comm.chars().take(15).collect();
        // Unshare and close-on-exec the fd table; reset handlers.
        let table = lock(&i.files).clone();
        let mut table = table;
        if crate::fs::locks::any() {
            // Closing drops the process's record locks on the file.
            for (_, e) in table.iter().filter(|(_, e)| e.cloexec) {
                crate::fs::locks::posix_close(t, &e.file);
            }
        }
        table.close_on_exec();
        i.files = Arc::new(Mutex::new(table));
        let sh = lock(&i.sighand).clone();
        let mut sh = sh;
        sh.reset_for_exec();
        i.sighand = Arc::new(Mutex::new(sh));
        i.vfork_parent.take()
    };
    exit::release_vfork(vfork_parent);
    // POSIX timers do not survive exec (Linux's exit_itimers).
    super::posix_timers::exit_process(t.tgid());
    super::keys::exec(t);
    Ok(())
}

/// Map one ELF image at `bias`; returns nothing but VMAs.
fn map_image(m: &mut crate::mm::MmInner, img: &Image, bias: u64) -> KResult<u64> {
    let mut end = 0;
    for s in &img.elf.segments {
        let prot = (if s.read { PROT_READ } else { 0 })
            | (if s.write { PROT_WRITE } else { 0 })
            | (if s.exec { PROT_EXEC } else { 0 });
        let vstart = page_down(bias + s.vaddr);
        let file_end = page_up(bias + s.vaddr + s.filesz);
        let mem_end = page_up(bias + s.vaddr + s.memsz);
        if mem_end > crate::mm::TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        if file_end > vstart {
            m.unmap(vstart, file_end);
            m.insert_vma(Vma {
                start: vstart,
                end: file_end,
                prot,
                shared: false,
                backing: Backing::File {
                    inode: img.inode.clone(),
                    offset: page_down(s.offset),
                    path: img.path.clone(),
                },
                label: "",
            })?;
        }
        if mem_end > file_end {
            m.unmap(file_end, mem_end);
            m.insert_vma(Vma {
                start: file_end,
                end: mem_end,
                prot,
                shared: false,
                backing: Backing::Anon,
                label: "",
            })?;
        }
        // Zero the bss part of the last file page.
        let fz = bias + s.vaddr + s.filesz;
        if s.memsz > s.filesz && fz % 4096 != 0 && s.write {
            let n = (page_up(fz) - fz) as usize;
            m.write(fz, &vec![0u8; n])?;
        }
        end = end.max(mem_end);
    }
    Ok(end)
}

/// Code and data bounds of the main image, computed as Linux's
/// load_elf_binary does (data: from the highest segment start to the
/// highest end of file contents).
fn layout_of(img: &Image, bias: u64) -> crate::mm::stats::Layout {
    let mut l = crate::mm::stats::Layout {
        start_code: u64::MAX,
        ..Default::default()
    };
    for s in &img.elf.segments {
        let (start, end) = (bias + s.vaddr, bias + s.vaddr + s.filesz);
        if s.exec {
            l.start_code = l.start_code.min(start);
            l.end_code = l.end_code.max(end);
        }
        l.start_data = l.start_data.max(start);
        l.end_data = l.end_data.max(end);
    }
    if l.start_code == u64::MAX {
        l.start_code = 0;
    }
    l
}

type Entry = (u64, u64);

/// Map the images and build the initial stack; `ids`: the credentials
/// the program runs with and whether the exec is secure (AT_SECURE).
fn build(
    mm: &Arc<Mm>,
    main: &Image,
    interp: Option<&Image>,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    exec_name: &str,
    ids: (&Creds, bool),
) -> KResult<Entry> {
    let mut m = mm.lock();
    let (lo, _hi) = main.elf.span();
    let bias = match main.elf.kind {
        ElfKind::Exec => 0,
        ElfKind::Dyn => ET_DYN_BASE - lo,
    };
    let end = map_image(&mut m, main, bias)?;
    m.layout = layout_of(main, bias);
    m.brk_start = end;
    m.brk = end;
    m.exe = main.path.clone();
    let (interp_bias, entry) = match interp {
        Some(ii) => {
            let (ilo, ihi) = ii.elf.span();
            let base = m.unmapped_area(0, ihi - ilo)?;
            let b = base - ilo;
            map_image(&mut m, ii, b)?;
            (b + ilo, b + ii.elf.entry)
        }
        None => (0, bias + main.elf.entry),
    };
    log::debug!(
        "exec {}: bias {:#x} interp base {:#x} entry {:#x}",
        main.path,
        bias,
        interp_bias,
        entry
    );
    m.insert_vma(Vma {
        start: STACK_TOP - STACK_SIZE,
        end: STACK_TOP,
        prot: PROT_READ | PROT_WRITE,
        shared: false,
        backing: Backing::Anon,
        label: "[stack]",
    })?;
    let vdso = super::vdso::map_into(&mut m)?;
    // Strings at the top of the stack.
    let mut strings: Vec<u8> = Vec::new();
    let mut offs_argv = Vec::new();
    let mut offs_envp = Vec::new();
    for a in argv {
        offs_argv.push(strings.len());
        strings.extend_from_slice(a);
        strings.push(0);
    }
    for e in envp {
        offs_envp.push(strings.len());
        strings.extend_from_slice(e);
        strings.push(0);
    }
    let off_execfn = strings.len();
    strings.extend_from_slice(exec_name.as_bytes());
    strings.push(0);
    let off_platform = strings.len();
    strings.extend_from_slice(b"x86_64\0");
    let off_random = strings.len();
    let mut rnd = [0u8; 16];
    crate::drivers::char::host_console::host_random(&mut rnd);
    strings.extend_from_slice(&rnd);
    let str_base = (STACK_TOP - 8 - strings.len() as u64) & !15;
    m.write(str_base, &strings)?;
    let phdr = main.elf.phdr_vaddr.map(|v| v + bias).unwrap_or(0);
    let (creds, secure) = ids;
    let fpu_len = Context::new().fpu.len() as u64;
    let mut auxv: Vec<(u64, u64)> = vec![
        (16, arch::cpu::hwcap()),
        (6, 4096),
        (17, 100),
        (3, phdr),
        (4, 56),
        (5, main.elf.phnum as u64),
        (7, interp_bias),
        (8, 0),
        (9, bias + main.elf.entry),
        (11, creds.uid as u64),
        (12, creds.euid as u64),
        (13, creds.gid as u64),
        (14, creds.egid as u64),
        (23, secure as u64),
        (25, str_base + off_random as u64),
        (26, 2),
        (31, str_base + off_execfn as u64),
        (15, str_base + off_platform as u64),
        (51, fpu_len + 1024),
        (
            crate::abi::rseq::AT_RSEQ_FEATURE_SIZE,
            crate::abi::rseq::RSEQ_FEATURE_SIZE as u64,
        ),
        (
            crate::abi::rseq::AT_RSEQ_ALIGN,
            crate::abi::rseq::RSEQ_ALIGN,
        ),
        (0, 0),
    ];
    if vdso != 0 {
        // AT_SYSINFO_EHDR first, where Linux's ARCH_DLINFO puts it.
        auxv.insert(0, (33, vdso));
    }
    let words = 1 + argv.len() + 1 + envp.len() + 1 + auxv.len() * 2;
    let sp = (str_base - words as u64 * 8) & !15;
    // The initial stack is 64-bit words: argc, argv[], NULL, envp[],
    // NULL, then the auxv (type, value) pairs ending in AT_NULL.
    let mut v: Vec<u64> = Vec::with_capacity(words);
    v.push(argv.len() as u64);
    v.extend(offs_argv.iter().map(|o| str_base + *o as u64));
    v.push(0);
    v.extend(offs_envp.iter().map(|o| str_base + *o as u64));
    v.push(0);
    let aux_at = v.len();
    for (k, val) in auxv {
        v.extend([k, val]);
    }
    m.saved_auxv = v[aux_at..].to_vec();
    m.write(sp, bytemuck::cast_slice(&v))?;
    m.layout.start_stack = sp;
    m.arg_start = str_base;
    m.arg_end = str_base + offs_envp.first().copied().unwrap_or(off_execfn) as u64;
    m.env_start = m.arg_end;
    m.env_end = str_base + off_execfn as u64;
    Ok((entry, sp))
}
