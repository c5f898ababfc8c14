//! The x86_64 system call table, declared once: number, name, handler,
//! restart class and how much of Linux's behaviour ruml gives, for every
//! syscall number Linux assigns up to 461. Dispatch, log names and
//! docs/syscalls.md all read it.

use super::Args;
use crate::kernel as k;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::SIGCHLD;
use crate::kernel::sys_proc::{CLONE_VFORK, CLONE_VM};
use crate::kernel::task::Task;
use crate::kernel::{
    ns, sys_affinity, sys_attr, sys_clock, sys_cred, sys_epoll, sys_fanotify, sys_fs, sys_inotify,
    sys_ipc, sys_mm, sys_mount, sys_mqueue, sys_net, sys_pivot_root, sys_poll, sys_prio, sys_proc,
    sys_rusage, sys_sched, sys_signal, sys_time, sys_timer, sys_timerfd, sys_xattr,
};
use std::sync::Arc;

/// A handler gets the raw arguments; one that must wait sleeps inside
/// (`sched::wait`) and returns when the call is done.
pub type Handler = fn(&Arc<Task>, Args) -> KResult<u64>;

/// How much of Linux's behaviour a syscall has here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Linux's semantics and errnos as far as the code and tests tell.
    Full,
    /// Works; the entry's note says what is missing or ignored.
    Partial,
    /// ENOSYS.
    Unimplemented,
}

/// What an interrupted call returns when a signal cuts it short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// ERESTARTSYS: restarted if the handler has SA_RESTART (or none ran).
    Sys,
    /// ERESTARTNOHAND: restarted only when no handler runs (the waits
    /// with a timeout or a temporary mask, as Linux).
    NoHand,
    /// EINTR whatever SA_RESTART says (semop, semtimedop, msgsnd, msgrcv:
    /// signal(7)).
    Intr,
}

impl Restart {
    pub fn errno(self) -> Errno {
        match self {
            Restart::Sys => Errno::ERESTARTSYS,
            Restart::NoHand => Errno::ERESTARTNOHAND,
            Restart::Intr => Errno::EINTR,
        }
    }
}

/// One syscall.
#[derive(Clone, Copy)]
pub struct Entry {
    pub nr: u16,
    pub name: &'static str,
    pub support: Support,
    /// For docs/syscalls.md and the once-per-boot log line: what works,
    /// and for a partial call what does not.
    pub note: &'static str,
    pub restart: Restart,
    pub handler: Handler,
}

impl Entry {
    const fn nohand(mut self) -> Entry {
        self.restart = Restart::NoHand;
        self
    }
    const fn eintr(mut self) -> Entry {
        self.restart = Restart::Intr;
        self
    }
}

const fn entry(
    nr: u16,
    name: &'static str,
    support: Support,
    note: &'static str,
    handler: Handler,
) -> Entry {
    Entry {
        nr,
        name,
        support,
        note,
        restart: Restart::Sys,
        handler,
    }
}

const fn full(nr: u16, name: &'static str, note: &'static str, h: Handler) -> Entry {
    entry(nr, name, Support::Full, note, h)
}

const fn partial(nr: u16, name: &'static str, note: &'static str, h: Handler) -> Entry {
    entry(nr, name, Support::Partial, note, h)
}

fn enosys(_: &Arc<Task>, _: Args) -> KResult<u64> {
    Err(Errno::ENOSYS)
}

const fn none(nr: u16, name: &'static str, note: &'static str) -> Entry {
    entry(nr, name, Support::Unimplemented, note, enosys)
}

/// The highest syscall number the table covers.
pub const MAX_NR: usize = 461;

/// Every syscall Linux assigns on x86_64 up to MAX_NR, by number
/// (arch/x86/entry/syscalls/syscall_64.tbl; 335..=423 are unassigned).
pub static SYSCALLS: &[Entry] = LIST;

