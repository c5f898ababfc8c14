#define _GNU_SOURCE
/* seccomp for guest programs: filter mode (ERRNO, TRAP with its siginfo,
 * KILL_PROCESS, KILL_THREAD, TRACE with and without a tracer, LOG),
 * stacked filters and their precedence, argument filtering, inheritance
 * over fork and exec, TSYNC, strict mode, the program checks and the
 * errnos of misuse, no_new_privs, SECCOMP_GET_ACTION_AVAIL and
 * /proc/PID/status. Every case runs in a child that reports through its
 * exit status or prints alone while the parent waits. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define NR offsetof(struct seccomp_data, nr)
#define ARCH offsetof(struct seccomp_data, arch)
#define ARG0 offsetof(struct seccomp_data, args[0])

static int base_filters;

static long seccomp(unsigned op, unsigned flags, void *args)
{
    return syscall(SYS_seccomp, op, flags, args);
}

static long install(struct sock_filter *f, unsigned short n, unsigned flags)
{
    struct sock_fprog p = {.len = n, .filter = f};
    return seccomp(SECCOMP_SET_MODE_FILTER, flags, &p);
}

/* A filter giving `ret` for syscall `nr` and ALLOW for the rest. */
static long on_call(int nr, unsigned ret, unsigned flags)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARCH),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, ret),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    return install(f, sizeof f / sizeof f[0], flags);
}

static const char *err(long r)
{
    static char buf[64];
    if (r >= 0) {
        snprintf(buf, sizeof buf, "%ld", r);
        return buf;
    }
    return strerrorname_np(errno);
}

/* Run `fn` in a child; describe how it ended. */
static void child(const char *name, int (*fn)(void))
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        int r = fn();
        fflush(stdout);
        _exit(r);
    }
    int st;
    waitpid(p, &st, 0);
    if (WIFEXITED(st))
        printf("%s: exit %d\n", name, WEXITSTATUS(st));
    else
        printf("%s: signal %d\n", name, WTERMSIG(st));
}

static void nnp(void)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        printf("PR_SET_NO_NEW_PRIVS: %s\n", strerrorname_np(errno));
}

/* The seccomp lines of /proc/self/status (filters counted from what
 * this program started with). */
static void status_lines(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        int v;
        if (sscanf(line, "Seccomp_filters: %d", &v) == 1)
            printf("  Seccomp_filters: +%d\n", v - base_filters);
        else if (!strncmp(line, "Seccomp:", 8) || !strncmp(line, "NoNewPrivs:", 11))
            printf("  %s", line);
    }
    if (f)
        fclose(f);
}

static int privs(void)
{
    /* Without CAP_SYS_ADMIN and without no_new_privs: EACCES. */
    if (geteuid() == 0 && setresuid(65534, 65534, 65534))
        return 100;
    printf("  no nnp: %s\n", err(on_call(SYS_getpid, SECCOMP_RET_ERRNO | 1, 0)));
    printf("  PR_GET_NO_NEW_PRIVS: %ld\n", (long)prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    printf("  PR_SET_NO_NEW_PRIVS 2: %s\n", err(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0)));
    printf("  PR_SET_NO_NEW_PRIVS 1,1: %s\n", err(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0)));
    printf("  PR_GET_NO_NEW_PRIVS 1: %s\n", err(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0)));
    nnp();
    printf("  PR_GET_NO_NEW_PRIVS: %ld\n", (long)prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    printf("  with nnp: %s\n", err(on_call(SYS_getpid, SECCOMP_RET_ERRNO | 1, 0)));
    return 0;
}

static struct sock_filter big[4096];

static long prog(struct sock_filter *f, unsigned short n)
{
    return install(f, n, 0);
}

