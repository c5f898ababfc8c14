/* POSIX timers through the raw syscalls (kernel timer ids): errnos of
 * timer_create/settime/gettime/getoverrun/delete, the siginfo of timer
 * signals (SI_TIMER, si_timerid, si_value, si_overrun), overruns while the
 * one queued signal waits, SIGEV_NONE, SIGEV_THREAD_ID, TIMER_ABSTIME, a
 * CPU-time clock, and timers not surviving fork and exec. Prints only
 * coarse facts, so the output matches a native run line by line. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000L

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, strerrorname_np(errno));
    else
        printf("%s: ok\n", what);
}

static int tcreate(clockid_t c, struct sigevent *ev, int *id)
{
    return syscall(SYS_timer_create, c, ev, id);
}

static int tset(int id, int flags, long value, long interval, struct itimerspec *old)
{
    struct itimerspec t = {{interval / 1000000000L, interval % 1000000000L},
                           {value / 1000000000L, value % 1000000000L}};
    return syscall(SYS_timer_settime, id, flags, &t, old);
}

static int tget(int id, struct itimerspec *cur)
{
    return syscall(SYS_timer_gettime, id, cur);
}

static long ns(struct timespec t)
{
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static struct sigevent sev(int notify, int signo, int value)
{
    struct sigevent e;
    memset(&e, 0, sizeof e);
    e.sigev_notify = notify;
    e.sigev_signo = signo;
    e.sigev_value.sival_int = value;
    return e;
}

/* Wait up to `ms` for one of `sig`; prints nothing. */
static int take(int sig, siginfo_t *si, long ms)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    struct timespec to = {ms / 1000, (ms % 1000) * MS};
    return sigtimedwait(&s, si, &to);
}

static volatile sig_atomic_t got, got_code, got_value;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
    got = 1;
}

static int thread_tid;
static volatile int thread_ok;

