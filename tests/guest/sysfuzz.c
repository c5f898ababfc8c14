/* Calls random system calls with random arguments in forked children.
 * The kernel must survive whatever they do: children may die, the
 * parent reports how many ran.
 *
 * Each round is a fresh child (so a call that unmaps its own code or
 * stack only kills that round) running a mix of:
 *   - raw random syscalls 0..460 with random and hostile arguments;
 *   - clone/clone3 with random flags and exit signals: the new child
 *     leaves with exit(0) straight from the syscall, touching no memory;
 *   - unshare and prctl with random arguments;
 *   - ioctl with random and plausible requests on every fd it has open
 *     (its own: stdin/stdout/stderr are /dev/null, the console is safe);
 *   - mmap/mremap/munmap/mprotect/madvise/brk at addresses near 0, near
 *     and above TASK_SIZE (0x7ff000000000, where the stub lives), and over
 *     its own mappings.
 * Calls that would end the test itself (exit, reboot, kill of others,
 * blocking forever, process-group changes) are skipped.
 *
 * usage: sysfuzz ROUNDS [SEED [CALLS_PER_ROUND [VERBOSE [FIRST_ROUND]]]]
 * VERBOSE 1 prints each round before it runs, 2 also each call (to find
 * the one that hangs or panics the kernel); FIRST_ROUND skips to it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Exit signals of clone/clone3: any 0..255 (above 64 used to panic the
 * kernel; fixed). -DSAFE_EXIT_SIGNALS=1 limits them to 0..64. */
#ifndef SAFE_EXIT_SIGNALS
#define SAFE_EXIT_SIGNALS 0
#endif

/* vfork (CLONE_VFORK) with an exit signal other than SIGCHLD used to hang
 * the kernel (the parent's wait restarted into a new clone until every pid
 * was a zombie, then alloc_pid spun; docs/fuzzing.md). Fixed: vfork
 * children get any exit signal; -DSAFE_VFORK=1 gives them SIGCHLD. */
#ifndef SAFE_VFORK
#define SAFE_VFORK 0
#endif

/* The guest's TASK_SIZE: the stub's pages start here. */
#define TASK_SIZE 0x7ff000000000ull
#define PAGE 4096ull

