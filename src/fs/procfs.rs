//! procfs: process and kernel information generated when read.

use super::file::{File, FileOps};
use super::vfs::*;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{self, lock, Pid};
use crate::mm::{Backing, PROT_EXEC, PROT_READ, PROT_WRITE};
use std::any::Any;
use std::sync::Arc;

type Gen = Arc<dyn Fn() -> KResult<String> + Send + Sync>;
type List = Arc<dyn Fn() -> Vec<(String, Arc<dyn Inode>)> + Send + Sync>;

static DEV: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
fn dev() -> u64 {
    *DEV.get_or_init(super::tmpfs::new_dev)
}

fn ino_of(path: &str) -> u64 {
    // FNV-1a: stable inode numbers per path.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h | 1
}

enum Kind {
    File(Gen),
    Link(Gen),
    Dir(List),
}

struct ProcNode {
    ino: u64,
    mode: u32,
    kind: Kind,
}

fn node(path: &str, mode: u32, kind: Kind) -> Arc<dyn Inode> {
    Arc::new(ProcNode {
        ino: ino_of(path),
        mode,
        kind,
    })
}

fn file(path: &str, g: impl Fn() -> KResult<String> + Send + Sync + 'static) -> Arc<dyn Inode> {
    node(path, S_IFREG | 0o444, Kind::File(Arc::new(g)))
}

fn link(path: &str, g: impl Fn() -> KResult<String> + Send + Sync + 'static) -> Arc<dyn Inode> {
    node(path, S_IFLNK | 0o777, Kind::Link(Arc::new(g)))
}

fn dir(
    path: &str,
    l: impl Fn() -> Vec<(String, Arc<dyn Inode>)> + Send + Sync + 'static,
) -> Arc<dyn Inode> {
    node(path, S_IFDIR | 0o555, Kind::Dir(Arc::new(l)))
}

struct Snapshot(Vec<u8>);

impl FileOps for Snapshot {
    fn read(&self, f: &File, buf: &mut [u8]) -> KResult<usize> {
        let mut pos = f.lock_pos();
        let p = (*pos as usize).min(self.0.len());
        let n = buf.len().min(self.0.len() - p);
        buf[..n].copy_from_slice(&self.0[p..p + n]);
        *pos += n as u64;
        Ok(n)
    }
    fn pread(&self, _f: &File, buf: &mut [u8], off: u64) -> KResult<usize> {
        let p = (off as usize).min(self.0.len());
        let n = buf.len().min(self.0.len() - p);
        buf[..n].copy_from_slice(&self.0[p..p + n]);
        Ok(n)
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        // Writes to tunables are accepted and ignored.
        Ok(buf.len())
    }
    fn seek(&self, f: &File, off: i64, whence: u32) -> KResult<u64> {
        let mut pos = f.lock_pos();
        let base = match whence {
            0 => 0,
            1 => *pos as i64,
            2 => self.0.len() as i64,
            _ => return Err(Errno::EINVAL),
        };
        let n = base + off;
        if n < 0 {
            return Err(Errno::EINVAL);
        }
        *pos = n as u64;
        Ok(n as u64)
    }
}

impl Inode for ProcNode {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn stat(&self) -> Stat {
        let now = Timespec::now();
        Stat {
            dev: dev(),
            ino: self.ino,
            mode: self.mode,
            nlink: if self.mode & S_IFMT == S_IFDIR { 2 } else { 1 },
            blksize: 1024,
            atime: now,
            mtime: now,
            ctime: now,
            ..Default::default()
        }
    }
    fn lookup(&self, name: &str) -> KResult<Arc<dyn Inode>> {
        match &self.kind {
            Kind::Dir(l) => l()
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|x| x.1)
                .ok_or(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        match &self.kind {
            Kind::Dir(l) => Ok(l()
                .into_iter()
                .map(|(n, i)| {
                    let st = i.stat();
                    DirEntry {
                        name: n,
                        ino: st.ino,
                        dtype: dtype_of(st.mode),
                    }
                })
                .collect()),
            _ => Err(Errno::ENOTDIR),
        }
    }
    fn readlink(&self) -> KResult<String> {
        match &self.kind {
            Kind::Link(g) => g(),
            _ => Err(Errno::EINVAL),
        }
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        match &self.kind {
            Kind::File(g) => {
                let s = g()?.into_bytes();
                let p = (off as usize).min(s.len());
                let n = buf.len().min(s.len() - p);
                buf[..n].copy_from_slice(&s[p..p + n]);
                Ok(n)
            }
            _ => Err(Errno::EISDIR),
        }
    }
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        match &self.kind {
            Kind::File(g) => Ok(Some(Arc::new(Snapshot(g()?.into_bytes())))),
            _ => Ok(None),
        }
    }
    fn fs_magic(&self) -> u64 {
        PROC_SUPER_MAGIC
    }
}