static int bad_programs(void)
{
    nnp();
    struct sock_filter ok = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_filter noret[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR)};
    struct sock_filter unaligned[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), ok};
    struct sock_filter past[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), ok};
    struct sock_filter byte[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), ok};
    struct sock_filter jump[] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0), ok};
    struct sock_filter ja[] = {BPF_STMT(BPF_JMP | BPF_JA, 1), ok};
    struct sock_filter div0[] = {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), ok};
    struct sock_filter mod[] = {BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), ok};
    struct sock_filter mem[] = {BPF_STMT(BPF_LD | BPF_MEM, 3), ok};
    struct sock_filter opcode[] = {{0xff, 0, 0, 0}, ok};
    struct sock_filter len[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sizeof(struct seccomp_data), 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    printf("  len 0: %s\n", err(prog(&ok, 0)));
    printf("  len 4097: %s\n", err(prog(big, 4097)));
    printf("  no ret: %s\n", err(prog(noret, 1)));
    printf("  unaligned load: %s\n", err(prog(unaligned, 2)));
    printf("  load past seccomp_data: %s\n", err(prog(past, 2)));
    printf("  byte load: %s\n", err(prog(byte, 2)));
    printf("  jump out: %s\n", err(prog(jump, 2)));
    printf("  ja out: %s\n", err(prog(ja, 2)));
    printf("  div by 0: %s\n", err(prog(div0, 2)));
    printf("  mod: %s\n", err(prog(mod, 2)));
    printf("  unset memory: %s\n", err(prog(mem, 2)));
    printf("  bad opcode: %s\n", err(prog(opcode, 2)));
    printf("  null filter: %s\n", err(prog(NULL, 1)));
    printf("  bad filter pointer: %s\n", err(prog((void *)8, 1)));
    printf("  bad fprog: %s\n", err(seccomp(SECCOMP_SET_MODE_FILTER, 0, (void *)8)));
    printf("  bad flags: %s\n", err(install(&ok, 1, 1u << 10)));
    printf("  bad op: %s\n", err(seccomp(99, 0, NULL)));
    printf("  strict with flags: %s\n", err(seccomp(SECCOMP_SET_MODE_STRICT, 1, NULL)));
    printf("  strict with args: %s\n", err(seccomp(SECCOMP_SET_MODE_STRICT, 0, &ok)));
    printf("  PR_SET_SECCOMP 3: %s\n", err(prctl(PR_SET_SECCOMP, 3, 0, 0, 0)));
    printf("  tsync+listener: %s\n",
           err(install(&ok, 1, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER)));
    printf("  BPF_LEN and RET A: %s\n", err(prog(len, 4)));
    /* 4096-instruction filters: each counts its length + 4 against
     * 32768 over the whole stack. */
    for (int i = 0; i < 4095; i++)
        big[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR);
    big[4095] = ok;
    int n = 0;
    long r;
    while ((r = prog(big, 4096)) == 0)
        n++;
    printf("  big filters: %d, then %s\n", n, err(r));
    printf("  PR_GET_SECCOMP: %ld\n", (long)prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
    printf("  strict after filter: %s\n", err(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0)));
    return 0;
}

static int action_avail(void)
{
    unsigned acts[] = {SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP,
                       SECCOMP_RET_ERRNO, SECCOMP_RET_TRACE, SECCOMP_RET_LOG,
                       SECCOMP_RET_ALLOW, 0x12340000};
    for (unsigned i = 0; i < sizeof acts / sizeof acts[0]; i++)
        printf("  avail %#x: %s\n", acts[i], err(seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &acts[i])));
    printf("  avail flags: %s\n", err(seccomp(SECCOMP_GET_ACTION_AVAIL, 1, &acts[0])));
    printf("  avail fault: %s\n", err(seccomp(SECCOMP_GET_ACTION_AVAIL, 0, (void *)8)));
    struct seccomp_notif_sizes s;
    long r = seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &s);
    printf("  notif sizes: %s %u %u %u\n", err(r), s.seccomp_notif, s.seccomp_notif_resp,
           s.seccomp_data);
    printf("  notif sizes fault: %s\n", err(seccomp(SECCOMP_GET_NOTIF_SIZES, 0, (void *)8)));
    char line[256] = "";
    FILE *f = fopen("/proc/sys/kernel/seccomp/actions_logged", "r");
    if (f && fgets(line, sizeof line, f))
        printf("  actions_logged: %s", line);
    if (f)
        fclose(f);
    return 0;
}

