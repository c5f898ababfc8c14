//! The system call table: number → handler, argument decoding, result and
//! restart handling. Handlers live one family a file (`sys_*.rs`).

pub mod names;

use super::errno::{Errno, KResult};
use super::task::Task;
use super::{
    signal, sys_attr, sys_clock, sys_cred, sys_epoll, sys_fs, sys_inotify, sys_ipc, sys_mm,
    sys_mount, sys_mqueue, sys_net, sys_poll, sys_prio, sys_proc, sys_rusage, sys_sched,
    sys_signal, sys_time, sys_xattr,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Raw syscall arguments (rdi, rsi, rdx, r10, r8, r9).
#[derive(Clone, Copy)]
pub struct Args(pub [u64; 6]);

impl Args {
    pub fn u(&self, i: usize) -> u64 {
        self.0[i]
    }
    pub fn i(&self, i: usize) -> i32 {
        self.0[i] as i32
    }
    pub fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }
    pub fn usize(&self, i: usize) -> usize {
        self.0[i] as usize
    }
    pub fn i64(&self, i: usize) -> i64 {
        self.0[i] as i64
    }
}

static WARNED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

fn warn_once(nr: u64) {
    let mut g = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if g.get_or_insert_with(HashSet::new).insert(nr) {
        log::warn!("ruml: unimplemented syscall {} ({})", names::name(nr), nr);
    }
}

/// Syscalls that restart only when no handler runs (Linux's
/// ERESTARTNOHAND), rather than following SA_RESTART.
fn restart_code(nr: u64) -> Errno {
    match nr {
        _ if sys_ipc::never_restarts(nr) => Errno::EINTR,
        7 | 23 | 34 | 35 | 130 | 230 | 270 | 271 | 128 | 232 | 281 => Errno::ERESTARTNOHAND,
        _ => Errno::ERESTARTSYS,
    }
}

/// Handle the syscall in `t`'s registers. `redo`: it blocked before and
/// was woken.
pub fn dispatch(t: &Arc<Task>, redo: bool) {
    let (nr, args) = {
        let i = t.lock();
        let r = &i.ctx.regs;
        (r.orig_rax, Args([r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9]))
    };
    super::current::set(t.tgid());
    // A vfork parent's wait (the child exists: clone decides) and disk
    // I/O are not cut short by a signal.
    let uninterruptible = {
        let i = t.lock();
        i.vfork_child != 0 || i.io_wait
    };
    let res = if redo && !uninterruptible && signal::has_pending(t) {
        super::futex::cancel(t);
        crate::fs::locks::cancel(t);
        // A write that moved some bytes before the signal returns them.
        match t.lock().partial_io {
            0 => Err(restart_code(nr)),
            n => Ok(n),
        }
    } else {
        call(t, nr, args, redo)
    };
    super::current::set(0);
    if log::log_enabled!(log::Level::Trace) {
        log::trace!(
            "[{}] {}({:#x}, {:#x}, {:#x}, {:#x}) = {:?}",
            t.tid,
            names::name(nr),
            args.0[0],
            args.0[1],
            args.0[2],
            args.0[3],
            res
        );
    }
    let mut i = t.lock();
    if res != Err(Errno::EBLOCK) {
        i.io_wait = false;
        i.partial_io = 0;
    }
    match res {
        Err(Errno::EBLOCK) => {}
        Err(Errno::EJUSTRETURN) => {
            i.deadline = None;
        }
        Ok(v) => {
            i.ctx.regs.rax = v;
            i.deadline = None;
        }
        Err(e) => {
            i.ctx.regs.rax = (-(e.0 as i64)) as u64;
            if e.0 >= 512 && e.0 <= 516 {
                i.restart_check = true;
            } else {
                i.deadline = None;
            }
        }
    }
}

