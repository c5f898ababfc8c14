//! I/O hints and per-call flags: posix_fadvise, readahead,
//! sync_file_range, preadv2 and pwritev2 with their RWF_* flags. The page
//! cache here needs no hints, so the hint calls only check their
//! arguments as Linux does; the RWF_* flags are checked per file and act
//! on the data (RWF_APPEND, RWF_DSYNC/RWF_SYNC, RWF_NOWAIT).

use super::errno::{Errno, KResult};
use super::sys_fs::{fd_file, sys_readv, sys_writev};
use super::task::Task;
use crate::fs::file::{File, POLLIN, POLLOUT};
use crate::fs::vfs::{S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use std::sync::Arc;

const RWF_HIPRI: u32 = 0x01;
const RWF_DSYNC: u32 = 0x02;
const RWF_SYNC: u32 = 0x04;
const RWF_NOWAIT: u32 = 0x08;
const RWF_APPEND: u32 = 0x10;
const RWF_NOAPPEND: u32 = 0x20;
const RWF_ATOMIC: u32 = 0x40;
const RWF_DONTCACHE: u32 = 0x80;
const RWF_NOSIGNAL: u32 = 0x100;
const RWF_SUPPORTED: u32 = RWF_HIPRI
    | RWF_DSYNC
    | RWF_SYNC
    | RWF_NOWAIT
    | RWF_APPEND
    | RWF_NOAPPEND
    | RWF_ATOMIC
    | RWF_DONTCACHE
    | RWF_NOSIGNAL;

fn file_type(f: &File) -> KResult<u32> {
    Ok(f.stat()?.mode & S_IFMT)
}

/// fadvise64: pipes are ESPIPE, a negative length or an unknown advice
/// EINVAL (Linux's generic_fadvise); the advice itself changes nothing.
pub fn sys_fadvise64(t: &Arc<Task>, fd: i32, _off: i64, len: i64, advice: i32) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    if file_type(&f)? == S_IFIFO {
        return Err(Errno::ESPIPE);
    }
    if len < 0 || !(0..=5).contains(&advice) {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// readahead: only for readable regular files and block devices.
pub fn sys_readahead(t: &Arc<Task>, fd: i32, _off: i64, _count: u64) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if !matches!(file_type(&f)?, S_IFREG | S_IFBLK) {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// sync_file_range: flags and range checked as Linux; writing out is an
/// fsync of the file (more than asked, never less).
pub fn sys_sync_file_range(
    t: &Arc<Task>,
    fd: i32,
    off: i64,
    nbytes: i64,
    flags: u32,
) -> KResult<u64> {
    const WAIT_BEFORE: u32 = 1;
    const WRITE: u32 = 2;
    const WAIT_AFTER: u32 = 4;
    let f = fd_file(t, fd)?;
    if flags & !(WAIT_BEFORE | WRITE | WAIT_AFTER) != 0 || off < 0 {
        return Err(Errno::EINVAL);
    }
    match off.checked_add(nbytes) {
        Some(end) if end >= 0 && end >= off => {}
        _ => return Err(Errno::EINVAL),
    }
    if !matches!(file_type(&f)?, S_IFREG | S_IFBLK | S_IFDIR | S_IFLNK) {
        return Err(Errno::ESPIPE);
    }
    if flags & WRITE != 0 {
        if let Some(i) = &f.inode {
            i.fsync(t)?;
        }
    }
    Ok(0)
}

/// Does the file's filesystem take RWF_NOWAIT and RWF_DONTCACHE (Linux's
/// FMODE_NOWAIT, FOP_DONTCACHE)? Of the regular files only ext4's do, as
/// tmpfs and hostfs have neither; pipes, sockets and devices take
/// RWF_NOWAIT.
fn takes(f: &File, flag: u32) -> KResult<bool> {
    let typ = file_type(f)?;
    let ext4 = f
        .inode
        .as_ref()
        .is_some_and(|i| i.fs_magic() == crate::fs::ext4::EXT4_SUPER_MAGIC);
    Ok(match flag {
        RWF_NOWAIT => typ != S_IFREG || ext4,
        RWF_DONTCACHE => typ == S_IFREG && ext4,
        _ => false,
    })
}

/// Linux's kiocb_set_rw_flags: unknown flags and flags the file cannot
/// take are EOPNOTSUPP, RWF_APPEND with RWF_NOAPPEND EINVAL.
fn check_flags(f: &File, flags: u32, write: bool) -> KResult<()> {
    if flags == 0 {
        return Ok(());
    }
    if flags & !RWF_SUPPORTED != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if flags & RWF_APPEND != 0 && flags & RWF_NOAPPEND != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & RWF_NOWAIT != 0 && !takes(f, RWF_NOWAIT)? {
        return Err(Errno::EOPNOTSUPP);
    }
    // No file here can write atomically (FMODE_CAN_ATOMIC_WRITE), and
    // reads never take it.
    let _ = write;
    if flags & RWF_ATOMIC != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if flags & RWF_DONTCACHE != 0 && !takes(f, RWF_DONTCACHE)? {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(())
}

/// The checks before the flags, in Linux's order: offset, fd, access,
/// the iovec itself; None when there is nothing to move (a zero-length
/// vector returns 0 before the flags are looked at).
fn prepare(
    t: &Arc<Task>,
    fd: i32,
    iov: u64,
    cnt: i32,
    pos: i64,
    write: bool,
) -> KResult<Option<Arc<File>>> {
    if pos < -1 {
        return Err(Errno::EINVAL);
    }
    let f = fd_file(t, fd)?;
    if pos >= 0 && matches!(file_type(&f)?, S_IFIFO | S_IFSOCK) {
        return Err(Errno::ESPIPE);
    }
    if (write && !f.writable()) || (!write && !f.readable()) {
        return Err(Errno::EBADF);
    }
    let v = super::sys_fs::read_iovec(t, iov, cnt)?;
    if v.iter().all(|x| x.1 == 0) {
        return Ok(None);
    }
    Ok(Some(f))
}

/// preadv2: offset -1 reads at (and moves) the file position.
pub fn sys_preadv2(
    t: &Arc<Task>,
    fd: i32,
    iov: u64,
    cnt: i32,
    pos: i64,
    flags: u32,
) -> KResult<u64> {
    let Some(f) = prepare(t, fd, iov, cnt, pos, false)? else {
        return Ok(0);
    };
    check_flags(&f, flags, false)?;
    // RWF_NOWAIT: EAGAIN instead of sleeping for data (checked up front:
    // files that can block say so through poll).
    if flags & RWF_NOWAIT != 0 && f.ops.poll(&f) & POLLIN == 0 {
        return Err(Errno::EAGAIN);
    }
    sys_readv(t, fd, iov, cnt, (pos >= 0).then_some(pos))
}

/// pwritev2: RWF_APPEND writes at the end of the file (moving the
/// position only with offset -1), RWF_DSYNC and RWF_SYNC sync the file
/// after the write.
pub fn sys_pwritev2(
    t: &Arc<Task>,
    fd: i32,
    iov: u64,
    cnt: i32,
    pos: i64,
    flags: u32,
) -> KResult<u64> {
    let Some(f) = prepare(t, fd, iov, cnt, pos, true)? else {
        return Ok(0);
    };
    check_flags(&f, flags, true)?;
    if flags & RWF_NOWAIT != 0 && f.ops.poll(&f) & POLLOUT == 0 {
        return Err(Errno::EAGAIN);
    }
    let regular = file_type(&f)? == S_IFREG;
    let off = if flags & RWF_APPEND != 0 && regular {
        let end = f.stat()?.size as i64;
        if pos < 0 {
            f.ops.seek(&f, end, 0)?;
            None
        } else {
            Some(end)
        }
    } else {
        (pos >= 0).then_some(pos)
    };
    let n = sys_writev(t, fd, iov, cnt, off)?;
    if flags & (RWF_DSYNC | RWF_SYNC) != 0 {
        if let Some(i) = &f.inode {
            i.fsync(t)?;
        }
    }
    Ok(n)
}
