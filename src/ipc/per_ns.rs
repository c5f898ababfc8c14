//! SysV IPC tables per IPC namespace: each table (queues, semaphore
//! arrays, segments) exists once per namespace, and a caller sees the one
//! of its own namespace (Linux's ipc_namespace.ids[]).

use crate::kernel::task::lock;
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

/// One table per IPC namespace, keyed by the namespace's inode number.
pub struct PerNs<T> {
    tables: Mutex<BTreeMap<u64, T>>,
    new: fn() -> T,
}

/// The locked table of one namespace.
pub struct NsGuard<'a, T> {
    g: MutexGuard<'a, BTreeMap<u64, T>>,
    key: u64,
}

impl<T> PerNs<T> {
    pub const fn new(new: fn() -> T) -> PerNs<T> {
        PerNs {
            tables: Mutex::new(BTreeMap::new()),
            new,
        }
    }
    /// The calling process's namespace's table.
    pub fn lock(&self) -> NsGuard<'_, T> {
        self.lock_in(crate::kernel::ns::current_ipc())
    }
    /// Namespace `key`'s table (made empty on first use).
    pub fn lock_in(&self, key: u64) -> NsGuard<'_, T> {
        let mut g = lock(&self.tables);
        g.entry(key).or_insert_with(self.new);
        NsGuard { g, key }
    }
    /// The namespaces that have a table.
    pub fn keys(&self) -> Vec<u64> {
        lock(&self.tables).keys().copied().collect()
    }
    /// Every namespace's table, taken out (reboot).
    pub fn take_all(&self) -> BTreeMap<u64, T> {
        std::mem::take(&mut *lock(&self.tables))
    }
}

impl<T> Deref for NsGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.g[&self.key]
    }
}

impl<T> DerefMut for NsGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.g.get_mut(&self.key).expect("lock_in made the table")
    }
}
