//! Device nodes appearing and going at run time (mconsole ubd hot-plug):
//! every devtmpfs instance is remembered so a new device gets its node in
//! each, as Linux's devtmpfs shows one tree wherever it is mounted.

use crate::fs::vfs::{Inode, Owner, S_IFBLK};
use std::sync::{Arc, Mutex, Weak};

static ROOTS: Mutex<Vec<Weak<dyn Inode>>> = Mutex::new(Vec::new());

fn roots() -> Vec<Arc<dyn Inode>> {
    let mut r = ROOTS.lock().unwrap_or_else(|e| e.into_inner());
    r.retain(|w| w.strong_count() > 0);
    r.iter().filter_map(|w| w.upgrade()).collect()
}

/// Remember a new devtmpfs root.
pub fn register(root: &Arc<dyn Inode>) {
    ROOTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Arc::downgrade(root));
}

/// Add block device node `name` everywhere.
pub fn add_block(name: &str, rdev: u64) {
    for r in roots() {
        let _ = r.unlink(name, false);
        if let Err(e) = r.create(name, S_IFBLK | 0o600, rdev, Owner::ROOT) {
            log::warn!("devtmpfs: cannot add {name}: {}", e.name());
        }
    }
}

/// Remove node `name` everywhere.
pub fn remove(name: &str) {
    for r in roots() {
        let _ = r.unlink(name, false);
    }
}