/// The root of a procfs instance.
pub fn new_fs() -> Arc<dyn Inode> {
    dir("/", || {
        let mut v: Vec<(String, Arc<dyn Inode>)> = vec![
            (
                "self".into(),
                link("/self", || current_tgid().map(|p| p.to_string())),
            ),
            (
                "thread-self".into(),
                link("/thread-self", || {
                    current_tgid().map(|p| format!("{p}/task/{p}"))
                }),
            ),
            ("meminfo".into(), file("/meminfo", meminfo)),
            ("cpuinfo".into(), file("/cpuinfo", cpuinfo)),
            (
                "mounts".into(),
                link("/mounts", || Ok("self/mounts".into())),
            ),
            ("uptime".into(), file("/uptime", uptime)),
            (
                "partitions".into(),
                file("/partitions", || {
                    Ok(crate::drivers::block::proc_partitions())
                }),
            ),
            ("loadavg".into(), file("/loadavg", loadavg)),
            (
                "filesystems".into(),
                file("/filesystems", || {
                    Ok("nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\nnodev\tramfs\n\text3\n\text2\n\text4\n".into())
                }),
            ),
            (
                "version".into(),
                file("/version", || {
                    Ok(format!(
                        "Linux version {} (ruml {}) #1 SMP\n",
                        crate::kernel::sys_proc::RELEASE,
                        env!("CARGO_PKG_VERSION")
                    ))
                }),
            ),
            (
                "cmdline".into(),
                file("/cmdline", || {
                    Ok(format!("{}\n", crate::init::cmdline_string()))
                }),
            ),
            ("stat".into(), file("/stat", kstat)),
            ("net".into(), net_dir()),
            ("sys".into(), sys_dir()),
        ];
        for g in task::all_groups() {
            let pid = g.tgid;
            v.push((pid.to_string(), pid_dir(pid)));
        }
        v
    })
}

/// /proc/net: the socket tables of the internet families.
fn net_dir() -> Arc<dyn Inode> {
    use crate::net::inet::procfs::{tcp, udp};
    dir("/net", || {
        vec![
            ("tcp".into(), file("/net/tcp", || Ok(tcp(false)))),
            ("tcp6".into(), file("/net/tcp6", || Ok(tcp(true)))),
            ("udp".into(), file("/net/udp", || Ok(udp(false)))),
            ("udp6".into(), file("/net/udp6", || Ok(udp(true)))),
        ]
    })
}

fn sys_dir() -> Arc<dyn Inode> {
    dir("/sys", || {
        vec![(
            "kernel".into(),
            dir("/sys/kernel", || {
                vec![
                    (
                        "hostname".into(),
                        file("/sys/kernel/hostname", || {
                            Ok(format!("{}\n", crate::kernel::sys_proc::hostname()))
                        }),
                    ),
                    (
                        "ostype".into(),
                        file("/sys/kernel/ostype", || Ok("Linux\n".into())),
                    ),
                    (
                        "osrelease".into(),
                        file("/sys/kernel/osrelease", || {
                            Ok(format!("{}\n", crate::kernel::sys_proc::RELEASE))
                        }),
                    ),
                    (
                        "pid_max".into(),
                        file("/sys/kernel/pid_max", || Ok("32768\n".into())),
                    ),
                    (
                        "ngroups_max".into(),
                        file("/sys/kernel/ngroups_max", || Ok("65536\n".into())),
                    ),
                ]
            }),
        )]
    })
}

thread_local! {
    static CURRENT: std::cell::Cell<Pid> = const { std::cell::Cell::new(0) };
}

/// The process making the current syscall (for /proc/self).
pub fn set_current(tgid: Pid) {
    CURRENT.with(|c| c.set(tgid));
}

fn current_tgid() -> KResult<Pid> {
    let p = CURRENT.with(|c| c.get());
    if p == 0 {
        Err(Errno::ENOENT)
    } else {
        Ok(p)
    }
}

fn meminfo() -> KResult<String> {
    let (total, free) = crate::mm::frame::stats();
    let (cached, buffers) = crate::fs::ext4::cache_frames();
    let kb = |f: u64| f * 4;
    Ok(format!(
        "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\nBuffers:        {:8} kB\nCached:         {:8} kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\nShmem:                 0 kB\n",
        kb(total),
        kb(free),
        // Clean cache comes back under pressure; dirty pages are few.
        kb(free + cached + buffers),
        kb(buffers),
        kb(cached)
    ))
}

