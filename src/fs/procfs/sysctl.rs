//! /proc/sys: the kernel tunables ruml has, readable by all and writable
//! by root, each with the checks Linux's proc_dointvec_minmax and friends
//! make (a bad value is EINVAL and changes nothing).

use super::{dir, sysctl};
use crate::fs::permission::{
    PROTECTED_FIFOS, PROTECTED_HARDLINKS, PROTECTED_REGULAR, PROTECTED_SYMLINKS,
};
use crate::fs::vfs::Inode;
use crate::kernel::errno::Errno;
use crate::kernel::{coredump, sys_proc};
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

/// kernel.sysrq: which SysRq functions the keyboard may use.
static SYSRQ: AtomicU32 = AtomicU32::new(1);

/// A read-only value.
fn fixed(path: &str, value: &'static str) -> Arc<dyn Inode> {
    super::file(path, move || Ok(format!("{value}\n")))
}

/// A random (version 4) UUID in its text form.
fn uuid4() -> String {
    let mut b = [0u8; 16];
    crate::drivers::char::host_console::host_random(&mut b);
    b[6] = b[6] & 0x0f | 0x40;
    b[8] = b[8] & 0x3f | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        h[..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..].concat()
    )
}

/// This boot's id: made at the first read, the same until poweroff.
static BOOT_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// kernel.random: boot_id (one UUID per boot, which journald stamps its
/// entries with and sd_id128_get_boot reads) and uuid (a new one at each
/// read), both 0444 as Linux.
fn random_dir() -> Arc<dyn Inode> {
    dir("/sys/kernel/random", || {
        vec![
            (
                "boot_id".into(),
                super::file("/sys/kernel/random/boot_id", || {
                    Ok(format!("{}\n", BOOT_ID.get_or_init(uuid4)))
                }),
            ),
            // A fully seeded pool, as Linux 5.18 on reports.
            (
                "entropy_avail".into(),
                fixed("/sys/kernel/random/entropy_avail", "256"),
            ),
            (
                "poolsize".into(),
                fixed("/sys/kernel/random/poolsize", "256"),
            ),
            (
                "uuid".into(),
                super::file("/sys/kernel/random/uuid", || Ok(format!("{}\n", uuid4()))),
            ),
        ]
    })
}