static void *waiter(void *arg)
{
    (void)arg;
    thread_tid = gettid();
    siginfo_t si;
    int r = take(SIGUSR2, &si, 5000);
    thread_ok = r == SIGUSR2 && si.si_code == SI_TIMER && si.si_value.sival_int == 7;
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 2 && strcmp(argv[1], "exec-child") == 0) {
        struct itimerspec cur;
        show("after exec gettime", tget(atoi(argv[2]), &cur));
        return 0;
    }
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &block, NULL);

    /* Creation errors. */
    int id, id2;
    struct sigevent e = sev(SIGEV_SIGNAL, SIGUSR1, 1);
    show("create clock 99", tcreate(99, &e, &id));
    show("create monotonic_raw", tcreate(CLOCK_MONOTONIC_RAW, &e, &id));
    e = sev(5, SIGUSR1, 1);
    show("create bad notify", tcreate(CLOCK_MONOTONIC, &e, &id));
    e = sev(SIGEV_SIGNAL, 0, 1);
    show("create signo 0", tcreate(CLOCK_MONOTONIC, &e, &id));
    e = sev(SIGEV_SIGNAL, 65, 1);
    show("create signo 65", tcreate(CLOCK_MONOTONIC, &e, &id));
    e = sev(SIGEV_THREAD_ID, SIGUSR1, 1);
    e._sigev_un._tid = 1;
    show("create thread of another process", tcreate(CLOCK_MONOTONIC, &e, &id));
    show("create efault", syscall(SYS_timer_create, CLOCK_MONOTONIC, (void *)8, &id));

    /* Default sigevent: SIGALRM, sival = the id. */
    show("create default", tcreate(CLOCK_MONOTONIC, NULL, &id));
    show("settime oneshot", tset(id, 0, 30 * MS, 0, NULL));
    siginfo_t si;
    int r = take(SIGALRM, &si, 5000);
    printf("default signal: %s code SI_TIMER: %s timerid: %s value: %s overrun: %d\n",
           r == SIGALRM ? "SIGALRM" : "other", si.si_code == SI_TIMER ? "yes" : "no",
           si.si_timerid == id ? "yes" : "no", si.si_value.sival_int == id ? "yes" : "no",
           si.si_overrun);
    struct itimerspec cur, old;
    show("gettime expired", tget(id, &cur));
    printf("expired zero: %s\n", ns(cur.it_value) == 0 && ns(cur.it_interval) == 0 ? "yes" : "no");

    /* Bad arguments on an existing timer. */
    show("settime null", syscall(SYS_timer_settime, id, 0, NULL, NULL));
    struct itimerspec bad = {{0, 0}, {0, 1000000000L}};
    show("settime nsec 1e9", syscall(SYS_timer_settime, id, 0, &bad, NULL));
    bad = (struct itimerspec){{-1, 0}, {1, 0}};
    show("settime negative interval", syscall(SYS_timer_settime, id, 0, &bad, NULL));
    show("settime bad id", tset(4242, 0, MS, 0, NULL));
    show("settime efault", syscall(SYS_timer_settime, id, 0, (void *)8, NULL));
    show("gettime bad id", tget(4242, &cur));
    show("gettime efault", syscall(SYS_timer_gettime, id, (void *)8));
    show("getoverrun bad id", syscall(SYS_timer_getoverrun, 4242));
    show("delete bad id", syscall(SYS_timer_delete, 4242));
    show("delete", syscall(SYS_timer_delete, id));
    show("delete again", syscall(SYS_timer_delete, id));
    show("gettime deleted", tget(id, &cur));

    /* A handler sees SI_TIMER and the sigval. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    e = sev(SIGEV_SIGNAL, SIGUSR1, 1234);
    show("create usr1", tcreate(CLOCK_REALTIME, &e, &id));
    show("settime realtime", tset(id, 0, 20 * MS, 0, NULL));
    for (int i = 0; i < 500 && !got; i++)
        usleep(10000);
    printf("handler: %s code SI_TIMER: %s value 1234: %s\n", got ? "yes" : "no",
           got_code == SI_TIMER ? "yes" : "no", got_value == 1234 ? "yes" : "no");
    syscall(SYS_timer_delete, id);

    /* Periodic with the signal blocked: one queued signal, overruns. */
    e = sev(SIGEV_SIGNAL, SIGRTMIN, 99);
    show("create rtmin", tcreate(CLOCK_MONOTONIC, &e, &id));
    show("settime periodic", tset(id, 0, 100 * MS, 100 * MS, &old));
    printf("old zero: %s\n", ns(old.it_value) == 0 ? "yes" : "no");
    show("gettime periodic", tget(id, &cur));
    printf("left <= interval: %s interval 100ms: %s\n",
           ns(cur.it_value) > 0 && ns(cur.it_value) <= 100 * MS ? "yes" : "no",
           ns(cur.it_interval) == 100 * MS ? "yes" : "no");
    usleep(800 * 1000);
    r = take(SIGRTMIN, &si, 0);
    int ov = si.si_overrun;
    printf("periodic signal: %s overrun >= 3: %s value 99: %s\n", r == SIGRTMIN ? "yes" : "no",
           ov >= 3 ? "yes" : "no", si.si_value.sival_int == 99 ? "yes" : "no");
    r = take(SIGRTMIN, &si, 0);
    printf("only one queued: %s\n", r < 0 && errno == EAGAIN ? "yes" : "no");
    long gov = syscall(SYS_timer_getoverrun, id);
    printf("getoverrun matches si_overrun: %s\n", gov == ov ? "yes" : "no");
    show("settime disarm", tset(id, 0, 0, 0, &old));
    printf("old interval 100ms: %s\n", ns(old.it_interval) == 100 * MS ? "yes" : "no");
    show("gettime disarmed", tget(id, &cur));
    printf("disarmed zero: %s\n", ns(cur.it_value) == 0 ? "yes" : "no");
    syscall(SYS_timer_delete, id);

    /* TIMER_ABSTIME, in the future and in the past. */
    e = sev(SIGEV_SIGNAL, SIGUSR2, 5);
    show("create usr2", tcreate(CLOCK_MONOTONIC, &e, &id));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    show("settime abstime", tset(id, TIMER_ABSTIME, ns(now) + 50 * MS, 0, NULL));
    r = take(SIGUSR2, &si, 5000);
    printf("abstime signal: %s\n", r == SIGUSR2 ? "yes" : "no");
    show("settime abstime past", tset(id, TIMER_ABSTIME, 1, 0, NULL));
    r = take(SIGUSR2, &si, 5000);
    printf("past signal: %s\n", r == SIGUSR2 ? "yes" : "no");
    /* Delete with the signal still pending: it goes with the timer. */
    show("settime for delete", tset(id, 0, 10 * MS, 0, NULL));
    usleep(100 * 1000);
    show("delete pending", syscall(SYS_timer_delete, id));
    r = take(SIGUSR2, &si, 0);
    printf("signal after delete: %s\n", r < 0 ? strerrorname_np(errno) : "delivered");

    /* SIGEV_NONE: counts down, never signals. */
    e = sev(SIGEV_NONE, 0, 0);
    show("create none", tcreate(CLOCK_MONOTONIC, &e, &id));
    show("settime none", tset(id, 0, 100 * MS, 0, NULL));
    show("gettime none", tget(id, &cur));
    printf("none running: %s\n", ns(cur.it_value) > 0 && ns(cur.it_value) <= 100 * MS ? "yes" : "no");
    usleep(200 * 1000);
    tget(id, &cur);
    printf("none expired zero: %s\n", ns(cur.it_value) == 0 ? "yes" : "no");
    syscall(SYS_timer_delete, id);

    /* SIGEV_THREAD_ID: the signal goes to that thread. */
    pthread_t th;
    pthread_create(&th, NULL, waiter, NULL);
    while (!thread_tid)
        usleep(1000);
    e = sev(SIGEV_THREAD_ID, SIGUSR2, 7);
    e._sigev_un._tid = thread_tid;
    show("create thread id", tcreate(CLOCK_MONOTONIC, &e, &id));
    show("settime thread id", tset(id, 0, 30 * MS, 0, NULL));
    pthread_join(th, NULL);
    printf("thread got it: %s\n", thread_ok ? "yes" : "no");
    syscall(SYS_timer_delete, id);

    /* A CPU-time clock: fires after the process has used 50 ms of CPU. */
    e = sev(SIGEV_SIGNAL, SIGUSR1, 3);
    got = 0;
    show("create cputime", tcreate(CLOCK_PROCESS_CPUTIME_ID, &e, &id));
    show("settime cputime", tset(id, 0, 50 * MS, 0, NULL));
    time_t start = time(NULL);
    while (!got && time(NULL) - start < 5)
        ;
    printf("cputime fired: %s value 3: %s\n", got ? "yes" : "no", got_value == 3 ? "yes" : "no");
    syscall(SYS_timer_delete, id);

    /* Ids are per process: not inherited by fork, gone at exec. */
    show("create for fork", tcreate(CLOCK_MONOTONIC, NULL, &id2));
    pid_t pid = fork();
    if (pid == 0) {
        show("child gettime", tget(id2, &cur));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    pid = fork();
    if (pid == 0) {
        char ids[16];
        snprintf(ids, sizeof ids, "%d", id2);
        execl(argv[0], argv[0], "exec-child", ids, (char *)NULL);
        _exit(1);
    }
    waitpid(pid, NULL, 0);
    show("parent gettime", tget(id2, &cur));
    syscall(SYS_timer_delete, id2);
    printf("ptimers done\n");
    return 0;
}
