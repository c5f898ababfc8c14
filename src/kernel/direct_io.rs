//! O_DIRECT's alignment rule: on ext2/3/4 files and block devices, a
//! read or write whose buffer address, file offset or length is not a
//! multiple of the device's logical block size fails with EINVAL, as
//! Linux's iomap and block-device direct I/O. The I/O itself goes through
//! the same page cache as buffered I/O, so readers always agree.

use crate::abi::fcntl::O_DIRECT;
use crate::fs::file::{File, O_APPEND};
use crate::fs::vfs::{S_IFBLK, S_IFMT};
use crate::kernel::errno::{Errno, KResult};

/// The logical block size of ubd disks.
const LOGICAL_BLOCK: u64 = 512;
/// statfs f_type of ext2, ext3 and ext4.
const EXT_SUPER_MAGIC: u64 = 0xEF53;

/// Check a direct read (`write` false) or write of `len` bytes between
/// user address `addr` and file offset `off` (None: the file position).
pub fn check(f: &File, addr: u64, off: Option<u64>, len: usize, write: bool) -> KResult<()> {
    if f.flags() & O_DIRECT == 0 || len == 0 {
        return Ok(());
    }
    let Some(inode) = &f.inode else {
        return Ok(());
    };
    let st = inode.stat();
    let blk = st.mode & S_IFMT == S_IFBLK;
    if !blk
        && !inode
            .statfs()
            .is_some_and(|s| s.magic as u64 == EXT_SUPER_MAGIC)
    {
        return Ok(());
    }
    let off = match off {
        Some(o) => o,
        None if write && f.flags() & O_APPEND != 0 => st.size,
        None => *f.lock_pos(),
    };
    // A file read at or past its end returns 0 before any block is
    // mapped, so alignment is never looked at.
    if !blk && !write && off >= st.size {
        return Ok(());
    }
    if (addr | off | len as u64) & (LOGICAL_BLOCK - 1) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The address bits an iovec's segments must have clear (Linux's
/// iov_iter_alignment: every non-empty segment's base and length), as an
/// `addr` for `check`.
pub fn iov_align(iov: &[(u64, usize)]) -> u64 {
    iov.iter()
        .filter(|x| x.1 != 0)
        .fold(0, |a, &(base, len)| a | base | len as u64)
}
