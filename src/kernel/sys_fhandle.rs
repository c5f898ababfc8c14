//! name_to_handle_at and open_by_handle_at: an object's export handle
//! (`fs::fhandle`) and the way back from it, with Linux's checks in
//! Linux's order.

use super::errno::{Errno, KResult};
use super::sys_fs::{fd_file, lookup_flags_as, open_resolved};
use super::task::{lock, Task};
use crate::abi::fcntl::*;
use crate::abi::stat::{AT_EMPTY_PATH, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW};
use crate::fs::file::File;
use crate::fs::vfs::{same_inode, Path};
use std::sync::Arc;

const HEADER: u64 = core::mem::size_of::<FileHandleHeader>() as u64;
const O_LARGEFILE: u32 = 0o100000;

/// name_to_handle_at
pub fn sys_name_to_handle_at(
    t: &Arc<Task>,
    dirfd: i32,
    name: u64,
    handle: u64,
    mnt_id: u64,
    flags: u32,
) -> KResult<u64> {
    let known = AT_SYMLINK_FOLLOW
        | AT_EMPTY_PATH
        | AT_HANDLE_FID
        | AT_HANDLE_MNT_ID_UNIQUE
        | AT_HANDLE_CONNECTABLE;
    if flags & !known != 0
        || flags & (AT_HANDLE_FID | AT_HANDLE_CONNECTABLE) == AT_HANDLE_FID | AT_HANDLE_CONNECTABLE
    {
        return Err(Errno::EINVAL);
    }
    let c = t.creds();
    let mut lf = flags & AT_EMPTY_PATH;
    if flags & AT_SYMLINK_FOLLOW == 0 {
        lf |= AT_SYMLINK_NOFOLLOW;
    }
    let p = lookup_flags_as(t, &c, dirfd, name, lf)?;
    let Some((ty, bytes)) = p.inode.file_handle() else {
        return Err(Errno::EOPNOTSUPP);
    };
    let mm = t.mm();
    let want: FileHandleHeader = crate::abi::read_val(&mm, handle)?;
    if want.handle_bytes > MAX_HANDLE_SZ {
        return Err(Errno::EINVAL);
    }
    // Handles are whole 32-bit words, as Linux counts them.
    let room = (want.handle_bytes & !3) as usize;
    let fits = bytes.len() <= room;
    let head = FileHandleHeader {
        handle_bytes: bytes.len() as u32,
        handle_type: if fits { ty } else { FILEID_INVALID },
    };
    let m = crate::fs::mount::mount_of(&p).map(|m| m.id).unwrap_or(0);
    if flags & AT_HANDLE_MNT_ID_UNIQUE != 0 {
        mm.write_u64(mnt_id, m as u64)?;
    } else {
        mm.write_u32(mnt_id, m)?;
    }
    crate::abi::write_val(&mm, handle, &head)?;
    if !fits {
        return Err(Errno::EOVERFLOW);
    }
    mm.write(handle + HEADER, &bytes)?;
    Ok(0)
}

/// The root of the mount `p` lies in, as a walked path.
fn mount_root(p: &Path) -> KResult<Path> {
    let m = crate::fs::mount::mount_of(p).ok_or(Errno::ESTALE)?;
    let mut cur = p.clone();
    loop {
        if same_inode(&cur.inode, &m.root) {
            return Ok(cur);
        }
        match cur.parent.clone() {
            Some(up) => cur = up,
            None => return Ok(cur),
        }
    }
}

/// open_by_handle_at
pub fn sys_open_by_handle_at(t: &Arc<Task>, mountfd: i32, handle: u64, flags: u32) -> KResult<u64> {
    let anchor = fd_file(t, mountfd)?.path.clone().ok_or(Errno::EBADF)?;
    let c = t.creds();
    if !c.capable(crate::kernel::caps::CAP_DAC_READ_SEARCH) {
        return Err(Errno::EPERM);
    }
    let mm = t.mm();
    let head: FileHandleHeader = crate::abi::read_val(&mm, handle)?;
    if head.handle_bytes > MAX_HANDLE_SZ || head.handle_bytes == 0 {
        return Err(Errno::EINVAL);
    }
    if head.handle_type < 0 || head.handle_type as u32 & 0xffff_0000 != 0 {
        return Err(Errno::EINVAL);
    }
    let bytes = mm.read_vec(handle + HEADER, head.handle_bytes as usize)?;
    let root = mount_root(&anchor)?;
    let inode = root.inode.from_handle(head.handle_type, &bytes)?;
    let p = crate::fs::fhandle::path_for(&root, inode);
    let flags = flags | O_LARGEFILE;
    let mut f = open_resolved(t, &c, p, flags, false)?;
    if let Some(ops) = f.ops.opened(&f, t)? {
        f = File::new(ops, f.inode.clone(), f.path.clone(), flags);
    }
    let nofile = t.nofile();
    Ok(lock(&t.files()).install(f, flags & O_CLOEXEC != 0, nofile)? as u64)
}
