/* ptrace inside the guest: stops, requests and their errors, compared
 * line for line with the native run. Prints no pids or addresses. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif

/* struct ptrace_syscall_info, as the kernel writes it. */
struct sc_info {
    unsigned char op;
    unsigned char pad[3];
    unsigned int arch;
    unsigned long long ip, sp;
    union {
        struct {
            unsigned long long nr, args[6];
        } entry;
        struct {
            long long rval;
            unsigned char is_error;
        } exit;
    };
};

static volatile long shared_var = 0x1234;
static const long ro_var = 0x1111;
static char vmbuf[64];
static char *self;

static void show_errno(const char *what, long r)
{
    printf("%s: %s\n", what, r < 0 ? strerrorname_np(errno) : "ok");
}

/* Fork a child that asks to be traced and stops itself. */
static pid_t traced_child(void (*body)(void))
{
    pid_t p = fork();
    if (p == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        body();
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
        printf("unexpected first stop %#x\n", st);
    return p;
}

static void wait_exit(pid_t p, const char *what)
{
    int st;
    if (waitpid(p, &st, __WALL) != p)
        printf("%s: waitpid failed\n", what);
    else if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %d\n", what, WTERMSIG(st));
    else
        printf("%s: status %#x\n", what, st);
}

static void test_exec_stop(void)
{
    pid_t p = fork();
    if (p == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execl(self, self, "exit7", (char *)0);
        _exit(99);
    }
    int st;
    waitpid(p, &st, 0);
    printf("exec stop: stopped=%d sig=%d event=%d\n", WIFSTOPPED(st), WSTOPSIG(st), st >> 16);
    siginfo_t si;
    ptrace(PTRACE_GETSIGINFO, p, 0, &si);
    printf("exec stop siginfo: signo=%d code=%d\n", si.si_signo, si.si_code);
    ptrace(PTRACE_CONT, p, 0, 0);
    wait_exit(p, "exec child");

    /* With PTRACE_O_TRACEEXEC: an event stop instead. */
    p = fork();
    if (p == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        execl(self, self, "exit7", (char *)0);
        _exit(99);
    }
    waitpid(p, &st, 0);
    ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_TRACEEXEC);
    ptrace(PTRACE_CONT, p, 0, 0);
    waitpid(p, &st, 0);
    unsigned long msg = 0;
    ptrace(PTRACE_GETEVENTMSG, p, 0, &msg);
    printf("exec event: sig=%d event=%d msg_is_pid=%d\n", WSTOPSIG(st), st >> 16,
           msg == (unsigned long)p);
    ptrace(PTRACE_CONT, p, 0, 0);
    wait_exit(p, "exec event child");
}

static void body_getpid(void)
{
    long r = syscall(SYS_getpid);
    printf("child: getpid matches: %d\n", r == getpid());
    /* Skipped by the tracer: prints nothing, returns what it says. */
    r = syscall(SYS_write, 1, "NOT SKIPPED\n", 12);
    printf("child: skipped write returned %ld\n", r);
    /* Turned into getpid by the tracer. */
    r = syscall(SYS_getppid);
    printf("child: getppid became getpid: %d\n", r == getpid());
    /* Its result replaced with SETREGS at the exit stop. */
    r = syscall(SYS_getuid);
    printf("child: getuid returned %ld\n", r);
}