fn call(t: &Arc<Task>, nr: u64, a: Args, redo: bool) -> KResult<u64> {
    match nr {
        0 => sys_fs::sys_read(t, a.i(0), a.u(1), a.usize(2), redo),
        1 => sys_fs::sys_write(t, a.i(0), a.u(1), a.usize(2)),
        2 => sys_fs::sys_openat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), a.u32(2)),
        3 => sys_fs::sys_close(t, a.i(0)),
        4 => sys_fs::sys_newfstatat(t, sys_fs::AT_FDCWD, a.u(0), a.u(1), 0),
        5 => sys_fs::sys_fstat(t, a.i(0), a.u(1)),
        6 => sys_fs::sys_newfstatat(
            t,
            sys_fs::AT_FDCWD,
            a.u(0),
            a.u(1),
            sys_fs::AT_SYMLINK_NOFOLLOW,
        ),
        7 => sys_poll::sys_poll(t, a.u(0), a.u32(1), a.i(2) as i64, redo),
        8 => sys_fs::sys_lseek(t, a.i(0), a.i64(1), a.u32(2)),
        9 => sys_mm::sys_mmap(t, a.u(0), a.u(1), a.u32(2), a.u32(3), a.i(4), a.u(5)),
        10 => sys_mm::sys_mprotect(t, a.u(0), a.u(1), a.u32(2)),
        11 => sys_mm::sys_munmap(t, a.u(0), a.u(1)),
        12 => sys_mm::sys_brk(t, a.u(0)),
        13 => sys_signal::sys_rt_sigaction(t, a.i(0), a.u(1), a.u(2), a.usize(3)),
        14 => sys_signal::sys_rt_sigprocmask(t, a.i(0), a.u(1), a.u(2), a.usize(3)),
        15 => sys_signal::sys_rt_sigreturn(t),
        16 => sys_fs::sys_ioctl(t, a.i(0), a.u32(1), a.u(2)),
        17 => sys_fs::sys_pread64(t, a.i(0), a.u(1), a.usize(2), a.i64(3)),
        18 => sys_fs::sys_pwrite64(t, a.i(0), a.u(1), a.usize(2), a.i64(3)),
        19 => sys_fs::sys_readv(t, a.i(0), a.u(1), a.i(2), None, redo),
        20 => sys_fs::sys_writev(t, a.i(0), a.u(1), a.i(2), None),
        21 => sys_attr::sys_faccessat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), 0),
        22 => sys_fs::sys_pipe2(t, a.u(0), 0),
        23 => sys_poll::sys_select(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u(4), redo, false),
        24 => sys_proc::sys_sched_yield(t),
        25 => sys_mm::sys_mremap(t, a.u(0), a.u(1), a.u(2), a.u32(3), a.u(4)),
        26 => sys_mm::sys_msync(t, a.u(0), a.u(1), a.u32(2)),
        27 => sys_mm::sys_mincore(t, a.u(0), a.u(1), a.u(2)),
        28 => sys_mm::sys_madvise(t, a.u(0), a.u(1), a.i(2)),
        32 => sys_fs::sys_dup(t, a.i(0)),
        33 => sys_fs::sys_dup2(t, a.i(0), a.i(1)),
        34 => sys_signal::sys_pause(t),
        35 => sys_time::sys_nanosleep(t, a.u(0), a.u(1), redo),
        36 => sys_time::sys_getitimer(t, a.i(0), a.u(1)),
        37 => sys_time::sys_alarm(t, a.u32(0)),
        38 => sys_time::sys_setitimer(t, a.i(0), a.u(1), a.u(2)),
        39 => Ok(t.tgid() as u64),
        40 => super::sendfile::sys_sendfile(t, a.i(0), a.i(1), a.u(2), a.usize(3), redo),
        41 => sys_net::sys_socket(t, a.i(0), a.u32(1), a.i(2)),
        42 => sys_net::sys_connect(t, a.i(0), a.u(1), a.u32(2)),
        43 => sys_net::sys_accept4(t, a.i(0), a.u(1), a.u(2), 0),
        44 => sys_net::sys_sendto(t, a.i(0), a.u(1), a.usize(2), a.u32(3), a.u(4), a.u32(5)),
        45 => sys_net::sys_recvfrom(t, a.i(0), a.u(1), a.usize(2), a.u32(3), a.u(4), a.u(5)),
        46 => sys_net::sys_sendmsg(t, a.i(0), a.u(1), a.u32(2)),
        47 => sys_net::sys_recvmsg(t, a.i(0), a.u(1), a.u32(2)),
        48 => sys_net::sys_shutdown(t, a.i(0), a.i(1)),
        49 => sys_net::sys_bind(t, a.i(0), a.u(1), a.u32(2)),
        50 => sys_net::sys_listen(t, a.i(0), a.i(1)),
        51 => sys_net::sys_getsockname(t, a.i(0), a.u(1), a.u(2)),
        52 => sys_net::sys_getpeername(t, a.i(0), a.u(1), a.u(2)),
        53 => sys_net::sys_socketpair(t, a.i(0), a.u32(1), a.i(2), a.u(3)),
        54 => sys_net::sys_setsockopt(t, a.i(0), a.i(1), a.i(2), a.u(3), a.u32(4)),
        55 => sys_net::sys_getsockopt(t, a.i(0), a.i(1), a.i(2), a.u(3), a.u(4)),
        56 => sys_proc::sys_clone(t, a.u(0), a.u(1), a.u(2), a.u(3), a.u(4), redo),
        57 => sys_proc::sys_clone(t, super::signal::SIGCHLD as u64, 0, 0, 0, 0, redo),
        58 => sys_proc::sys_clone(
            t,
            sys_proc::CLONE_VM | sys_proc::CLONE_VFORK | super::signal::SIGCHLD as u64,
            0,
            0,
            0,
            0,
            redo,
        ),
        59 => super::exec::sys_execve(t, sys_fs::AT_FDCWD, a.u(0), a.u(1), a.u(2), 0),
        60 => sys_proc::sys_exit(t, a.i(0)),
        61 => sys_proc::sys_wait4(t, a.i(0), a.u(1), a.i(2), a.u(3), redo),
        62 => sys_signal::sys_kill(t, a.i(0), a.i(1)),
        63 => sys_proc::sys_uname(t, a.u(0)),
        72 => sys_fs::sys_fcntl(t, a.i(0), a.u32(1), a.u(2)),
        73 => super::sys_locks::sys_flock(t, a.i(0), a.i(1)),
        74 | 75 => sys_fs::sys_fsync(t, a.i(0)),
        76 => sys_attr::sys_truncate(t, a.u(0), a.i64(1)),
        77 => sys_attr::sys_ftruncate(t, a.i(0), a.i64(1)),
        78 => Err(Errno::ENOSYS),
        188..=199 => sys_xattr::dispatch(t, nr, &a),
        29..=31 | 64..=71 | 220 => sys_ipc::dispatch(t, nr, &a, redo),
        79 => sys_fs::sys_getcwd(t, a.u(0), a.usize(1)),
        80 => sys_fs::sys_chdir(t, a.u(0)),
        81 => sys_fs::sys_fchdir(t, a.i(0)),
        82 => sys_fs::sys_renameat2(t, sys_fs::AT_FDCWD, a.u(0), sys_fs::AT_FDCWD, a.u(1), 0),
        83 => sys_fs::sys_mkdirat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1)),
        84 => sys_fs::sys_unlinkat(t, sys_fs::AT_FDCWD, a.u(0), sys_fs::AT_REMOVEDIR),
        85 => sys_fs::sys_openat(t, sys_fs::AT_FDCWD, a.u(0), 0o1101, a.u32(1)),
        86 => sys_fs::sys_linkat(t, sys_fs::AT_FDCWD, a.u(0), sys_fs::AT_FDCWD, a.u(1), 0),
        87 => sys_fs::sys_unlinkat(t, sys_fs::AT_FDCWD, a.u(0), 0),
        88 => sys_fs::sys_symlinkat(t, a.u(0), sys_fs::AT_FDCWD, a.u(1)),
        89 => sys_fs::sys_readlinkat(t, sys_fs::AT_FDCWD, a.u(0), a.u(1), a.usize(2)),
        90 => sys_attr::sys_fchmodat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), 0),
        91 => sys_attr::sys_fchmod(t, a.i(0), a.u32(1)),
        92 => sys_attr::sys_fchownat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), a.u32(2), 0),
        93 => sys_attr::sys_fchown(t, a.i(0), a.u32(1), a.u32(2)),
        94 => sys_attr::sys_fchownat(
            t,
            sys_fs::AT_FDCWD,
            a.u(0),
            a.u32(1),
            a.u32(2),
            sys_fs::AT_SYMLINK_NOFOLLOW,
        ),
        95 => sys_fs::sys_umask(t, a.u32(0)),
        96 => sys_time::sys_gettimeofday(t, a.u(0), a.u(1)),
        97 => sys_proc::sys_getrlimit(t, a.u32(0), a.u(1)),
        98 => sys_rusage::sys_getrusage(t, a.i(0), a.u(1)),
        99 => sys_proc::sys_sysinfo(t, a.u(0)),
        100 => sys_rusage::sys_times(t, a.u(0)),
        102 | 104 | 107 | 108 => sys_cred::sys_getid(t, nr),
        103 => super::printk::sys_syslog(t, a.i(0), a.u(1), a.i(2)),
        105 | 106 => sys_cred::sys_setuid(t, nr == 105, a.u32(0)),
        113 | 114 => sys_cred::sys_setreuid(t, nr == 113, a.u32(0), a.u32(1)),
        117 | 119 => sys_cred::sys_setresuid(t, nr == 117, a.u32(0), a.u32(1), a.u32(2)),
        122 | 123 => sys_cred::sys_setfsuid(t, nr == 122, a.u32(0)),
        109 => sys_proc::sys_setpgid(t, a.i(0), a.i(1)),
        110 => Ok(sys_proc::parent_pid(t) as u64),
        111 => sys_proc::sys_getpgid(t, 0),
        112 => sys_proc::sys_setsid(t),
        115 => sys_cred::sys_getgroups(t, a.i(0), a.u(1)),
        116 => sys_cred::sys_setgroups(t, a.usize(0), a.u(1)),
        118 | 120 => sys_cred::sys_getresid(t, nr, a.u(0), a.u(1), a.u(2)),
        121 => sys_proc::sys_getpgid(t, a.i(0)),
        124 => sys_proc::sys_getsid(t, a.i(0)),
        125 => sys_proc::sys_capget(t, a.u(0), a.u(1)),
        126 => Ok(0),
        127 => sys_signal::sys_rt_sigpending(t, a.u(0), a.usize(1)),
        128 => sys_signal::sys_rt_sigtimedwait(t, a.u(0), a.u(1), a.u(2), a.usize(3), redo),
        129 => sys_signal::sys_rt_sigqueueinfo(t, a.i(0), a.i(1), a.u(2)),
        130 => sys_signal::sys_rt_sigsuspend(t, a.u(0), a.usize(1), redo),
        131 => sys_signal::sys_sigaltstack(t, a.u(0), a.u(1)),
        132 => sys_attr::sys_utimensat(t, sys_fs::AT_FDCWD, a.u(0), 0, 0, true, a.u(1)),
        133 => sys_fs::sys_mknodat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), a.u(2)),
        137 => sys_mount::sys_statfs(t, a.u(0), a.u(1)),
        138 => sys_mount::sys_fstatfs(t, a.i(0), a.u(1)),
        // getpriority returns 20 - nice; every task runs at nice 0.
        140 => sys_prio::sys_getpriority(t, a.i(0), a.i(1)),
        141 => sys_prio::sys_setpriority(t, a.i(0), a.i(1), a.i(2)),
        135 => Ok(0), // personality: PER_LINUX
        142 => sys_sched::sys_sched_setscheduler(t, a.i(0), None, a.u(1)),
        143 => sys_sched::sys_sched_getparam(t, a.i(0), a.u(1)),
        144 => sys_sched::sys_sched_setscheduler(t, a.i(0), Some(a.i(1)), a.u(2)),
        145 => sys_sched::sys_sched_getscheduler(t, a.i(0)),
        146 => sys_sched::sys_sched_get_priority_max(a.i(0)),
        147 => sys_sched::sys_sched_get_priority_min(a.i(0)),
        148 => sys_sched::sys_sched_rr_get_interval(t, a.i(0), a.u(1)),
        314 => sys_sched::sys_sched_setattr(t, a.i(0), a.u(1), a.u32(2)),
        315 => sys_sched::sys_sched_getattr(t, a.i(0), a.u(1), a.u32(2), a.u32(3)),
        159 => sys_clock::sys_adjtimex(t, a.u(0)),
        164 => sys_clock::sys_settimeofday(t, a.u(0), a.u(1)),
        227 => sys_clock::sys_clock_settime(t, a.i(0), a.u(1)),
        305 => sys_clock::sys_clock_adjtime(t, a.i(0), a.u(1)),
        149 | 150 | 151 | 152 => Ok(0),
        251 => Ok(0),                // ioprio_set
        252 => Ok((4 << 13) as u64), // ioprio_get: best effort, level 4
        319 => sys_fs::sys_memfd_create(t, a.u(0), a.u32(1)),
        324 => Ok(0), // membarrier: no commands supported
        157 => sys_proc::sys_prctl(t, a.i(0), a.u(1), a.u(2)),
        158 => sys_proc::sys_arch_prctl(t, a.i(0), a.u(1)),
        160 => sys_proc::sys_setrlimit(t, a.u32(0), a.u(1)),
        161 => sys_fs::sys_chroot(t, a.u(0)),
        162 => sys_fs::sys_sync(t),
        165 => sys_mount::sys_mount(t, a.u(0), a.u(1), a.u(2), a.u(3), a.u(4)),
        166 => sys_mount::sys_umount2(t, a.u(0), a.i(1)),
        169 => sys_proc::sys_reboot(t, a.u32(0), a.u32(1), a.u32(2)),
        170 => sys_proc::sys_sethostname(t, a.u(0), a.usize(1)),
        171 => sys_proc::sys_setdomainname(t, a.u(0), a.usize(1)),
        186 => Ok(t.tid as u64),
        200 => sys_signal::sys_tkill(t, a.i(0), a.i(1)),
        201 => sys_time::sys_time(t, a.u(0)),
        202 => sys_proc::sys_futex(t, a, redo),
        203 => Ok(0),
        204 => sys_proc::sys_sched_getaffinity(t, a.i(0), a.usize(1), a.u(2)),
        217 => sys_fs::sys_getdents64(t, a.i(0), a.u(1), a.usize(2)),
        218 => sys_proc::sys_set_tid_address(t, a.u(0)),
        219 => Err(Errno::EINTR),
        221 => Ok(0),
        228 => sys_time::sys_clock_gettime(t, a.i(0), a.u(1)),
        229 => sys_time::sys_clock_getres(t, a.i(0), a.u(1)),
        230 => sys_time::sys_clock_nanosleep(t, a.i(0), a.i(1), a.u(2), a.u(3), redo),
        231 => sys_proc::sys_exit_group(t, a.i(0)),
        234 => sys_signal::sys_tgkill(t, a.i(0), a.i(1), a.i(2)),
        235 => sys_attr::sys_utimes(t, a.u(0), a.u(1)),
        247 => sys_proc::sys_waitid(t, a.i(0), a.i(1), a.u(2), a.i(3), a.u(4), redo),
        257 => sys_fs::sys_openat(t, a.i(0), a.u(1), a.u32(2), a.u32(3)),
        258 => sys_fs::sys_mkdirat(t, a.i(0), a.u(1), a.u32(2)),
        259 => sys_fs::sys_mknodat(t, a.i(0), a.u(1), a.u32(2), a.u(3)),
        260 => sys_attr::sys_fchownat(t, a.i(0), a.u(1), a.u32(2), a.u32(3), a.u32(4)),
        261 => sys_attr::sys_futimesat(t, a.i(0), a.u(1), a.u(2)),
        262 => sys_fs::sys_newfstatat(t, a.i(0), a.u(1), a.u(2), a.u32(3)),
        263 => sys_fs::sys_unlinkat(t, a.i(0), a.u(1), a.u32(2)),
        264 => sys_fs::sys_renameat2(t, a.i(0), a.u(1), a.i(2), a.u(3), 0),
        265 => sys_fs::sys_linkat(t, a.i(0), a.u(1), a.i(2), a.u(3), a.u32(4)),
        266 => sys_fs::sys_symlinkat(t, a.u(0), a.i(1), a.u(2)),
        267 => sys_fs::sys_readlinkat(t, a.i(0), a.u(1), a.u(2), a.usize(3)),
        268 => sys_attr::sys_fchmodat(t, a.i(0), a.u(1), a.u32(2), 0),
        269 => sys_attr::sys_faccessat(t, a.i(0), a.u(1), a.u32(2), 0),
        270 => {
            sys_poll::sys_select(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u(4), redo, true).map(|v| {
                let _ = a.u(5);
                v
            })
        }
        271 => sys_poll::sys_ppoll(t, a.u(0), a.u32(1), a.u(2), a.u(3), a.usize(4), redo),
        273 => super::futex_robust::sys_set_robust_list(t, a.u(0), a.usize(1)),
        280 => sys_attr::sys_utimensat(t, a.i(0), a.u(1), a.u(2), a.u32(3), false, 0),
        285 => sys_fs::sys_fallocate(t, a.i(0), a.i(1), a.i64(2), a.i64(3)),
        288 => sys_net::sys_accept4(t, a.i(0), a.u(1), a.u(2), a.u32(3)),
        213 => sys_epoll::sys_epoll_create1(t, 0),
        291 => sys_epoll::sys_epoll_create1(t, a.u32(0)),
        233 => sys_epoll::sys_epoll_ctl(t, a.i(0), a.i(1), a.i(2), a.u(3)),
        232 => sys_epoll::sys_epoll_pwait(t, a.i(0), a.u(1), a.i(2), a.i(3), 0, 8, redo),
        281 => {
            sys_epoll::sys_epoll_pwait(t, a.i(0), a.u(1), a.i(2), a.i(3), a.u(4), a.usize(5), redo)
        }
        284 => sys_epoll::sys_eventfd2(t, a.u32(0), 0),
        290 => sys_epoll::sys_eventfd2(t, a.u32(0), a.u32(1)),
        240 => sys_mqueue::sys_mq_open(t, a.u(0), a.u32(1), a.u32(2), a.u(3)),
        241 => sys_mqueue::sys_mq_unlink(t, a.u(0)),
        242 => sys_mqueue::sys_mq_timedsend(t, a.i(0), a.u(1), a.u(2), a.u32(3), a.u(4), redo),
        243 => sys_mqueue::sys_mq_timedreceive(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u(4), redo),
        244 => sys_mqueue::sys_mq_notify(t, a.i(0), a.u(1)),
        245 => sys_mqueue::sys_mq_getsetattr(t, a.i(0), a.u(1), a.u(2)),
        253 => sys_inotify::sys_inotify_init1(t, 0),
        254 => sys_inotify::sys_inotify_add_watch(t, a.i(0), a.u(1), a.u32(2)),
        255 => sys_inotify::sys_inotify_rm_watch(t, a.i(0), a.i(1)),
        294 => sys_inotify::sys_inotify_init1(t, a.u32(0)),
        282 => sys_signal::sys_signalfd4(t, a.i(0), a.u(1), a.usize(2), 0),
        289 => sys_signal::sys_signalfd4(t, a.i(0), a.u(1), a.usize(2), a.u32(3)),
        283 => Err(Errno::ENOSYS).inspect_err(|_| warn_once(nr)),
        292 => sys_fs::sys_dup3(t, a.i(0), a.i(1), a.u32(2)),
        293 => sys_fs::sys_pipe2(t, a.u(0), a.u32(1)),
        295 => sys_fs::sys_preadv(t, a.i(0), a.u(1), a.i(2), a.i64(3)),
        296 => sys_fs::sys_pwritev(t, a.i(0), a.u(1), a.i(2), a.i64(3)),
        302 => sys_proc::sys_prlimit64(t, a.i(0), a.u32(1), a.u(2), a.u(3)),
        306 => sys_fs::sys_sync(t),
        309 => sys_proc::sys_getcpu(t, a.u(0), a.u(1)),
        316 => sys_fs::sys_renameat2(t, a.i(0), a.u(1), a.i(2), a.u(3), a.u32(4)),
        318 => sys_proc::sys_getrandom(t, a.u(0), a.usize(1), a.u32(2)),
        322 => super::exec::sys_execve(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u32(4)),
        332 => sys_fs::sys_statx(t, a.i(0), a.u(1), a.u32(2), a.u32(3), a.u(4)),
        334 => Err(Errno::ENOSYS),
        435 => Err(Errno::ENOSYS),
        436 => sys_fs::sys_close_range(t, a.u32(0), a.u32(1), a.u32(2)),
        439 => sys_attr::sys_faccessat(t, a.i(0), a.u(1), a.u32(2), a.u32(3)),
        crate::arch::process::HOST_SYSCALL_HOOK_NR
            if crate::arch::process::host_syscall_hook_enabled() =>
        {
            test_host_syscall(t, a)
        }
        _ => {
            warn_once(nr);
            Err(Errno::ENOSYS)
        }
    }
}

/// The hostile-guest tests' hook (only with RUML_TEST_HOST_SYSCALL=1 in
/// vmlinux's environment): run host system call `a[0]` with arguments
/// `a[1..6]` in this task's host process, as a guest that had taken over
/// the stub would. The seccomp filter must kill the host process; the
/// task then dies of SIGSYS, as a Linux process killed by seccomp does.
fn test_host_syscall(t: &Arc<Task>, a: Args) -> KResult<u64> {
    let mm = t.mm();
    let r = mm
        .lock()
        .host
        .debug_host_syscall(a.u(0), [a.u(1), a.u(2), a.u(3), a.u(4), a.u(5), 0]);
    match r {
        Ok(v) => Ok(v),
        Err(sig) => {
            log::warn!("task {}: host process killed by signal {sig}", t.tid);
            super::exit::group_exit(t, signal::SIGSYS);
            Err(Errno::EJUSTRETURN)
        }
    }
}
