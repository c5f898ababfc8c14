/* clone3(2) compared with a native run: a fork-like child, a thread on
 * its own stack, CLONE_PIDFD with waitid(P_PIDFD), CLONE_CLEAR_SIGHAND,
 * set_tid, and the EINVAL/E2BIG/EEXIST/EPERM/EBADF/EFAULT rules of the
 * struct and its flags. With the argument "cg" (a guest with cgroup2 at
 * /sys/fs/cgroup) it also spawns into a new cgroup (CLONE_INTO_CGROUP). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#define CLONE_CLEAR_SIGHAND_ 0x100000000ULL
#define CLONE_INTO_CGROUP_ 0x200000000ULL

struct cargs {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case EINVAL: return "EINVAL";
    case E2BIG: return "E2BIG";
    case EEXIST: return "EEXIST";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EBUSY: return "EBUSY";
    default: return strerror(e);
    }
}

static long clone3(void *a, size_t size) { return syscall(SYS_clone3, a, size); }

/* clone3 that must fail: its errno, or "ok" after reaping a child that
 * exits at once. */
static const char *try3(void *a, size_t size) {
    long r = clone3(a, size);
    if (r == 0)
        _exit(0);
    if (r < 0)
        return en(errno);
    waitpid(r, NULL, __WALL);
    return "ok";
}

static void fork_like(void) {
    struct cargs a = {.exit_signal = SIGCHLD};
    long r = clone3(&a, 64);
    if (r == 0)
        _exit(7);
    int st;
    pid_t w = waitpid(r, &st, 0);
    printf("fork-like: reaped %s, exit %d\n", w == r ? "it" : "other", WEXITSTATUS(st));
}

/* A thread: clone3 in assembly so the child, on its own stack, calls
 * `fn` and ends with exit(2) instead of returning into libc. */
static long clone3_thread(struct cargs *a, int (*fn)(void *), void *arg) {
    long ret;
    __asm__ volatile("mov %[fn], %%r12\n\t"
                     "mov %[arg], %%r13\n\t"
                     "syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "mov %%r13, %%rdi\n\t"
                     "call *%%r12\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov $60, %%eax\n\t"
                     "syscall\n\t"
                     "1:\n\t"
                     : "=a"(ret)
                     : "a"((long)SYS_clone3), "D"(a), "S"(sizeof *a), [fn] "r"(fn), [arg] "r"(arg)
                     : "rcx", "r11", "r12", "r13", "memory");
    return ret;
}

static volatile int shared;
static volatile long child_tgid, child_tid_seen;
static char tstack[65536] __attribute__((aligned(16)));

static int thread_fn(void *arg) {
    shared = (int)(long)arg;
    child_tgid = syscall(SYS_getpid);
    child_tid_seen = syscall(SYS_gettid);
    /* On its own stack? */
    char here;
    if (&here < tstack || &here >= tstack + sizeof tstack)
        shared = -1;
    return 0;
}

static void thread(void) {
    static volatile int ctid = -1, ptid;
    struct cargs a = {
        .flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                 CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID,
        .child_tid = (uintptr_t)&ctid,
        .parent_tid = (uintptr_t)&ptid,
        .stack = (uintptr_t)tstack,
        .stack_size = sizeof tstack,
    };
    long r = clone3_thread(&a, thread_fn, (void *)42L);
    if (r < 0) {
        printf("thread: %s\n", en(errno));
        return;
    }
    /* CLONE_CHILD_CLEARTID: the kernel zeroes ctid and wakes us at exit. */
    while (ctid != 0)
        syscall(SYS_futex, &ctid, FUTEX_WAIT, ctid, NULL, NULL, 0);
    printf("thread: shared=%d same tgid %s, tid %s, parent_tid %s\n", shared,
           child_tgid == getpid() ? "yes" : "no", child_tid_seen == r ? "returned" : "other",
           ptid == r ? "set" : "unset");
}