static void test_syscall_stops(void)
{
    pid_t p = traced_child(body_getpid);
    ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
    int in_call = 0, st;
    for (;;) {
        ptrace(PTRACE_SYSCALL, p, 0, 0);
        if (waitpid(p, &st, 0) != p || !WIFSTOPPED(st))
            break;
        if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
            printf("other stop %d\n", WSTOPSIG(st));
            continue;
        }
        in_call = !in_call;
        struct user_regs_struct r;
        ptrace(PTRACE_GETREGS, p, 0, &r);
        unsigned long msg = 0;
        ptrace(PTRACE_GETEVENTMSG, p, 0, &msg);
        struct sc_info info;
        memset(&info, 0, sizeof info);
        long sz = ptrace(PTRACE_GET_SYSCALL_INFO, p, sizeof info, &info);
        if (r.orig_rax == SYS_getpid) {
            if (in_call)
                printf("getpid enter: orig_rax=%lld rax=%lld msg=%lu info op=%d size=%ld nr=%llu "
                       "arch=%#x\n",
                       r.orig_rax, r.rax, msg, info.op, sz, info.entry.nr, info.arch);
            else
                printf("getpid exit: rax_is_pid=%d msg=%lu info op=%d size=%ld rval_is_pid=%d "
                       "err=%d\n",
                       r.rax == (unsigned long long)p, msg, info.op, sz, info.exit.rval == p,
                       info.exit.is_error);
        } else if (r.orig_rax == SYS_write && r.rdx == 12 && in_call) {
            r.orig_rax = -1;
            ptrace(PTRACE_SETREGS, p, 0, &r);
            printf("write enter: skipping it\n");
        } else if (r.orig_rax == (unsigned long long)-1 && !in_call) {
            printf("skipped exit: rax=%lld\n", r.rax);
            r.rax = 42;
            ptrace(PTRACE_SETREGS, p, 0, &r);
        } else if (r.orig_rax == SYS_getppid && in_call) {
            ptrace(PTRACE_POKEUSER, p, offsetof(struct user_regs_struct, orig_rax), SYS_getpid);
            printf("getppid enter: changed to getpid\n");
        } else if (r.orig_rax == SYS_getuid && !in_call) {
            r.rax = 12345;
            ptrace(PTRACE_SETREGS, p, 0, &r);
            printf("getuid exit: result set\n");
        }
    }
    if (WIFEXITED(st))
        printf("syscall child exited %d\n", WEXITSTATUS(st));
}

static void body_peek(void)
{
    printf("child: shared_var=%#lx ro_var=%#lx\n", shared_var, *(volatile const long *)&ro_var);
}

static void test_peek_poke(void)
{
    pid_t p = traced_child(body_peek);
    errno = 0;
    long v = ptrace(PTRACE_PEEKDATA, p, &shared_var, 0);
    printf("peekdata: %#lx errno=%d\n", v, errno);
    show_errno("pokedata", ptrace(PTRACE_POKEDATA, p, &shared_var, 0x5678));
    errno = 0;
    ptrace(PTRACE_PEEKDATA, p, (void *)8, 0);
    printf("peekdata at 8: %s\n", strerrorname_np(errno));
    show_errno("pokedata at 8", ptrace(PTRACE_POKEDATA, p, (void *)8, 1));
    /* Into a read-only mapping, as a breakpoint into text. */
    show_errno("poketext read-only", ptrace(PTRACE_POKETEXT, p, &ro_var, 0x2222));
    printf("own ro_var still %#lx\n", *(volatile const long *)&ro_var);
    char mem[64];
    snprintf(mem, sizeof mem, "/proc/%d/mem", p);
    int fd = open(mem, O_RDWR);
    show_errno("open /proc/PID/mem", fd);
    long w = 0;
    ssize_t n = pread(fd, &w, 8, (off_t)&shared_var);
    printf("mem pread: %zd %#lx\n", n, w);
    w = 0x9abc;
    n = pwrite(fd, &w, 8, (off_t)&shared_var);
    printf("mem pwrite: %zd\n", n);
    show_errno("mem pread at 8", pread(fd, &w, 8, 8));
    close(fd);
    fd = open("/proc/self/mem", O_RDONLY);
    lseek(fd, (off_t)&ro_var, SEEK_SET);
    n = read(fd, &w, 8);
    printf("self mem read: %zd %#lx\n", n, w);
    close(fd);
    errno = 0;
    long oa = ptrace(PTRACE_PEEKUSER, p, offsetof(struct user_regs_struct, orig_rax), 0);
    printf("peekuser orig_rax is tgkill: %d errno=%d\n", oa == SYS_tgkill, errno);
    errno = 0;
    long dr = ptrace(PTRACE_PEEKUSER, p, offsetof(struct user, u_debugreg[7]), 0);
    printf("peekuser dr7: %ld errno=%d\n", dr, errno);
    errno = 0;
    ptrace(PTRACE_PEEKUSER, p, 3, 0);
    printf("peekuser unaligned: %s\n", strerrorname_np(errno));
    errno = 0;
    /* The kernel's struct user has error_code and fault_address after
     * glibc's: 928 bytes. */
    long fa = ptrace(PTRACE_PEEKUSER, p, sizeof(struct user), 0);
    printf("peekuser error_code: %ld errno=%d\n", fa, errno);
    errno = 0;
    ptrace(PTRACE_PEEKUSER, p, sizeof(struct user) + 16, 0);
    printf("peekuser past end: %s\n", strerrorname_np(errno));
    struct user_fpregs_struct fp;
    show_errno("getfpregs", ptrace(PTRACE_GETFPREGS, p, 0, &fp));
    printf("mxcsr=%#x\n", fp.mxcsr);
    fp.mxcsr = 0x1f80 | 0x6000; /* round toward zero */
    show_errno("setfpregs", ptrace(PTRACE_SETFPREGS, p, 0, &fp));
    memset(&fp, 0, sizeof fp);
    ptrace(PTRACE_GETFPREGS, p, 0, &fp);
    printf("mxcsr after set=%#x\n", fp.mxcsr);
    struct user_regs_struct r;
    struct iovec iov = {&r, sizeof r};
    show_errno("getregset prstatus", ptrace(PTRACE_GETREGSET, p, NT_PRSTATUS, &iov));
    printf("regset len=%zu\n", iov.iov_len);
    iov.iov_len = 3;
    show_errno("getregset odd len", ptrace(PTRACE_GETREGSET, p, NT_PRSTATUS, &iov));
    iov.iov_len = sizeof r;
    show_errno("getregset bad note", ptrace(PTRACE_GETREGSET, p, 0x999, &iov));
    struct user_fpregs_struct fp2;
    struct iovec iov2 = {&fp2, sizeof fp2};
    show_errno("getregset prfpreg", ptrace(PTRACE_GETREGSET, p, NT_PRFPREG, &iov2));
    printf("prfpreg len=%zu mxcsr=%#x\n", iov2.iov_len, fp2.mxcsr);
    fp.mxcsr = 0x1f80;
    ptrace(PTRACE_SETFPREGS, p, 0, &fp);
    ptrace(PTRACE_CONT, p, 0, 0);
    wait_exit(p, "peek child");
}