#[rustfmt::skip]
const LIST: &[Entry] = &[
    full(0, "read", "regular files and block devices complete in full (up to MAX_RW_COUNT); other files at most 1 MiB per call; O_DIRECT on ext2/3/4 files and block devices: EINVAL unless buffer, offset and length are multiples of 512 (reads at or past EOF give 0 first), through the same page cache as buffered I/O (`kernel/direct_io.rs`); readv/writev/preadv/pwritev/preadv2/pwritev2 check every segment (preadv2/pwritev2 after their RWF_* flags; RWF_APPEND checks the end of the file it writes at)", |t, a| sys_fs::sys_read(t, a.i(0), a.u(1), a.usize(2))),
    full(1, "write", "regular files and block devices complete in full; O_DIRECT alignment as read; blocking pipe writes go in whole unless a signal comes (then the count so far); non-blocking ones may be partial; writes up to PIPE_BUF are atomic", |t, a| sys_fs::sys_write(t, a.i(0), a.u(1), a.usize(2))),
    full(2, "open", "as openat", |t, a| sys_fs::sys_openat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), a.u32(2))),
    full(3, "close", "", |t, a| sys_fs::sys_close(t, a.i(0))),
    full(4, "stat", "", |t, a| sys_fs::sys_newfstatat(t, sys_fs::AT_FDCWD, a.u(0), a.u(1), 0)),
    full(5, "fstat", "", |t, a| sys_fs::sys_fstat(t, a.i(0), a.u(1))),
    full(6, "lstat", "", |t, a| sys_fs::sys_newfstatat(t, sys_fs::AT_FDCWD, a.u(0), a.u(1), sys_fs::AT_SYMLINK_NOFOLLOW)),
    full(7, "poll", "", |t, a| sys_poll::sys_poll(t, a.u(0), a.u32(1), a.i(2) as i64)).nohand(),
    full(8, "lseek", "SEEK_DATA/SEEK_HOLE treat the whole file as data, as Linux's generic llseek", |t, a| sys_fs::sys_lseek(t, a.i(0), a.i64(1), a.u32(2))),
    partial(9, "mmap", "file mappings: a page wholly past EOF faults with SIGBUS (BUS_ADRERR, si_addr the address), the tail of the last partial page reads as zeros; MAP_SHARED|MAP_ANONYMOUS is a tmpfs file of the mapping's length. Truncating a file does not yet unmap pages already mapped past the new EOF", |t, a| sys_mm::sys_mmap(t, a.u(0), a.u(1), a.u32(2), a.u32(3), a.i(4), a.u(5))),
    full(10, "mprotect", "", |t, a| sys_mm::sys_mprotect(t, a.u(0), a.u(1), a.u32(2))),
    full(11, "munmap", "", |t, a| sys_mm::sys_munmap(t, a.u(0), a.u(1))),
    full(12, "brk", "", |t, a| sys_mm::sys_brk(t, a.u(0))),
    full(13, "rt_sigaction", "", |t, a| sys_signal::sys_rt_sigaction(t, a.i(0), a.u(1), a.u(2), a.usize(3))),
    full(14, "rt_sigprocmask", "", |t, a| sys_signal::sys_rt_sigprocmask(t, a.i(0), a.u(1), a.u(2), a.usize(3))),
    full(15, "rt_sigreturn", "", |t, _| sys_signal::sys_rt_sigreturn(t)),
    partial(16, "ioctl", "FIOCLEX/FIONCLEX, FIONBIO, FIOASYNC (O_ASYNC as F_SETFL; ENOTTY on files without it); FIONREAD on pipes; other commands by the file (ttys, block devices, sockets); ENOTTY otherwise", |t, a| sys_fs::sys_ioctl(t, a.i(0), a.u32(1), a.u(2))),
    full(17, "pread64", "regular files and block devices complete in full (up to MAX_RW_COUNT); O_DIRECT alignment as read", |t, a| sys_fs::sys_pread64(t, a.i(0), a.u(1), a.usize(2), a.i64(3))),
    full(18, "pwrite64", "as pread64", |t, a| sys_fs::sys_pwrite64(t, a.i(0), a.u(1), a.usize(2), a.i64(3))),
    full(19, "readv", "as read", |t, a| sys_fs::sys_readv(t, a.i(0), a.u(1), a.i(2), None)),
    full(20, "writev", "as write", |t, a| sys_fs::sys_writev(t, a.i(0), a.u(1), a.i(2), None)),
    full(21, "access", "", |t, a| sys_attr::sys_faccessat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), 0)),
    full(22, "pipe", "as pipe2 without flags", |t, a| sys_fs::sys_pipe2(t, a.u(0), 0)),
    full(23, "select", "", |t, a| sys_poll::sys_select(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u(4), None)).nohand(),
    full(24, "sched_yield", "", |t, _| sys_proc::sys_sched_yield(t)),
    partial(25, "mremap", "MREMAP_MAYMOVE, MREMAP_FIXED; MREMAP_DONTUNMAP is accepted but the old range is unmapped as without it; old_len 0 (duplicating a shared mapping) EINVAL; growth counts against RLIMIT_AS/RLIMIT_DATA (ENOMEM), locked mappings stay locked but their growth is not checked against RLIMIT_MEMLOCK", |t, a| sys_mm::sys_mremap(t, a.u(0), a.u(1), a.u(2), a.u32(3), a.u(4))),
    partial(26, "msync", "MS_SYNC fsyncs the files behind shared mappings; flags not validated (Linux: EINVAL for MS_ASYNC|MS_SYNC or unknown bits)", |t, a| sys_mm::sys_msync(t, a.u(0), a.u(1), a.u32(2))),
    partial(27, "mincore", "every mapped page is reported resident", |t, a| sys_mm::sys_mincore(t, a.u(0), a.u(1), a.u(2))),
    partial(28, "madvise", "MADV_DONTNEED/MADV_FREE drop private pages; other advice accepted and ignored, unknown advice not rejected", |t, a| sys_mm::sys_madvise(t, a.u(0), a.u(1), a.i(2))),
    full(29, "shmget", "IPC_PRIVATE and keys, IPC_CREAT/IPC_EXCL, size checks (EINVAL), kernel.shmmax/shmall/shmmni, ENOMEM beyond RAM", |t, a| sys_ipc::dispatch(t, 29, &a)),
    full(30, "shmat", "kernel- or caller-chosen address, SHM_RND, SHM_RDONLY, SHM_EXEC, SHM_REMAP; attaches are shared VMAs, inherited by fork, dropped by exec/exit/munmap", |t, a| sys_ipc::dispatch(t, 30, &a)),
    full(31, "shmctl", "IPC_STAT/SET/RMID (destroyed at the last detach, key freed at once, SHM_DEST), IPC_INFO, SHM_INFO, SHM_STAT(_ANY), SHM_LOCK/SHM_UNLOCK (flag only: nothing is swapped anyway)", |t, a| sys_ipc::dispatch(t, 31, &a)),
    full(32, "dup", "", |t, a| sys_fs::sys_dup(t, a.i(0))),
    full(33, "dup2", "", |t, a| sys_fs::sys_dup2(t, a.i(0), a.i(1))),
    full(34, "pause", "", |t, _| sys_signal::sys_pause(t)).nohand(),
    full(35, "nanosleep", "", |t, a| sys_time::sys_nanosleep(t, a.u(0), a.u(1))).nohand(),
    full(36, "getitimer", "ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF", |t, a| sys_time::sys_getitimer(t, a.i(0), a.u(1))),
    full(37, "alarm", "", |t, a| sys_time::sys_alarm(t, a.u32(0))),
    full(38, "setitimer", "ITIMER_VIRTUAL/PROF count the process's user / user+system CPU time (checked whenever the guest returns; a busy loop is interrupted in time)", |t, a| sys_time::sys_setitimer(t, a.i(0), a.u(1), a.u(2))),
    full(39, "getpid", "the number in the caller's pid namespace", |t, _| Ok(k::ns::pid::vnr(t, t.tgid()) as u64)),
    full(40, "sendfile", "blocking sends go in whole; from a regular file, or one read from a pipe/socket", |t, a| k::sendfile::sys_sendfile(t, a.i(0), a.i(1), a.u(2), a.usize(3))),
    partial(41, "socket", "AF_UNIX, AF_INET/AF_INET6 (TCP, UDP, ICMP; other raw IPv4 protocols root-only and ioctl-only), AF_NETLINK (SOCK_RAW/SOCK_DGRAM, NETLINK_ROUTE, NETLINK_KOBJECT_UEVENT: uevents of mconsole ubd hot-plug only, classic BPF filters run), AF_PACKET (SOCK_RAW/SOCK_DGRAM, root only); other families EAFNOSUPPORT", |t, a| sys_net::sys_socket(t, a.i(0), a.u32(1), a.i(2))),
    full(42, "connect", "AF_UNIX path names are bytes", |t, a| sys_net::sys_connect(t, a.i(0), a.u(1), a.u32(2))),
    full(43, "accept", "as accept4 without flags", |t, a| sys_net::sys_accept4(t, a.i(0), a.u(1), a.u(2), 0)),
    partial(44, "sendto", "MSG_DONTWAIT, MSG_NOSIGNAL (else SIGPIPE with EPIPE); MSG_OOB, MSG_MORE and MSG_EOR are not looked at", |t, a| sys_net::sys_sendto(t, a.i(0), a.u(1), a.usize(2), a.u32(3), a.u(4), a.u32(5))),
    partial(45, "recvfrom", "MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, MSG_TRUNC; MSG_OOB and MSG_ERRQUEUE are not looked at", |t, a| sys_net::sys_recvfrom(t, a.i(0), a.u(1), a.usize(2), a.u32(3), a.u(4), a.u(5))),
    partial(46, "sendmsg", "SCM_RIGHTS passes open files; SCM_CREDENTIALS is checked as Linux (own pid/ids unless privileged) and sent in place of the sender's on AF_UNIX; UDP takes IP_PKTINFO/IP_TTL/IP_TOS and IPV6_PKTINFO/IPV6_HOPLIMIT/IPV6_TCLASS with Linux's checks (EINVAL, ENODEV, ENETUNREACH); other control data is ignored; flags as sendto", |t, a| sys_net::sys_sendmsg(t, a.i(0), a.u(1), a.u32(2))),
    partial(47, "recvmsg", "SCM_CREDENTIALS first on AF_UNIX sockets with SO_PASSCRED (the sender's pid in the caller's pid namespace, real uid and gid; a stream's first byte's sender, reads do not stop where senders change), then SCM_RIGHTS (MSG_CTRUNC when the control buffer is short, MSG_CMSG_CLOEXEC); UDP gives IP_PKTINFO/IP_TTL/IP_TOS and IPV6_PKTINFO/IPV6_HOPLIMIT/IPV6_TCLASS with the packet's own fields, cut short with MSG_CTRUNC as Linux; nothing on ICMP sockets; flags as recvfrom", |t, a| sys_net::sys_recvmsg(t, a.i(0), a.u(1), a.u32(2))),
    full(48, "shutdown", "", |t, a| sys_net::sys_shutdown(t, a.i(0), a.i(1))),
    full(49, "bind", "AF_UNIX path names are bytes (not necessarily UTF-8); addrlen == sizeof(sa_family_t) autobinds to an abstract 5-hex-digit name (no implicit autobind on connect/sendto with SO_PASSCRED)", |t, a| sys_net::sys_bind(t, a.i(0), a.u(1), a.u32(2))),
    full(50, "listen", "", |t, a| sys_net::sys_listen(t, a.i(0), a.i(1))),
    full(51, "getsockname", "", |t, a| sys_net::sys_getsockname(t, a.i(0), a.u(1), a.u(2))),
    full(52, "getpeername", "", |t, a| sys_net::sys_getpeername(t, a.i(0), a.u(1), a.u(2))),
    partial(53, "socketpair", "AF_UNIX only (AF_INET EOPNOTSUPP, as Linux; others EAFNOSUPPORT)", |t, a| sys_net::sys_socketpair(t, a.i(0), a.u32(1), a.i(2), a.u(3))),
    partial(54, "setsockopt", "the options the socket kinds model; see getsockopt", |t, a| sys_net::sys_setsockopt(t, a.i(0), a.i(1), a.i(2), a.u(3), a.u32(4))),
    partial(55, "getsockopt", "SO_DOMAIN/SO_PROTOCOL/SO_TYPE on AF_UNIX and inet; IP_TTL, IP_MULTICAST_TTL, IP_TOS, IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS, IPV6_TCLASS, IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS with Linux's ranges and defaults; SO_REUSEPORT kept on inet (bind rules follow SO_REUSEADDR only); UDP-Lite not supported (EPROTONOSUPPORT)", |t, a| sys_net::sys_getsockopt(t, a.i(0), a.i(1), a.i(2), a.u(3), a.u(4))),
    partial(56, "clone", "threads, vfork, CLONE_SETTLS, the tid pointers, CLONE_FILES/FS/SIGHAND/VM sharing, CLONE_PIDFD (EINVAL with CLONE_PARENT_SETTID or CLONE_DETACHED); the CLONE_NEW* flags of unshare (docs/namespaces.md); only the low 32 flag bits count (clone3 has the rest)", |t, a| sys_proc::sys_clone(t, a.u(0), a.u(1), a.u(2), a.u(3), a.u(4))),
    full(57, "fork", "", |t, _| sys_proc::sys_clone(t, SIGCHLD as u64, 0, 0, 0, 0)),
    full(58, "vfork", "the parent waits until the child execs or exits; only a fatal signal ends the wait (TASK_KILLABLE)", |t, _| sys_proc::sys_clone(t, CLONE_VM | CLONE_VFORK | SIGCHLD as u64, 0, 0, 0, 0)),
    full(59, "execve", "`#!` scripts (4 levels), ELF static/PIE/dynamic", |t, a| k::exec::sys_execve(t, sys_fs::AT_FDCWD, a.u(0), a.u(1), a.u(2), 0)),
    full(60, "exit", "", |t, a| sys_proc::sys_exit(t, a.i(0))),
    full(61, "wait4", "", |t, a| sys_proc::sys_wait4(t, a.i(0), a.u(1), a.i(2), a.u(3))),
    full(62, "kill", "", |t, a| sys_signal::sys_kill(t, a.i(0), a.i(1))),
    full(63, "uname", "", |t, a| sys_proc::sys_uname(t, a.u(0))),
    full(64, "semget", "keys, IPC_CREAT/IPC_EXCL, nsems checks (EINVAL), kernel.sem's SEMMSL/SEMMNS/SEMMNI", |t, a| sys_ipc::dispatch(t, 64, &a)),
    full(65, "semop", "all-or-nothing, SEM_UNDO (applied at process exit), IPC_NOWAIT (EAGAIN), E2BIG over SEMOPM, EFBIG, ERANGE; blocks until the array changes; EIDRM, EINTR (never restarted). CLONE_SYSVSEM is not looked at: undo lists are per process", |t, a| sys_ipc::dispatch(t, 65, &a)).eintr(),
    full(66, "semctl", "GETVAL/SETVAL/GETALL/SETALL/GETPID/GETNCNT/GETZCNT, IPC_STAT/SET/RMID, IPC_INFO, SEM_INFO, SEM_STAT(_ANY); SETVAL/SETALL clear SEM_UNDO adjustments; ERANGE above SEMVMX", |t, a| sys_ipc::dispatch(t, 66, &a)),
    full(67, "shmdt", "finds the attach starting at the address (EINVAL otherwise), also when mprotect split it", |t, a| sys_ipc::dispatch(t, 67, &a)),
    full(68, "msgget", "IPC_PRIVATE and keys, IPC_CREAT/IPC_EXCL, kernel.msgmni (ENOSPC)", |t, a| sys_ipc::dispatch(t, 68, &a)),
    full(69, "msgsnd", "kernel.msgmax (EINVAL), a full queue (msg_qbytes) blocks or EAGAIN with IPC_NOWAIT; EIDRM; a signal: EINTR after a handler, restarted after a stop (ERESTARTNOHAND), as msgrcv", |t, a| sys_ipc::dispatch(t, 69, &a)).nohand(),
    full(70, "msgrcv", "type 0, >0, <0, MSG_EXCEPT, MSG_NOERROR (else E2BIG), MSG_COPY, IPC_NOWAIT (ENOMSG); blocks until a match; EIDRM if removed while waiting; a signal: EINTR after a handler, restarted after a stop (ERESTARTNOHAND)", |t, a| sys_ipc::dispatch(t, 70, &a)).nohand(),
    full(71, "msgctl", "IPC_STAT/SET/RMID, IPC_INFO, MSG_INFO, MSG_STAT(_ANY); raising msg_qbytes above kernel.msgmnb needs root (EPERM)", |t, a| sys_ipc::dispatch(t, 71, &a)),
    partial(72, "fcntl", "F_SETPIPE_SZ rounds up to a power-of-two number of pages (min one page); EPERM past 1 MiB (pipe-max-size) when growing without CAP_SYS_RESOURCE, EBUSY below the content, EINVAL past 2^31; F_GETPIPE_SZ gives the real size, EBADF on non-pipes. Pipe sizes count bytes, not page slots, so partial non-blocking writes into a part-filled pipe can differ from Linux by up to a page; F_GETLK/F_SETLK/F_SETLKW: POSIX record locks owned by the process (merge/split, upgrade/downgrade, l_len 0 and negative, SEEK_SET/CUR/END), EAGAIN on conflict, F_SETLKW sleeps until a release (EINTR on signals, restart with SA_RESTART), EDEADLK for wait cycles between processes, EBADF when the access mode does not allow the type, EINVAL/EOVERFLOW for bad arguments; released when the process closes any fd of the file and at exit, not inherited by fork. F_OFD_GETLK/F_OFD_SETLK/F_OFD_SETLKW: owned by the open file description (shared by dup and fork, released at its last close), l_pid must be 0, reported l_pid -1, conflict with other owners' POSIX locks, no deadlock detection (as Linux). See `fs/locks.rs`. F_SETLEASE/F_GETLEASE: read and write leases on regular files (EAGAIN when other opens or leases conflict, EACCES for another's file without CAP_LEASE, EINVAL on other files and bad types, EAGAIN for F_UNLCK without a lease); a conflicting open (or truncate(2), which conflicts as an open for writing; O_TRUNC opens break by their access mode before truncating) sends SIGIO to the holder and sleeps until the lease is given up or downgraded or fs.lease-break-time passes (EWOULDBLOCK with O_NONBLOCK); F_GETLEASE shows the type a lease is being broken to; a lease goes with its file's last close (`fs/leases.rs`). F_SETSIG/F_GETSIG: the signal O_ASYNC, leases and dnotify send (0: SIGIO with SI_KERNEL; otherwise that signal with si_code POLL_IN/POLL_OUT/POLL_HUP/POLL_MSG, si_band as Linux's band_table and si_fd), EINVAL past 64. F_SETOWN/F_GETOWN, F_SETOWN_EX/F_GETOWN_EX (F_OWNER_TID/PID/PGRP, EINVAL for other types): the owner of the open file description (pid > 0 a process, < 0 a process group; ESRCH for unused pids, EINVAL for INT_MIN; F_GETOWN 0 once the owner is gone), recorded with the setter's uid/euid and checked against the receiver as Linux's sigio_perm; F_SETLEASE and F_NOTIFY make the caller the owner when there is none. O_ASYNC (F_SETFL or FIOASYNC; dropped on files without it, as Linux 6.x): SIGIO to the owner when a pipe/FIFO read end gets data (POLL_IN) or a write end room (POLL_OUT, on every read), and both when the last reader or writer goes; when an AF_UNIX socket gets data (POLL_IN) or its peer goes (POLL_HUP); when a tty gets a readable line or input (owner defaults to the foreground group or the caller); for each inotify event; when a UDP or TCP socket gets data or a connection (POLL_IN), its peer goes (POLL_HUP), or a TCP socket gets room to send (connect completed, buffer drained: POLL_OUT); when a route netlink socket gets its reply (POLL_IN); accepted without signals on raw and packet sockets (`fs/fown.rs`). F_NOTIFY: dnotify marks on directories (DN_ACCESS/MODIFY/CREATE/DELETE/RENAME/ATTRIB, DN_MULTISHOT, masks add up per open file, 0 removes, ENOTDIR on other files, EBADF on O_PATH), signalled to the caller for changes of the directory's entries or the directory itself, removed when the owner closes any descriptor of the file (`fs/dnotify.rs`). Not implemented: POLL_OUT for AF_UNIX sockets and ttys, SIGIO on raw and packet sockets, leases in /proc/locks", |t, a| sys_fs::sys_fcntl(t, a.i(0), a.u32(1), a.u(2))),
    full(73, "flock", "LOCK_SH/LOCK_EX/LOCK_UN, LOCK_NB (EWOULDBLOCK); owned by the open file description, released at its last close; conversion drops the old lock first (not atomic, as Linux); independent of fcntl locks; LOCK_MAND ignored with a warning (as Linux)", |t, a| k::sys_locks::sys_flock(t, a.i(0), a.i(1))),
    partial(74, "fsync", "ext filesystems write the file back; hostfs does not fsync the host file", |t, a| sys_fs::sys_fsync(t, a.i(0))),
    partial(75, "fdatasync", "as fsync (a full fsync)", |t, a| sys_fs::sys_fsync(t, a.i(0))),
    full(76, "truncate", "breaks leases on the file first, as an open for writing (sleeps; EINTR/restart on signals)", |t, a| sys_attr::sys_truncate(t, a.u(0), a.i64(1))),
    full(77, "ftruncate", "", |t, a| sys_attr::sys_ftruncate(t, a.i(0), a.i64(1))),
    none(78, "getdents", "getdents64 only: glibc and musl do not use getdents"),
    full(79, "getcwd", "returns the name's original bytes", |t, a| sys_fs::sys_getcwd(t, a.u(0), a.usize(1))),
    full(80, "chdir", "", |t, a| sys_fs::sys_chdir(t, a.u(0))),
    full(81, "fchdir", "", |t, a| sys_fs::sys_fchdir(t, a.i(0))),
    full(82, "rename", "as renameat2", |t, a| sys_fs::sys_renameat2(t, sys_fs::AT_FDCWD, a.u(0), sys_fs::AT_FDCWD, a.u(1), 0)),
    full(83, "mkdir", "", |t, a| sys_fs::sys_mkdirat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1))),
    full(84, "rmdir", "as unlinkat with AT_REMOVEDIR", |t, a| sys_fs::sys_unlinkat(t, sys_fs::AT_FDCWD, a.u(0), sys_fs::AT_REMOVEDIR)),
    full(85, "creat", "as openat", |t, a| sys_fs::sys_openat(t, sys_fs::AT_FDCWD, a.u(0), 0o1101, a.u32(1))),
    full(86, "link", "as linkat", |t, a| sys_fs::sys_linkat(t, sys_fs::AT_FDCWD, a.u(0), sys_fs::AT_FDCWD, a.u(1), 0)),
    full(87, "unlink", "as unlinkat", |t, a| sys_fs::sys_unlinkat(t, sys_fs::AT_FDCWD, a.u(0), 0)),
    full(88, "symlink", "as symlinkat", |t, a| sys_fs::sys_symlinkat(t, a.u(0), sys_fs::AT_FDCWD, a.u(1))),
    full(89, "readlink", "as readlinkat", |t, a| sys_fs::sys_readlinkat(t, sys_fs::AT_FDCWD, a.u(0), a.u(1), a.usize(2))),
    full(90, "chmod", "", |t, a| sys_attr::sys_fchmodat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), 0)),
    full(91, "fchmod", "", |t, a| sys_attr::sys_fchmod(t, a.i(0), a.u32(1))),
    full(92, "chown", "", |t, a| sys_attr::sys_fchownat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), a.u32(2), 0)),
    full(93, "fchown", "", |t, a| sys_attr::sys_fchown(t, a.i(0), a.u32(1), a.u32(2))),
    full(94, "lchown", "", |t, a| sys_attr::sys_fchownat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), a.u32(2), sys_fs::AT_SYMLINK_NOFOLLOW)),
    full(95, "umask", "", |t, a| sys_fs::sys_umask(t, a.u32(0))),
    full(96, "gettimeofday", "", |t, a| sys_time::sys_gettimeofday(t, a.u(0), a.u(1))),
    full(97, "getrlimit", "", |t, a| sys_proc::sys_getrlimit(t, a.u32(0), a.u(1))),
    full(98, "getrusage", "", |t, a| sys_rusage::sys_getrusage(t, a.i(0), a.u(1))),
    full(99, "sysinfo", "", |t, a| sys_proc::sys_sysinfo(t, a.u(0))),
    full(100, "times", "", |t, a| sys_rusage::sys_times(t, a.u(0))),
    partial(101, "ptrace", "TRACEME, ATTACH, SEIZE, INTERRUPT, LISTEN, DETACH, KILL, PEEK/POKE TEXT/DATA/USER, GET/SETREGS, GET/SETFPREGS, GET/SETREGSET (NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE), GET/SETSIGINFO, GET/SETSIGMASK, GETEVENTMSG, SETOPTIONS, GET_SYSCALL_INFO, CONT, SYSCALL, SYSEMU, SINGLESTEP (the trap flag, hidden from the tracer as Linux does; SYSEMU_SINGLESTEP is EIO); syscall, signal-delivery, group and event stops; any thread of the tracing process may issue requests; POKETEXT writes read-only private mappings (FOLL_FORCE, for breakpoints); PTRACE_EVENT_SECCOMP stops (PTRACE_O_TRACESECCOMP; PTRACE_O_SUSPEND_SECCOMP turns the tracee's filters off, with Linux's EPERM checks), no hardware debug registers (read as 0); a tracee's exit reaches its real parent at once (Linux waits until the tracer has collected it); a LISTENing tracee is not reported again on SIGCONT (only after INTERRUPT); a traced thread's group-stop does not wait for its other threads", |t, a| crate::kernel::ptrace::request::sys_ptrace(t, a.i64(0), a.i(1), a.u(2), a.u(3))),
    full(102, "getuid", "", |t, _| sys_cred::sys_getid(t, 102)),
    full(103, "syslog", "", |t, a| k::printk::sys_syslog(t, a.i(0), a.u(1), a.i(2))),
    full(104, "getgid", "", |t, _| sys_cred::sys_getid(t, 104)),
    full(105, "setuid", "", |t, a| sys_cred::sys_setuid(t, true, a.u32(0))),
    full(106, "setgid", "", |t, a| sys_cred::sys_setuid(t, false, a.u32(0))),
    full(107, "geteuid", "", |t, _| sys_cred::sys_getid(t, 107)),
    full(108, "getegid", "", |t, _| sys_cred::sys_getid(t, 108)),
    full(109, "setpgid", "", |t, a| sys_proc::sys_setpgid(t, a.i(0), a.i(1))),
    full(110, "getppid", "0 when the parent is outside the caller's pid namespace", |t, _| Ok(k::ns::pid::vnr(t, sys_proc::parent_pid(t)) as u64)),
    full(111, "getpgrp", "", |t, _| sys_proc::sys_getpgid(t, 0)),
    full(112, "setsid", "", |t, _| sys_proc::sys_setsid(t)),
    full(113, "setreuid", "", |t, a| sys_cred::sys_setreuid(t, true, a.u32(0), a.u32(1))),
    full(114, "setregid", "", |t, a| sys_cred::sys_setreuid(t, false, a.u32(0), a.u32(1))),
    full(115, "getgroups", "", |t, a| sys_cred::sys_getgroups(t, a.i(0), a.u(1))),
    full(116, "setgroups", "", |t, a| sys_cred::sys_setgroups(t, a.usize(0), a.u(1))),
    full(117, "setresuid", "", |t, a| sys_cred::sys_setresuid(t, true, a.u32(0), a.u32(1), a.u32(2))),
    full(118, "getresuid", "", |t, a| sys_cred::sys_getresid(t, 118, a.u(0), a.u(1), a.u(2))),
    full(119, "setresgid", "", |t, a| sys_cred::sys_setresuid(t, false, a.u32(0), a.u32(1), a.u32(2))),
    full(120, "getresgid", "", |t, a| sys_cred::sys_getresid(t, 120, a.u(0), a.u(1), a.u(2))),
    full(121, "getpgid", "", |t, a| sys_proc::sys_getpgid(t, a.i(0))),
    full(122, "setfsuid", "", |t, a| sys_cred::sys_setfsuid(t, true, a.u32(0))),
    full(123, "setfsgid", "", |t, a| sys_cred::sys_setfsuid(t, false, a.u32(0))),
    full(124, "getsid", "", |t, a| sys_proc::sys_getsid(t, a.i(0))),
    partial(125, "capget", "capabilities follow root-ness (all or none), as /proc/PID/status shows them; the header as Linux checks it", |t, a| sys_proc::sys_capget(t, a.u(0), a.u(1))),
    partial(126, "capset", "accepted and ignored: capabilities follow root-ness and cannot be dropped", |_, _| Ok(0)),
    full(127, "rt_sigpending", "", |t, a| sys_signal::sys_rt_sigpending(t, a.u(0), a.usize(1))),
    full(128, "rt_sigtimedwait", "", |t, a| sys_signal::sys_rt_sigtimedwait(t, a.u(0), a.u(1), a.u(2), a.usize(3))).nohand(),
    full(129, "rt_sigqueueinfo", "", |t, a| sys_signal::sys_rt_sigqueueinfo(t, a.i(0), a.i(1), a.u(2))),
    full(130, "rt_sigsuspend", "", |t, a| sys_signal::sys_rt_sigsuspend(t, a.u(0), a.usize(1))).nohand(),
    full(131, "sigaltstack", "", |t, a| sys_signal::sys_sigaltstack(t, a.u(0), a.u(1))),
    full(132, "utime", "", |t, a| sys_attr::sys_utimensat(t, sys_fs::AT_FDCWD, a.u(0), 0, 0, true, a.u(1))),
    full(133, "mknod", "as mknodat", |t, a| sys_fs::sys_mknodat(t, sys_fs::AT_FDCWD, a.u(0), a.u32(1), a.u(2))),
    none(134, "uselib", ""),
    partial(135, "personality", "always PER_LINUX: returns 0 and ignores the requested persona", |_, _| Ok(0)),
    none(136, "ustat", ""),
    full(137, "statfs", "", |t, a| sys_mount::sys_statfs(t, a.u(0), a.u(1))),
    full(138, "fstatfs", "", |t, a| sys_mount::sys_fstatfs(t, a.i(0), a.u(1))),
    none(139, "sysfs", ""),
    partial(140, "getpriority", "nice is kept, inherited and reported with Linux's permission rules; the scheduler does not weigh tasks by it", |t, a| sys_prio::sys_getpriority(t, a.i(0), a.i(1))),
    partial(141, "setpriority", "as getpriority", |t, a| sys_prio::sys_setpriority(t, a.i(0), a.i(1), a.i(2))),
    partial(142, "sched_setparam", "as sched_setscheduler", |t, a| sys_sched::sys_sched_setscheduler(t, a.i(0), None, a.u(1))),
    full(143, "sched_getparam", "", |t, a| sys_sched::sys_sched_getparam(t, a.i(0), a.u(1))),
    partial(144, "sched_setscheduler", "stored, inherited (SCHED_RESET_ON_FORK honoured) and reported with Linux's EINVAL/ESRCH/EPERM (RLIMIT_RTPRIO); the scheduler ignores policy and priority", |t, a| sys_sched::sys_sched_setscheduler(t, a.i(0), Some(a.i(1)), a.u(2))),
    full(145, "sched_getscheduler", "", |t, a| sys_sched::sys_sched_getscheduler(t, a.i(0))),
    full(146, "sched_get_priority_max", "", |_, a| sys_sched::sys_sched_get_priority_max(a.i(0))),
    full(147, "sched_get_priority_min", "", |_, a| sys_sched::sys_sched_get_priority_min(a.i(0))),
    full(148, "sched_rr_get_interval", "SCHED_OTHER reports the round-robin slice (10 ms)", |t, a| sys_sched::sys_sched_rr_get_interval(t, a.i(0), a.u(1))),
    full(149, "mlock", "locked pages counted against RLIMIT_MEMLOCK (EPERM with a zero limit, ENOMEM past it, unless root) and shown as VmLck; ENOMEM for unmapped ranges. Nothing is swapped, so locking changes no residency", |t, a| k::sys_mlock::sys_mlock(t, a.u(0), a.u(1))),
    full(150, "munlock", "", |t, a| k::sys_mlock::sys_munlock(t, a.u(0), a.u(1))),
    full(151, "mlockall", "MCL_CURRENT (ENOMEM if the address space exceeds RLIMIT_MEMLOCK), MCL_FUTURE (later mmap and brk locked; EAGAIN past the limit), MCL_ONFAULT accepted", |t, a| k::sys_mlock::sys_mlockall(t, a.u32(0))),
    full(152, "munlockall", "", |t, _| k::sys_mlock::sys_munlockall(t)),
    none(153, "vhangup", ""),
    none(154, "modify_ldt", ""),
    full(155, "pivot_root", "", |t, a| sys_pivot_root::sys_pivot_root(t, a.u(0), a.u(1))),
    none(156, "_sysctl", ""),
    partial(157, "prctl", "PR_SET/GET_NAME, PR_SET/GET_DUMPABLE, PR_CAPBSET_READ/DROP, PR_GET/SET_SECUREBITS, PR_GET/SET_KEEPCAPS and PR_CAP_AMBIENT (kept and reported with Linux's checks; their effect on exec and set*id is not modelled, the ambient set stays empty: kernel/securebits.rs), PR_SET/GET_SECCOMP and PR_SET/GET_NO_NEW_PRIVS (as seccomp(2)); PR_SET_PDEATHSIG and PR_SET_CHILD_SUBREAPER are accepted and ignored (their GETs report 0); other options EINVAL", |t, a| sys_proc::sys_prctl(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u(4))),
    partial(158, "arch_prctl", "ARCH_SET_FS/GET_FS/SET_GS/GET_GS; ARCH_GET/SET_CPUID, ARCH_MAP_VDSO_* and the CET/LAM options EINVAL", |t, a| sys_proc::sys_arch_prctl(t, a.i(0), a.u(1))),
    partial(159, "adjtimex", "read-only mode returns TIME_OK and the stored state; ADJ_SETOFFSET steps the guest's clock; other modes (root only, Linux's EINVAL/EPERM) are stored but nothing slews", |t, a| sys_clock::sys_adjtimex(t, a.u(0))),
    full(160, "setrlimit", "limits stored, inherited and reported; enforced: NOFILE, NPROC, FSIZE, CPU, AS, DATA, MEMLOCK, NICE, RTPRIO, STACK (exec's argument size only; the stack gap is fixed); not: CORE (no core dumps), SIGPENDING, MSGQUEUE", |t, a| sys_proc::sys_setrlimit(t, a.u32(0), a.u(1))),
    full(161, "chroot", "", |t, a| sys_fs::sys_chroot(t, a.u(0))),
    full(162, "sync", "writes back the ext filesystems", |t, _| sys_fs::sys_sync(t)),
    none(163, "acct", ""),
    full(164, "settimeofday", "sets the guest's clock only; the timezone is stored and reported by gettimeofday", |t, a| sys_clock::sys_settimeofday(t, a.u(0), a.u(1))),
    partial(165, "mount", "ruml's filesystem types only; shared/private/slave/unbindable propagation between namespaces (MS_REC), bind and rbind (unbindable submounts skipped); see docs/namespaces.md", |t, a| sys_mount::sys_mount(t, a.u(0), a.u(1), a.u(2), a.u(3), a.u(4))),
    partial(166, "umount2", "MNT_DETACH (lazy, with the mounts below); MNT_FORCE and MNT_EXPIRE are plain unmounts; the root and a busy ext filesystem EBUSY; propagates to peers and slaves", |t, a| sys_mount::sys_umount2(t, a.u(0), a.i(1))),
    none(167, "swapon", ""),
    none(168, "swapoff", ""),
    partial(169, "reboot", "POWER_OFF, HALT, RESTART, CAD_ON/OFF (root, magic numbers checked); RESTART2, KEXEC, SW_SUSPEND EINVAL", |t, a| sys_proc::sys_reboot(t, a.u32(0), a.u32(1), a.u32(2))),
    full(170, "sethostname", "", |t, a| sys_proc::sys_sethostname(t, a.u(0), a.usize(1))),
    full(171, "setdomainname", "", |t, a| sys_proc::sys_setdomainname(t, a.u(0), a.usize(1))),
    none(172, "iopl", ""),
    none(173, "ioperm", ""),
    none(174, "create_module", ""),
    none(175, "init_module", ""),
    none(176, "delete_module", ""),
    none(177, "get_kernel_syms", ""),
    none(178, "query_module", ""),
    none(179, "quotactl", ""),
    none(180, "nfsservctl", ""),
    none(181, "getpmsg", ""),
    none(182, "putpmsg", ""),
    none(183, "afs_syscall", ""),
    none(184, "tuxcall", ""),
    none(185, "security", ""),
    full(186, "gettid", "", |t, _| Ok(k::ns::pid::vnr(t, t.tid) as u64)),
    full(187, "readahead", "EBADF unless readable, EINVAL unless a regular file or block device; nothing to read ahead (the page cache is memory)", |t, a| k::sys_rwf::sys_readahead(t, a.i(0), a.i64(1), a.u(2))),
    partial(188, "setxattr", "user., trusted. and security. names; system. (POSIX ACLs) EOPNOTSUPP", |t, a| sys_xattr::dispatch(t, 188, &a)),
    partial(189, "lsetxattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 189, &a)),
    partial(190, "fsetxattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 190, &a)),
    partial(191, "getxattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 191, &a)),
    partial(192, "lgetxattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 192, &a)),
    partial(193, "fgetxattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 193, &a)),
    partial(194, "listxattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 194, &a)),
    partial(195, "llistxattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 195, &a)),
    partial(196, "flistxattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 196, &a)),
    partial(197, "removexattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 197, &a)),
    partial(198, "lremovexattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 198, &a)),
    partial(199, "fremovexattr", "as setxattr", |t, a| sys_xattr::dispatch(t, 199, &a)),
    full(200, "tkill", "", |t, a| sys_signal::sys_tkill(t, a.i(0), a.i(1))),
    full(201, "time", "", |t, a| sys_time::sys_time(t, a.u(0))),
    partial(202, "futex", "WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET, WAKE_BITSET; shared futexes (no FUTEX_PRIVATE_FLAG, word in a MAP_SHARED mapping) keyed by backing inode + offset, so they work across processes; PI futexes and FUTEX_WAITV missing", |t, a| sys_proc::sys_futex(t, a)),
    partial(203, "sched_setaffinity", "a task alone in its address space moves to an allowed vCPU at its next return to the guest; threads of one process share one vCPU (their host process has one tracer), so a thread's mask is kept, reported and inherited but does not move it", |t, a| sys_affinity::sys_sched_setaffinity(t, a.i(0), a.usize(1), a.u(2))),
    full(204, "sched_getaffinity", "", |t, a| sys_affinity::sys_sched_getaffinity(t, a.i(0), a.usize(1), a.u(2))),
    none(205, "set_thread_area", ""),
    full(206, "io_setup", "the completion ring is mapped in the caller's memory as Linux's struct aio_ring (magic 0xa10a10a1, head/tail), so libaio's user-space check works; aio-max-nr 65536 (EAGAIN)", |t, a| k::aio::sys_io_setup(t, a.u32(0), a.u(1))),
    full(207, "io_destroy", "pending polls are dropped and the ring unmapped", |t, a| k::aio::sys_io_destroy(t, a.u(0))),
    full(208, "io_getevents", "EINTR when a signal comes before an event", |t, a| k::aio::sys_io_getevents(t, a.u(0), a.i64(1), a.i64(2), a.u(3), a.u(4))),
    partial(209, "io_submit", "PREAD, PWRITE, PREADV, PWRITEV, FSYNC, FDSYNC run inside the call (a pipe or socket read sleeps there until data comes, as Linux without FMODE_NOWAIT), POLL completes when the file is ready; IOCB_FLAG_RESFD signals the eventfd. A pending POLL is noticed when the context is waited on (io_getevents), not by an eventfd watcher alone; aio_rw_flags and IOCB_FLAG_IOPRIO are ignored", |t, a| k::aio::sys_io_submit(t, a.u(0), a.i64(1), a.u(2))),
    full(210, "io_cancel", "cancels a pending POLL (its event, res 0, goes to the ring; the call returns EINPROGRESS as Linux); anything else EINVAL", |t, a| k::aio::sys_io_cancel(t, a.u(0), a.u(1), a.u(2))),
    none(211, "get_thread_area", ""),
    none(212, "lookup_dcookie", ""),
    full(213, "epoll_create", "as epoll_create1 without flags", |t, _| sys_epoll::sys_epoll_create1(t, 0)),
    none(214, "epoll_ctl_old", ""),
    none(215, "epoll_wait_old", ""),
    none(216, "remap_file_pages", ""),
    full(217, "getdents64", "names are the original bytes; /proc/PID/fd positions are fd numbers (+2) and each call lists afresh", |t, a| sys_fs::sys_getdents64(t, a.i(0), a.u(1), a.usize(2))),
    full(218, "set_tid_address", "", |t, a| sys_proc::sys_set_tid_address(t, a.u(0))),
    full(219, "restart_syscall", "continues a sleep, poll or timed futex wait a stop interrupted, to its first deadline (the task's restart block); otherwise EINTR", |t, _| sys_time::sys_restart_syscall(t)),
    full(220, "semtimedop", "semop with a relative timeout (EAGAIN when it passes)", |t, a| sys_ipc::dispatch(t, 220, &a)).eintr(),
    full(221, "fadvise64", "EBADF, ESPIPE for pipes, EINVAL for a negative length or unknown advice, as generic_fadvise; the advice changes nothing (no readahead or eviction to steer)", |t, a| k::sys_rwf::sys_fadvise64(t, a.i(0), a.i64(1), a.i64(2), a.i(3))),
    partial(222, "timer_create", "REALTIME, MONOTONIC, BOOTTIME, TAI, _ALARM (root; as their base clocks) and PROCESS_CPUTIME_ID (checked when the guest enters the kernel); THREAD_CPUTIME_ID and per-pid CPU clocks EINVAL; SIGEV_SIGNAL/NONE/THREAD_ID", |t, a| sys_timer::sys_timer_create(t, a.i(0), a.u(1), a.u(2))),
    full(223, "timer_settime", "TIMER_ABSTIME and intervals; a signal still queued from the old setting is dropped", |t, a| sys_timer::sys_timer_settime(t, a.i(0), a.u32(1), a.u(2), a.u(3))),
    full(224, "timer_gettime", "", |t, a| sys_timer::sys_timer_gettime(t, a.i(0), a.u(1))),
    full(225, "timer_getoverrun", "expiries while the timer's one signal was pending, as of its last delivery", |t, a| sys_timer::sys_timer_getoverrun(t, a.i(0))),
    full(226, "timer_delete", "a still queued signal of the timer goes too (Linux 6.13+)", |t, a| sys_timer::sys_timer_delete(t, a.i(0))),
    full(227, "clock_settime", "CLOCK_REALTIME only (EINVAL otherwise): a guest offset over the host's clock, never the host's clock; EPERM for non-root", |t, a| sys_clock::sys_clock_settime(t, a.i(0), a.u(1))),
    full(228, "clock_gettime", "REALTIME(_COARSE), MONOTONIC(_RAW, _COARSE), BOOTTIME (no suspend), TAI (offset 0, Linux's default), the process and thread CPU clocks and pid clocks; *_ALARM as their base clocks", |t, a| sys_time::sys_clock_gettime(t, a.i(0), a.u(1))),
    full(229, "clock_getres", "", |t, a| sys_time::sys_clock_getres(t, a.i(0), a.u(1))),
    full(230, "clock_nanosleep", "", |t, a| sys_time::sys_clock_nanosleep(t, a.i(0), a.i(1), a.u(2), a.u(3))).nohand(),
    full(231, "exit_group", "", |t, a| sys_proc::sys_exit_group(t, a.i(0))),
    full(232, "epoll_wait", "", |t, a| sys_epoll::sys_epoll_pwait(t, a.i(0), a.u(1), a.i(2), a.i(3), 0, 8)).nohand(),
    full(233, "epoll_ctl", "EPOLLET (once per wakeup of the file or new kind of readiness), EPOLLONESHOT, EPOLLEXCLUSIVE (add only); EPERM for regular files and directories", |t, a| sys_epoll::sys_epoll_ctl(t, a.i(0), a.i(1), a.i(2), a.u(3))),
    full(234, "tgkill", "", |t, a| sys_signal::sys_tgkill(t, a.i(0), a.i(1), a.i(2))),
    full(235, "utimes", "", |t, a| sys_attr::sys_utimes(t, a.u(0), a.u(1))),
    none(236, "vserver", ""),
    none(237, "mbind", ""),
    none(238, "set_mempolicy", ""),
    none(239, "get_mempolicy", ""),
    full(240, "mq_open", "names are one component (EACCES otherwise), O_CREAT/O_EXCL (EEXIST), ENOENT, access modes checked against the mode (EACCES), mq_attr limits from fs.mqueue.msg_max/msgsize_max (EINVAL; root up to 65536/16 MiB), fs.mqueue.queues_max (ENOSPC); the fd is close-on-exec, read() gives the QSIZE/NOTIFY/SIGNO/NOTIFY_PID line, /proc/PID/fd shows `/name`. the mqueue filesystem (`mount -t mqueue none /dev/mqueue`) shows every queue as a file holding that line, makes queues with the default attributes on open(O_CREAT), removes them on unlink, changes their owner and mode on chmod/chown, EPERM for anything else (`ipc/mqueue_fs.rs`); RLIMIT_MSGQUEUE not enforced", |t, a| sys_mqueue::sys_mq_open(t, a.u(0), a.u32(1), a.u32(2), a.u(3))),
    full(241, "mq_unlink", "ENOENT; only the owner or root (EACCES); open descriptors keep the queue", |t, a| sys_mqueue::sys_mq_unlink(t, a.u(0))),
    full(242, "mq_timedsend", "EMSGSIZE, EINVAL for prio ≥ 32768, EBADF if not open for writing; a full queue blocks (timeouts, signals as mq_timedreceive) or EAGAIN with O_NONBLOCK", |t, a| sys_mqueue::sys_mq_timedsend(t, a.i(0), a.u(1), a.u(2), a.u32(3), a.u(4))),
    full(243, "mq_timedreceive", "highest priority first, FIFO within one; EMSGSIZE for a buffer below mq_msgsize, EAGAIN with O_NONBLOCK, EBADF if not open for reading; blocks with an absolute CLOCK_REALTIME timeout (ETIMEDOUT, EINVAL for a bad timespec); a signal gives EINTR (restarted with SA_RESTART)", |t, a| sys_mqueue::sys_mq_timedreceive(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u(4))),
    partial(244, "mq_notify", "SIGEV_SIGNAL (si_code SI_MESGQ, sender's pid/uid, sigev_value) and SIGEV_NONE; one process per queue (EBUSY), fired once when the queue goes from empty to non-empty and no receiver waits; NULL unregisters; SIGEV_THREAD (glibc's netlink socket) → EINVAL; a registration ends when its process exits or closes any descriptor of the queue", |t, a| sys_mqueue::sys_mq_notify(t, a.i(0), a.u(1))),
    full(245, "mq_getsetattr", "only O_NONBLOCK changes (EINVAL for other mq_flags); EBADF for non-queue fds", |t, a| sys_mqueue::sys_mq_getsetattr(t, a.i(0), a.u(1), a.u(2))),
    none(246, "kexec_load", ""),
    full(247, "waitid", "P_ALL, P_PID, P_PGID and P_PIDFD (a non-blocking pidfd: EAGAIN when nothing is ready)", |t, a| sys_proc::sys_waitid(t, a.i(0), a.i(1), a.u(2), a.i(3), a.u(4))),
    full(248, "add_key", "types user, logon and keyring; an existing user key of that description in the keyring is updated; keys live until invalidated (no garbage collection or quotas)", |t, a| k::keys::sys_add_key(t, a.u(0), a.u(1), a.u(2), a.usize(3), a.i(4))),
    partial(249, "request_key", "finds the key in the thread, process and session keyrings (and below) and links it into the destination; never calls out to /sbin/request-key (ENOKEY when missing)", |t, a| k::keys::sys_request_key(t, a.u(0), a.u(1), a.u(2), a.i(3))),
    partial(250, "keyctl", "GET_KEYRING_ID, JOIN_SESSION_KEYRING, UPDATE, REVOKE, CHOWN, SETPERM, DESCRIBE, CLEAR, LINK, UNLINK, SEARCH, READ, GET_SECURITY, INVALIDATE with Linux's possession and permission rules; other operations EOPNOTSUPP", |t, a| k::keys::sys_keyctl(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u(4))),
    partial(251, "ioprio_set", "accepted and ignored; no checks of which/who/ioprio", |_, _| Ok(0)),
    partial(252, "ioprio_get", "always best-effort level 4; no checks of which/who", |_, _| Ok((4 << 13) as u64)),
    full(253, "inotify_init", "as inotify_init1 without flags", |t, _| sys_inotify::sys_inotify_init1(t, 0)),
    full(254, "inotify_add_watch", "create, delete, modify, attribute changes, opens, closes, moves; watches follow the inode", |t, a| sys_inotify::sys_inotify_add_watch(t, a.i(0), a.u(1), a.u32(2))),
    full(255, "inotify_rm_watch", "", |t, a| sys_inotify::sys_inotify_rm_watch(t, a.i(0), a.i(1))),
    none(256, "migrate_pages", ""),
    full(257, "openat", "O_CREAT on `name/` → EISDIR; /proc/PID/fd/N and /dev/fd/N reopen the file itself (deleted files, memfds, pipes as a new end; sockets → ENXIO)", |t, a| sys_fs::sys_openat(t, a.i(0), a.u(1), a.u32(2), a.u32(3))),
    full(258, "mkdirat", "", |t, a| sys_fs::sys_mkdirat(t, a.i(0), a.u(1), a.u32(2))),
    full(259, "mknodat", "trailing slash → ENOENT (EEXIST if present)", |t, a| sys_fs::sys_mknodat(t, a.i(0), a.u(1), a.u32(2), a.u(3))),
    full(260, "fchownat", "", |t, a| sys_attr::sys_fchownat(t, a.i(0), a.u(1), a.u32(2), a.u32(3), a.u32(4))),
    full(261, "futimesat", "", |t, a| sys_attr::sys_futimesat(t, a.i(0), a.u(1), a.u(2))),
    full(262, "newfstatat", "", |t, a| sys_fs::sys_newfstatat(t, a.i(0), a.u(1), a.u(2), a.u32(3))),
    full(263, "unlinkat", "`name/` without AT_REMOVEDIR → EISDIR for a directory, ENOTDIR otherwise", |t, a| sys_fs::sys_unlinkat(t, a.i(0), a.u(1), a.u32(2))),
    full(264, "renameat", "as renameat2", |t, a| sys_fs::sys_renameat2(t, a.i(0), a.u(1), a.i(2), a.u(3), 0)),
    full(265, "linkat", "new name with a trailing slash → ENOENT (EEXIST if present)", |t, a| sys_fs::sys_linkat(t, a.i(0), a.u(1), a.i(2), a.u(3), a.u32(4))),
    full(266, "symlinkat", "target and name are bytes; new name with a trailing slash → ENOENT", |t, a| sys_fs::sys_symlinkat(t, a.u(0), a.i(1), a.u(2))),
    full(267, "readlinkat", "returns the target's original bytes", |t, a| sys_fs::sys_readlinkat(t, a.i(0), a.u(1), a.u(2), a.usize(3))),
    full(268, "fchmodat", "", |t, a| sys_attr::sys_fchmodat(t, a.i(0), a.u(1), a.u32(2), 0)),
    full(269, "faccessat", "", |t, a| sys_attr::sys_faccessat(t, a.i(0), a.u(1), a.u32(2), 0)),
    full(270, "pselect6", "as select with a timespec; the signal mask (arg 6: {sigset, size}) is installed for the wait, EINVAL unless its size is 8", |t, a| sys_poll::sys_select(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u(4), Some(a.u(5)))).nohand(),
    full(271, "ppoll", "as poll with a timespec; the signal mask is installed for the wait, EINVAL unless its size is 8", |t, a| sys_poll::sys_ppoll(t, a.u(0), a.u32(1), a.u(2), a.u(3), a.usize(4))).nohand(),
    partial(272, "unshare", "new UTS, IPC (SysV; POSIX queues stay shared), user, PID (for the children), mount (a copy of the tree, with propagation), cgroup and time namespaces; network (only lo, down; docs/namespaces.md)", |t, a| ns::sys::sys_unshare(t, a.u(0))),
    full(273, "set_robust_list", "the list is walked at thread exit (FUTEX_OWNER_DIED, one waiter woken); not at execve", |t, a| k::futex_robust::sys_set_robust_list(t, a.u(0), a.usize(1))),
    none(274, "get_robust_list", ""),
    partial(275, "splice", "bytes are copied, not pages moved; pipe to pipe, file/socket/tty to pipe, pipe to file/socket; the pipe side waits unless SPLICE_F_NONBLOCK or O_NONBLOCK (MOVE, MORE, GIFT accepted as hints); a socket or tty output waits as a write, whatever SPLICE_F_NONBLOCK says; file to pipe fills the free bytes, not Linux's 16 page slots", |t, a| k::splice::sys_splice(t, a.i(0), a.u(1), a.i(2), a.u(3), a.usize(4), a.u32(5))),
    full(276, "tee", "copies up to len bytes between two different pipes without consuming them; waits as splice", |t, a| k::splice::sys_tee(t, a.i(0), a.i(1), a.usize(2), a.u32(3))),
    full(277, "sync_file_range", "flags and range checked as Linux (EINVAL), ESPIPE for pipes, sockets and character devices; SYNC_FILE_RANGE_WRITE syncs the whole file", |t, a| k::sys_rwf::sys_sync_file_range(t, a.i(0), a.i64(1), a.i64(2), a.u32(3))),
    partial(278, "vmsplice", "user memory is copied into a write end (SPLICE_F_GIFT ignored) or out of a read end; moves what fits or what is there once the pipe is ready; room counted in bytes, not Linux's 16 buffer slots (many small segments may fit where Linux stops)", |t, a| k::splice::sys_vmsplice(t, a.i(0), a.u(1), a.u(2), a.u32(3))),
    none(279, "move_pages", ""),
    full(280, "utimensat", "", |t, a| sys_attr::sys_utimensat(t, a.i(0), a.u(1), a.u(2), a.u32(3), false, 0)),
    full(281, "epoll_pwait", "as epoll_wait, with the signal mask installed for the wait", |t, a| sys_epoll::sys_epoll_pwait(t, a.i(0), a.u(1), a.i(2), a.i(3), a.u(4), a.usize(5))).nohand(),
    full(282, "signalfd", "as signalfd4 without flags", |t, a| sys_signal::sys_signalfd4(t, a.i(0), a.u(1), a.usize(2), 0)),
    full(283, "timerfd_create", "REALTIME, MONOTONIC, BOOTTIME and the _ALARM clocks (root only; as their base clocks)", |t, a| sys_timerfd::sys_timerfd_create(t, a.i(0), a.u32(1))),
    full(284, "eventfd", "as eventfd2 without flags", |t, a| sys_epoll::sys_eventfd2(t, a.u32(0), 0)),
    partial(285, "fallocate", "Linux's checks in vfs_fallocate's order (EBADF, EINVAL, EOPNOTSUPP mode combinations, EBADF access, ESPIPE, EISDIR, ENODEV, EFBIG), RLIMIT_FSIZE; tmpfs: mode 0 and KEEP_SIZE reserve pages (ENOSPC all or nothing, st_blocks), PUNCH_HOLE zeroes and frees (shared mappings of punched pages keep the old page), other modes EOPNOTSUPP as shmem; EFBIG past the filesystem's s_maxbytes; ext4 as Linux's: mode 0 and KEEP_SIZE preallocate unwritten extents, PUNCH_HOLE frees whole blocks and zeroes partial ones (up to the page holding EOF), ZERO_RANGE makes whole blocks unwritten and preallocates holes, COLLAPSE_RANGE and INSERT_RANGE shift block-aligned ranges (EINVAL unaligned or past EOF), block-mapped files only PUNCH_HOLE (EOPNOTSUPP); hostfs: mode 0 grows the size without reserving blocks, KEEP_SIZE reserves nothing, other modes EOPNOTSUPP", |t, a| sys_fs::sys_fallocate(t, a.i(0), a.i(1), a.i64(2), a.i64(3))),
    full(286, "timerfd_settime", "TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET (read gives ECANCELED after the guest clock is set)", |t, a| sys_timerfd::sys_timerfd_settime(t, a.i(0), a.u32(1), a.u(2), a.u(3))),
    full(287, "timerfd_gettime", "", |t, a| sys_timerfd::sys_timerfd_gettime(t, a.i(0), a.u(1))),
    full(288, "accept4", "", |t, a| sys_net::sys_accept4(t, a.i(0), a.u(1), a.u(2), a.u32(3))),
    full(289, "signalfd4", "", |t, a| sys_signal::sys_signalfd4(t, a.i(0), a.u(1), a.usize(2), a.u32(3))),
    full(290, "eventfd2", "", |t, a| sys_epoll::sys_eventfd2(t, a.u32(0), a.u32(1))),
    full(291, "epoll_create1", "", |t, a| sys_epoll::sys_epoll_create1(t, a.u32(0))),
    full(292, "dup3", "", |t, a| sys_fs::sys_dup3(t, a.i(0), a.i(1), a.u32(2))),
    partial(293, "pipe2", "O_CLOEXEC, O_NONBLOCK; O_DIRECT (packet mode) is accepted but the pipe stays a byte stream", |t, a| sys_fs::sys_pipe2(t, a.u(0), a.u32(1))),
    full(294, "inotify_init1", "", |t, a| sys_inotify::sys_inotify_init1(t, a.u32(0))),
    full(295, "preadv", "as pread64", |t, a| sys_fs::sys_preadv(t, a.i(0), a.u(1), a.i(2), a.i64(3))),
    full(296, "pwritev", "as pread64", |t, a| sys_fs::sys_pwritev(t, a.i(0), a.u(1), a.i(2), a.i64(3))),
    none(297, "rt_tgsigqueueinfo", ""),
    none(298, "perf_event_open", ""),
    none(299, "recvmmsg", ""),
    partial(300, "fanotify_init", "descriptor events only: FAN_CLASS_NOTIF/CONTENT/PRE_CONTENT, CLOEXEC, NONBLOCK, UNLIMITED_QUEUE/MARKS, REPORT_TID; file-handle, name, pidfd, mount and fd-error reports and FAN_ENABLE_AUDIT are EINVAL; CAP_SYS_ADMIN needed (EPERM), 128 groups per user (EMFILE)", |t, a| sys_fanotify::sys_fanotify_init(t, a.u32(0), a.u32(1))),
    partial(301, "fanotify_mark", "inode, mount and filesystem marks with ignore masks (legacy and FAN_MARK_IGNORE), FAN_EVENT_ON_CHILD, FAN_ONDIR; ACCESS, MODIFY, CLOSE_*, OPEN, OPEN_EXEC and the OPEN/ACCESS/OPEN_EXEC permission events; directory-entry events need file handles (EINVAL)", |t, a| sys_fanotify::sys_fanotify_mark(t, a.i(0), a.u32(1), a.u(2), a.i(3), a.u(4))),
    full(302, "prlimit64", "as setrlimit; another process's limits need the same ids or CAP_SYS_RESOURCE (EPERM)", |t, a| sys_proc::sys_prlimit64(t, a.i(0), a.u32(1), a.u(2), a.u(3))),
    none(303, "name_to_handle_at", ""),
    none(304, "open_by_handle_at", ""),
    partial(305, "clock_adjtime", "CLOCK_REALTIME as adjtimex; other clocks EOPNOTSUPP", |t, a| sys_clock::sys_clock_adjtime(t, a.i(0), a.u(1))),
    partial(306, "syncfs", "syncs every filesystem, as sync; the fd is not checked (no EBADF)", |t, _| sys_fs::sys_sync(t)),
    none(307, "sendmmsg", ""),
    partial(308, "setns", "namespace fds (/proc/PID/ns, NS_GET_*) and pidfds; a PID namespace (the own one or a descendant: EINVAL) becomes the one for children; a mount namespace moves root and cwd to its root (EINVAL while the fs context is shared); a network namespace changes where new sockets go (existing ones stay)", |t, a| ns::sys::sys_setns(t, a.i(0), a.u(1))),
    full(309, "getcpu", "the task's vCPU, node 0", |t, a| sys_proc::sys_getcpu(t, a.u(0), a.u(1))),
    full(310, "process_vm_readv", "", |t, a| k::sys_process_vm::sys_process_vm(t, a.i(0), (a.u(1), a.u(2)), (a.u(3), a.u(4)), a.u(5), false)),
    full(311, "process_vm_writev", "", |t, a| k::sys_process_vm::sys_process_vm(t, a.i(0), (a.u(1), a.u(2)), (a.u(3), a.u(4)), a.u(5), true)),
    none(312, "kcmp", ""),
    none(313, "finit_module", ""),
    partial(314, "sched_setattr", "stored and reported, Linux's errnos; the scheduler ignores policy and priority; SCHED_DEADLINE without admission control; util clamps ignored", |t, a| sys_sched::sys_sched_setattr(t, a.i(0), a.u(1), a.u32(2))),
    full(315, "sched_getattr", "util_min/util_max report 0/1024", |t, a| sys_sched::sys_sched_getattr(t, a.i(0), a.u(1), a.u32(2), a.u32(3))),
    full(316, "renameat2", "a trailing slash on either name needs a directory source (ENOTDIR)", |t, a| sys_fs::sys_renameat2(t, a.i(0), a.u(1), a.i(2), a.u(3), a.u32(4))),
    partial(317, "seccomp", "SET_MODE_STRICT (read, write, exit, rt_sigreturn; anything else SIGKILL), SET_MODE_FILTER (classic BPF checked as Linux's bpf_check_classic and seccomp_check_filter, interpreted over seccomp_data at every syscall entry, stacked filters with Linux's action precedence; KILL_PROCESS/KILL_THREAD (SIGSYS, core), TRAP (SIGSYS with SYS_SECCOMP siginfo), ERRNO, TRACE (PTRACE_EVENT_SECCOMP, else ENOSYS), LOG, ALLOW; flags TSYNC, TSYNC_ESRCH, LOG, SPEC_ALLOW (no-op)), GET_ACTION_AVAIL, GET_NOTIF_SIZES; inherited by fork and clone, kept by execve; no user notification: NEW_LISTENER is EINVAL and GET_ACTION_AVAIL(USER_NOTIF) EOPNOTSUPP, as a kernel built without it", |t, a| k::seccomp::sys::sys_seccomp(t, a.u32(0), a.u32(1), a.u(2))),
    partial(318, "getrandom", "host randomness, never blocks; up to 1 MiB per call; flags not checked (Linux: EINVAL for unknown ones)", |t, a| sys_proc::sys_getrandom(t, a.u(0), a.usize(1), a.u32(2))),
    partial(319, "memfd_create", "the file is 0777 and the caller's, so fexecve can run it; MFD_ALLOW_SEALING accepted but seals are not enforced (F_ADD_SEALS is ignored, F_GET_SEALS reports none); MFD_HUGETLB ignored", |t, a| sys_fs::sys_memfd_create(t, a.u(0), a.u32(1))),
    none(320, "kexec_file_load", ""),
    none(321, "bpf", ""),
    full(322, "execveat", "dirfd + relative path, AT_EMPTY_PATH (fexecve; O_PATH, regular fds, memfds with ELF or script), AT_SYMLINK_NOFOLLOW → ELOOP; AT_EXECFN and a script's name are /dev/fd/N[/path]; a script through a close-on-exec fd → ENOENT; comm from the file's name", |t, a| k::exec::sys_execve(t, a.i(0), a.u(1), a.u(2), a.u(3), a.u32(4))),
    none(323, "userfaultfd", ""),
    partial(324, "membarrier", "MEMBARRIER_CMD_QUERY reports no commands; other commands return 0 instead of EINVAL", |_, _| Ok(0)),
    full(325, "mlock2", "as mlock; MLOCK_ONFAULT accepted", |t, a| k::sys_mlock::sys_mlock2(t, a.u(0), a.u(1), a.u32(2))),
    full(326, "copy_file_range", "regular files on one filesystem (EXDEV across devices, as Linux 6.x without a filesystem copy method); Linux's checks in order: EISDIR, EINVAL for other files, flags and overlap within one file, EBADF for open modes and O_APPEND, short copy at end of file", |t, a| k::copy_range::sys_copy_file_range(t, a.i(0), a.u(1), a.i(2), a.u(3), a.usize(4), a.u32(5))),
    full(327, "preadv2", "offset -1 uses the file position; RWF_* checked as kiocb_set_rw_flags (EOPNOTSUPP for unknown flags, RWF_ATOMIC, and RWF_NOWAIT/RWF_DONTCACHE on files that lack them: tmpfs, hostfs), RWF_NOWAIT gives EAGAIN when no data is ready", |t, a| k::sys_rwf::sys_preadv2(t, a.i(0), a.u(1), a.i(2), a.i64(3), a.u32(5))),
    full(328, "pwritev2", "as preadv2; RWF_APPEND writes at the end (the position moves only with offset -1), RWF_DSYNC/RWF_SYNC sync after the write, RWF_NOWAIT gives EAGAIN when the file cannot take data now. RWF_NOAPPEND does not undo O_APPEND for offset -1", |t, a| k::sys_rwf::sys_pwritev2(t, a.i(0), a.u(1), a.i(2), a.i64(3), a.u32(5))),
    none(329, "pkey_mprotect", ""),
    none(330, "pkey_alloc", ""),
    none(331, "pkey_free", ""),
    partial(332, "statx", "STATX_BASIC_STATS whatever the mask (Linux may give more than asked); no btime, mount id or STATX_ATTR_* attributes", |t, a| sys_fs::sys_statx(t, a.i(0), a.u(1), a.u32(2), a.u32(3), a.u(4))),
    full(333, "io_pgetevents", "as io_getevents with a signal mask for the wait", |t, a| k::aio::sys_io_pgetevents(t, a.u(0), a.i64(1), a.i64(2), a.u(3), a.u(4), a.u(5))),
    full(334, "rseq", "registration checked as Linux (EINVAL, EPERM, EBUSY, EFAULT; struct at least 32 bytes, 32-aligned; AT_RSEQ_FEATURE_SIZE 28, AT_RSEQ_ALIGN 32); cpu_id_start/cpu_id (the vCPU), node_id 0 and mm_cid 0 written before returning to user space after registration, after being scheduled out and at signal delivery, which also abort a critical section the thread is in (bad descriptor or signature: SIGSEGV); kept by fork, not by CLONE_VM children, cleared by execve", |t, a| k::rseq::sys_rseq(t, a.u(0), a.u(1), a.u(2), a.u(3))),
    full(424, "pidfd_send_signal", "as kill on the pidfd's process (EBADF for other files, EINVAL for flags, EPERM as kill); with a siginfo as rt_sigqueueinfo, codes >= 0 only to oneself (EPERM). PIDFD_SIGNAL_THREAD/PROCESS_GROUP flags accepted but the signal goes to the process", |t, a| k::pidfd::sys_pidfd_send_signal(t, a.i(0), a.i(1), a.u(2), a.u32(3))),
    none(425, "io_uring_setup", "ENOSYS by design for now: liburing's io_uring_queue_init returns -ENOSYS and its users fall back (to Linux AIO, above, or threads)"),
    none(426, "io_uring_enter", "ENOSYS (no rings: see io_uring_setup)"),
    none(427, "io_uring_register", "ENOSYS (no rings: see io_uring_setup)"),
    none(428, "open_tree", ""),
    none(429, "move_mount", ""),
    none(430, "fsopen", ""),
    none(431, "fsconfig", ""),
    none(432, "fsmount", ""),
    none(433, "fspick", ""),
    full(434, "pidfd_open", "close-on-exec pidfd that polls readable once the process exits (POLLHUP once reaped), usable with waitid(P_PIDFD) (O_NONBLOCK: EAGAIN); ESRCH, EINVAL for threads without PIDFD_THREAD; /proc/PID/fdinfo shows its Pid: (-1 once reaped); reading it is EINVAL", |t, a| k::pidfd::sys_pidfd_open(t, a.i(0), a.u32(1))),
    full(435, "clone3", "clone_args VER0-VER2 (a larger struct only with zero tail, else E2BIG); CLONE_PIDFD to args.pidfd, CLONE_CLEAR_SIGHAND, CLONE_INTO_CGROUP (a cgroup2 directory fd), set_tid (one pid level: the number in the child's own pid namespace; EPERM without CAP_SYS_ADMIN, EEXIST if taken), stack+stack_size, exit_signal; the same child-making path as clone", |t, a| k::clone3::sys_clone3(t, a.u(0), a.u(1) as usize)),
    partial(436, "close_range", "CLOSE_RANGE_CLOEXEC; CLOSE_RANGE_UNSHARE is ignored (the fd table stays shared) and unknown flags are not rejected (Linux: EINVAL)", |t, a| sys_fs::sys_close_range(t, a.u32(0), a.u32(1), a.u32(2))),
    none(437, "openat2", ""),
    full(438, "pidfd_getfd", "a close-on-exec duplicate of the target's fd, for callers that pass the ptrace read check (EPERM); EBADF for a missing fd, ESRCH for an exited target", |t, a| k::pidfd::sys_pidfd_getfd(t, a.i(0), a.i(1), a.u32(2))),
    full(439, "faccessat2", "", |t, a| sys_attr::sys_faccessat(t, a.i(0), a.u(1), a.u32(2), a.u32(3))),
    none(440, "process_madvise", ""),
    none(441, "epoll_pwait2", ""),
    none(442, "mount_setattr", ""),
    none(443, "quotactl_fd", ""),
    none(444, "landlock_create_ruleset", ""),
    none(445, "landlock_add_rule", ""),
    none(446, "landlock_restrict_self", ""),
    none(447, "memfd_secret", ""),
    none(448, "process_mrelease", ""),
    none(449, "futex_waitv", ""),
    none(450, "set_mempolicy_home_node", ""),
    none(451, "cachestat", ""),
    none(452, "fchmodat2", ""),
    none(453, "map_shadow_stack", ""),
    none(454, "futex_wake", ""),
    none(455, "futex_wait", ""),
    none(456, "futex_requeue", ""),
    none(457, "statmount", ""),
    none(458, "listmount", ""),
    none(459, "lsm_get_self_attr", ""),
    none(460, "lsm_set_self_attr", ""),
    none(461, "lsm_list_modules", ""),
];

const NONE: u16 = u16::MAX;

/// Number → position in LIST, built at compile time; the build fails if
/// LIST is not sorted by number or a number is out of range.
static INDEX: [u16; MAX_NR + 1] = index(LIST);

const fn index(list: &[Entry]) -> [u16; MAX_NR + 1] {
    let mut out = [NONE; MAX_NR + 1];
    let mut i = 0;
    while i < list.len() {
        let nr = list[i].nr as usize;
        assert!(nr <= MAX_NR, "syscall number past MAX_NR");
        assert!(
            i == 0 || list[i - 1].nr < list[i].nr,
            "LIST not sorted by number"
        );
        out[nr] = i as u16;
        i += 1;
    }
    out
}

/// The entry for `nr`; None for numbers Linux does not assign.
pub fn entry_of(nr: u64) -> Option<&'static Entry> {
    let i = *INDEX.get(usize::try_from(nr).ok()?)?;
    (i != NONE).then(|| &SYSCALLS[i as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_every_assigned_number() {
        for nr in 0..=MAX_NR as u64 + 1 {
            let assigned = nr <= 334 || (424..=MAX_NR as u64).contains(&nr);
            assert_eq!(entry_of(nr).is_some(), assigned, "syscall {nr}");
            if let Some(e) = entry_of(nr) {
                assert_eq!(e.nr as u64, nr);
            }
        }
        assert!(entry_of(u64::MAX).is_none());
        let names = [
            (0, "read"),
            (59, "execve"),
            (231, "exit_group"),
            (270, "pselect6"),
        ];
        let more = [
            (435, "clone3"),
            (443, "quotactl_fd"),
            (461, "lsm_list_modules"),
        ];
        for (nr, name) in names.iter().chain(more.iter()) {
            assert_eq!(entry_of(*nr).map(|e| e.name), Some(*name));
        }
        let mut seen = std::collections::HashSet::new();
        for e in SYSCALLS {
            assert!(seen.insert(e.name), "{} twice", e.name);
        }
    }

    #[test]
    fn partial_calls_say_why() {
        for e in SYSCALLS {
            if e.support == Support::Partial {
                assert!(!e.note.is_empty(), "{} is partial without a note", e.name);
            }
        }
    }

    #[test]
    fn restart_classes() {
        let nohand = [7, 23, 34, 35, 69, 70, 128, 130, 230, 232, 270, 271, 281];
        let intr = [65, 220];
        for e in SYSCALLS {
            let want = if nohand.contains(&e.nr) {
                Restart::NoHand
            } else if intr.contains(&e.nr) {
                Restart::Intr
            } else {
                Restart::Sys
            };
            assert_eq!(e.restart, want, "{}", e.name);
        }
    }
}
