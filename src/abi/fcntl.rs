//! open/fcntl: the O_* flags, struct flock (record locks) and f_owner_ex.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct flock (and flock64: identical on x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Flock {
    pub l_type: i16,
    pub l_whence: i16,
    pub _pad: i32,
    pub l_start: i64,
    pub l_len: i64,
    pub l_pid: i32,
    pub _pad2: i32,
}
abi_size!(Flock, 32);

/// struct f_owner_ex (F_GETOWN_EX, F_SETOWN_EX).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct FOwnerEx {
    pub type_: i32,
    pub pid: i32,
}
abi_size!(FOwnerEx, 8);

pub const O_ACCMODE: u32 = 3;
pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
/// Data is durable when write returns (O_SYNC = O_DSYNC | __O_SYNC).
pub const O_DSYNC: u32 = 0o10000;
/// Signal the owner when the file becomes ready (FASYNC).
pub const O_ASYNC: u32 = 0o20000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_DIRECT: u32 = 0o40000;
pub const O_NOFOLLOW: u32 = 0o400000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_NOATIME: u32 = 0o1000000;
pub const O_PATH: u32 = 0o10000000;

/// The fixed head of struct file_handle (name_to_handle_at,
/// open_by_handle_at, fanotify's fid records); the handle's bytes follow.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct FileHandleHeader {
    pub handle_bytes: u32,
    pub handle_type: i32,
}
abi_size!(FileHandleHeader, 8);

/// The largest handle (MAX_HANDLE_SZ).
pub const MAX_HANDLE_SZ: u32 = 128;
/// The handle type a filesystem gives when the buffer is too small.
pub const FILEID_INVALID: i32 = 255;
/// name_to_handle_at flags beyond AT_SYMLINK_FOLLOW and AT_EMPTY_PATH.
pub const AT_HANDLE_FID: u32 = 0x200;
pub const AT_HANDLE_MNT_ID_UNIQUE: u32 = 0x1;
pub const AT_HANDLE_CONNECTABLE: u32 = 0x2;

/// A tmpfs handle's bytes (type 1, Linux's shmem_encode_fh).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ShmemFid {
    pub generation: u32,
    pub ino_lo: u32,
    pub ino_hi: u32,
}
abi_size!(ShmemFid, 12);

/// FILEID_INO32_GEN (type 1): a 32-bit inode number and its generation,
/// the generic export handle (ext2/3/4).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct FidIno32Gen {
    pub ino: u32,
    pub generation: u32,
}
abi_size!(FidIno32Gen, 8);
pub const FILEID_INO32_GEN: i32 = 1;