static void on_usr(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    printf("child: got signal %d code=%d\n", sig, si->si_code);
}

static void body_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = on_usr;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    sigaction(SIGUSR2, &sa, 0);
    raise(SIGUSR1); /* suppressed */
    raise(SIGUSR2); /* replaced by SIGUSR1 */
    raise(SIGUSR2); /* delivered */
    long rbx;
    __asm__ volatile("mov $0x1111, %%rbx\n\tint3\n\tmov %%rbx, %0" : "=r"(rbx) : : "rbx");
    printf("child: rbx after int3 = %#lx\n", rbx);
}

static void test_signal_stops(void)
{
    pid_t p = traced_child(body_signals);
    int st;
    ptrace(PTRACE_CONT, p, 0, 0);
    waitpid(p, &st, 0);
    siginfo_t si;
    ptrace(PTRACE_GETSIGINFO, p, 0, &si);
    printf("signal stop: sig=%d siginfo signo=%d code=%d (suppressing)\n", WSTOPSIG(st),
           si.si_signo, si.si_code);
    ptrace(PTRACE_CONT, p, 0, 0);
    waitpid(p, &st, 0);
    printf("signal stop: sig=%d (injecting SIGUSR1)\n", WSTOPSIG(st));
    ptrace(PTRACE_CONT, p, 0, SIGUSR1);
    waitpid(p, &st, 0);
    printf("signal stop: sig=%d (delivering)\n", WSTOPSIG(st));
    ptrace(PTRACE_CONT, p, 0, WSTOPSIG(st));
    waitpid(p, &st, 0);
    ptrace(PTRACE_GETSIGINFO, p, 0, &si);
    struct user_regs_struct r;
    ptrace(PTRACE_GETREGS, p, 0, &r);
    printf("int3 stop: sig=%d code=%d rbx=%#llx\n", WSTOPSIG(st), si.si_code, r.rbx);
    r.rbx = 0x2222;
    ptrace(PTRACE_SETREGS, p, 0, &r);
    /* One instruction (mov %rbx, reg: 3 bytes), reported as SIGTRAP. */
    unsigned long long rip0 = r.rip;
    show_errno("singlestep", ptrace(PTRACE_SINGLESTEP, p, 0, 0));
    waitpid(p, &st, 0);
    ptrace(PTRACE_GETREGS, p, 0, &r);
    ptrace(PTRACE_GETSIGINFO, p, 0, &si);
    printf("step stop: sig=%d code=%d rip advanced %lld tf=%lld\n", WSTOPSIG(st), si.si_code,
           r.rip - rip0, (r.eflags >> 8) & 1);
    ptrace(PTRACE_CONT, p, 0, 0);
    wait_exit(p, "signal child");
}

