/* CPU-time interval timers, setting the (guest's) wall clock, and the
 * sched_* policy calls: outcomes only, compared line by line with a
 * native run (as root; the non-root cases drop to nobody in a child). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t vt, prof;
static void on_vt(int s) { (void)s; vt++; }
static void on_prof(int s) { (void)s; prof++; }

static void r(const char *what, long rc) {
    printf("%s: %s\n", what, rc < 0 ? strerrorname_np(errno) : "ok");
}

/* Spin in user mode until `flag` reaches `n` (bounded, to not hang). */
static void spin_until(volatile sig_atomic_t *flag, int n) {
    for (unsigned long i = 0; *flag < n && i < 4000000000UL; i++)
        __asm__ volatile("" ::: "memory");
}

static void itimers(void) {
    signal(SIGVTALRM, on_vt);
    signal(SIGPROF, on_prof);
    struct itimerval v = {{0, 20000}, {0, 50000}}, old, cur;
    r("setitimer virtual", setitimer(ITIMER_VIRTUAL, &v, NULL));
    getitimer(ITIMER_VIRTUAL, &cur);
    printf("virtual armed: %d interval %ld\n", cur.it_value.tv_sec > 0 || cur.it_value.tv_usec > 0,
           (long)cur.it_interval.tv_usec);
    spin_until(&vt, 3);
    printf("SIGVTALRM x3: %d\n", vt >= 3);
    struct itimerval zero = {{0, 0}, {0, 0}};
    r("disarm virtual", setitimer(ITIMER_VIRTUAL, &zero, &old));
    printf("old interval %ld value>0 %d\n", (long)old.it_interval.tv_usec,
           old.it_value.tv_usec > 0 || old.it_value.tv_sec > 0);
    getitimer(ITIMER_VIRTUAL, &cur);
    printf("after disarm: %ld %ld\n", (long)cur.it_value.tv_usec, (long)cur.it_interval.tv_usec);

    struct itimerval p1 = {{0, 0}, {0, 30000}};
    r("setitimer prof one-shot", setitimer(ITIMER_PROF, &p1, NULL));
    spin_until(&prof, 1);
    printf("SIGPROF: %d\n", prof);
    getitimer(ITIMER_PROF, &cur);
    printf("prof after firing: %ld\n", (long)cur.it_value.tv_usec);

    struct itimerval bad = {{0, 0}, {0, 1000000}};
    r("setitimer bad usec", setitimer(ITIMER_VIRTUAL, &bad, NULL));
    r("setitimer bad which", setitimer(7, &v, NULL));
    r("getitimer bad which", getitimer(7, &cur));
    /* A sleeping process uses no CPU: the virtual timer must not fire. */
    vt = 0;
    struct itimerval v2 = {{0, 0}, {0, 200000}};
    setitimer(ITIMER_VIRTUAL, &v2, NULL);
    usleep(400000);
    printf("no SIGVTALRM while asleep: %d\n", vt == 0);
    setitimer(ITIMER_VIRTUAL, &zero, NULL);
}

/* Run f as nobody in a child (RLIMIT_RTPRIO 0, as on a default system). */
static void as_nobody(void (*f)(void)) {
    rlim_t rtprio = 0;
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        struct rlimit rl = {rtprio, rtprio};
        setrlimit(RLIMIT_RTPRIO, &rl);
        if (setgid(65534) || setuid(65534)) {
            perror("setuid");
            _exit(1);
        }
        f();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
}

static void clock_nobody(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r("nobody clock_settime", clock_settime(CLOCK_REALTIME, &ts));
    struct timeval tv = {ts.tv_sec, 0};
    r("nobody settimeofday", settimeofday(&tv, NULL));
    struct timex tx = {0};
    printf("nobody adjtimex read: %d\n", adjtimex(&tx) >= 0);
    tx.modes = ADJ_STATUS;
    r("nobody adjtimex set", adjtimex(&tx));
}

