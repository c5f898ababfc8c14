//! fanotify's file-handle reports (FAN_REPORT_FID, FAN_REPORT_DIR_FID,
//! FAN_REPORT_NAME, FAN_REPORT_TARGET_FID): which objects an event names
//! for a group of a given mode (Linux's fanotify_alloc_event) and the info
//! records a read returns for it (copy_info_records_to_user).

use crate::abi::fanotify::*;
use crate::abi::fcntl::FileHandleHeader;
use crate::fs::fhandle::{fid_of, Fid};
use crate::fs::vfs::Inode;

/// Directory-entry events: they happen to a directory, naming an entry.
pub const DIRENT_EVENTS: u64 = FAN_MOVED_FROM | FAN_MOVED_TO | FAN_CREATE | FAN_DELETE | FAN_RENAME;

/// What a file-handle event names. Two events with equal infos (and
/// masks of the same kind) merge.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Info {
    /// One object: the event's own or its directory's.
    Object(Fid),
    /// A directory and an entry in it (Linux's name event): the directory
    /// (None in a FAN_RENAME reporting only the new place), the entry's
    /// name, the new directory and name of a rename, the child itself.
    Name {
        dir: Option<Fid>,
        name: Option<String>,
        new: Option<(Fid, String)>,
        child: Option<Fid>,
    },
}

/// One event as the hooks see it.
pub struct Happening<'a> {
    /// The event bit, with FAN_ONDIR when the object is a directory.
    pub mask: u64,
    /// The object: the file itself, or the entry a dirent event is about.
    pub object: &'a dyn Inode,
    /// The directory: a dirent event's, or the parent of the object when
    /// the event reaches the group through it.
    pub dir: Option<&'a dyn Inode>,
    /// The object's name in `dir`.
    pub name: Option<&'a str>,
    /// A rename's new directory and name.
    pub new: Option<(&'a dyn Inode, &'a str)>,
}

/// Report the child's fid besides the directory's (Linux's
/// fanotify_report_child_fid).
fn child_fid_wanted(mode: u32, mask: u64) -> bool {
    if mask & DIRENT_EVENTS != 0 {
        mode & FAN_REPORT_TARGET_FID != 0
    } else {
        mode & FAN_REPORT_FID != 0 && mask & FAN_ONDIR == 0
    }
}

/// What an event names for a group with fid mode `mode`. For FAN_RENAME,
/// `old`/`new` say which places the group's marks matched. None when a
/// needed handle cannot be made.
pub fn build(mode: u32, h: &Happening, old: bool, new: bool) -> Option<Info> {
    let dirent = h.mask & DIRENT_EVENTS != 0;
    let ondir = h.mask & FAN_ONDIR != 0;
    let mut id: Option<&dyn Inode> = if dirent && mode & FAN_REPORT_TARGET_FID == 0 {
        h.dir
    } else {
        Some(h.object)
    };
    let mut dirid: Option<&dyn Inode> = if dirent {
        h.dir
    } else if ondir {
        Some(h.object)
    } else {
        h.dir
    };
    let mut name = h.name;
    let mut child: Option<&dyn Inode> = None;
    let mut moved: Option<(&dyn Inode, &str)> = None;
    let mut name_event = false;
    if mode & FAN_REPORT_DIR_FID != 0 && dirid.is_some() {
        let same = match (id, dirid) {
            (Some(a), Some(b)) => std::ptr::addr_eq(a as *const dyn Inode, b as *const dyn Inode),
            _ => false,
        };
        if child_fid_wanted(mode, h.mask) && !same {
            child = id;
        }
        id = dirid;
        if mode & FAN_REPORT_NAME == 0 {
            name_event = child.is_some();
            name = None;
        } else if dirent || !ondir {
            name_event = true;
        }
        if h.mask & FAN_RENAME != 0 {
            if !old {
                dirid = None;
                name = None;
            }
            if new {
                moved = h.new;
            }
            name_event = true;
        }
    }
    if name_event && (name.is_some() || moved.is_some() || child.is_some()) {
        let dir = match dirid {
            Some(d) => Some(fid_of(d)?),
            None => None,
        };
        let new = match moved {
            Some((d, n)) => Some((fid_of(d)?, n.to_string())),
            None => None,
        };
        let child = match child {
            Some(c) => Some(fid_of(c)?),
            None => None,
        };
        return Some(Info::Name {
            dir,
            name: name.map(str::to_string),
            new,
            child,
        });
    }
    Some(Info::Object(fid_of(id?)?))
}

/// The bytes of one fid record with an optional name.
fn record_len(f: &Fid, name: Option<&str>) -> usize {
    let fixed =
        core::mem::size_of::<FanotifyEventInfoFid>() + core::mem::size_of::<FileHandleHeader>();
    let name = name.map_or(0, |n| crate::fs::name::to_bytes(n).len() + 1);
    (fixed + f.handle.len() + name).next_multiple_of(FANOTIFY_EVENT_ALIGN)
}

