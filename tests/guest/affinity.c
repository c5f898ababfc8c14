/* sched_setaffinity honoured with two vCPUs: a process moves to the vCPU
 * its mask names (getcpu says so at once and stays so while it computes),
 * its FPU registers survive the move, children inherit the mask and are
 * placed by it, a parent can move a busy child, a thread's mask is kept,
 * and the errors are Linux's.
 *
 * Guest-only (expects ncpus=2); tests/smp.rs runs it. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cpu_now(void)
{
    unsigned c = 99;
    syscall(SYS_getcpu, &c, NULL, NULL);
    return (int)c;
}

static int set_mask(pid_t pid, unsigned long bits)
{
    unsigned long m = bits;
    return syscall(SYS_sched_setaffinity, pid, sizeof m, &m) == 0 ? 0 : errno;
}

static unsigned long get_mask(pid_t pid)
{
    unsigned long m = 0;
    if (syscall(SYS_sched_getaffinity, pid, sizeof m, &m) < 0)
        return 1000 + errno;
    return m;
}

/* Does the CPU stay `want` over a stretch of syscalls and computation? */
static int stays_on(int want)
{
    volatile unsigned long x = 0;
    for (int i = 0; i < 200; i++) {
        for (int j = 0; j < 20000; j++)
            x += j;
        if (cpu_now() != want)
            return 0;
    }
    return 1;
}

/* An xmm register holds a value across a move made by the syscall in the
 * middle (only rcx, r11 and rax are the syscall's to clobber). */
static int fpu_survives(unsigned long to)
{
    unsigned long m = to;
    uint64_t in = 0x0123456789abcdefULL, out = 0;
    long ret;
    __asm__ volatile("movq %[in], %%xmm7\n\t"
                     "mov $203, %%eax\n\t"
                     "syscall\n\t"
                     "mov $39, %%eax\n\t" /* getpid: runs on the new vCPU */
                     "syscall\n\t"
                     "movq %%xmm7, %[out]\n\t"
                     : [out] "=r"(out), "=a"(ret)
                     : [in] "r"(in), "D"(0L), "S"(sizeof m), "d"(&m)
                     : "rcx", "r11", "xmm7", "memory");
    return out == in;
}

/* Spin until getcpu says `want` (false after 30 s: the move never came). */
static int wait_for_cpu(int want)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        if (cpu_now() == want)
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while (b.tv_sec - a.tv_sec < 30);
    return 0;
}

static volatile int ticks;
static void on_alarm(int s)
{
    (void)s;
    ticks++;
}

/* Two processes change vCPU at every step of a pipe ping-pong while a
 * 1 ms interval timer interrupts them (signal frames built right after
 * moves): every answer must be right and the FPU sums the same. */
