//! hostfs host half: the export root given by `hostfs=DIR` and every host
//! call hostfs makes, with plain Rust types in and out (errors are the
//! host's errno values).
//!
//! Confinement lives here. Every host object is reached from the export
//! root one name at a time: `openat2(dir_fd, name, O_PATH|O_NOFOLLOW,
//! RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS)` with a name
//! that is never empty, ".", ".." or contains '/' or NUL. A node holds an
//! fd to the very host inode it names (not a path), so a directory renamed
//! or replaced by a symlink on the host afterwards cannot redirect later
//! calls, and a host symlink is only ever read (`readlinkat`), never
//! followed: the guest VFS resolves its target in the guest's namespace.
//! Creating calls (`mkdirat`, `unlinkat`, `renameat2`, `symlinkat`,
//! `mknodat`, `linkat`) take a held directory fd and one checked name.
//! Reopening a node for I/O or changing its mode and times goes through
//! `/proc/self/fd/N`, which names the held inode itself.

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode};
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::OnceLock;

/// A host errno value.
pub type HostErr = i32;
pub type HResult<T> = Result<T, HostErr>;

/// HOSTFS_SUPER_MAGIC, what UML's hostfs reports in statfs.
pub const HOSTFS_SUPER_MAGIC: u64 = 0x00c0_ffee;

/// The export root, opened once at boot.
static ROOT: OnceLock<OwnedFd> = OnceLock::new();

fn errno() -> HostErr {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn check(r: libc::c_int) -> HResult<libc::c_int> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// One path component: never empty, ".", "..", nor containing '/' or NUL.
/// The kernel half checks too; this is the wall.
fn component(name: &str) -> HResult<CString> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(libc::EINVAL);
    }
    if name.len() > 255 {
        return Err(libc::ENAMETOOLONG);
    }
    CString::new(name).map_err(|_| libc::EINVAL)
}

/// Open the export root `dir` (must be a directory) and raise the soft
/// open-file limit to the hard one: every live hostfs inode holds an fd.
/// Called once, before boot; an error is a command-line error.
pub fn init(dir: &Path) -> Result<(), String> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let c = CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| "path contains a NUL byte".to_owned())?;
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let fd = nix::fcntl::open(c.as_c_str(), flags, Mode::empty())
        // The wording of std's io::Error, as before.
        .map_err(|e| std::io::Error::from(e).to_string())?;
    ROOT.set(fd)
        .map_err(|_| "hostfs root set twice".to_owned())?;
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
    Ok(())
}

/// Was `hostfs=` given (and opened)?
pub fn exported() -> bool {
    ROOT.get().is_some()
}

/// What the host says about a node (fstatat of the node itself).
#[derive(Clone, Copy, Debug, Default)]
pub struct HostStat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u32,
    pub blocks: u64,
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

/// The host filesystem's numbers (fstatfs).
#[derive(Clone, Copy, Debug, Default)]
pub struct HostStatFs {
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub namelen: u64,
}

/// One directory entry: name, inode number, DT_* type.
pub struct HostDirent {
    pub name: String,
    pub ino: u64,
    pub dtype: u8,
}

/// A host file, directory, symlink or special file, held by an fd
/// (usually O_PATH) to its host inode.
pub struct HostNode {
    fd: OwnedFd,
}

/// A host file opened for I/O (read, write or both).
pub struct HostFile {
    fd: OwnedFd,
}

