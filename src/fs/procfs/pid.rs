//! /proc/PID: the per-process directory and its files other than the
//! accounting ones (cmdline, environ, comm, maps, mounts, exe, cwd, root,
//! fd/, task/).

use super::pid_limits::proc_limits;
use super::pid_smaps::{proc_smaps, proc_smaps_rollup};
use super::pid_stat::{proc_stat, proc_statm, proc_status};
use super::{pid_node, Guard, Kind};
use crate::fs::file::{FdEntry, File, FileOps};
use crate::fs::vfs::{Dentry, Inode, Path, Stat, S_IFDIR, S_IFLNK, S_IFREG};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::ns::{pid as pidns, Ns};
use crate::kernel::task::{self, lock, Pid};
use crate::mm::{Backing, Vma, PROT_EXEC, PROT_READ, PROT_WRITE};
use std::sync::Arc;

pub(super) fn group_task(pid: Pid) -> KResult<Arc<task::Task>> {
    let g = task::group(pid).ok_or(Errno::ENOENT)?;
    let tid = g.lock().threads.first().copied().ok_or(Errno::ENOENT)?;
    task::task(tid).ok_or(Errno::ENOENT)
}

pub(super) fn state_char(pid: Pid) -> char {
    let Some(g) = task::group(pid) else {
        return 'X';
    };
    let i = g.lock();
    if i.zombie.is_some() {
        return 'Z';
    }
    if i.stopped {
        return 'T';
    }
    let first = i.threads.first().copied();
    drop(i);
    first
        .and_then(task::task)
        .map_or('S', |t| thread_state_char(&t))
}

/// A live thread's state letter (its process may still be stopped).
pub(super) fn thread_state_char(t: &task::Task) -> char {
    match t.state() {
        task::State::Runnable => 'R',
        task::State::Stopped => 'T',
        task::State::Dead => 'X',
        _ if crate::kernel::ptrace::in_stop(t.tid) => 't',
        _ if t.lock().io_wait => 'D',
        _ => 'S',
    }
}

/// A file of process `pid` with permission bits `perm`.
fn pfile(
    pid: Pid,
    guard: Guard,
    path: &str,
    perm: u32,
    g: impl Fn() -> KResult<String> + Send + Sync + 'static,
) -> Arc<dyn Inode> {
    pid_node(pid, guard, path, S_IFREG | perm, Kind::File(Arc::new(g)))
}

/// A public (0444) file of process `pid`.
fn public(
    pid: Pid,
    path: &str,
    g: impl Fn() -> KResult<String> + Send + Sync + 'static,
) -> Arc<dyn Inode> {
    pfile(pid, Guard::Mode, path, 0o444, g)
}

/// /proc/PID/mounts (`info`: mountinfo), 0444, pollable for changes.
fn mounts_node(pid: Pid, path: &str, info: bool) -> Arc<dyn Inode> {
    let text: Arc<dyn Fn() -> KResult<String> + Send + Sync> =
        Arc::new(move || proc_mounts(pid, info));
    pid_node(
        pid,
        Guard::Mode,
        path,
        S_IFREG | 0o444,
        Kind::Ops(Arc::new(move || super::pid_mounts::open(text.clone()))),
    )
}

/// A link into process `pid`'s files (exe, cwd, root, fd/N): only those
/// who may ptrace-read it may read or follow it.
fn plink(
    pid: Pid,
    path: &str,
    g: impl Fn() -> KResult<String> + Send + Sync + 'static,
) -> Arc<dyn Inode> {
    pid_node(
        pid,
        Guard::Ptrace,
        path,
        S_IFLNK | 0o777,
        Kind::Link(Arc::new(g)),
    )
}

/// A directory of process `pid` with permission bits `perm`.
fn pdir(
    pid: Pid,
    guard: Guard,
    path: &str,
    perm: u32,
    l: impl Fn() -> Vec<(String, Arc<dyn Inode>)> + Send + Sync + 'static,
) -> Arc<dyn Inode> {
    pid_node(pid, guard, path, S_IFDIR | perm, Kind::Dir(Arc::new(l)))
}