static void moves_under_load(void)
{
    int a[2], b[2];
    pipe(a);
    pipe(b);
    signal(SIGALRM, on_alarm);
    struct itimerval it = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    pid_t c = fork();
    if (c == 0) {
        char x;
        for (int i = 0; i < 2000; i++) {
            set_mask(0, 1 + (i % 2));
            if (read(a[0], &x, 1) != 1)
                _exit(1);
            x++;
            write(b[1], &x, 1);
        }
        _exit(0);
    }
    int bad = 0, st;
    double f = 1.0;
    for (int i = 0; i < 2000; i++) {
        set_mask(0, 1 + ((i / 3) % 2));
        char y = (char)i, x = 0;
        write(a[1], &y, 1);
        while (read(b[0], &x, 1) != 1)
            ;
        bad += x != (char)(y + 1);
        f = f * 1.000001 + 0.5;
    }
    waitpid(c, &st, 0);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("moves under load: wrong answers %d, child status %d, fpu sum %.3f\n", bad, st, f);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

static void *thread_main(void *arg)
{
    (void)arg;
    printf("thread set mask 0x2: %d\n", set_mask(0, 2));
    printf("thread mask: %#lx\n", get_mask(0));
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("initial mask: %#lx\n", get_mask(0));

    printf("set 0x2: %d\n", set_mask(0, 2));
    printf("mask now: %#lx\n", get_mask(0));
    printf("on cpu 1 and staying: %s\n", cpu_now() == 1 && stays_on(1) ? "yes" : "no");
    printf("set 0x1: %d\n", set_mask(0, 1));
    printf("on cpu 0 and staying: %s\n", cpu_now() == 0 && stays_on(0) ? "yes" : "no");
    printf("fpu survives move to 1: %s\n", fpu_survives(2) && cpu_now() == 1 ? "yes" : "no");
    printf("fpu survives move to 0: %s\n", fpu_survives(1) && cpu_now() == 0 ? "yes" : "no");

    /* Memory written before a move reads back after it (the new host
     * process maps the same pages). */
    char *buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(buf, 0x5a, 1 << 20);
    set_mask(0, 2);
    int same = 1;
    for (int i = 0; i < (1 << 20); i += 4096)
        same &= buf[i] == 0x5a;
    buf[4096] = 1;
    set_mask(0, 1);
    same &= buf[4096] == 1 && buf[8192] == 0x5a;
    printf("memory kept across moves: %s\n", same ? "yes" : "no");

    /* A child inherits the mask and is placed by it. */
    set_mask(0, 2);
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        char line[64];
        int n = snprintf(line, sizeof line, "%#lx %d\n", get_mask(0), cpu_now());
        write(p[1], line, n);
        _exit(0);
    }
    char line[64] = {0};
    read(p[0], line, sizeof line - 1);
    waitpid(c, NULL, 0);
    printf("child mask and cpu: %s", line);

    /* A parent moves a busy child. */
    set_mask(0, 1);
    pid_t busy = fork();
    if (busy == 0) {
        set_mask(0, 2);
        write(p[1], wait_for_cpu(1) ? "on1\n" : "no1\n", 4);
        write(p[1], wait_for_cpu(0) ? "on0\n" : "no0\n", 4);
        _exit(0);
    }
    memset(line, 0, sizeof line);
    read(p[0], line, 4);
    printf("busy child: %s", line);
    printf("parent moves it: %d\n", set_mask(busy, 1));
    memset(line, 0, sizeof line);
    read(p[0], line, 4);
    printf("busy child: %s", line);
    waitpid(busy, NULL, 0);
    printf("its mask is gone with it: %s\n", get_mask(busy) == 1000 + ESRCH ? "ESRCH" : "?");

    /* Threads: the mask is per thread. */
    set_mask(0, 3);
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_join(th, NULL);
    printf("main thread mask: %#lx\n", get_mask(0));

    /* Errors. */
    unsigned long m = 0;
    printf("empty mask: %s\n", set_mask(0, 0) == EINVAL ? "EINVAL" : "?");
    printf("offline cpu only: %s\n", set_mask(0, 1UL << 40) == EINVAL ? "EINVAL" : "?");
    printf("no such pid: %s\n", set_mask(999999, 1) == ESRCH ? "ESRCH" : "?");
    printf("bad pointer: %s\n",
           syscall(SYS_sched_setaffinity, 0, 8, (void *)8) < 0 && errno == EFAULT ? "EFAULT" : "?");
    printf("get with 4 bytes: %s\n",
           syscall(SYS_sched_getaffinity, 0, 4, &m) < 0 && errno == EINVAL ? "EINVAL" : "?");
    printf("get returns: %ld\n", syscall(SYS_sched_getaffinity, 0, 64, &m));
    unsigned char small = 2;
    printf("set with 1 byte: %ld\n", syscall(SYS_sched_setaffinity, 0, 1, &small));
    printf("mask after 1-byte set: %#lx, cpu %d\n", get_mask(0), cpu_now());
    moves_under_load();
    set_mask(0, 3);
    if (fork() == 0) {
        setuid(65534);
        printf("other user's task: %s\n", set_mask(1, 1) == EPERM ? "EPERM" : "?");
        _exit(0);
    }
    wait(NULL);
    printf("affinity done\n");
    return 0;
}
