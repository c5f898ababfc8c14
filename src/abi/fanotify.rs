//! fanotify: the records a group's reads return and its writes take, and
//! the flag bits of fanotify_init and fanotify_mark.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct fanotify_event_metadata (version 3, no info records).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct FanotifyEventMetadata {
    pub event_len: u32,
    pub vers: u8,
    pub reserved: u8,
    pub metadata_len: u16,
    pub mask: u64,
    pub fd: i32,
    pub pid: i32,
}
abi_size!(FanotifyEventMetadata, 24);

/// struct fanotify_response: the listener's verdict on a permission event.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct FanotifyResponse {
    pub fd: i32,
    pub response: u32,
}
abi_size!(FanotifyResponse, 8);

/// struct fanotify_event_info_header: the head of each info record after
/// the metadata.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct FanotifyEventInfoHeader {
    pub info_type: u8,
    pub pad: u8,
    pub len: u16,
}
abi_size!(FanotifyEventInfoHeader, 4);

/// struct fanotify_event_info_fid without its trailing struct
/// file_handle: the header and the filesystem id (__kernel_fsid_t).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct FanotifyEventInfoFid {
    pub hdr: FanotifyEventInfoHeader,
    pub fsid: [u32; 2],
}
abi_size!(FanotifyEventInfoFid, 12);

// Info record types.
pub const FAN_EVENT_INFO_TYPE_FID: u8 = 1;
pub const FAN_EVENT_INFO_TYPE_DFID_NAME: u8 = 2;
pub const FAN_EVENT_INFO_TYPE_DFID: u8 = 3;
pub const FAN_EVENT_INFO_TYPE_PIDFD: u8 = 4;
pub const FAN_EVENT_INFO_TYPE_OLD_DFID_NAME: u8 = 10;
pub const FAN_EVENT_INFO_TYPE_NEW_DFID_NAME: u8 = 12;
/// Info records are padded to this.
pub const FANOTIFY_EVENT_ALIGN: usize = 4;

pub const FANOTIFY_METADATA_VERSION: u8 = 3;
pub const FAN_NOFD: i32 = -1;

// Events.
pub const FAN_ACCESS: u64 = 0x1;
pub const FAN_MODIFY: u64 = 0x2;
pub const FAN_ATTRIB: u64 = 0x4;
pub const FAN_CLOSE_WRITE: u64 = 0x8;
pub const FAN_CLOSE_NOWRITE: u64 = 0x10;
pub const FAN_OPEN: u64 = 0x20;
pub const FAN_MOVED_FROM: u64 = 0x40;
pub const FAN_MOVED_TO: u64 = 0x80;
pub const FAN_CREATE: u64 = 0x100;
pub const FAN_DELETE: u64 = 0x200;
pub const FAN_DELETE_SELF: u64 = 0x400;
pub const FAN_MOVE_SELF: u64 = 0x800;
pub const FAN_OPEN_EXEC: u64 = 0x1000;
pub const FAN_Q_OVERFLOW: u64 = 0x4000;
pub const FAN_FS_ERROR: u64 = 0x8000;
pub const FAN_OPEN_PERM: u64 = 0x10000;
pub const FAN_ACCESS_PERM: u64 = 0x20000;
pub const FAN_OPEN_EXEC_PERM: u64 = 0x40000;
pub const FAN_PRE_ACCESS: u64 = 0x100000;
pub const FAN_MNT_ATTACH: u64 = 0x0100_0000;
pub const FAN_MNT_DETACH: u64 = 0x0200_0000;
pub const FAN_EVENT_ON_CHILD: u64 = 0x0800_0000;
pub const FAN_RENAME: u64 = 0x1000_0000;
pub const FAN_ONDIR: u64 = 0x4000_0000;

// fanotify_init flags.
pub const FAN_CLOEXEC: u32 = 0x1;
pub const FAN_NONBLOCK: u32 = 0x2;
pub const FAN_CLASS_NOTIF: u32 = 0x0;
pub const FAN_CLASS_CONTENT: u32 = 0x4;
pub const FAN_CLASS_PRE_CONTENT: u32 = 0x8;
pub const FAN_CLASS_BITS: u32 = 0xc;
pub const FAN_UNLIMITED_QUEUE: u32 = 0x10;
pub const FAN_UNLIMITED_MARKS: u32 = 0x20;
pub const FAN_ENABLE_AUDIT: u32 = 0x40;
pub const FAN_REPORT_PIDFD: u32 = 0x80;
pub const FAN_REPORT_TID: u32 = 0x100;
pub const FAN_REPORT_FID: u32 = 0x200;
pub const FAN_REPORT_DIR_FID: u32 = 0x400;
pub const FAN_REPORT_NAME: u32 = 0x800;
pub const FAN_REPORT_TARGET_FID: u32 = 0x1000;
pub const FAN_REPORT_FD_ERROR: u32 = 0x2000;
pub const FAN_REPORT_MNT: u32 = 0x4000;

// fanotify_mark flags.
pub const FAN_MARK_ADD: u32 = 0x1;
pub const FAN_MARK_REMOVE: u32 = 0x2;
pub const FAN_MARK_DONT_FOLLOW: u32 = 0x4;
pub const FAN_MARK_ONLYDIR: u32 = 0x8;
pub const FAN_MARK_IGNORED_MASK: u32 = 0x20;
pub const FAN_MARK_IGNORED_SURV_MODIFY: u32 = 0x40;
pub const FAN_MARK_FLUSH: u32 = 0x80;
pub const FAN_MARK_EVICTABLE: u32 = 0x200;
pub const FAN_MARK_IGNORE: u32 = 0x400;
pub const FAN_MARK_INODE: u32 = 0x0;
pub const FAN_MARK_MOUNT: u32 = 0x10;
pub const FAN_MARK_FILESYSTEM: u32 = 0x100;
pub const FAN_MARK_MNTNS: u32 = 0x110;
pub const FAN_MARK_TYPE_BITS: u32 = 0x110;

// Responses.
pub const FAN_ALLOW: u32 = 0x1;
pub const FAN_DENY: u32 = 0x2;
pub const FAN_AUDIT: u32 = 0x10;
pub const FAN_INFO: u32 = 0x20;