static int errno_getpid(void)
{
    nnp();
    on_call(SYS_getpid, SECCOMP_RET_ERRNO | ESRCH, 0);
    printf("  getpid: %s\n", err(syscall(SYS_getpid)));
    on_call(SYS_getppid, SECCOMP_RET_ERRNO | 5000, 0);
    long r = syscall(SYS_getppid);
    printf("  getppid: %ld errno %d\n", r, errno);
    printf("  gettid works: %d\n", syscall(SYS_gettid) > 0);
    status_lines();
    return 0;
}

static volatile int trap_ok, trap_count;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    ucontext_t *u = uc;
    const unsigned char *ip = si->si_call_addr;
    trap_count++;
    trap_ok = sig == SIGSYS && si->si_signo == SIGSYS && si->si_code == 1 /* SYS_SECCOMP */
              && si->si_errno == 0x42 && si->si_syscall == SYS_getppid
              && si->si_arch == AUDIT_ARCH_X86_64 && ip[-2] == 0x0f && ip[-1] == 0x05
              && u->uc_mcontext.gregs[REG_RAX] == SYS_getppid
              && u->uc_mcontext.gregs[REG_RIP] == (long)si->si_call_addr;
}

static int trap(void)
{
    nnp();
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
    sigaction(SIGSYS, &sa, NULL);
    on_call(SYS_getppid, SECCOMP_RET_TRAP | 0x42, 0);
    long r = syscall(SYS_getppid);
    printf("  getppid returned the call number: %d\n", r == SYS_getppid);
    printf("  handler ran %d, siginfo ok %d\n", trap_count, trap_ok);
    return 0;
}

static int trap_blocked(void)
{
    nnp();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGSYS);
    sigprocmask(SIG_BLOCK, &s, NULL);
    on_call(SYS_getppid, SECCOMP_RET_TRAP, 0);
    syscall(SYS_getppid);
    return 1;
}

static int kill_process(void)
{
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    nnp();
    on_call(SYS_getppid, SECCOMP_RET_KILL_PROCESS, 0);
    syscall(SYS_getppid);
    return 1;
}

static void *killed_thread(void *arg)
{
    on_call(SYS_getppid, SECCOMP_RET_KILL_THREAD, 0);
    syscall(SYS_getppid);
    return (void *)1;
}

static int kill_thread(void)
{
    nnp();
    pthread_t th;
    pthread_create(&th, NULL, killed_thread, NULL);
    pthread_join(th, NULL);
    /* The filter was the thread's own: this thread still may. */
    return syscall(SYS_getppid) > 0 ? 7 : 8;
}

static int kill_thread_alone(void)
{
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    nnp();
    on_call(SYS_getppid, SECCOMP_RET_KILL_THREAD, 0);
    syscall(SYS_getppid);
    return 1;
}

static int strict_ok(void)
{
    int fd[2];
    if (pipe(fd))
        return 100;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0))
        return 101;
    char c = 'x';
    if (write(fd[1], &c, 1) != 1 || read(fd[0], &c, 1) != 1 || c != 'x')
        syscall(SYS_exit, 102);
    syscall(SYS_exit, 3);
    return 104;
}

static int strict_getpid(void)
{
    if (seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL))
        return 100;
    syscall(SYS_getpid);
    return 1;
}

static int strict_exit_group(void)
{
    if (seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL))
        return 100;
    return 3; /* exit_group is not one of strict mode's calls */
}