static uint64_t state = 88172645463325252ull;
static uint64_t rnd(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static const int deny[] = {
    SYS_exit, SYS_exit_group, SYS_reboot, SYS_kill, SYS_tkill, SYS_tgkill,
    SYS_fork, SYS_vfork, SYS_clone, SYS_clone3, SYS_execve, SYS_execveat,
    SYS_pause, SYS_nanosleep, SYS_clock_nanosleep, SYS_select, SYS_poll,
    SYS_ppoll, SYS_pselect6, SYS_wait4, SYS_waitid, SYS_rt_sigsuspend,
    SYS_rt_sigtimedwait, SYS_futex, SYS_read, SYS_readv, SYS_preadv,
    SYS_rt_sigreturn, SYS_accept, SYS_accept4, SYS_recvfrom, SYS_recvmsg,
    SYS_msgrcv, SYS_semop, SYS_semtimedop, SYS_epoll_wait, SYS_epoll_pwait,
    SYS_sendfile, SYS_splice, SYS_tee, SYS_vmsplice, SYS_setsid,
    SYS_vhangup, SYS_setpgid, SYS_ptrace, SYS_umount2, SYS_mount,
    SYS_pivot_root, SYS_chroot, SYS_sync, SYS_syncfs, SYS_acct,
};

static int denied(long nr) {
    for (unsigned i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
        if (deny[i] == nr) return 1;
    return 0;
}

static char buf[65536];
static int verbose;
/* The console, kept for VERBOSE 2 (stdout is /dev/null in a round). */
#define LOG_FD 99
/* Calls made, counted in memory shared with the parent. */
static volatile uint64_t *made;

/* Addresses a hostile program would pick. */
static uint64_t hostile_addr(void) {
    static const uint64_t base[] = {
        0, PAGE, 0x10000, TASK_SIZE - PAGE, TASK_SIZE - 0x10000, TASK_SIZE,
        TASK_SIZE + PAGE, TASK_SIZE + 0x100000, 0x7fffffffe000ull,
        0x7ffffffff000ull, 0x800000000000ull, 0xffff800000000000ull,
        0xffffffffff600000ull, (uint64_t)-PAGE,
    };
    uint64_t a;
    switch (rnd() % 6) {
    case 0: a = (uint64_t)buf; break;
    case 1: a = (uint64_t)&a; break;                /* the stack */
    case 2: a = (uint64_t)&hostile_addr; break;     /* the code */
    case 3: a = rnd() & 0x7fffffffffffull; break;
    default: a = base[rnd() % (sizeof(base) / sizeof(base[0]))];
    }
    switch (rnd() % 4) {
    case 0: a &= ~(PAGE - 1); break;
    case 1: a += (rnd() % 17 - 8) * PAGE; break;
    case 2: a += rnd() % 8; break;
    default: break;
    }
    return a;
}

static uint64_t hostile_len(void) {
    switch (rnd() % 8) {
    case 0: return 0;
    case 1: return 1;
    case 2: return PAGE * (1 + rnd() % 16);
    case 3: return (uint64_t)-1;
    case 4: return (uint64_t)-PAGE;
    case 5: return 0x10000000000ull;
    case 6: return TASK_SIZE;
    default: return rnd() % 0x200000;
    }
}

static uint64_t arg(void) {
    switch (rnd() % 10) {
    case 0: return 0;
    case 1: return rnd() % 16;
    case 2: return (uint64_t)-1;
    case 3: return (uint64_t)(buf + (rnd() % 4096));
    case 4: return rnd();
    case 5: return rnd() % 65536;
    case 6: return 0x7fffffffffffull & rnd();
    case 7: return hostile_addr();
    case 8: return hostile_len();
    default: return (uint64_t)buf;
    }
}

static long exit_signal(void) {
#if SAFE_EXIT_SIGNALS
    return rnd() % 65;
#else
    return rnd() % 256;
#endif
}

/* clone with the child leaving at once: it runs `exit(0)` from the
 * instruction after the syscall, on whatever stack it was given, without
 * reading or writing memory. */
static long raw_clone(uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid,
                      uint64_t tls) {
    long ret;
    register uint64_t r10 __asm__("r10") = ctid;
    register uint64_t r8 __asm__("r8") = tls;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov $60, %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "ud2\n"
                     "1:"
                     : "=a"(ret)
                     : "0"((long)SYS_clone), "D"(flags), "S"(stack), "d"(ptid), "r"(r10),
                       "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}

static long raw_clone3(void *args, uint64_t size) {
    long ret;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov $60, %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "ud2\n"
                     "1:"
                     : "=a"(ret)
                     : "0"((long)SYS_clone3), "D"(args), "S"(size)
                     : "rcx", "r11", "memory");
    return ret;
}

/* The parent's pid: a child made with CLONE_PARENT reports its exit to
 * it, and SIGKILL or SIGSTOP as that signal would end or stop the test. */
static uint64_t parent_safe(uint64_t flags, uint64_t sig) {
    if ((flags & CLONE_PARENT) && (sig == SIGKILL || sig == SIGSTOP)) return SIGCHLD;
    if (SAFE_VFORK && (flags & CLONE_VFORK) && sig != 0) return SIGCHLD;
    return sig;
}

static void fuzz_clone(void) {
    uint64_t flags = rnd() & ~0xffull;
    if (rnd() % 2) flags &= CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                             CLONE_PARENT | CLONE_VFORK | CLONE_SETTLS | CLONE_PARENT_SETTID |
                             CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PIDFD |
                             CLONE_SYSVSEM | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUSER;
    if (rnd() % 3 == 0) {
        flags |= parent_safe(flags, exit_signal());
        raw_clone(flags, rnd() % 2 ? 0 : hostile_addr(), arg(), arg(), arg());
    } else {
        uint64_t a[11];
        for (int i = 0; i < 11; i++) a[i] = arg();
        a[0] = flags;
        a[4] = parent_safe(flags, exit_signal());
        if (rnd() % 2) { a[8] = 0; a[9] = 0; }  /* no set_tid */
        if (rnd() % 2) { a[5] = 0; a[6] = 0; }  /* no stack */
        static const uint64_t sizes[] = {64, 80, 88, 96, 0, 8, 4096};
        uint64_t size = rnd() % 4 ? sizes[rnd() % 7] : rnd() % 8192;
        raw_clone3(rnd() % 8 ? (void *)a : (void *)hostile_addr(), size);
    }
}

/* Requests worth trying: tty, socket, block, file and generic ones, with
 * a random size and direction sometimes. */
static uint64_t ioctl_request(void) {
    static const uint32_t reqs[] = {
        0x5401, 0x5402, 0x5403, 0x5404, 0x5405, 0x5406, 0x5409, 0x540b, 0x540c,
        0x540e, 0x540f, 0x5410, 0x5413, 0x5414, 0x5415, 0x5418, 0x541b, 0x541d,
        0x5421, 0x5422, 0x5423, 0x5424, 0x5425, 0x5429, 0x80045430, 0x40045431,
        0x5437, 0x5441, 0x5450, 0x5451, 0x5452, 0x8901, 0x8902, 0x8903, 0x8904,
        0x8910, 0x8912, 0x8913, 0x8915, 0x891b, 0x8927, 0x8933, 0x894c, 0x1260,
        0x80081272, 0x1268, 0x1261, 0x125d, 0x125e, 0x127b, 0x80086601,
        0x40086602, 0xc020660b, 0x4b33, 0x4b3a, 0x5600, 0x5601, 0x5605,
        0x40087468, 0x9408, 0x40049409,
    };
    uint64_t r;
    switch (rnd() % 4) {
    case 0: return rnd();
    case 1: return rnd() & 0xffffffff;
    default:
        r = reqs[rnd() % (sizeof(reqs) / sizeof(reqs[0]))];
        if (rnd() % 4 == 0) r = (r & 0xffff) | ((rnd() % 4) << 30) | ((rnd() % 0x4000) << 16);
        return r;
    }
}

static int fds[64];
static int nfds;

static void add_fd(int fd) {
    if (fd >= 0 && nfds < 64) fds[nfds++] = fd;
}

/* One of each kind of file the kernel has. */
static void open_files(void) {
    int p[2], s[2];
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    add_fd(0);
    add_fd(null);
    add_fd(open("/dev/zero", O_RDWR));
    add_fd(open("/dev/urandom", O_RDONLY));
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK);
    add_fd(m);
    if (m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0) {
        char *n = ptsname(m);
        if (n) add_fd(open(n, O_RDWR | O_NOCTTY | O_NONBLOCK));
    }
    if (pipe2(p, O_NONBLOCK) == 0) { add_fd(p[0]); add_fd(p[1]); }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s) == 0) { add_fd(s[0]); add_fd(s[1]); }
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, s) == 0) { add_fd(s[0]); add_fd(s[1]); }
    add_fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    add_fd(socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0));
    add_fd(socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, 0));
    add_fd(open("/", O_RDONLY | O_DIRECTORY));
    add_fd(open("/proc/self/stat", O_RDONLY));
    add_fd(open("/tmp/sysfuzz.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600));
    add_fd(open("/bin/sysfuzz", O_RDONLY));
    add_fd(syscall(SYS_eventfd2, 0, 0));
    add_fd(syscall(SYS_epoll_create1, 0));
    add_fd(syscall(SYS_inotify_init1, 0));
    add_fd(syscall(SYS_memfd_create, "fz", 0));
    add_fd(syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0));
    add_fd(open("/dev/ubda", O_RDONLY | O_NONBLOCK));
}