static void clocks(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct timespec bad = {ts.tv_sec, 1000000000};
    r("clock_settime bad nsec", clock_settime(CLOCK_REALTIME, &bad));
    struct timespec neg = {-1, 0};
    r("clock_settime negative", clock_settime(CLOCK_REALTIME, &neg));
    r("clock_settime monotonic", clock_settime(CLOCK_MONOTONIC, &ts));
    r("clock_settime bad clock", clock_settime(99, &ts));
    r("clock_settime efault", syscall(SYS_clock_settime, CLOCK_REALTIME, (void *)8));
    struct timeval tvb = {ts.tv_sec, 1000001};
    r("settimeofday bad usec", settimeofday(&tvb, NULL));
    struct timex tx = {0};
    printf("adjtimex read: %d\n", adjtimex(&tx) >= 0);
    tx.modes = ADJ_TICK;
    tx.tick = 1;
    r("adjtimex bad tick", adjtimex(&tx));
    r("clock_adjtime monotonic", clock_adjtime(CLOCK_MONOTONIC, &tx));
    as_nobody(clock_nobody);
}

/* Only inside the guest (argv[1] == "set"): move the clock for real and
 * check every reader sees it. Natively this would move the host's clock. */
static void set_clock(void) {
    struct timespec want = {2000000000, 0}, got;
    r("clock_settime 2033", clock_settime(CLOCK_REALTIME, &want));
    clock_gettime(CLOCK_REALTIME, &got);
    printf("clock_gettime near: %d\n", got.tv_sec >= 2000000000 && got.tv_sec < 2000000100);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("gettimeofday near: %d\n", tv.tv_sec >= 2000000000 && tv.tv_sec < 2000000100);
    time_t t = time(NULL);
    printf("time near: %d\n", t >= 2000000000 && t < 2000000100);
    FILE *f = fopen("/tmp/stamp", "w");
    fclose(f);
    struct stat st;
    stat("/tmp/stamp", &st);
    printf("mtime near: %d\n", st.st_mtime >= 2000000000 && st.st_mtime < 2000000100);
    struct timex tx = {0};
    tx.modes = ADJ_SETOFFSET;
    tx.time.tv_sec = -1000000000;
    r("adjtimex setoffset", adjtimex(&tx));
    clock_gettime(CLOCK_REALTIME, &got);
    printf("stepped back: %d\n", got.tv_sec >= 1000000000 && got.tv_sec < 1000000100);
    struct timeval tv2 = {1500000000, 0};
    r("settimeofday", settimeofday(&tv2, NULL));
    time_t t2 = time(NULL);
    printf("time after settimeofday: %d\n", t2 >= 1500000000 && t2 < 1500000100);
}

static void sched_nobody(void) {
    struct sched_param sp = {10};
    r("nobody setscheduler fifo", sched_setscheduler(0, SCHED_FIFO, &sp));
    sp.sched_priority = 0;
    r("nobody setscheduler init", sched_setscheduler(1, SCHED_BATCH, &sp));
    r("nobody setscheduler batch", sched_setscheduler(0, SCHED_BATCH, &sp));
}

struct attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t prio;
    uint64_t runtime, deadline, period;
    uint32_t umin, umax;
};