/// /proc/PID. Modes and guards as Linux's fs/proc/base.c: environ is
/// 0400 and, like maps, opens only for those who may ptrace-read the
/// process; fd/ is 0500.
/// `ns` is the proc mount's pid namespace, which numbers the pids shown.
pub(super) fn pid_dir(pid: Pid, ns: Arc<Ns>) -> Arc<dyn Inode> {
    let base = format!("/{pid}");
    let b = base.clone();
    pdir(pid, Guard::Mode, &base, 0o555, move || {
        let p = pid;
        let b = b.clone();
        let (ns1, ns2, ns3) = (ns.clone(), ns.clone(), ns.clone());
        let mut v = super::pid_ns::map_files(p, &b);
        v.push(("ns".into(), super::pid_ns::ns_dir(p, &b)));
        v.extend([
            (
                "stat".into(),
                public(p, &format!("{b}/stat"), move || proc_stat(&ns1, p, None)),
            ),
            (
                "status".into(),
                public(p, &format!("{b}/status"), move || proc_status(&ns2, p)),
            ),
            (
                "statm".into(),
                public(p, &format!("{b}/statm"), move || proc_statm(p)),
            ),
            (
                "cmdline".into(),
                public(p, &format!("{b}/cmdline"), move || proc_cmdline(p, false)),
            ),
            (
                "environ".into(),
                pfile(
                    p,
                    Guard::Ptrace,
                    &format!("{b}/environ"),
                    0o400,
                    move || proc_cmdline(p, true),
                ),
            ),
            (
                "comm".into(),
                public(p, &format!("{b}/comm"), move || {
                    Ok(format!("{}\n", group_task(p)?.lock().comm))
                }),
            ),
            ("mem".into(), super::pid_mem_node(p, &format!("{b}/mem"))),
            (
                "auxv".into(),
                pid_node(
                    p,
                    Guard::Ptrace,
                    &format!("{b}/auxv"),
                    S_IFREG | 0o400,
                    Kind::Bytes(Arc::new(move || {
                        let words = group_task(p)?.mm().lock().saved_auxv.clone();
                        Ok(bytemuck::cast_slice(&words).to_vec())
                    })),
                ),
            ),
            (
                "maps".into(),
                pfile(p, Guard::Ptrace, &format!("{b}/maps"), 0o444, move || {
                    proc_maps(p)
                }),
            ),
            (
                "smaps".into(),
                pfile(p, Guard::Ptrace, &format!("{b}/smaps"), 0o444, move || {
                    proc_smaps(p)
                }),
            ),
            (
                "smaps_rollup".into(),
                pfile(
                    p,
                    Guard::Ptrace,
                    &format!("{b}/smaps_rollup"),
                    0o444,
                    move || proc_smaps_rollup(p),
                ),
            ),
            (
                "cgroup".into(),
                public(p, &format!("{b}/cgroup"), move || {
                    crate::fs::cgroup::proc_cgroup(p)
                }),
            ),
            (
                "oom_score_adj".into(),
                pid_node(
                    p,
                    Guard::Mode,
                    &format!("{b}/oom_score_adj"),
                    S_IFREG | 0o644,
                    Kind::Sysctl(
                        Arc::new(move || super::pid_oom::show(p)),
                        Arc::new(move |v: &str| super::pid_oom::set(p, v)),
                    ),
                ),
            ),
            (
                "limits".into(),
                public(p, &format!("{b}/limits"), move || proc_limits(p)),
            ),
            (
                "mounts".into(),
                mounts_node(p, &format!("{b}/mounts"), false),
            ),
            (
                "mountinfo".into(),
                mounts_node(p, &format!("{b}/mountinfo"), true),
            ),
            (
                "exe".into(),
                plink(p, &format!("{b}/exe"), move || {
                    Ok(group_task(p)?.mm().lock().exe.clone())
                }),
            ),
            (
                "cwd".into(),
                plink(p, &format!("{b}/cwd"), move || {
                    let fs = group_task(p)?.fs();
                    Ok(fs.cwd.path_name(&fs.root))
                }),
            ),
            (
                "root".into(),
                plink(p, &format!("{b}/root"), || Ok("/".into())),
            ),
            ("fd".into(), fd_dir(p, &b)),
            ("fdinfo".into(), fdinfo_dir(p, &b, ns.clone())),
            ("task".into(), {
                let bb = b.clone();
                pdir(p, Guard::Mode, &format!("{b}/task"), 0o555, move || {
                    let threads = task::group(p)
                        .map(|g| g.lock().threads.clone())
                        .unwrap_or_default();
                    threads
                        .into_iter()
                        .filter(|&tid| pidns::nr_in(tid, &ns3) > 0)
                        .map(|tid| {
                            let ns4 = ns3.clone();
                            let d = pdir(
                                p,
                                Guard::Mode,
                                &format!("{bb}/task/{tid}"),
                                0o555,
                                move || {
                                    vec![
                                        (
                                            "stat".into(),
                                            public(p, &format!("/task/{tid}/stat"), {
                                                let ns5 = ns4.clone();
                                                move || proc_stat(&ns5, p, Some(tid))
                                            }),
                                        ),
                                        // The process's memory (debuggers
                                        // open it per thread).
                                        (
                                            "mem".into(),
                                            super::pid_mem_node(p, &format!("/task/{tid}/mem")),
                                        ),
                                    ]
                                },
                            );
                            (pidns::nr_in(tid, &ns3).to_string(), d)
                        })
                        .collect()
                })
            }),
        ]);
        v
    })
}