/// The records of `info` for an event with `mask` in a group of mode
/// `mode`, in Linux's order: directory and name, new directory and name,
/// then the object or child.
fn records(mode: u32, mask: u64, info: &Info) -> Vec<(u8, &Fid, Option<&str>)> {
    let mut out = Vec::new();
    let obj = match info {
        Info::Object(f) => Some(f),
        Info::Name {
            dir,
            name,
            new,
            child,
        } => {
            if let Some(d) = dir {
                let ty = if mask & FAN_RENAME != 0 {
                    FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
                } else if name.is_some() {
                    FAN_EVENT_INFO_TYPE_DFID_NAME
                } else {
                    FAN_EVENT_INFO_TYPE_DFID
                };
                out.push((ty, d, name.as_deref()));
            }
            if let Some((d, n)) = new {
                out.push((FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, d, Some(n.as_str())));
            }
            child.as_ref()
        }
    };
    if let Some(f) = obj {
        let (ty, dot) = if mode == FAN_REPORT_FID || !out.is_empty() {
            (FAN_EVENT_INFO_TYPE_FID, None)
        } else if mode & FAN_REPORT_NAME != 0 && mask & FAN_ONDIR != 0 {
            // A directory's own event names it "." in itself.
            (FAN_EVENT_INFO_TYPE_DFID_NAME, Some("."))
        } else if mask & (DIRENT_EVENTS | FAN_ONDIR) != 0 {
            (FAN_EVENT_INFO_TYPE_DFID, None)
        } else {
            (FAN_EVENT_INFO_TYPE_FID, None)
        };
        out.push((ty, f, dot));
    }
    out
}

/// Bytes the info records take.
pub fn info_len(mode: u32, mask: u64, info: &Info) -> usize {
    records(mode, mask, info)
        .iter()
        .map(|(_, f, n)| record_len(f, *n))
        .sum()
}

/// Write the info records into `out` (exactly `info_len` bytes).
pub fn write_info(mode: u32, mask: u64, info: &Info, out: &mut [u8]) {
    let mut off = 0;
    for (ty, f, name) in records(mode, mask, info) {
        let len = record_len(f, name);
        let rec = &mut out[off..off + len];
        rec.fill(0);
        let head = FanotifyEventInfoFid {
            hdr: FanotifyEventInfoHeader {
                info_type: ty,
                pad: 0,
                len: len as u16,
            },
            fsid: f.fsid,
        };
        crate::abi::write_at(rec, 0, &head);
        let mut at = core::mem::size_of::<FanotifyEventInfoFid>();
        let fh = FileHandleHeader {
            handle_bytes: f.handle.len() as u32,
            handle_type: f.handle_type,
        };
        crate::abi::write_at(rec, at, &fh);
        at += core::mem::size_of::<FileHandleHeader>();
        rec[at..at + f.handle.len()].copy_from_slice(&f.handle);
        at += f.handle.len();
        if let Some(n) = name {
            let b = crate::fs::name::to_bytes(n);
            rec[at..at + b.len()].copy_from_slice(&b);
        }
        off += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fid(n: u8, len: usize) -> Fid {
        Fid {
            fsid: [7, 9],
            handle_type: 1,
            handle: vec![n; len],
        }
    }

    #[test]
    fn records_are_laid_out_and_padded_as_linux() {
        let info = Info::Name {
            dir: Some(fid(1, 12)),
            name: Some("abc".into()),
            new: None,
            child: Some(fid(2, 8)),
        };
        let mode = FAN_REPORT_DFID_NAME_BITS | FAN_REPORT_FID;
        // 12 + 8 + 12 + "abc\0" = 36; 12 + 8 + 8 = 28.
        assert_eq!(info_len(mode, FAN_CREATE, &info), 36 + 28);
        let mut b = vec![0xffu8; 64];
        write_info(mode, FAN_CREATE, &info, &mut b);
        let h: FanotifyEventInfoFid = crate::abi::read_at(&b, 0);
        assert_eq!(
            (h.hdr.info_type, h.hdr.len, h.fsid),
            (FAN_EVENT_INFO_TYPE_DFID_NAME, 36, [7, 9])
        );
        let fh: FileHandleHeader = crate::abi::read_at(&b, 12);
        assert_eq!((fh.handle_bytes, fh.handle_type), (12, 1));
        assert_eq!(&b[32..36], b"abc\0");
        let c: FanotifyEventInfoFid = crate::abi::read_at(&b, 36);
        assert_eq!((c.hdr.info_type, c.hdr.len), (FAN_EVENT_INFO_TYPE_FID, 28));
    }

    #[test]
    fn a_directorys_own_event_is_named_dot() {
        let info = Info::Object(fid(3, 12));
        let mode = FAN_REPORT_DFID_NAME_BITS;
        // 12 + 8 + 12 + ".\0" = 34, padded to 36.
        assert_eq!(info_len(mode, FAN_ATTRIB | FAN_ONDIR, &info), 36);
        let mut b = vec![0xffu8; 36];
        write_info(mode, FAN_ATTRIB | FAN_ONDIR, &info, &mut b);
        assert_eq!(b[0], FAN_EVENT_INFO_TYPE_DFID_NAME);
        assert_eq!(&b[32..36], b".\0\0\0");
        // Without names, only the directory's handle.
        assert_eq!(
            records(FAN_REPORT_DIR_FID, FAN_CREATE, &info)[0].0,
            FAN_EVENT_INFO_TYPE_DFID
        );
        assert_eq!(
            records(FAN_REPORT_FID, FAN_CREATE, &info)[0].0,
            FAN_EVENT_INFO_TYPE_FID
        );
    }

    const FAN_REPORT_DFID_NAME_BITS: u32 = FAN_REPORT_DIR_FID | FAN_REPORT_NAME;
}
