//! /proc/sys: the kernel tunables ruml has, readable by all and writable
//! by root, each with the checks Linux's proc_dointvec_minmax and friends
//! make (a bad value is EINVAL and changes nothing).

use super::{dir, sysctl};
use crate::fs::permission::{
    PROTECTED_FIFOS, PROTECTED_HARDLINKS, PROTECTED_REGULAR, PROTECTED_SYMLINKS,
};
use crate::fs::vfs::Inode;
use crate::kernel::errno::Errno;
use crate::kernel::sys_proc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// An integer tunable in `0..=max` kept in `v`.
fn int(path: &str, v: &'static AtomicU32, max: u32) -> Arc<dyn Inode> {
    sysctl(
        path,
        move || Ok(format!("{}\n", v.load(Ordering::Relaxed))),
        move |s| {
            let n: u32 = s.parse().map_err(|_| Errno::EINVAL)?;
            if n > max {
                return Err(Errno::EINVAL);
            }
            v.store(n, Ordering::Relaxed);
            Ok(())
        },
    )
}

/// A read-only value.
fn fixed(path: &str, value: &'static str) -> Arc<dyn Inode> {
    super::file(path, move || Ok(format!("{value}\n")))
}

/// kernel.threads-max: how many tasks may exist (root may change it).
fn threads_max(path: &str) -> Arc<dyn Inode> {
    use crate::kernel::nproc;
    sysctl(
        path,
        || Ok(format!("{}\n", nproc::threads_max())),
        |s| nproc::set_threads_max(s.parse().map_err(|_| Errno::EINVAL)?),
    )
}

/// A name (hostname, domainname): at most 64 bytes.
fn name(path: &str, get: fn() -> String, set: fn(&str)) -> Arc<dyn Inode> {
    sysctl(
        path,
        move || Ok(format!("{}\n", get())),
        move |s| {
            if s.len() > 64 {
                return Err(Errno::EINVAL);
            }
            set(s);
            Ok(())
        },
    )
}

/// kernel.printk: the console log level and Linux's three other numbers
/// (only the first changes anything here).
fn printk(path: &str) -> Arc<dyn Inode> {
    use crate::kernel::printk::{loglevel, set_loglevel};
    sysctl(
        path,
        || Ok(format!("{}\t4\t1\t7\n", loglevel())),
        |s| {
            let first = s.split_whitespace().next().ok_or(Errno::EINVAL)?;
            let l: u8 = first.parse().map_err(|_| Errno::EINVAL)?;
            set_loglevel(l.min(8));
            Ok(())
        },
    )
}

fn domainname() -> String {
    let d = sys_proc::domainname();
    if d.is_empty() {
        "(none)".into()
    } else {
        d
    }
}

/// kernel.sem, kernel.msg* and kernel.shm*: System V IPC's limits.
fn ipc_tunables() -> Vec<(String, Arc<dyn Inode>)> {
    use crate::ipc::proc::{limits, sem_get, sem_set};
    let mut v: Vec<(String, Arc<dyn Inode>)> =
        vec![("sem".into(), sysctl("/sys/kernel/sem", sem_get, sem_set))];
    for (name, l, max) in limits() {
        let t = sysctl(
            &format!("/sys/kernel/{name}"),
            move || Ok(format!("{}\n", l.get())),
            move |s| {
                let n: u64 = s.parse().map_err(|_| Errno::EINVAL)?;
                if n > max {
                    return Err(Errno::EINVAL);
                }
                l.set(n);
                Ok(())
            },
        );
        v.push((name.into(), t));
    }
    v
}

/// The /proc/sys directory.
pub fn sys_dir() -> Arc<dyn Inode> {
    dir("/sys", || {
        vec![
            (
                "fs".into(),
                dir("/sys/fs", || {
                    vec![
                        (
                            "protected_hardlinks".into(),
                            int("/sys/fs/protected_hardlinks", &PROTECTED_HARDLINKS, 1),
                        ),
                        (
                            "protected_symlinks".into(),
                            int("/sys/fs/protected_symlinks", &PROTECTED_SYMLINKS, 1),
                        ),
                        (
                            "protected_fifos".into(),
                            int("/sys/fs/protected_fifos", &PROTECTED_FIFOS, 2),
                        ),
                        (
                            "protected_regular".into(),
                            int("/sys/fs/protected_regular", &PROTECTED_REGULAR, 2),
                        ),
                    ]
                }),
            ),
            (
                "kernel".into(),
                dir("/sys/kernel", || {
                    let mut v = vec![
                        (
                            "hostname".into(),
                            name(
                                "/sys/kernel/hostname",
                                sys_proc::hostname,
                                sys_proc::set_hostname,
                            ),
                        ),
                        (
                            "domainname".into(),
                            name(
                                "/sys/kernel/domainname",
                                domainname,
                                sys_proc::set_domainname,
                            ),
                        ),
                        ("ostype".into(), fixed("/sys/kernel/ostype", "Linux")),
                        (
                            "osrelease".into(),
                            fixed("/sys/kernel/osrelease", sys_proc::RELEASE),
                        ),
                        ("pid_max".into(), fixed("/sys/kernel/pid_max", "32768")),
                        ("threads-max".into(), threads_max("/sys/kernel/threads-max")),
                        (
                            "ngroups_max".into(),
                            fixed("/sys/kernel/ngroups_max", "65536"),
                        ),
                        ("printk".into(), printk("/sys/kernel/printk")),
                    ];
                    v.extend(ipc_tunables());
                    v
                }),
            ),
        ]
    })
}