static void body_fork(void)
{
    pid_t g = fork();
    if (g == 0)
        _exit(3);
    int st;
    waitpid(g, &st, 0);
    _exit(10 + WEXITSTATUS(st));
}

static void test_fork_follow(void)
{
    pid_t p = traced_child(body_fork);
    ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_TRACEFORK);
    ptrace(PTRACE_CONT, p, 0, 0);
    int seen_event = 0, seen_child = 0, st;
    pid_t newpid = -1, stopped_new = -2;
    while (!(seen_event && seen_child)) {
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0)
            break;
        if (w == p && WIFSTOPPED(st) && st >> 16 == PTRACE_EVENT_FORK) {
            unsigned long msg;
            ptrace(PTRACE_GETEVENTMSG, p, 0, &msg);
            newpid = msg;
            seen_event = 1;
        } else if (w != p && WIFSTOPPED(st)) {
            seen_child = 1;
            stopped_new = w;
            printf("new child stop: sig=%d\n", WSTOPSIG(st));
        } else {
            printf("unexpected %#x\n", st);
            break;
        }
    }
    printf("fork event seen=%d eventmsg is the new child=%d\n", seen_event,
           newpid == stopped_new);
    ptrace(PTRACE_CONT, stopped_new, 0, 0);
    wait_exit(stopped_new, "traced grandchild");
    /* The SIGCHLD of the grandchild's exit stops the child for us too. */
    ptrace(PTRACE_CONT, p, 0, 0);
    while (waitpid(p, &st, 0) == p && WIFSTOPPED(st)) {
        printf("fork child signal stop: sig=%d\n", WSTOPSIG(st));
        ptrace(PTRACE_CONT, p, 0, WSTOPSIG(st));
    }
    if (WIFEXITED(st))
        printf("fork child: exited %d\n", WEXITSTATUS(st));
}

static void body_sysemu(void)
{
    syscall(SYS_getppid);
    long r = syscall(SYS_getpid);
    printf("child: emulated getpid returned %ld\n", r);
}

static void test_sysemu(void)
{
    pid_t p = traced_child(body_sysemu);
    int st, ppid_stops = 0;
    struct user_regs_struct r;
    /* Syscall stops up to getppid's exit, then SYSEMU: the next call
     * (getpid) stops at entry and does not run; we answer it. */
    while (ppid_stops < 2) {
        ptrace(PTRACE_SYSCALL, p, 0, 0);
        if (waitpid(p, &st, 0) != p || !WIFSTOPPED(st))
            return;
        ptrace(PTRACE_GETREGS, p, 0, &r);
        if (r.orig_rax == SYS_getppid)
            ppid_stops++;
    }
    ptrace(PTRACE_SYSEMU, p, 0, 0);
    waitpid(p, &st, 0);
    ptrace(PTRACE_GETREGS, p, 0, &r);
    printf("sysemu stop: sig=%d is_getpid=%d rax=%lld\n", WSTOPSIG(st), r.orig_rax == SYS_getpid,
           r.rax);
    r.rax = 777;
    ptrace(PTRACE_SETREGS, p, 0, &r);
    ptrace(PTRACE_CONT, p, 0, 0);
    wait_exit(p, "sysemu child");
}

static void *thread_fn(void *arg)
{
    return arg;
}

static void body_thread(void)
{
    pthread_t th;
    pthread_create(&th, 0, thread_fn, 0);
    pthread_join(th, 0);
    _exit(4);
}