fn cpuinfo() -> KResult<String> {
    Ok(format!(
        "processor\t: 0\nvendor_id\t: ruml\nmodel name\t: {}\nflags\t\t: {}\nbogomips\t: 4000.00\n\n",
        crate::arch::cpu::model_name(),
        crate::arch::cpu::flags()
    ))
}

fn uptime() -> KResult<String> {
    let ns = crate::kernel::time::uptime_ns();
    Ok(format!(
        "{}.{:02} 0.00\n",
        ns / 1_000_000_000,
        (ns / 10_000_000) % 100
    ))
}

fn loadavg() -> KResult<String> {
    let n = task::all_tasks().len();
    Ok(format!("0.00 0.00 0.00 1/{} {}\n", n, n))
}

fn kstat() -> KResult<String> {
    let ticks = crate::kernel::time::uptime_ns() / 10_000_000;
    Ok(format!(
        "cpu  0 0 0 {ticks} 0 0 0 0 0 0\ncpu0 0 0 0 {ticks} 0 0 0 0 0 0\nbtime {}\nprocesses {}\nprocs_running 1\nprocs_blocked 0\n",
        (crate::kernel::time::realtime_ns() - crate::kernel::time::uptime_ns()) / 1_000_000_000,
        task::all_groups().len()
    ))
}

fn group_task(pid: Pid) -> KResult<Arc<task::Task>> {
    let g = task::group(pid).ok_or(Errno::ENOENT)?;
    let tid = g.lock().threads.first().copied().ok_or(Errno::ENOENT)?;
    task::task(tid).ok_or(Errno::ENOENT)
}

fn state_char(pid: Pid) -> char {
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
    match first.and_then(task::task) {
        Some(t) if t.state() == task::State::Runnable => 'R',
        Some(t) if t.lock().io_wait => 'D',
        _ => 'S',
    }
}

fn pid_dir(pid: Pid) -> Arc<dyn Inode> {
    let base = format!("/{pid}");
    let b = base.clone();
    dir(&base, move || {
        let p = pid;
        let b = b.clone();
        vec![
            (
                "stat".into(),
                file(&format!("{b}/stat"), move || proc_stat(p)),
            ),
            (
                "status".into(),
                file(&format!("{b}/status"), move || proc_status(p)),
            ),
            (
                "statm".into(),
                file(&format!("{b}/statm"), move || {
                    let t = group_task(p)?;
                    let n = t.mm().lock().resident_pages();
                    Ok(format!("{n} {n} 0 0 0 0 0\n"))
                }),
            ),
            (
                "cmdline".into(),
                file(&format!("{b}/cmdline"), move || proc_cmdline(p, false)),
            ),
            (
                "environ".into(),
                file(&format!("{b}/environ"), move || proc_cmdline(p, true)),
            ),
            (
                "comm".into(),
                file(&format!("{b}/comm"), move || {
                    Ok(format!("{}\n", group_task(p)?.lock().comm))
                }),
            ),
            (
                "maps".into(),
                file(&format!("{b}/maps"), move || proc_maps(p)),
            ),
            ("mounts".into(), file(&format!("{b}/mounts"), proc_mounts)),
            (
                "mountinfo".into(),
                file(&format!("{b}/mountinfo"), proc_mountinfo),
            ),
            (
                "exe".into(),
                link(&format!("{b}/exe"), move || {
                    Ok(group_task(p)?.mm().lock().exe.clone())
                }),
            ),
            (
                "cwd".into(),
                link(&format!("{b}/cwd"), move || {
                    let fs = group_task(p)?.fs();
                    Ok(fs.cwd.path_name(&fs.root))
                }),
            ),
            ("root".into(), link(&format!("{b}/root"), || Ok("/".into()))),
            ("fd".into(), fd_dir(p, &b)),
            ("task".into(), {
                let bb = b.clone();
                dir(&format!("{b}/task"), move || {
                    let threads = task::group(p)
                        .map(|g| g.lock().threads.clone())
                        .unwrap_or_default();
                    threads
                        .into_iter()
                        .map(|tid| {
                            let d: Arc<dyn Inode> = dir(&format!("{bb}/task/{tid}"), move || {
                                vec![(
                                    "stat".into(),
                                    file(&format!("/task/{tid}/stat"), move || proc_stat(p)),
                                )]
                            });
                            (tid.to_string(), d)
                        })
                        .collect()
                })
            }),
        ]
    })
}

