//! hostfs: a directory of the host seen in the guest, as UML's hostfs,
//! but confined to the export root named by `hostfs=DIR` on the command
//! line (UML's reaches the whole host by default).
//!
//! `mount -t hostfs none /mnt -o SUBPATH` mounts DIR/SUBPATH (`-o /` or no
//! option: DIR itself). The guest sees the host's modes, owners, sizes and
//! times; the host decides every operation with vmlinux's host rights and
//! its errors come back as the guest's errno. The host half
//! (`drivers/fs/hostfs_host.rs`) does the confined path resolution; this
//! half never builds host paths, only passes single names.

mod inode;
mod pagecache;

use crate::drivers::fs::hostfs_host::{self as host, HostNode};
use crate::fs::vfs::Inode;
use crate::kernel::errno::{Errno, KResult};
use inode::HostInode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// One mounted hostfs: its guest device number and the live inodes by
/// host (dev, ino), so one host file is one guest inode (mount points and
/// hard links rely on inode identity).
pub struct HostSb {
    dev: u64,
    inodes: Mutex<HashMap<(u64, u64), Weak<HostInode>>>,
}

/// A host errno as the guest's (x86_64 numbers are the same); anything
/// unexpected is EIO.
fn errno(e: host::HostErr) -> Errno {
    if (1..=133).contains(&e) {
        Errno(e)
    } else {
        Errno::EIO
    }
}

/// mount -t hostfs: the option words are one host path relative to the
/// export root. Returns the root inode and what /proc/mounts shows.
pub fn mount(words: &[String]) -> KResult<(Arc<dyn Inode>, String)> {
    if !host::exported() {
        log::warn!("hostfs: no export root: boot with hostfs=DIR to allow hostfs mounts");
        return Err(Errno::EPERM);
    }
    if words.len() > 1 {
        log::error!("hostfs: one host path expected, got '{}'", words.join(","));
        return Err(Errno::EINVAL);
    }
    let sub = words.first().map(String::as_str).unwrap_or("/");
    let mut node = HostNode::root().map_err(errno)?;
    for c in sub.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if c == ".." {
            log::error!("hostfs: '..' in '{sub}' would leave the export root");
            return Err(Errno::EINVAL);
        }
        node = node.lookup(c).map_err(|e| {
            log::error!("hostfs: {sub}: {}", errno(e));
            errno(e)
        })?;
    }
    let sb = Arc::new(HostSb {
        dev: crate::fs::tmpfs::new_dev(),
        inodes: Mutex::new(HashMap::new()),
    });
    let root = HostInode::get(&sb, node)?;
    if !root.stat().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let shown = if sub == "/" {
        String::new()
    } else {
        sub.to_string()
    };
    Ok((root, shown))
}