static int stacked(void)
{
    nnp();
    on_call(SYS_getpid, SECCOMP_RET_ERRNO | 1, 0);
    printf("  one: %s\n", err(syscall(SYS_getpid)));
    on_call(SYS_getpid, SECCOMP_RET_ERRNO | 2, 0);
    printf("  newer errno wins a tie: %s\n", err(syscall(SYS_getpid)));
    on_call(SYS_getpid, SECCOMP_RET_ALLOW, 0);
    printf("  a later allow: %s\n", err(syscall(SYS_getpid)));
    on_call(SYS_getpid, SECCOMP_RET_LOG, SECCOMP_FILTER_FLAG_LOG);
    printf("  a later log: %s\n", err(syscall(SYS_getpid)));
    on_call(SYS_getpid, SECCOMP_RET_TRACE, 0);
    printf("  a later trace: %s\n", err(syscall(SYS_getpid)));
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
    sigaction(SIGSYS, &sa, NULL);
    on_call(SYS_getpid, SECCOMP_RET_TRAP, 0);
    syscall(SYS_getpid);
    printf("  a later trap: handler ran %d\n", trap_count);
    status_lines();
    fflush(stdout);
    on_call(SYS_getpid, SECCOMP_RET_KILL_PROCESS, 0);
    syscall(SYS_getpid);
    return 1;
}

/* write(2, ...) fails with EPERM, write(1, ...) works. */
static int args(void)
{
    nnp();
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    printf("  install: %s\n", err(install(f, sizeof f / sizeof f[0], 0)));
    fflush(stdout);
    printf("  write to 2: %s\n", err(write(2, "x", 1)));
    fflush(stdout);
    printf("  write to 1: ok\n");
    return 0;
}

static char self[4096];

static int inherit(void)
{
    nnp();
    on_call(SYS_umask, SECCOMP_RET_ERRNO | EACCES, 0);
    fflush(stdout);
    pid_t p = fork();
    if (p == 0)
        _exit(syscall(SYS_umask, 022) < 0 ? errno : 0);
    int st;
    waitpid(p, &st, 0);
    printf("  forked child's umask: %s\n", strerrorname_np(WEXITSTATUS(st)));
    fflush(stdout);
    char b[16];
    snprintf(b, sizeof b, "%d", base_filters);
    char *argv[] = {self, "exec-check", b, NULL};
    execv(self, argv);
    return 100;
}

static int exec_check(void)
{
    printf("  after exec umask: %s\n", err(syscall(SYS_umask, 022)));
    status_lines();
    return 0;
}

/* SECCOMP_RET_TRACE: a tracer with PTRACE_O_TRACESECCOMP stops the
 * tracee with PTRACE_EVENT_SECCOMP; it may let the call run or skip it. */