static void fuzz_mm(void) {
    switch (rnd() % 8) {
    case 0:
    case 1: {
        uint64_t flags = rnd() % 2 ? (rnd() & 0x1fffff) : (MAP_PRIVATE | MAP_ANONYMOUS);
        if (rnd() % 2) flags |= MAP_FIXED;
        if (rnd() % 4 == 0) flags |= MAP_FIXED_NOREPLACE;
        if (rnd() % 8 == 0) flags |= MAP_GROWSDOWN;
        int fd = nfds && rnd() % 3 == 0 ? fds[rnd() % nfds] : -1;
        syscall(SYS_mmap, hostile_addr(), hostile_len(), rnd() % 3 ? rnd() % 8 : rnd(),
                flags, fd, rnd() % 2 ? 0 : arg());
        break;
    }
    case 2: {
        uint64_t flags = rnd() % 2 ? rnd() % 8 : rnd();
        syscall(SYS_mremap, hostile_addr(), hostile_len(), hostile_len(), flags,
                hostile_addr());
        break;
    }
    case 3: syscall(SYS_munmap, hostile_addr(), hostile_len()); break;
    case 4:
        syscall(SYS_mprotect, hostile_addr(), hostile_len(),
                rnd() % 2 ? rnd() % 8 : rnd() % 2 ? PROT_GROWSDOWN | PROT_READ : rnd());
        break;
    case 5:
        syscall(SYS_madvise, hostile_addr(), hostile_len(), rnd() % 2 ? rnd() % 26 : rnd());
        break;
    case 6: syscall(SYS_brk, hostile_addr()); break;
    default:
        syscall(SYS_mlock + rnd() % 4, hostile_addr(), hostile_len());
        break;
    }
}

