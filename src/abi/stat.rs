//! File status structs: stat, statx, statfs and the linux_dirent64 header,
//! plus the AT_* flags the *at() calls share.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct stat on x86_64 (the "new" stat of newfstatat/fstat).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub _pad0: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atime: i64,
    pub st_atime_nsec: i64,
    pub st_mtime: i64,
    pub st_mtime_nsec: i64,
    pub st_ctime: i64,
    pub st_ctime_nsec: i64,
    pub _unused: [i64; 3],
}
abi_size!(Stat, 144);

/// struct statx_timestamp.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct StatxTimestamp {
    pub tv_sec: i64,
    pub tv_nsec: u32,
    pub _reserved: i32,
}
abi_size!(StatxTimestamp, 16);

/// struct statx.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Statx {
    pub stx_mask: u32,
    pub stx_blksize: u32,
    pub stx_attributes: u64,
    pub stx_nlink: u32,
    pub stx_uid: u32,
    pub stx_gid: u32,
    pub stx_mode: u16,
    pub _spare0: u16,
    pub stx_ino: u64,
    pub stx_size: u64,
    pub stx_blocks: u64,
    pub stx_attributes_mask: u64,
    pub stx_atime: StatxTimestamp,
    pub stx_btime: StatxTimestamp,
    pub stx_ctime: StatxTimestamp,
    pub stx_mtime: StatxTimestamp,
    pub stx_rdev_major: u32,
    pub stx_rdev_minor: u32,
    pub stx_dev_major: u32,
    pub stx_dev_minor: u32,
    pub _spare: [u64; 14],
}
abi_size!(Statx, 256);

/// statx's stx_mask for the fields every filesystem here fills.
pub const STATX_BASIC_STATS: u32 = 0x7ff;

/// struct statfs on x86_64.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Statfs {
    pub f_type: u64,
    pub f_bsize: u64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: u64,
    pub f_namelen: u64,
    pub f_frsize: u64,
    pub f_flags: u64,
    pub f_spare: [u64; 4],
}
abi_size!(Statfs, 120);

/// The fixed head of struct linux_dirent64; the NUL-terminated name
/// follows and the record is padded to `d_reclen` (a multiple of 8).
#[repr(C, packed)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Dirent64Head {
    pub d_ino: u64,
    pub d_off: u64,
    pub d_reclen: u16,
    pub d_type: u8,
}
abi_size!(Dirent64Head, 19);

impl Dirent64Head {
    /// A whole record for `name` at directory position `off`: header,
    /// name, NUL and zero padding.
    pub fn record(ino: u64, off: u64, dtype: u8, name: &[u8]) -> Vec<u8> {
        let reclen = Self::reclen(name.len());
        let h = Dirent64Head {
            d_ino: ino,
            d_off: off,
            d_reclen: reclen as u16,
            d_type: dtype,
        };
        let mut out = Vec::with_capacity(reclen);
        out.extend_from_slice(bytemuck::bytes_of(&h));
        out.extend_from_slice(name);
        out.resize(reclen, 0);
        out
    }
    /// The 8-aligned record length for a name of `len` bytes.
    pub fn reclen(len: usize) -> usize {
        (core::mem::size_of::<Self>() + len + 1).div_ceil(8) * 8
    }
}

pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_REMOVEDIR: u32 = 0x200;
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
pub const AT_EMPTY_PATH: u32 = 0x1000;

/// The fixed head of struct inotify_event; `len` bytes of NUL-padded name
/// follow.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct InotifyEvent {
    pub wd: i32,
    pub mask: u32,
    pub cookie: u32,
    pub len: u32,
}
abi_size!(InotifyEvent, 16);

/// File types in st_mode.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirent_record_layout() {
        let r = Dirent64Head::record(7, 3, 4, b"abc");
        // 19-byte head + "abc\0" = 23, rounded up to 24.
        assert_eq!(r.len(), 24);
        assert_eq!(&r[0..8], &[7, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&r[8..16], &[3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&r[16..18], &[24, 0]);
        assert_eq!(r[18], 4);
        assert_eq!(&r[19..24], b"abc\0\0");
        assert_eq!(Dirent64Head::reclen(5), 32);
    }

    #[test]
    fn statx_field_offsets() {
        use core::mem::offset_of;
        assert_eq!(offset_of!(Statx, stx_mode), 28);
        assert_eq!(offset_of!(Statx, stx_atime), 64);
        assert_eq!(offset_of!(Statx, stx_mtime), 112);
        assert_eq!(offset_of!(Statx, stx_dev_minor), 140);
        assert_eq!(offset_of!(Stat, st_atime), 72);
    }
}