static int traced(void)
{
    nnp();
    printf("  no tracer: %s\n", err(syscall(SYS_getpid)));
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        /* Not raise(): glibc's asks getpid, which is filtered here. */
        long me = syscall(SYS_gettid);
        syscall(SYS_tgkill, me, me, SIGSTOP);
        long a = syscall(SYS_getpid);
        long b = syscall(SYS_getpid);
        _exit((a == syscall(SYS_gettid) ? 1 : 0) | (b == 1234 ? 2 : 0));
    }
    int st;
    waitpid(p, &st, 0);
    ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_TRACESECCOMP);
    ptrace(PTRACE_CONT, p, 0, 0);
    for (int i = 0; i < 2; i++) {
        waitpid(p, &st, 0);
        unsigned long msg = 0;
        ptrace(PTRACE_GETEVENTMSG, p, 0, &msg);
        printf("  stop %d: seccomp event %d, msg %#lx\n", i,
               WIFSTOPPED(st) && st >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)), msg);
        if (i == 1) {
            struct user_regs_struct r;
            ptrace(PTRACE_GETREGS, p, 0, &r);
            r.orig_rax = -1;
            r.rax = 1234;
            ptrace(PTRACE_SETREGS, p, 0, &r);
        }
        ptrace(PTRACE_CONT, p, 0, 0);
    }
    waitpid(p, &st, 0);
    printf("  tracee: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

/* PTRACE_O_SUSPEND_SECCOMP: EPERM for a tracer under seccomp; from one
 * that is not, the tracee's filters stop applying. */
static int suspend(void)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        nnp();
        on_call(SYS_getppid, SECCOMP_RET_ERRNO | EPERM, 0);
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        _exit(syscall(SYS_getppid) > 0 ? 5 : 6);
    }
    int st;
    waitpid(p, &st, 0);
    printf("  suspend: %s\n", err(ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_SUSPEND_SECCOMP)));
    ptrace(PTRACE_CONT, p, 0, 0);
    waitpid(p, &st, 0);
    printf("  tracee: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    fflush(stdout);
    nnp();
    on_call(SYS_getppid, SECCOMP_RET_ERRNO | EPERM, 0);
    p = fork();
    if (p == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        _exit(0);
    }
    waitpid(p, &st, 0);
    printf("  suspend from a filtered tracer: %s\n",
           err(ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_SUSPEND_SECCOMP)));
    ptrace(PTRACE_CONT, p, 0, 0);
    waitpid(p, &st, 0);
    return 0;
}

static int traced_main(void)
{
    nnp();
    on_call(SYS_getpid, SECCOMP_RET_TRACE | 0x77, 0);
    return traced();
}

static pid_t other_tid;
static volatile int other_go, other_res = -1;

static void *other(void *arg)
{
    if (arg)
        on_call(SYS_getppid, SECCOMP_RET_ERRNO | 1, 0);
    other_tid = syscall(SYS_gettid);
    while (!other_go)
        usleep(1000);
    other_res = syscall(SYS_getpid) < 0 ? errno : 0;
    return NULL;
}

static int tsync(int own_filter)
{
    nnp();
    pthread_t th;
    pthread_create(&th, NULL, other, own_filter ? (void *)1 : NULL);
    while (!other_tid)
        usleep(1000);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    long r = install(f, 4, SECCOMP_FILTER_FLAG_TSYNC);
    printf("  tsync: %s\n", r == other_tid ? "the other thread's tid" : err(r));
    if (r > 0)
        printf("  tsync esrch: %s\n",
               err(install(f, 4, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH)));
    other_go = 1;
    pthread_join(th, NULL);
    printf("  other thread's getpid: %s\n", other_res ? strerrorname_np(other_res) : "ok");
    return 0;
}

static int tsync_ok(void)
{
    return tsync(0);
}

static int tsync_blocked(void)
{
    return tsync(1);
}

static int base(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int v = 0;
    while (f && fgets(line, sizeof line, f))
        sscanf(line, "Seccomp_filters: %d", &v);
    if (f)
        fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    base_filters = base();
    if (argc > 2 && !strcmp(argv[1], "exec-check")) {
        base_filters = atoi(argv[2]);
        return exec_check();
    }
    /* No core files from the SIGSYS deaths below. */
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0)
        self[n] = 0;
    printf("PR_GET_SECCOMP: %ld\n", (long)prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
    status_lines();
    child("privs", privs);
    child("bad programs", bad_programs);
    child("action avail", action_avail);
    child("errno", errno_getpid);
    child("trap", trap);
    child("trap blocked", trap_blocked);
    child("kill process", kill_process);
    child("kill thread", kill_thread);
    child("kill thread alone", kill_thread_alone);
    child("strict ok", strict_ok);
    child("strict getpid", strict_getpid);
    child("strict exit_group", strict_exit_group);
    child("stacked", stacked);
    child("args", args);
    child("inherit", inherit);
    child("trace", traced_main);
    child("suspend", suspend);
    child("tsync", tsync_ok);
    child("tsync blocked", tsync_blocked);
    printf("seccomp_filter done\n");
    return 0;
}