static void one_call(int i) {
    if (verbose > 1) {
        char line[64];
        int n = snprintf(line, sizeof line, "  call %d state %llx\n", i,
                         (unsigned long long)state);
        write(LOG_FD, line, n);
    }
    switch (rnd() % 16) {
    case 0: fuzz_clone(); break;
    case 1: syscall(SYS_unshare, rnd() % 2 ? rnd() : rnd() & 0x7e020000); break;
    case 2: syscall(SYS_prctl, rnd() % 2 ? rnd() % 80 : rnd(), arg(), arg(), arg(), arg()); break;
    case 3:
    case 4:
        if (nfds) syscall(SYS_ioctl, fds[rnd() % nfds], ioctl_request(), arg());
        break;
    case 5:
    case 6:
    case 7: fuzz_mm(); break;
    default: {
        long nr = rnd() % 461;
        if (denied(nr)) return;
        syscall(nr, arg(), arg(), arg(), arg(), arg(), arg());
    }
    }
    (*made)++;
}

/* Every catchable signal is ignored by the parent: a round's CLONE_PARENT
 * child may name any of them as its exit signal. */
static void ignore_signals(void) {
    /* The raw syscall: glibc's signal() refuses 32 and 33 (its own). */
    struct { uint64_t handler, flags, restorer, mask; } act = {(uint64_t)SIG_IGN, 0, 0, 0};
    for (int s = 1; s < 65; s++)
        if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD)
            syscall(SYS_rt_sigaction, s, &act, NULL, 8);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    int per_child = argc > 3 ? atoi(argv[3]) : 50;
    int first = argc > 5 ? atoi(argv[5]) : 0;
    verbose = argc > 4 ? atoi(argv[4]) : 0;
    if (verbose > 1) dup2(1, LOG_FD);
    long calls = 0;
    int deaths = 0, killed = 0;
    if (argc > 2) state ^= strtoull(argv[2], 0, 0);
    made = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (made == MAP_FAILED) { perror("mmap"); return 1; }
    *made = 0;
    ignore_signals();
    for (int r = 0; r < rounds; r++) {
        uint64_t seed = rnd();
        if (r < first) continue;
        if (verbose) {
            printf("round %d\n", r);
            fflush(stdout);
        }
        pid_t p = fork();
        if (p == 0) {
            struct { uint64_t handler, flags, restorer, mask; } dfl = {(uint64_t)SIG_DFL, 0, 0, 0};
            for (int s = 1; s < 65; s++) syscall(SYS_rt_sigaction, s, &dfl, NULL, 8);
            state = (seed ^ 0x9E3779B97F4A7C15ull) | 1;
            alarm(20);
            open_files();
            for (int i = 0; i < per_child; i++) one_call(i);
            syscall(SYS_exit_group, 0);
        }
        if (p < 0) { perror("fork"); return 1; }
        /* A stopped or stuck round is killed after 30 s. */
        int st, waited = 0;
        for (;;) {
            pid_t w = waitpid(p, &st, WNOHANG | __WALL);
            if (w == p) break;
            if (w < 0) { perror("waitpid"); return 1; }
            if (++waited == 3000) { kill(p, SIGKILL); killed++; }
            usleep(10000);
        }
        if (!WIFEXITED(st)) deaths++;
        /* CLONE_PARENT children of the round are ours to reap. */
        while (waitpid(-1, &st, WNOHANG | __WALL) > 0) {}
        calls += per_child;
    }
    unlink("/tmp/sysfuzz.tmp");
    printf("sysfuzz: %d rounds, %ld calls, %d children died\n", rounds, calls, deaths);
    printf("sysfuzz: %llu calls made, %d rounds killed after 30 s\n",
           (unsigned long long)*made, killed);
    return 0;
}
