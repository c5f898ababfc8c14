//! /proc/sysrq-trigger: writing a letter runs that Magic SysRq action
//! (the same actions as the mconsole's `sysrq`). Mode 0200 and owned by
//! root, as Linux, so others cannot even open it for writing.

use super::{node, Kind};
use crate::fs::vfs::{Inode, S_IFREG};
use std::sync::Arc;

pub(super) fn trigger_node() -> Arc<dyn Inode> {
    node(
        "/sysrq-trigger",
        S_IFREG | 0o200,
        Kind::Sysctl(
            Arc::new(|| Ok(String::new())),
            // Linux acts on the first byte of each write.
            Arc::new(|s: &str| {
                if let Some(c) = s.chars().next() {
                    crate::drivers::mconsole::sysrq::trigger(c);
                }
                Ok(())
            }),
        ),
    )
}