fn own(fd: RawFd) -> OwnedFd {
    // SAFETY: callers pass an fd the host just returned to them, which
    // nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// struct open_how of linux/openat2.h (libc's is non-exhaustive).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// openat2 of one checked component below `dir` without following any
/// symlink or leaving `dir`.
fn open_beneath(dir: RawFd, name: &CStr, flags: i32, mode: u32) -> HResult<OwnedFd> {
    let how = OpenHow {
        flags: (flags | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u64,
        mode: if flags & libc::O_CREAT != 0 {
            mode as u64
        } else {
            0
        },
        resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: `name` is NUL-terminated and `how` a valid open_how of the
    // size passed; the result is an fd we take ownership of.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            name.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if r < 0 {
        return Err(errno());
    }
    Ok(own(r as RawFd))
}

/// `/proc/self/fd/N` for a held fd: the path the host resolves to that
/// very inode (used where a call takes no O_PATH fd).
fn proc_path(fd: RawFd) -> CString {
    CString::new(format!("/proc/self/fd/{fd}")).expect("no NUL in a number")
}

fn ts(sec: i64, nsec: i64) -> (i64, i64) {
    (sec, nsec)
}

impl HostNode {
    /// A new node for the export root (each mount holds its own).
    pub fn root() -> HResult<HostNode> {
        let root = ROOT.get().ok_or(libc::ENODEV)?;
        // F_DUPFD_CLOEXEC, as std does it.
        let fd = root
            .try_clone()
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        Ok(HostNode { fd })
    }

    /// The child `name` of this directory, not followed if a symlink.
    pub fn lookup(&self, name: &str) -> HResult<HostNode> {
        let c = component(name)?;
        let fd = open_beneath(self.fd.as_raw_fd(), &c, libc::O_PATH, 0)?;
        Ok(HostNode { fd })
    }

    pub fn stat(&self) -> HResult<HostStat> {
        // The empty path with AT_EMPTY_PATH names our fd itself.
        let st = fstatat(
            &self.fd,
            c"",
            AtFlags::AT_EMPTY_PATH | AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| e as HostErr)?;
        Ok(HostStat {
            dev: st.st_dev,
            ino: st.st_ino,
            mode: st.st_mode,
            nlink: st.st_nlink as u32,
            uid: st.st_uid,
            gid: st.st_gid,
            rdev: st.st_rdev,
            size: st.st_size as u64,
            blksize: st.st_blksize as u32,
            blocks: st.st_blocks as u64,
            atime: ts(st.st_atime, st.st_atime_nsec),
            mtime: ts(st.st_mtime, st.st_mtime_nsec),
            ctime: ts(st.st_ctime, st.st_ctime_nsec),
        })
    }

    pub fn statfs(&self) -> HResult<HostStatFs> {
        // fstatfs accepts O_PATH fds.
        let s = nix::sys::statfs::fstatfs(&self.fd).map_err(|e| e as HostErr)?;
        Ok(HostStatFs {
            bsize: s.block_size() as u64,
            blocks: s.blocks(),
            bfree: s.blocks_free(),
            bavail: s.blocks_available(),
            files: s.files(),
            ffree: s.files_free(),
            namelen: s.maximum_name_length() as u64,
        })
    }

    /// The entries of this directory, without "." and "..".
    pub fn read_dir(&self) -> HResult<Vec<HostDirent>> {
        // "." of a held directory fd is that directory; it cannot be a
        // symlink.
        let fd = open_beneath(
            self.fd.as_raw_fd(),
            c".",
            libc::O_RDONLY | libc::O_DIRECTORY,
            0,
        )
        .or_else(|e| {
            // RESOLVE_BENEATH allows "." of the starting directory; this
            // fallback only covers hosts that disagree.
            if e == libc::EXDEV {
                // SAFETY: "." relative to our own directory fd.
                check(unsafe {
                    libc::openat(
                        self.fd.as_raw_fd(),
                        c".".as_ptr(),
                        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
                    )
                })
                .map(own)
            } else {
                Err(e)
            }
        })?;
        let raw = std::mem::ManuallyDrop::new(fd).as_raw_fd();
        // SAFETY: fdopendir takes ownership of `raw` (closedir closes it).
        let dir = unsafe { libc::fdopendir(raw) };
        if dir.is_null() {
            let e = errno();
            drop(own(raw));
            return Err(e);
        }
        let mut out = Vec::new();
        loop {
            // SAFETY: `dir` is an open DIR stream; the entry stays valid
            // until the next readdir on it, and we copy out of it first.
            let ent = unsafe { libc::readdir64(dir) };
            if ent.is_null() {
                break;
            }
            // SAFETY: d_name of a returned entry is NUL-terminated.
            let (name, ino, dtype) = unsafe {
                let e = &*ent;
                (
                    CStr::from_ptr(e.d_name.as_ptr()).to_bytes().to_vec(),
                    e.d_ino,
                    e.d_type,
                )
            };
            if name == b"." || name == b".." {
                continue;
            }
            out.push(HostDirent {
                name: String::from_utf8_lossy(&name).into_owned(),
                ino,
                dtype,
            });
        }
        // SAFETY: `dir` is open and closed exactly once here.
        unsafe { libc::closedir(dir) };
        Ok(out)
    }

    /// The target of this symlink, as text (never followed here).
    pub fn readlink(&self) -> HResult<String> {
        // The empty path names our O_PATH symlink fd itself.
        let target = nix::fcntl::readlinkat(&self.fd, c"").map_err(|e| e as HostErr)?;
        Ok(target.to_string_lossy().into_owned())
    }

    /// Open this regular file for I/O: `write` gives read-write (or
    /// write-only when the host refuses reading), else read-only.
    pub fn open_file(&self, write: bool) -> HResult<HostFile> {
        let p = proc_path(self.fd.as_raw_fd());
        let flags = libc::O_CLOEXEC | libc::O_NOCTTY | libc::O_NONBLOCK;
        let try_open = |acc: i32| {
            // SAFETY: `p` is NUL-terminated; the fd returned is ours.
            check(unsafe { libc::open(p.as_ptr(), acc | flags) }).map(own)
        };
        let fd = if write {
            try_open(libc::O_RDWR).or_else(|e| {
                if e == libc::EACCES {
                    try_open(libc::O_WRONLY)
                } else {
                    Err(e)
                }
            })?
        } else {
            try_open(libc::O_RDONLY)?
        };
        Ok(HostFile { fd })
    }

    /// Create the regular file `name` here (O_EXCL) with mode `perm`.
    pub fn create_file(&self, name: &str, perm: u32) -> HResult<HostNode> {
        let c = component(name)?;
        let fd = open_beneath(
            self.fd.as_raw_fd(),
            &c,
            libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
            perm,
        )?;
        let n = HostNode { fd };
        n.fix_mode(perm)?;
        Ok(n)
    }

    /// Make directory `name` with mode `perm` and return it.
    pub fn mkdir(&self, name: &str, perm: u32) -> HResult<HostNode> {
        let c = component(name)?;
        // `c` is one checked component under our directory fd.
        nix::sys::stat::mkdirat(&self.fd, c.as_c_str(), Mode::from_bits_truncate(perm))
            .map_err(|e| e as HostErr)?;
        let fd = open_beneath(self.fd.as_raw_fd(), &c, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        let n = HostNode { fd };
        n.fix_mode(perm)?;
        Ok(n)
    }

    /// Make a fifo, socket or device node `name` (host permitting).
    pub fn mknod(&self, name: &str, mode: u32, rdev: u64) -> HResult<HostNode> {
        let c = component(name)?;
        // SAFETY: `c` is one checked component under our directory fd.
        check(unsafe { libc::mknodat(self.fd.as_raw_fd(), c.as_ptr(), mode, rdev) })?;
        let n = self.lookup(name)?;
        n.fix_mode(mode & 0o7777)?;
        Ok(n)
    }

    /// The host's umask applied to a new object; give it the mode the
    /// guest asked for (the guest applied its own umask already).
    fn fix_mode(&self, perm: u32) -> HResult<()> {
        if self.stat()?.mode & 0o7777 != perm & 0o7777 {
            self.chmod(perm & 0o7777)?;
        }
        Ok(())
    }

    /// Symlink `name` → `target` (stored as text; hostfs never follows it).
    pub fn symlink(&self, name: &str, target: &str) -> HResult<()> {
        let c = component(name)?;
        let t = CString::new(target).map_err(|_| libc::EINVAL)?;
        // SAFETY: both strings are NUL-terminated; `c` is one component.
        check(unsafe { libc::symlinkat(t.as_ptr(), self.fd.as_raw_fd(), c.as_ptr()) })?;
        Ok(())
    }

    /// Hard link `name` in this directory to `target`.
    pub fn link(&self, name: &str, target: &HostNode) -> HResult<()> {
        let c = component(name)?;
        let p = proc_path(target.fd.as_raw_fd());
        // SAFETY: `p` names the held target inode (AT_SYMLINK_FOLLOW only
        // follows that magic link to it); `c` is one component.
        check(unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                p.as_ptr(),
                self.fd.as_raw_fd(),
                c.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        })?;
        Ok(())
    }

    /// Remove `name` (a directory when `dir`).
    pub fn unlink(&self, name: &str, dir: bool) -> HResult<()> {
        let c = component(name)?;
        let flags = if dir { libc::AT_REMOVEDIR } else { 0 };
        // SAFETY: `c` is one checked component under our directory fd.
        check(unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), flags) })?;
        Ok(())
    }

    /// renameat2 from `old` here to `new` in `to` (RENAME_* `flags`).
    pub fn rename(&self, old: &str, to: &HostNode, new: &str, flags: u32) -> HResult<()> {
        let (o, n) = (component(old)?, component(new)?);
        // SAFETY: both names are single checked components under held
        // directory fds.
        check(unsafe {
            libc::renameat2(
                self.fd.as_raw_fd(),
                o.as_ptr(),
                to.fd.as_raw_fd(),
                n.as_ptr(),
                flags,
            )
        })?;
        Ok(())
    }

    pub fn chmod(&self, mode: u32) -> HResult<()> {
        let p = proc_path(self.fd.as_raw_fd());
        // SAFETY: `p` names the held inode; a symlink is not followed
        // beyond it (the host refuses with EOPNOTSUPP).
        check(unsafe { libc::chmod(p.as_ptr(), mode) })?;
        Ok(())
    }

    /// chown; None leaves that id unchanged.
    pub fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> HResult<()> {
        // SAFETY: the empty path with AT_EMPTY_PATH names our fd.
        check(unsafe {
            libc::fchownat(
                self.fd.as_raw_fd(),
                c"".as_ptr(),
                uid.unwrap_or(u32::MAX),
                gid.unwrap_or(u32::MAX),
                libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
            )
        })?;
        Ok(())
    }

    /// Set access and/or modification time ((sec, nsec); None: unchanged).
    pub fn utimes(&self, atime: Option<(i64, i64)>, mtime: Option<(i64, i64)>) -> HResult<()> {
        let t = |v: Option<(i64, i64)>| match v {
            Some((s, n)) => libc::timespec {
                tv_sec: s,
                tv_nsec: n,
            },
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            },
        };
        let times = [t(atime), t(mtime)];
        let p = proc_path(self.fd.as_raw_fd());
        // SAFETY: `p` names the held inode; `times` holds two timespecs.
        check(unsafe { libc::utimensat(libc::AT_FDCWD, p.as_ptr(), times.as_ptr(), 0) })?;
        Ok(())
    }
}