static void test_clone_follow(void)
{
    pid_t p = traced_child(body_thread);
    ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_TRACECLONE);
    ptrace(PTRACE_CONT, p, 0, 0);
    int seen_event = 0, seen_thread = 0, st;
    pid_t newtid = -1, stopped_new = -2;
    while (!(seen_event && seen_thread)) {
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0)
            break;
        if (w == p && WIFSTOPPED(st) && st >> 16 == PTRACE_EVENT_CLONE) {
            unsigned long msg;
            ptrace(PTRACE_GETEVENTMSG, p, 0, &msg);
            newtid = msg;
            seen_event = 1;
        } else if (w != p && WIFSTOPPED(st)) {
            seen_thread = 1;
            stopped_new = w;
            printf("new thread stop: sig=%d\n", WSTOPSIG(st));
        } else {
            printf("unexpected %#x\n", st);
            break;
        }
    }
    printf("clone event seen=%d eventmsg is the new thread=%d\n", seen_event,
           newtid == stopped_new);
    ptrace(PTRACE_CONT, stopped_new, 0, 0);
    ptrace(PTRACE_CONT, p, 0, 0);
    pid_t w = waitpid(-1, &st, __WALL);
    printf("first report from the thread=%d exited=%d\n", w == stopped_new, WIFEXITED(st));
    wait_exit(p, "threaded child");
}

static void body_exit(void)
{
    exit(5);
}

static void test_exit_event(void)
{
    pid_t p = traced_child(body_exit);
    ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_TRACEEXIT);
    ptrace(PTRACE_CONT, p, 0, 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, p, &si, WEXITED | WSTOPPED);
    unsigned long msg = 0;
    ptrace(PTRACE_GETEVENTMSG, p, 0, &msg);
    printf("exit event (waitid): code=%d status=%#x msg=%#lx\n", si.si_code, si.si_status, msg);
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", p);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "State:", 6) == 0)
            printf("tracee %s", line);
        else if (strncmp(line, "TracerPid:", 10) == 0)
            printf("tracee TracerPid is us: %d\n", atoi(line + 10) == getpid());
    if (f)
        fclose(f);
    ptrace(PTRACE_CONT, p, 0, 0);
    wait_exit(p, "exit child");
}

static void body_group_stop(void)
{
    raise(SIGSTOP);
    printf("child: running again\n");
}

static void test_group_stop(void)
{
    pid_t p = traced_child(body_group_stop);
    int st;
    ptrace(PTRACE_CONT, p, 0, 0);
    waitpid(p, &st, 0);
    printf("second stop signal stop: sig=%d event=%d\n", WSTOPSIG(st), st >> 16);
    /* Delivered: the process stops, and the tracer sees the group-stop. */
    ptrace(PTRACE_CONT, p, 0, SIGSTOP);
    waitpid(p, &st, 0);
    printf("group stop: sig=%d event=%d\n", WSTOPSIG(st), st >> 16);
    ptrace(PTRACE_CONT, p, 0, 0);
    wait_exit(p, "group stop child");
}

static void test_exitkill(void)
{
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    pid_t t = fork();
    if (t == 0) {
        ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_EXITKILL);
        _exit(0);
    }
    waitpid(t, 0, 0);
    wait_exit(c, "exitkill tracee");
}

static void test_seize(void)
{
    pid_t p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    show_errno("seize", ptrace(PTRACE_SEIZE, p, 0, PTRACE_O_TRACESYSGOOD));
    show_errno("seize again", ptrace(PTRACE_SEIZE, p, 0, 0));
    show_errno("attach seized", ptrace(PTRACE_ATTACH, p, 0, 0));
    show_errno("cont while running", ptrace(PTRACE_CONT, p, 0, 0));
    show_errno("interrupt", ptrace(PTRACE_INTERRUPT, p, 0, 0));
    int st;
    waitpid(p, &st, 0);
    printf("interrupt stop: stopped=%d sig=%d event=%d\n", WIFSTOPPED(st), WSTOPSIG(st),
           st >> 16);
    show_errno("cont", ptrace(PTRACE_CONT, p, 0, 0));
    show_errno("kill", kill(p, SIGKILL));
    wait_exit(p, "seized child");
}

static void test_attach(void)
{
    pid_t p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    show_errno("attach", ptrace(PTRACE_ATTACH, p, 0, 0));
    int st;
    waitpid(p, &st, 0);
    printf("attach stop: sig=%d\n", WSTOPSIG(st));
    show_errno("interrupt not seized", ptrace(PTRACE_INTERRUPT, p, 0, 0));
    show_errno("detach bad signal", ptrace(PTRACE_DETACH, p, 0, 100));
    show_errno("detach", ptrace(PTRACE_DETACH, p, 0, 0));
    show_errno("cont after detach", ptrace(PTRACE_CONT, p, 0, 0));
    kill(p, SIGKILL);
    wait_exit(p, "attached child");
}