static void pidfd(void) {
    int pfd = -1, ptid = 0;
    struct cargs a = {.flags = CLONE_PIDFD, .pidfd = (uintptr_t)&pfd, .exit_signal = SIGCHLD};
    long r = clone3(&a, 64);
    if (r == 0)
        _exit(3);
    if (r < 0) {
        printf("pidfd: %s\n", en(errno));
        return;
    }
    siginfo_t si = {0};
    int w = waitid(P_PIDFD, pfd, &si, WEXITED);
    printf("pidfd: cloexec %d, waitid %d pid %s status %d\n", fcntl(pfd, F_GETFD), w,
           si.si_pid == r ? "child" : "other", si.si_status);
    close(pfd);
    /* The pidfd and the tid may not share one location... */
    a.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
    a.parent_tid = a.pidfd;
    printf("pidfd+settid same: %s\n", try3(&a, 64));
    /* ...but may be both written elsewhere. */
    a.parent_tid = (uintptr_t)&ptid;
    r = clone3(&a, 64);
    if (r == 0)
        _exit(0);
    waitpid(r, NULL, 0);
    printf("pidfd+settid apart: tid %s, pidfd %s\n", ptid == r ? "set" : "unset",
           fcntl(pfd, F_GETFD) >= 0 ? "open" : "closed");
    close(pfd);
}

static void on_usr1(int s) { (void)s; }

static void clear_sighand(void) {
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, SIG_IGN);
    struct cargs a = {.flags = CLONE_CLEAR_SIGHAND_, .exit_signal = SIGCHLD};
    long r = clone3(&a, 64);
    if (r == 0) {
        struct sigaction s1, s2;
        sigaction(SIGUSR1, NULL, &s1);
        sigaction(SIGUSR2, NULL, &s2);
        _exit((s1.sa_handler == SIG_DFL) | (s2.sa_handler == SIG_IGN) << 1);
    }
    int st;
    waitpid(r, &st, 0);
    struct sigaction s1;
    sigaction(SIGUSR1, NULL, &s1);
    printf("clear_sighand: child usr1 default %d, usr2 ignored %d; parent keeps handler %d\n",
           WEXITSTATUS(st) & 1, WEXITSTATUS(st) >> 1 & 1, s1.sa_handler == on_usr1);
    a.flags = CLONE_CLEAR_SIGHAND_ | CLONE_SIGHAND | CLONE_VM;
    printf("clear_sighand+sighand: %s\n", try3(&a, 64));
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

static void sizes(void) {
    struct {
        struct cargs a;
        uint64_t extra[2];
    } big = {.a = {.exit_signal = SIGCHLD}};
    printf("size 0: %s\n", try3(&big, 0));
    printf("size 63: %s\n", try3(&big, 63));
    printf("size 64: %s\n", try3(&big, 64));
    printf("size 80: %s\n", try3(&big, 80));
    printf("size 88: %s\n", try3(&big, 88));
    printf("size 104 zero tail: %s\n", try3(&big, 104));
    big.extra[1] = 1;
    printf("size 104 nonzero tail: %s\n", try3(&big, 104));
    printf("size 4097: %s\n", try3(&big, 4097));
    printf("bad pointer: %s\n", try3((void *)8, 64));
}

static void flags_and_signals(void) {
    struct cargs a = {.exit_signal = 65};
    printf("exit_signal 65: %s\n", try3(&a, 64));
    a.exit_signal = 0x100000000ULL | SIGCHLD;
    printf("exit_signal high bits: %s\n", try3(&a, 64));
    a.exit_signal = 64;
    signal(64, SIG_IGN); /* the child's exit sends it to us */
    printf("exit_signal 64: %s\n", try3(&a, 64));
    signal(64, SIG_DFL);
    a.exit_signal = 0;
    a.flags = SIGCHLD;
    printf("flags with CSIGNAL: %s\n", try3(&a, 64));
    a.flags = 0x00400000; /* CLONE_DETACHED */
    printf("CLONE_DETACHED: %s\n", try3(&a, 64));
    a.flags = 1ULL << 40;
    printf("unknown flag: %s\n", try3(&a, 64));
    a.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
    a.exit_signal = SIGCHLD;
    printf("thread with exit_signal: %s\n", try3(&a, 64));
    a.flags = CLONE_PARENT;
    printf("parent with exit_signal: %s\n", try3(&a, 64));
    a.flags = CLONE_THREAD;
    a.exit_signal = 0;
    printf("thread without sighand: %s\n", try3(&a, 64));
    a.flags = 0;
    a.exit_signal = SIGCHLD;
    a.stack = (uintptr_t)tstack;
    printf("stack without size: %s\n", try3(&a, 64));
    a.stack = 0;
    a.stack_size = 4096;
    printf("size without stack: %s\n", try3(&a, 64));
    a.stack_size = 0;
    a.flags = CLONE_INTO_CGROUP_;
    printf("into_cgroup size 80: %s\n", try3(&a, 80));
    a.cgroup = 1ULL << 31;
    printf("into_cgroup fd > INT_MAX: %s\n", try3(&a, 88));
    a.cgroup = 999;
    printf("into_cgroup closed fd: %s\n", try3(&a, 88));
    int root = open("/", O_RDONLY | O_DIRECTORY);
    a.cgroup = root;
    printf("into_cgroup not a cgroup: %s\n", try3(&a, 88));
    close(root);
}

