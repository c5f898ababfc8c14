//! procfs: process and kernel information generated when read. This file
//! has the nodes and the root directory; `pid` and `pid_stat` the
//! per-process files, `system` the system-wide ones.

mod pid;
mod pid_fdinfo;
mod pid_limits;
mod pid_mem;
mod pid_mounts;
mod pid_ns;
mod pid_oom;
mod pid_smaps;
mod pid_stat;
mod sysctl;
mod sysrq;
mod system;

use pid::pid_dir;
use system::{cpuinfo, kstat, loadavg, meminfo, uptime};

use super::file::{File, FileOps};
use super::permission::generic_permission;
use super::vfs::*;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::ns::{pid as pidns, Ns};
use crate::kernel::task::{self, Creds, Pid};
use std::any::Any;
use std::sync::Arc;

type Gen = Arc<dyn Fn() -> KResult<String> + Send + Sync>;
type List = Arc<dyn Fn() -> Vec<(String, Arc<dyn Inode>)> + Send + Sync>;
/// Applies a value written to a tunable (the text, trimmed).
type OpenOps = Arc<dyn Fn() -> KResult<Arc<dyn FileOps>> + Send + Sync>;
/// Makes a binary file's contents (/proc/PID/auxv).
type BytesGen = Arc<dyn Fn() -> KResult<Vec<u8>> + Send + Sync>;
type Set = Arc<dyn Fn(&str) -> KResult<()> + Send + Sync>;

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
    /// A file whose contents are bytes rather than text.
    Bytes(BytesGen),
    /// A /proc/sys tunable: read like a file, written by root.
    Sysctl(Gen, Set),
    Link(Gen),
    /// A magic link: its text, and the object following it reaches.
    Magic(Gen, Target),
    Dir(List),
    /// A file with operations of its own, made at each open (/proc/PID/mem).
    Ops(OpenOps),
    /// A directory whose entries are numbers that are also their stable
    /// positions (/proc/PID/fd, as Linux's proc_readfd).
    NumDir(List),
}

/// What a magic link leads to.
type Target = Arc<dyn Fn() -> KResult<Path> + Send + Sync>;

/// What guards a /proc/PID node beyond its mode bits (fs/proc/base.c).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// The mode bits alone.
    Mode,
    /// Opening, reading or following it also needs ptrace read access to
    /// the process (environ, maps, exe, cwd, root, fd/N).
    Ptrace,
    /// The fd directory: the process itself may always enter and list it,
    /// even when a non-dumpable process's files belong to root
    /// (proc_fd_permission).
    OwnFds,
}

struct ProcNode {
    ino: u64,
    mode: u32,
    kind: Kind,
    /// The process whose /proc/PID this node is in, and its guard.
    of: Option<(Pid, Guard)>,
}

fn node(path: &str, mode: u32, kind: Kind) -> Arc<dyn Inode> {
    Arc::new(ProcNode {
        ino: ino_of(path),
        mode,
        kind,
        of: None,
    })
}

/// A node in process `pid`'s directory: owned as Linux's task_dump_owner
/// says, and guarded by `guard`.
fn pid_node(pid: Pid, guard: Guard, path: &str, mode: u32, kind: Kind) -> Arc<dyn Inode> {
    Arc::new(ProcNode {
        ino: ino_of(path),
        mode,
        kind,
        of: Some((pid, guard)),
    })
}

impl ProcNode {
    /// The ptrace read check for a `Guard::Ptrace` node (EACCES when the
    /// caller may not look into the process).
    fn check_ptrace(&self) -> KResult<()> {
        match self.of {
            Some((pid, Guard::Ptrace)) => {
                crate::kernel::ptrace_access::check_read(current_tgid().ok(), pid)
            }
            _ => Ok(()),
        }
    }
}

fn file(path: &str, g: impl Fn() -> KResult<String> + Send + Sync + 'static) -> Arc<dyn Inode> {
    node(path, S_IFREG | 0o444, Kind::File(Arc::new(g)))
}