/// kernel.seccomp: the filter actions there are, and which are logged.
fn seccomp_dir() -> Arc<dyn Inode> {
    use crate::kernel::seccomp::audit;
    dir("/sys/kernel/seccomp", || {
        vec![
            (
                "actions_avail".into(),
                super::file("/sys/kernel/seccomp/actions_avail", || {
                    Ok(audit::actions_avail())
                }),
            ),
            (
                "actions_logged".into(),
                sysctl(
                    "/sys/kernel/seccomp/actions_logged",
                    || Ok(audit::actions_logged()),
                    audit::set_actions_logged,
                ),
            ),
        ]
    })
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

/// kernel.ns_last_pid: the last pid handed out in the reader's (or
/// writer's) pid namespace; writing it makes the next fork there take
/// the number after it. Writers need CAP_SYS_ADMIN over the namespace
/// (EPERM).
fn ns_last_pid() -> Arc<dyn Inode> {
    use crate::kernel::ns;
    sysctl(
        "/sys/kernel/ns_last_pid",
        || Ok(format!("{}\n", ns::pid::last_in(&ns::current_pid()))),
        |s| {
            let v = s.parse().map_err(|_| Errno::EINVAL)?;
            let pidns = ns::current_pid();
            if !ns::current_capable_in(&pidns) {
                return Err(Errno::EPERM);
            }
            ns::pid::set_last_in(&pidns, v)
        },
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

/// fs.file-max as Linux's files_maxfiles_init: a tenth of memory at 1 KiB
/// per open file, at least NR_FILE (8192).
fn file_max() -> u64 {
    let (total_frames, _) = crate::mm::frame::stats();
    (total_frames * 4 / 10).max(8192)
}

/// fs.file-nr: open files, free ones (always 0 since Linux 2.6), the
/// maximum. Open files are counted over every task's fd table (files
/// shared by several fds or tables count once per fd).
fn file_nr() -> String {
    let open: usize = crate::kernel::task::all_tasks()
        .iter()
        .map(|t| crate::kernel::task::lock(&t.files()).iter().count())
        .sum();
    format!("{open}\t0\t{}\n", file_max())
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

/// fs.mqueue.*: the POSIX message queue limits (Linux bounds the counts
/// at HARD_QUEUESMAX/HARD_MSGMAX and the sizes at HARD_MSGSIZEMAX).
fn mqueue_dir() -> Arc<dyn Inode> {
    use crate::ipc::mqueue::{MSGSIZE_DEFAULT, MSGSIZE_MAX, MSG_DEFAULT, MSG_MAX, QUEUES_MAX};
    dir("/sys/fs/mqueue", || {
        [
            ("queues_max", &QUEUES_MAX, 1024),
            ("msg_max", &MSG_MAX, 65536),
            ("msgsize_max", &MSGSIZE_MAX, 16 << 20),
            ("msg_default", &MSG_DEFAULT, 65536),
            ("msgsize_default", &MSGSIZE_DEFAULT, 16 << 20),
        ]
        .into_iter()
        .map(|(name, l, max)| {
            let t = sysctl(
                &format!("/sys/fs/mqueue/{name}"),
                move || Ok(format!("{}\n", l.get())),
                move |s| {
                    let n: u64 = s.parse().map_err(|_| Errno::EINVAL)?;
                    if n == 0 || n > max {
                        return Err(Errno::EINVAL);
                    }
                    l.set(n);
                    Ok(())
                },
            );
            (name.to_string(), t)
        })
        .collect()
    })
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
                        // The most F_SETPIPE_SZ gives an unprivileged user.
                        (
                            "pipe-max-size".into(),
                            fixed("/sys/fs/pipe-max-size", "1048576"),
                        ),
                        // The ceiling RLIMIT_NOFILE may be raised to.
                        (
                            "nr_open".into(),
                            super::file("/sys/fs/nr_open", || {
                                Ok(format!("{}\n", crate::kernel::task::NR_OPEN_MAX))
                            }),
                        ),
                        (
                            "file-max".into(),
                            super::file("/sys/fs/file-max", || Ok(format!("{}\n", file_max()))),
                        ),
                        ("mqueue".into(), mqueue_dir()),
                        (
                            "lease-break-time".into(),
                            int(
                                "/sys/fs/lease-break-time",
                                &crate::fs::leases::LEASE_BREAK_TIME,
                                i32::MAX as u32,
                            ),
                        ),
                        (
                            "leases-enable".into(),
                            int(
                                "/sys/fs/leases-enable",
                                &crate::fs::leases::LEASES_ENABLE,
                                1,
                            ),
                        ),
                        (
                            "file-nr".into(),
                            super::file("/sys/fs/file-nr", || Ok(file_nr())),
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
                        ("ns_last_pid".into(), ns_last_pid()),
                        ("ostype".into(), fixed("/sys/kernel/ostype", "Linux")),
                        (
                            "osrelease".into(),
                            fixed("/sys/kernel/osrelease", sys_proc::RELEASE),
                        ),
                        ("pid_max".into(), fixed("/sys/kernel/pid_max", "32768")),
                        (
                            "cap_last_cap".into(),
                            fixed("/sys/kernel/cap_last_cap", "40"),
                        ),
                        ("threads-max".into(), threads_max("/sys/kernel/threads-max")),
                        (
                            "ngroups_max".into(),
                            fixed("/sys/kernel/ngroups_max", "65536"),
                        ),
                        ("printk".into(), printk("/sys/kernel/printk")),
                        // Linux's Kconfig default (every function); writes
                        // to /proc/sysrq-trigger ignore it, as Linux.
                        ("sysrq".into(), int("/sys/kernel/sysrq", &SYSRQ, u32::MAX)),
                        ("version".into(), fixed("/sys/kernel/version", "#1 SMP")),
                        // No taint: no proprietary modules, no oops so far.
                        ("tainted".into(), fixed("/sys/kernel/tainted", "0")),
                        // Load addresses are not randomized (fixed ET_DYN
                        // base, stack and mmap bases), so 0 as Linux says
                        // with norandmaps.
                        (
                            "randomize_va_space".into(),
                            fixed("/sys/kernel/randomize_va_space", "0"),
                        ),
                        (
                            "core_pattern".into(),
                            sysctl(
                                "/sys/kernel/core_pattern",
                                || Ok(format!("{}\n", coredump::pattern())),
                                coredump::set_pattern,
                            ),
                        ),
                        ("seccomp".into(), seccomp_dir()),
                        ("random".into(), random_dir()),
                        (
                            "core_uses_pid".into(),
                            int("/sys/kernel/core_uses_pid", &coredump::USES_PID, 1),
                        ),
                    ];
                    v.extend(ipc_tunables());
                    v
                }),
            ),
        ]
    })
}
