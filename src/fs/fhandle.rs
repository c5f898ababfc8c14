//! Export file handles: what names an inode across opens and reboots of
//! the guest's view (name_to_handle_at, open_by_handle_at, fanotify's fid
//! records), with the filesystem id statfs reports beside it.
//!
//! Each filesystem encodes and decodes its own handles (`Inode::file_handle`,
//! `Inode::from_handle`) in Linux's layout for that filesystem; this module
//! pairs them with the fsid and finds a path for a decoded inode.

use super::vfs::{Dentry, Inode, Path};
use std::sync::Arc;

/// An object's identity as fanotify reports it: the filesystem's id and
/// the object's handle.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Fid {
    /// statfs's f_fsid, as __kernel_fsid_t's two words.
    pub fsid: [u32; 2],
    pub handle_type: i32,
    pub handle: Vec<u8>,
}

/// statfs's f_fsid of the filesystem `inode` is on (0 when it has none).
pub fn fsid_of(inode: &dyn Inode) -> u64 {
    inode.statfs().map(|s| s.fsid).unwrap_or(0)
}

/// The fid of `inode`, if its filesystem makes handles.
pub fn fid_of(inode: &dyn Inode) -> Option<Fid> {
    let (handle_type, handle) = inode.file_handle()?;
    let fsid = fsid_of(inode);
    Some(Fid {
        fsid: [fsid as u32, (fsid >> 32) as u32],
        handle_type,
        handle,
    })
}

/// Entries a search for a decoded inode's path looks at before it gives up.
const SEARCH_LIMIT: usize = 4096;

/// A path for `inode` below the mount root `root`: found by searching the
/// tree (as Linux reconnects a decoded dentry), or, past the search's
/// limit, a nameless dentry under the root (Linux's disconnected one).
pub fn path_for(root: &Path, inode: Arc<dyn Inode>) -> Path {
    let st = inode.stat();
    let key = (st.dev, st.ino);
    let rs = root.inode.stat();
    if (rs.dev, rs.ino) == key {
        return root.clone();
    }
    let mut stack = vec![root.clone()];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        let Ok(entries) = d.inode.readdir() else {
            continue;
        };
        for e in entries {
            if e.name == "." || e.name == ".." {
                continue;
            }
            seen += 1;
            if seen > SEARCH_LIMIT {
                return anonymous(root, inode);
            }
            let Ok(i) = d.inode.lookup(&e.name) else {
                continue;
            };
            let s = i.stat();
            if s.dev != key.0 {
                continue;
            }
            let child = Arc::new(Dentry {
                name: e.name,
                parent: Some(d.clone()),
                inode: i,
            });
            if s.ino == key.1 {
                return Arc::new(Dentry {
                    name: child.name.clone(),
                    parent: child.parent.clone(),
                    inode,
                });
            }
            if s.is_dir() {
                stack.push(child);
            }
        }
    }
    anonymous(root, inode)
}

fn anonymous(root: &Path, inode: Arc<dyn Inode>) -> Path {
    Arc::new(Dentry {
        name: String::new(),
        parent: Some(root.clone()),
        inode,
    })
}