static void scheds(void) {
    printf("fifo max %d min %d\n", sched_get_priority_max(SCHED_FIFO), sched_get_priority_min(SCHED_FIFO));
    printf("rr max %d min %d\n", sched_get_priority_max(SCHED_RR), sched_get_priority_min(SCHED_RR));
    printf("other max %d min %d\n", sched_get_priority_max(SCHED_OTHER), sched_get_priority_min(SCHED_OTHER));
    r("priority_max bad", sched_get_priority_max(42));
    r("priority_min bad", sched_get_priority_min(-1));
    printf("policy %d\n", sched_getscheduler(0));
    struct sched_param sp = {0};
    r("setscheduler bad policy", sched_setscheduler(0, 42, &sp));
    sp.sched_priority = 5;
    r("setscheduler other prio 5", sched_setscheduler(0, SCHED_OTHER, &sp));
    sp.sched_priority = 100;
    r("setscheduler fifo 100", sched_setscheduler(0, SCHED_FIFO, &sp));
    sp.sched_priority = 0;
    r("setscheduler fifo 0", sched_setscheduler(0, SCHED_FIFO, &sp));
    r("setscheduler null param", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
    r("setscheduler efault", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8));
    r("setscheduler esrch", sched_setscheduler(999999, SCHED_OTHER, &sp));
    r("setscheduler negative pid", sched_setscheduler(-1, SCHED_OTHER, &sp));
    r("getscheduler esrch", sched_getscheduler(999999));
    r("getparam esrch", sched_getparam(999999, &sp));
    r("getparam efault", syscall(SYS_sched_getparam, 0, (void *)8));
    struct timespec ts;
    r("rr_get_interval esrch", sched_rr_get_interval(999999, &ts));
    sp.sched_priority = 7;
    r("setscheduler rr 7", sched_setscheduler(0, SCHED_RR, &sp));
    printf("policy %d\n", sched_getscheduler(0));
    sp.sched_priority = 0;
    sched_getparam(0, &sp);
    printf("param %d\n", sp.sched_priority);
    sched_rr_get_interval(0, &ts);
    printf("rr interval nonzero %d\n", ts.tv_sec > 0 || ts.tv_nsec > 0);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        printf("child policy %d\n", sched_getscheduler(0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    sp.sched_priority = 3;
    r("setparam 3", sched_setparam(0, &sp));
    sched_getparam(0, &sp);
    printf("param %d\n", sp.sched_priority);
    sp.sched_priority = 9;
    r("setscheduler fifo|reset_on_fork", sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp));
    printf("policy with flag %#x\n", sched_getscheduler(0));
    fflush(stdout);
    c = fork();
    if (c == 0) {
        printf("reset child policy %d\n", sched_getscheduler(0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);

    struct attr a = {0};
    r("getattr", syscall(SYS_sched_getattr, 0, &a, sizeof a, 0));
    printf("attr size %u policy %u prio %u flags %lu\n", a.size, a.policy, a.prio, (unsigned long)a.flags);
    r("getattr small", syscall(SYS_sched_getattr, 0, &a, 16, 0));
    r("getattr flags", syscall(SYS_sched_getattr, 0, &a, sizeof a, 1));
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.policy = SCHED_BATCH;
    a.nice = 5;
    r("setattr batch nice 5", syscall(SYS_sched_setattr, 0, &a, 0));
    printf("policy %d nice %d\n", sched_getscheduler(0), getpriority(PRIO_PROCESS, 0));
    memset(&a, 0, sizeof a);
    syscall(SYS_sched_getattr, 0, &a, sizeof a, 0);
    printf("attr policy %u nice %d\n", a.policy, a.nice);
    a.size = 8;
    r("setattr size 8", syscall(SYS_sched_setattr, 0, &a, 0));
    printf("size written back %u\n", a.size);
    a.size = sizeof a;
    a.policy = 42;
    r("setattr bad policy", syscall(SYS_sched_setattr, 0, &a, 0));
    a.policy = SCHED_DEADLINE;
    a.prio = 0;
    a.runtime = 10;
    a.deadline = 1000000;
    r("setattr deadline tiny runtime", syscall(SYS_sched_setattr, 0, &a, 0));
    a.policy = SCHED_OTHER;
    a.nice = 0;
    r("setattr flags arg", syscall(SYS_sched_setattr, 0, &a, 1));
    r("setattr efault", syscall(SYS_sched_setattr, 0, (void *)8, 0));
    r("setattr esrch", syscall(SYS_sched_setattr, 999999, &a, 0));
    r("setattr other", syscall(SYS_sched_setattr, 0, &a, 0));
    as_nobody(sched_nobody);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "set") == 0) {
        set_clock();
        printf("set done\n");
        return 0;
    }
    itimers();
    clocks();
    scheds();
    printf("timers done\n");
    return 0;
}
