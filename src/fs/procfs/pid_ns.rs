//! /proc/PID/ns/* (links to the process's namespaces, opened for setns)
//! and /proc/PID/{uid_map,gid_map,setgroups} of its user namespace.

use super::pid::group_task;
use super::{pid_node, Guard, Kind};
use crate::fs::vfs::{Inode, S_IFDIR, S_IFLNK, S_IFREG};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::ns::{self, nsfs, user::MapFile, Kind as NsKind, Ns};
use crate::kernel::task::Pid;
use std::sync::Arc;

/// Process `pid`'s namespace of kind `k` (pid_for_children and
/// time_for_children when `children`).
fn ns_of(pid: Pid, k: NsKind, children: bool) -> KResult<Arc<Ns>> {
    let p = ns::of(&*group_task(pid)?);
    Ok(match (k, children) {
        // A new pid namespace shows only once its init is forked
        // (Linux's pidns_for_children_get: ENOENT before).
        (NsKind::Pid, true) => {
            if !ns::pid::had_init(&p.pid_children) {
                return Err(Errno::ENOENT);
            }
            p.pid_children
        }
        (NsKind::Time, true) => p.time_children,
        _ => p.get(k),
    })
}

/// /proc/PID/ns: a magic link per namespace, guarded like exe
/// (ptrace read access).
pub(super) fn ns_dir(pid: Pid, base: &str) -> Arc<dyn Inode> {
    let b = format!("{base}/ns");
    let bb = b.clone();
    pid_node(
        pid,
        Guard::Mode,
        &b,
        S_IFDIR | 0o511,
        Kind::Dir(Arc::new(move || {
            let mut v = Vec::new();
            for k in NsKind::ALL {
                v.push((k.name().to_string(), false));
                if k == NsKind::Pid || k == NsKind::Time {
                    v.push((format!("{}_for_children", k.name()), true));
                }
            }
            v.into_iter()
                .map(|(name, children)| {
                    let k = NsKind::ALL
                        .into_iter()
                        .find(|k| name.starts_with(k.name()))
                        .unwrap_or(NsKind::User);
                    let node = pid_node(
                        pid,
                        Guard::Ptrace,
                        &format!("{bb}/{name}"),
                        S_IFLNK | 0o777,
                        Kind::Magic(
                            Arc::new(move || Ok(nsfs::link_text(&*ns_of(pid, k, children)?))),
                            Arc::new(move || Ok(nsfs::path_of(&ns_of(pid, k, children)?))),
                        ),
                    );
                    (name, node)
                })
                .collect()
        })),
    )
}

/// uid_map, gid_map and setgroups of process `pid`'s user namespace.
pub(super) fn map_files(pid: Pid, base: &str) -> Vec<(String, Arc<dyn Inode>)> {
    [
        ("uid_map", MapFile::Uid),
        ("gid_map", MapFile::Gid),
        ("setgroups", MapFile::Setgroups),
    ]
    .into_iter()
    .map(|(name, which)| {
        let node = pid_node(
            pid,
            Guard::Mode,
            &format!("{base}/{name}"),
            S_IFREG | 0o644,
            Kind::Ops(Arc::new(move || {
                Ok(ns::user::open(ns_of(pid, NsKind::User, false)?, which))
            })),
        );
        (name.to_string(), node)
    })
    .collect()
}