/* A pid nobody holds (the native host has many processes). */
static pid_t free_pid(void) {
    for (pid_t p = 2000 + getpid() % 1000; p < 30000; p += 7)
        if (kill(p, 0) < 0 && errno == ESRCH)
            return p;
    return 0;
}

static void set_tid(void) {
    pid_t want[33] = {0};
    struct cargs a = {.exit_signal = SIGCHLD, .set_tid_size = 1};
    printf("set_tid NULL with size: %s\n", try3(&a, 80));
    a.set_tid = (uintptr_t)want;
    a.set_tid_size = 0;
    printf("set_tid with size 0: %s\n", try3(&a, 80));
    a.set_tid_size = 33;
    printf("set_tid size 33: %s\n", try3(&a, 80));
    a.set_tid_size = 1;
    printf("set_tid 0: %s\n", try3(&a, 80));
    want[0] = -5;
    printf("set_tid negative: %s\n", try3(&a, 80));
    want[0] = getpid();
    printf("set_tid taken: %s\n", try3(&a, 80));
    a.set_tid = 8;
    printf("set_tid bad pointer: %s\n", try3(&a, 80));
    a.set_tid = (uintptr_t)want;
    want[0] = free_pid();
    long r = clone3(&a, 80);
    if (r == 0)
        _exit(getpid() == want[0] ? 5 : 6);
    int st = 0;
    if (r > 0)
        waitpid(r, &st, 0);
    printf("set_tid free: %s, got it %s, child saw it %d\n", r < 0 ? en(errno) : "ok",
           r == want[0] ? "yes" : "no", WEXITSTATUS(st));
    /* Without CAP_SYS_ADMIN: EPERM. */
    pid_t c = fork();
    if (c == 0) {
        if (setresuid(65534, 65534, 65534) < 0)
            _exit(1);
        want[0] = free_pid();
        printf("set_tid unprivileged: %s\n", try3(&a, 80));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);
}

/* CLONE_INTO_CGROUP into a new group of the cgroup2 tree. */
static void into_cgroup(void) {
    rmdir("/sys/fs/cgroup/clone3");
    if (mkdir("/sys/fs/cgroup/clone3", 0755) < 0) {
        printf("cgroup mkdir: %s\n", en(errno));
        return;
    }
    int fd = open("/sys/fs/cgroup/clone3", O_RDONLY | O_DIRECTORY);
    struct cargs a = {.flags = CLONE_INTO_CGROUP_, .exit_signal = SIGCHLD, .cgroup = fd};
    fflush(stdout);
    long r = clone3(&a, 88);
    if (r == 0) {
        char b[256] = {0};
        int f = open("/proc/self/cgroup", O_RDONLY);
        read(f, b, sizeof b - 1);
        printf("cgroup child: %s", b);
        fflush(stdout);
        _exit(0);
    }
    if (r < 0)
        printf("into_cgroup: %s\n", en(errno));
    else
        waitpid(r, NULL, 0);
    char b[256] = {0};
    int f = open("/proc/self/cgroup", O_RDONLY);
    read(f, b, sizeof b - 1);
    close(f);
    printf("cgroup parent: %s", b);
    a.flags = CLONE_INTO_CGROUP_ | CLONE_VM | CLONE_SIGHAND | CLONE_THREAD;
    a.exit_signal = 0;
    a.stack = (uintptr_t)tstack;
    a.stack_size = sizeof tstack;
    printf("thread into another cgroup: %s\n", try3(&a, 88));
    int procs = open("/sys/fs/cgroup/clone3/cgroup.procs", O_RDONLY);
    a = (struct cargs){.flags = CLONE_INTO_CGROUP_, .exit_signal = SIGCHLD, .cgroup = procs};
    printf("into cgroup.procs fd: %s\n", try3(&a, 88));
    close(procs);
    close(fd);
    printf("rmdir: %s\n", rmdir("/sys/fs/cgroup/clone3") < 0 ? en(errno) : "ok");
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "cg") == 0) {
        into_cgroup();
        printf("clone3 cg done\n");
        return 0;
    }
    fork_like();
    thread();
    pidfd();
    clear_sighand();
    sizes();
    flags_and_signals();
    set_tid();
    printf("clone3 done\n");
    return 0;
}