static void test_attach_stopped(void)
{
    pid_t p = fork();
    if (p == 0) {
        raise(SIGSTOP);
        printf("child: continued after detach\n");
        _exit(6);
    }
    int st;
    waitpid(p, &st, WUNTRACED);
    printf("job-control stop: sig=%d\n", WSTOPSIG(st));
    show_errno("attach stopped", ptrace(PTRACE_ATTACH, p, 0, 0));
    waitpid(p, &st, 0);
    printf("attach stop of a stopped process: stopped=%d sig=%d\n", WIFSTOPPED(st), WSTOPSIG(st));
    show_errno("detach", ptrace(PTRACE_DETACH, p, 0, 0));
    kill(p, SIGCONT);
    wait_exit(p, "attached stopped child");
}

static void body_nothing(void) {}

static void test_errors(void)
{
    show_errno("attach self", ptrace(PTRACE_ATTACH, getpid(), 0, 0));
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, 0, 0);
    show_errno("peek gone pid", ptrace(PTRACE_PEEKDATA, gone, 0, 0));
    show_errno("attach gone pid", ptrace(PTRACE_ATTACH, gone, 0, 0));
    pid_t p = traced_child(body_nothing);
    show_errno("setoptions bad", ptrace(PTRACE_SETOPTIONS, p, 0, 0x80000000UL));
    show_errno("cont bad signal", ptrace(PTRACE_CONT, p, 0, 100));
    show_errno("unknown request", ptrace(0x4299, p, 0, 0));
    show_errno("seize with addr", ptrace(PTRACE_SEIZE, p, 1, 0));
    long mask = 0;
    show_errno("getsigmask bad size", ptrace(PTRACE_GETSIGMASK, p, 4, &mask));
    show_errno("kill", ptrace(PTRACE_KILL, p, 0, 0));
    wait_exit(p, "killed child");
    pid_t q = fork();
    if (q == 0) {
        pause();
        _exit(0);
    }
    show_errno("cont untraced", ptrace(PTRACE_CONT, q, 0, 0));
    kill(q, SIGKILL);
    waitpid(q, 0, 0);
}

static void test_process_vm(void)
{
    pid_t p = fork();
    if (p == 0) {
        strcpy(vmbuf, "hello from the child");
        raise(SIGSTOP);
        printf("child: vmbuf=%s\n", vmbuf);
        _exit(0);
    }
    int st;
    waitpid(p, &st, WUNTRACED);
    char got[64] = {0};
    struct iovec l[2] = {{got, 5}, {got + 5, 20}};
    struct iovec r = {vmbuf, 21};
    ssize_t n = process_vm_readv(p, l, 2, &r, 1, 0);
    printf("process_vm_readv: %zd '%s'\n", n, got);
    char msg[] = "written by parent";
    struct iovec lw = {msg, sizeof msg};
    n = process_vm_writev(p, &lw, 1, &r, 1, 0);
    printf("process_vm_writev: %zd\n", n);
    show_errno("process_vm_readv flags", process_vm_readv(p, l, 1, &r, 1, 1));
    struct iovec bad = {(void *)8, 4};
    show_errno("process_vm_readv bad remote", process_vm_readv(p, l, 1, &bad, 1, 0));
    struct iovec part[2] = {{vmbuf, 4}, {(void *)8, 4}};
    n = process_vm_readv(p, l, 1, part, 2, 0);
    printf("process_vm_readv partial: %zd\n", n);
    kill(p, SIGCONT);
    wait_exit(p, "vm child");
    show_errno("process_vm_readv gone", process_vm_readv(p, l, 1, &r, 1, 0));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exit7") == 0)
        return 7;
    self = argv[0];
    setvbuf(stdout, 0, _IONBF, 0);
    test_exec_stop();
    test_syscall_stops();
    test_peek_poke();
    test_signal_stops();
    test_fork_follow();
    test_exit_event();
    test_sysemu();
    test_exitkill();
    test_group_stop();
    test_clone_follow();
    test_seize();
    test_attach();
    test_attach_stopped();
    test_errors();
    test_process_vm();
    printf("ptrace done\n");
    return 0;
}