/// A directory of process `pid` at `path` with one entry per open fd,
/// made by `entry(path of the entry, fd entry)` (fd, fdinfo).
fn per_fd_dir(
    pid: Pid,
    path: String,
    entry: impl Fn(String, &FdEntry) -> Arc<dyn Inode> + Send + Sync + 'static,
) -> Arc<dyn Inode> {
    let b = path.clone();
    pid_node(
        pid,
        Guard::OwnFds,
        &path,
        S_IFDIR | 0o500,
        Kind::NumDir(Arc::new(move || {
            let Ok(t) = group_task(pid) else {
                return Vec::new();
            };
            let files = t.files();
            let table = lock(&files);
            table
                .iter()
                .map(|(fd, e)| (fd.to_string(), entry(format!("{b}/{fd}"), e)))
                .collect()
        })),
    )
}

fn fd_dir(pid: Pid, base: &str) -> Arc<dyn Inode> {
    per_fd_dir(pid, format!("{base}/fd"), move |path, e| {
        let f = e.file.clone();
        let f2 = e.file.clone();
        pid_node(
            pid,
            Guard::Ptrace,
            &path,
            S_IFLNK | 0o777,
            Kind::Magic(
                Arc::new(move || Ok(file_name(&f))),
                Arc::new(move || Ok(fd_target(&f2))),
            ),
        )
    })
}

/// /proc/PID/fdinfo: one file per fd, readable by those who may
/// ptrace-read the process.
fn fdinfo_dir(pid: Pid, base: &str, ns: Arc<Ns>) -> Arc<dyn Inode> {
    per_fd_dir(pid, format!("{base}/fdinfo"), move |path, e| {
        let (f, cloexec) = (e.file.clone(), e.cloexec);
        let ns = ns.clone();
        pfile(pid, Guard::Ptrace, &path, 0o400, move || {
            Ok(super::pid_fdinfo::fdinfo(&f, cloexec, &ns))
        })
    })
}

/// Where following /proc/PID/fd/N leads: the file's own dentry; for a
/// pipe its inode (reopening makes a new end); for other inode-less files
/// (sockets) an inode that cannot be opened (ENXIO, as Linux).
fn fd_target(f: &File) -> Path {
    if let Some(p) = &f.path {
        return p.clone();
    }
    let name = file_name(f);
    let inode = match f.ops.anon_inode() {
        Some(i) => i,
        None => Arc::new(NoOpen(f.ops.stat().unwrap_or_default())),
    };
    Arc::new(Dentry {
        name,
        parent: None,
        inode,
    })
}