/// A tunable: `get` gives its text, `set` takes a written value.
fn sysctl(
    path: &str,
    get: impl Fn() -> KResult<String> + Send + Sync + 'static,
    set: impl Fn(&str) -> KResult<()> + Send + Sync + 'static,
) -> Arc<dyn Inode> {
    node(
        path,
        S_IFREG | 0o644,
        Kind::Sysctl(Arc::new(get), Arc::new(set)),
    )
}

/// An open tunable: what it said at open, and where writes go.
struct SysctlFile {
    shown: Snapshot,
    set: Set,
}

impl FileOps for SysctlFile {
    fn read(&self, f: &File, buf: &mut [u8]) -> KResult<usize> {
        self.shown.read(f, buf)
    }
    fn pread(&self, f: &File, buf: &mut [u8], off: u64) -> KResult<usize> {
        self.shown.pread(f, buf, off)
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        let text = std::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
        (self.set)(text.trim())?;
        Ok(buf.len())
    }
    fn seek(&self, f: &File, off: i64, whence: u32) -> KResult<u64> {
        self.shown.seek(f, off, whence)
    }
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
        let (uid, gid) = match self.of {
            Some((pid, _)) => {
                crate::kernel::ptrace_access::dump_owner(pid, self.mode == S_IFDIR | 0o555)
            }
            None => (0, 0),
        };
        Stat {
            dev: dev(),
            ino: self.ino,
            mode: self.mode,
            uid,
            gid,
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
            Kind::Dir(l) | Kind::NumDir(l) => l()
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|x| x.1)
                .ok_or(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        match &self.kind {
            Kind::Dir(l) | Kind::NumDir(l) => Ok(l()
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
            Kind::Link(g) | Kind::Magic(g, _) => {
                // Also guards following the link in a path walk.
                self.check_ptrace()?;
                g()
            }
            _ => Err(Errno::EINVAL),
        }
    }
    fn readdir_from(&self, pos: u64) -> Option<KResult<Vec<(u64, DirEntry)>>> {
        let Kind::NumDir(l) = &self.kind else {
            return None;
        };
        let mut v: Vec<(u64, DirEntry)> = l()
            .into_iter()
            .filter_map(|(n, i)| {
                // Entry N sits at position N + 2, after "." and "..".
                let at = n.parse::<u64>().ok()? + 2;
                let st = i.stat();
                let e = DirEntry {
                    name: n,
                    ino: st.ino,
                    dtype: dtype_of(st.mode),
                };
                (at >= pos).then_some((at, e))
            })
            .collect();
        v.sort_by_key(|x| x.0);
        Some(Ok(v))
    }
    fn magic_link(&self) -> Option<KResult<Path>> {
        match &self.kind {
            Kind::Magic(_, target) => Some(self.check_ptrace().and_then(|()| target())),
            _ => None,
        }
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        match &self.kind {
            Kind::File(_) | Kind::Sysctl(..) | Kind::Bytes(_) => {
                self.check_ptrace()?;
                let s = match &self.kind {
                    Kind::Bytes(b) => b()?,
                    Kind::File(g) | Kind::Sysctl(g, _) => g()?.into_bytes(),
                    _ => return Err(Errno::EISDIR),
                };
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
            Kind::File(g) => {
                self.check_ptrace()?;
                Ok(Some(Arc::new(Snapshot(g()?.into_bytes()))))
            }
            Kind::Bytes(b) => {
                self.check_ptrace()?;
                Ok(Some(Arc::new(Snapshot(b()?))))
            }
            Kind::Ops(o) => o().map(Some),
            Kind::Sysctl(g, set) => Ok(Some(Arc::new(SysctlFile {
                shown: Snapshot(g()?.into_bytes()),
                set: set.clone(),
            }))),
            _ => Ok(None),
        }
    }
    fn fs_magic(&self) -> u64 {
        PROC_SUPER_MAGIC
    }
    fn permission(&self, c: &Creds, st: &Stat, mask: u32) -> KResult<()> {
        let r = generic_permission(c, st, mask);
        match self.of {
            Some((pid, Guard::OwnFds)) if r.is_err() && current_tgid() == Ok(pid) => Ok(()),
            _ => r,
        }
    }
}

/// /proc/PID/mem (0600): opened as `pid_mem` says.
fn pid_mem_node(pid: Pid, path: &str) -> Arc<dyn Inode> {
    pid_node(
        pid,
        Guard::Mode,
        path,
        S_IFREG | 0o600,
        Kind::Ops(Arc::new(move || pid_mem::open(pid))),
    )
}

/// The root of a procfs instance belonging to pid namespace `ns` (the
/// mounter's, as Linux's proc superblock): it lists the processes of
/// that namespace under their numbers there.
pub fn new_fs(ns: Arc<Ns>) -> Arc<dyn Inode> {
    dir("/", move || {
        let (ns1, ns2) = (ns.clone(), ns.clone());
        let mut v: Vec<(String, Arc<dyn Inode>)> = vec![
            (
                "self".into(),
                link("/self", move || seen_tgid(&ns1).map(|p| p.to_string())),
            ),
            (
                "thread-self".into(),
                link("/thread-self", move || {
                    seen_tgid(&ns2).map(|p| format!("{p}/task/{p}"))
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
                "locks".into(),
                file("/locks", || Ok(crate::fs::locks::proc_locks())),
            ),
            (
                "filesystems".into(),
                file("/filesystems", || {
                    Ok("nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\nnodev\tcgroup2\nnodev\tramfs\n\text3\n\text2\n\text4\n".into())
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
            ("sys".into(), sysctl::sys_dir()),
            ("sysrq-trigger".into(), sysrq::trigger_node()),
            ("sysvipc".into(), sysvipc_dir()),
        ];
        for g in task::all_groups() {
            let pid = g.tgid;
            let shown = pidns::nr_in(pid, &ns);
            if shown > 0 {
                v.push((shown.to_string(), pid_dir(pid, ns.clone())));
            }
        }
        v
    })
}

/// /proc/sysvipc: the System V IPC objects, one line each.
fn sysvipc_dir() -> Arc<dyn Inode> {
    dir("/sysvipc", || {
        crate::ipc::proc::sysvipc_files()
            .into_iter()
            .map(|(name, text)| {
                let path = format!("/sysvipc/{name}");
                (name.to_string(), file(&path, move || Ok(text())))
            })
            .collect()
    })
}

/// /proc/net: the socket tables of the internet families.
fn net_dir() -> Arc<dyn Inode> {
    use crate::net::inet::procfs::{tcp, udp, udplite};
    dir("/net", || {
        vec![
            (
                "dev".into(),
                file("/net/dev", || Ok(crate::net::inet::netdev::proc_net_dev())),
            ),
            (
                "if_inet6".into(),
                file("/net/if_inet6", || {
                    Ok(crate::net::inet::netdev::proc_if_inet6())
                }),
            ),
            (
                "arp".into(),
                file("/net/arp", || Ok(crate::net::inet::netdev::proc_net_arp())),
            ),
            (
                "route".into(),
                file("/net/route", || {
                    Ok(crate::net::inet::stack::query(|s| {
                        crate::net::inet::route::proc_net_route(&s.net)
                    }))
                }),
            ),
            (
                "ipv6_route".into(),
                file("/net/ipv6_route", || {
                    Ok(crate::net::inet::stack::query(|s| {
                        crate::net::inet::route::proc_net_ipv6_route(&s.net)
                    }))
                }),
            ),
            ("tcp".into(), file("/net/tcp", || Ok(tcp(false)))),
            ("tcp6".into(), file("/net/tcp6", || Ok(tcp(true)))),
            ("udp".into(), file("/net/udp", || Ok(udp(false)))),
            ("udp6".into(), file("/net/udp6", || Ok(udp(true)))),
            (
                "udplite".into(),
                file("/net/udplite", || Ok(udplite(false))),
            ),
            (
                "udplite6".into(),
                file("/net/udplite6", || Ok(udplite(true))),
            ),
        ]
    })
}

/// The process making the current syscall (for /proc/self).
fn current_tgid() -> KResult<Pid> {
    crate::kernel::current::tgid().ok_or(Errno::ENOENT)
}

/// The current process's number in pid namespace `ns` (/proc/self of a
/// proc mount of `ns`): ENOENT when it is not there.
fn seen_tgid(ns: &Ns) -> KResult<Pid> {
    Some(pidns::nr_in(current_tgid()?, ns))
        .filter(|&p| p > 0)
        .ok_or(Errno::ENOENT)
}
