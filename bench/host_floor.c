/* What one guest system call round trip costs on this host, for several
 * designs, 2 processes pinned to one CPU (as ruml pins its vCPU thread and
 * the guest's host process). See docs/performance.md.
 *
 *     gcc -O2 -o /tmp/host_floor bench/host_floor.c && /tmp/host_floor
 *
 *  ptrace: child does syscall(getppid) under PTRACE_SYSEMU; parent
 *          GETREGS/SETREGS/SYSEMU/wait4 per call (what ruml does now)
 *  futex:  child traps into a SIGSYS handler (seccomp RET_TRAP), which
 *          hands the registers over shared memory and futex-waits; parent
 *          futex-waits, "handles", futex-wakes (the seccomp fast path)
 *  plain:  native getppid, for reference
 *  futex ping-pong: the same two processes handing over with no work: the
 *          floor of any design that switches host processes
 *  SIGSYS trap: the seccomp trap and signal round trip alone */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>

static uint64_t now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000ull+t.tv_nsec;}
static void pin(void){cpu_set_t s;CPU_ZERO(&s);CPU_SET(0,&s);sched_setaffinity(0,sizeof s,&s);}
#define N 200000
struct shm { _Atomic int state; long nr, ret; };
static struct shm *sh;
static long fx(void *a,int op,int v){return syscall(SYS_futex,a,op,v,0,0,0);}

static void sigsys(int sig, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
    sh->nr = si->si_syscall;
    atomic_store(&sh->state, 1);
    fx(&sh->state, FUTEX_WAKE, 1);
    while (atomic_load(&sh->state) != 2)
        fx(&sh->state, FUTEX_WAIT, 1);
    atomic_store(&sh->state, 0);
    uc->uc_mcontext.gregs[REG_RAX] = sh->ret;
}

static void sigsys_nop(int sig, siginfo_t *si, void *uc_)
{
    ((ucontext_t *)uc_)->uc_mcontext.gregs[REG_RAX] = 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pin();
    uint64_t t0 = now();
    for (int i = 0; i < N; i++) syscall(SYS_getppid);
    printf("plain  getppid      %7.0f ns\n", (double)(now() - t0) / N);

    /* ptrace SYSEMU */
    pid_t c = fork();
    if (c == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        for (int i = 0; i < N + 1; i++) syscall(SYS_getppid);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    struct user_regs_struct r;
    ptrace(PTRACE_SYSEMU, c, 0, 0);
    waitpid(c, &st, 0);
    t0 = now();
    for (int i = 0; i < N; i++) {
        ptrace(PTRACE_GETREGS, c, 0, &r);
        r.rax = 1;
        ptrace(PTRACE_SETREGS, c, 0, &r);
        ptrace(PTRACE_SYSEMU, c, 0, 0);
        waitpid(c, &st, 0);
    }
    printf("ptrace SYSEMU stop  %7.0f ns (GETREGS+SETREGS+SYSEMU+wait4)\n", (double)(now() - t0) / N);
    kill(c, SIGKILL);
    waitpid(c, &st, 0);

    /* seccomp RET_TRAP + SIGSYS handler + futex handoff */
    sh = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    c = fork();
    if (c == 0) {
        struct sigaction sa = {0};
        sa.sa_sigaction = sigsys;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSYS, &sa, 0);
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog p = {4, f};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p)) { perror("seccomp"); _exit(1); }
        for (int i = 0; i < N; i++) syscall(SYS_getppid);
        _exit(0);
    }
    t0 = now();
    for (int i = 0; i < N; i++) {
        while (atomic_load(&sh->state) != 1)
            fx(&sh->state, FUTEX_WAIT, atomic_load(&sh->state));
        sh->ret = 1;
        atomic_store(&sh->state, 2);
        fx(&sh->state, FUTEX_WAKE, 1);
    }
    double dt = (double)(now() - t0) / N;
    waitpid(c, &st, 0);
    printf("seccomp+futex stop  %7.0f ns (SIGSYS handler, futex wake+wait each side)\n", dt);
    /* pure futex ping-pong between two processes (no signal) */
    atomic_store(&sh->state, 0);
    c = fork();
    if (c == 0) {
        for (int i = 0; i < N; i++) {
            atomic_store(&sh->state, 1);
            fx(&sh->state, FUTEX_WAKE, 1);
            while (atomic_load(&sh->state) != 2)
                fx(&sh->state, FUTEX_WAIT, 1);
            atomic_store(&sh->state, 0);
        }
        _exit(0);
    }
    t0 = now();
    for (int i = 0; i < N; i++) {
        while (atomic_load(&sh->state) != 1)
            fx(&sh->state, FUTEX_WAIT, atomic_load(&sh->state));
        atomic_store(&sh->state, 2);
        fx(&sh->state, FUTEX_WAKE, 1);
    }
    dt = (double)(now() - t0) / N;
    waitpid(c, &st, 0);
    printf("futex ping-pong     %7.0f ns (2 processes, one CPU: the context-switch floor)\n", dt);

    /* seccomp trap + SIGSYS handler that returns at once, one process */
    c = fork();
    if (c == 0) {
        struct sigaction sa = {0};
        sa.sa_sigaction = (void *)sigsys_nop;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSYS, &sa, 0);
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog p = {4, f};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p);
        uint64_t t1 = now();
        for (int i = 0; i < N; i++) syscall(SYS_getppid);
        printf("seccomp SIGSYS trap %7.0f ns (signal delivery + rt_sigreturn, no switch)\n", (double)(now() - t1) / N); fflush(stdout);
        _exit(0);
    }
    waitpid(c, &st, 0);
    return 0;
}