/// An inode-less file's stand-in behind its magic link: stat works,
/// open fails with ENXIO (Linux's sock_no_open).
struct NoOpen(Stat);

impl Inode for NoOpen {
    fn stat(&self) -> Stat {
        self.0.clone()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        Err(Errno::ENXIO)
    }
}

fn file_name(f: &File) -> String {
    if let Some(p) = &f.path {
        // A pipe reopened through /proc/PID/fd/N: a dentry of its own.
        if p.parent.is_none() && !p.name.is_empty() {
            return p.name.clone();
        }
        let root = p.clone();
        let mut r = root;
        while let Some(par) = r.parent.clone() {
            r = par;
        }
        return p.path_name(&r);
    }
    f.ops
        .name()
        .unwrap_or_else(|| "anon_inode:[unknown]".into())
}

fn proc_cmdline(pid: Pid, env: bool) -> KResult<String> {
    // A zombie has no address space left: empty, as Linux.
    let g = task::group(pid).ok_or(Errno::ENOENT)?;
    if g.lock().zombie.is_some() {
        return Ok(String::new());
    }
    let t = group_task(pid)?;
    let mm = t.mm();
    let (s, e) = {
        let m = mm.lock();
        if env {
            (m.env_start, m.env_end)
        } else {
            (m.arg_start, m.arg_end)
        }
    };
    if e <= s || e - s > 1 << 20 {
        return Ok(String::new());
    }
    let v = mm.read_vec(s, (e - s) as usize).unwrap_or_default();
    Ok(String::from_utf8_lossy(&v).into_owned())
}

fn proc_maps(pid: Pid) -> KResult<String> {
    let t = group_task(pid)?;
    let mm = t.mm();
    let m = mm.lock();
    Ok(m.vmas().map(|v| maps_line(v) + "\n").collect())
}

/// One line of /proc/PID/maps (without the newline); smaps heads each
/// VMA's block with it.
pub(super) fn maps_line(v: &Vma) -> String {
    let perms = format!(
        "{}{}{}{}",
        if v.prot & PROT_READ != 0 { 'r' } else { '-' },
        if v.prot & PROT_WRITE != 0 { 'w' } else { '-' },
        if v.prot & PROT_EXEC != 0 { 'x' } else { '-' },
        if v.shared { 's' } else { 'p' }
    );
    let (off, dev, ino, name) = match &v.backing {
        Backing::File {
            inode,
            offset,
            path,
        } => {
            let st = inode.stat();
            (*offset, st.dev, st.ino, path.clone())
        }
        Backing::Anon => (0, 0, 0, v.label.to_string()),
    };
    maps_prefix(v.start, v.end, &perms, off, dev, ino, &name)
}

/// A maps line from its fields: the filesystem's device as Linux prints
/// it (major:minor in hex), the name padded to column 74.
pub(super) fn maps_prefix(
    start: u64,
    end: u64,
    perms: &str,
    off: u64,
    dev: u64,
    ino: u64,
    name: &str,
) -> String {
    let line = format!(
        "{:08x}-{:08x} {} {:08x} {:02x}:{:02x} {}",
        start,
        end,
        perms,
        off,
        crate::drivers::major(dev),
        crate::drivers::minor(dev),
        ino
    );
    if name.is_empty() {
        line
    } else {
        format!("{:<73}{}", line, name)
    }
}

/// /proc/PID/mounts (`info`: mountinfo): the mounts of the process's
/// namespace that its root reaches, as it sees them.
fn proc_mounts(pid: Pid, info: bool) -> KResult<String> {
    let t = group_task(pid)?;
    let ns = crate::kernel::ns::of(&t).mnt.ino;
    let root = t.fs().root;
    Ok(crate::fs::mount::proc_text(ns, &root, info))
}