fn fd_dir(pid: Pid, base: &str) -> Arc<dyn Inode> {
    let b = format!("{base}/fd");
    let b2 = b.clone();
    dir(&b, move || {
        let Ok(t) = group_task(pid) else {
            return Vec::new();
        };
        let files = t.files();
        let table = lock(&files);
        table
            .iter()
            .map(|(fd, e)| {
                let f = e.file.clone();
                let l = link(&format!("{b2}/{fd}"), move || Ok(file_name(&f)));
                (fd.to_string(), l)
            })
            .collect()
    })
}

fn file_name(f: &File) -> String {
    if let Some(p) = &f.path {
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

fn proc_stat(pid: Pid) -> KResult<String> {
    let t = group_task(pid)?;
    let g = task::group(pid).ok_or(Errno::ENOENT)?;
    let (ppid, pgid, sid) = {
        let i = g.lock();
        (i.parent, i.pgid, i.sid)
    };
    let comm = t.lock().comm.clone();
    let start = (t.lock().start_time
        - (crate::kernel::time::monotonic_ns() - crate::kernel::time::uptime_ns()))
        / 10_000_000;
    let rss = t.mm().lock().resident_pages();
    let nthreads = g.lock().threads.len();
    // tty_nr (the device number, Linux's new_encode_dev like our rdev)
    // and tpgid (its foreground group) of the controlling tty.
    let (tty_nr, tpgid) =
        crate::tty::jobctl::ctty_of(&t).map_or((0, -1), |c| (c.rdev, c.foreground()));
    Ok(format!(
        "{pid} ({comm}) {} {ppid} {pgid} {sid} {tty_nr} {tpgid} 4194304 0 0 0 0 0 0 0 0 20 0 {nthreads} 0 {start} {} {rss} 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
        state_char(pid),
        rss * 4096
    ))
}

fn proc_status(pid: Pid) -> KResult<String> {
    let t = group_task(pid)?;
    let g = task::group(pid).ok_or(Errno::ENOENT)?;
    let (ppid, threads, creds) = {
        let i = g.lock();
        (i.parent, i.threads.len(), i.creds.clone())
    };
    let (comm, mask) = {
        let i = t.lock();
        (i.comm.clone(), i.sigmask)
    };
    let rss = t.mm().lock().resident_pages() * 4;
    let st = match state_char(pid) {
        'R' => "R (running)",
        'T' => "T (stopped)",
        'Z' => "Z (zombie)",
        'D' => "D (disk sleep)",
        _ => "S (sleeping)",
    };
    Ok(format!(
        "Name:\t{comm}\nUmask:\t{:04o}\nState:\t{st}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{ppid}\nTracerPid:\t0\nUid:\t{u}\t{eu}\t{u}\t{u}\nGid:\t{gi}\t{eg}\t{gi}\t{gi}\nFDSize:\t64\nGroups:\t\nVmRSS:\t{rss} kB\nThreads:\t{threads}\nSigBlk:\t{mask:016x}\nCpus_allowed:\t1\nCpus_allowed_list:\t0\n",
        t.fs().umask,
        u = creds.uid,
        eu = creds.euid,
        gi = creds.gid,
        eg = creds.egid,
    ))
}

fn proc_cmdline(pid: Pid, env: bool) -> KResult<String> {
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
    let mut out = String::new();
    for v in m.vmas() {
        let perms = format!(
            "{}{}{}{}",
            if v.prot & PROT_READ != 0 { 'r' } else { '-' },
            if v.prot & PROT_WRITE != 0 { 'w' } else { '-' },
            if v.prot & PROT_EXEC != 0 { 'x' } else { '-' },
            if v.shared { 's' } else { 'p' }
        );
        let (off, ino, name) = match &v.backing {
            Backing::File {
                inode,
                offset,
                path,
            } => (*offset, inode.stat().ino, path.clone()),
            Backing::Anon => (0, 0, v.label.to_string()),
        };
        let line = format!(
            "{:08x}-{:08x} {} {:08x} 00:00 {}",
            v.start, v.end, perms, off, ino
        );
        if name.is_empty() {
            out.push_str(&line);
        } else {
            out.push_str(&format!("{:<73}{}", line, name));
        }
        out.push('\n');
    }
    Ok(out)
}

fn proc_mounts() -> KResult<String> {
    Ok(crate::fs::mount::mounts()
        .iter()
        .map(|m| m.mounts_line())
        .collect())
}

fn proc_mountinfo() -> KResult<String> {
    Ok(crate::fs::mount::mounts()
        .iter()
        .map(|m| m.mountinfo_line())
        .collect())
}