impl HostFile {
    /// pread until `buf` is full or end of file.
    pub fn read_at(&self, off: u64, buf: &mut [u8]) -> HResult<usize> {
        let mut done = 0;
        while done < buf.len() {
            match nix::sys::uio::pread(&self.fd, &mut buf[done..], (off + done as u64) as i64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) if done > 0 => break,
                Err(e) => return Err(e as HostErr),
            }
        }
        Ok(done)
    }

    /// pwrite all of `buf` (short only if the host stops, e.g. ENOSPC).
    pub fn write_at(&self, off: u64, buf: &[u8]) -> HResult<usize> {
        let mut done = 0;
        while done < buf.len() {
            match nix::sys::uio::pwrite(&self.fd, &buf[done..], (off + done as u64) as i64) {
                Ok(n) => done += n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) if done > 0 => break,
                Err(e) => return Err(e as HostErr),
            }
        }
        Ok(done)
    }

    pub fn truncate(&self, size: u64) -> HResult<()> {
        // SAFETY: plain ftruncate of our fd.
        check(unsafe { libc::ftruncate(self.fd.as_raw_fd(), size as libc::off_t) })?;
        Ok(())
    }

    pub fn fsync(&self) -> HResult<()> {
        // SAFETY: plain fsync of our fd.
        check(unsafe { libc::fsync(self.fd.as_raw_fd()) })?;
        Ok(())
    }
}
