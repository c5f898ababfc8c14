/* Memory-management and signal corners, printed deterministically so the
 * guest's output can be compared with the host's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile int caught;
static void on_segv(int s, siginfo_t *si, void *uc) { (void)s; (void)si; (void)uc; caught++; siglongjmp(jb, 1); }

static int probe_write(volatile char *p) {
    caught = 0;
    if (sigsetjmp(jb, 1) == 0) { *p = 1; }
    return caught;
}

static volatile int alt_ok;
static char altstack[65536];
static void on_usr2(int s) {
    char local;
    (void)s;
    alt_ok = (&local >= altstack && &local < altstack + sizeof(altstack));
}

/* Wait until process `pid` sleeps (state S in /proc/pid/stat), so that a
 * stop sent next lands inside its blocking call, not before it. */
static void wait_sleeping(pid_t pid) {
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 5000; i++) {
        FILE *f = fopen(path, "r");
        char st = 0;
        if (f) {
            if (fgets(buf, sizeof(buf), f)) {
                char *p = strrchr(buf, ')');
                if (p && p[1] == ' ') st = p[2];
            }
            fclose(f);
        }
        if (st == 'S') return;
        usleep(1000);
    }
}

static volatile int alarms;
static void on_alrm(int s) { (void)s; alarms++; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    /* mremap: grow in place or move, contents kept. */
    char *p = mmap(NULL, 4096 * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 4 * 4096; i++) p[i] = (char)(i % 251);
    char *q = mremap(p, 4096 * 4, 4096 * 64, MREMAP_MAYMOVE);
    int ok = q != MAP_FAILED;
    for (int i = 0; ok && i < 4 * 4096; i++) ok = q[i] == (char)(i % 251);
    q[64 * 4096 - 1] = 7;
    printf("mremap grow: %d tail %d\n", ok, q[64 * 4096 - 1]);
    char *r = mremap(q, 4096 * 64, 4096 * 2, 0);
    printf("mremap shrink: same=%d byte=%d\n", r == q, r[4097]);
    /* madvise(DONTNEED) zeroes private anonymous memory. */
    memset(r, 9, 8192);
    madvise(r, 8192, MADV_DONTNEED);
    printf("dontneed: %d %d\n", r[0], r[8191]);
    /* mprotect read-only: a write faults, restoring lets it through. */
    mprotect(r, 4096, PROT_READ);
    printf("write to PROT_READ faults: %d\n", probe_write(r));
    mprotect(r, 4096, PROT_READ | PROT_WRITE);
    printf("write after PROT_WRITE faults: %d\n", probe_write(r));
    /* munmap of the middle page of three. */
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m + 4096, 4096);
    printf("hole faults: %d, neighbours fine: %d %d\n", probe_write(m + 4096), probe_write(m), probe_write(m + 8192));
    /* MAP_FIXED over an existing mapping replaces it. */
    m[0] = 5;
    char *f = mmap(m, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("map fixed: same=%d zero=%d\n", f == m, f[0]);
    /* Shared file mapping sees write(), and write() sees the mapping. */
    int fd = open("/tmp/mmsig.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    ftruncate(fd, 8192);
    char *s = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    pwrite(fd, "abc", 3, 100);
    memcpy(s + 200, "xyz", 3);
    char b[4] = {0};
    pread(fd, b, 3, 200);
    printf("coherent: %.3s %.3s\n", s + 100, b);
    /* Copy-on-write after fork: the child's write is its own. */
    char *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    c[0] = 'P';
    pid_t pid = fork();
    if (pid == 0) { c[0] = 'C'; _exit(c[0] == 'C' ? 0 : 1); }
    int st;
    waitpid(pid, &st, 0);
    printf("cow: parent %c child ok %d\n", c[0], WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* sigaltstack: the handler runs on the alternate stack. */
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa2 = {0};
    sa2.sa_handler = on_usr2;
    sa2.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa2, NULL);
    raise(SIGUSR2);
    printf("altstack: %d\n", alt_ok);
    /* rt_sigtimedwait takes a blocked pending signal. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGUSR1);
    siginfo_t si;
    struct timespec to = {1, 0};
    int got = sigtimedwait(&set, &si, &to);
    printf("sigtimedwait: %d code_user %d\n", got, si.si_code == SI_USER);
    struct timespec short_to = {0, 20000000};
    got = sigtimedwait(&set, &si, &short_to);
    printf("sigtimedwait timeout: %d EAGAIN %d\n", got, got < 0 && errno == EAGAIN);
    /* setitimer: a periodic SIGALRM interrupts pause(). */
    struct sigaction sa3 = {0};
    sa3.sa_handler = on_alrm;
    sigaction(SIGALRM, &sa3, NULL);
    struct itimerval it = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_REAL, &it, NULL);
    while (alarms < 3) pause();
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("itimer: %d alarms\n", alarms >= 3);
    /* SA_RESTART: a read interrupted by a handled signal restarts; without
     * it, read fails with EINTR. */
    for (int restart = 0; restart < 2; restart++) {
        int pfd[2];
        pipe(pfd);
        struct sigaction sa4 = {0};
        sa4.sa_handler = on_alrm;
        sa4.sa_flags = restart ? SA_RESTART : 0;
        sigaction(SIGALRM, &sa4, NULL);
        pid_t w = fork();
        if (w == 0) { usleep(100000); write(pfd[1], "z", 1); _exit(0); }
        alarm(0);
        struct itimerval once = {{0, 0}, {0, 30000}};
        setitimer(ITIMER_REAL, &once, NULL);
        char ch = 0;
        ssize_t n = read(pfd[0], &ch, 1);
        printf("SA_RESTART=%d: read=%zd %s\n", restart, n, n < 0 ? (errno == EINTR ? "EINTR" : "other") : (ch == 'z' ? "z" : "?"));
        waitpid(w, NULL, 0);
        close(pfd[0]);
        close(pfd[1]);
    }
    /* Sleeps a handled signal interrupts: EINTR (no SA_RESTART), the
     * time left written back, and the temporary masks of sigsuspend, ppoll
     * and epoll_pwait in force during the wait only. SIGUSR1 is blocked
     * (above); a raise leaves it pending for the temporary mask to let in. */
    {
        struct sigaction sa5 = {0};
        sa5.sa_handler = on_alrm;
        sigaction(SIGALRM, &sa5, NULL);
        sigaction(SIGUSR1, &sa5, NULL);
        struct itimerval once = {{0, 0}, {0, 30000}};
        sigset_t empty, cur;
        sigemptyset(&empty);
        struct timespec req = {2, 0}, rem = {0, 0};
        setitimer(ITIMER_REAL, &once, NULL);
        int r = nanosleep(&req, &rem);
        printf("nanosleep: %d EINTR %d rem %d\n", r, r < 0 && errno == EINTR,
               rem.tv_sec == 1 && rem.tv_nsec > 0);
        rem.tv_sec = rem.tv_nsec = 0;
        setitimer(ITIMER_REAL, &once, NULL);
        r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
        printf("clock_nanosleep: EINTR %d rem %d\n", r == EINTR, rem.tv_sec == 1 && rem.tv_nsec > 0);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec until = {now.tv_sec + 2, now.tv_nsec};
        rem.tv_sec = rem.tv_nsec = 7;
        setitimer(ITIMER_REAL, &once, NULL);
        r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, &rem);
        printf("clock_nanosleep abs: EINTR %d rem untouched %d\n", r == EINTR,
               rem.tv_sec == 7 && rem.tv_nsec == 7);
        printf("clock_nanosleep past: %d\n", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL));
        int before = alarms;
        raise(SIGUSR1);
        r = sigsuspend(&empty);
        sigprocmask(SIG_SETMASK, NULL, &cur);
        printf("sigsuspend: %d EINTR %d handler %d mask back %d\n", r, errno == EINTR,
               alarms > before, sigismember(&cur, SIGUSR1));
        int pf[2];
        pipe(pf);
        struct pollfd pfd = {pf[0], POLLIN, 0};
        struct timespec pt = {2, 0};
        before = alarms;
        raise(SIGUSR1);
        r = ppoll(&pfd, 1, &pt, &empty);
        sigprocmask(SIG_SETMASK, NULL, &cur);
        printf("ppoll mask: %d EINTR %d handler %d mask back %d\n", r, errno == EINTR,
               alarms > before, sigismember(&cur, SIGUSR1));
        setitimer(ITIMER_REAL, &once, NULL);
        r = ppoll(&pfd, 1, &pt, NULL);
        printf("ppoll alarm: %d EINTR %d\n", r, errno == EINTR);
        printf("poll timeout: %d\n", poll(&pfd, 1, 20));
        fd_set rs;
        FD_ZERO(&rs);
        FD_SET(pf[0], &rs);
        struct timeval tv = {2, 0};
        setitimer(ITIMER_REAL, &once, NULL);
        r = select(pf[0] + 1, &rs, NULL, NULL, &tv);
        printf("select alarm: %d EINTR %d left %d\n", r, errno == EINTR,
               tv.tv_sec == 1 && tv.tv_usec > 0);
        /* select, ppoll and pselect6 write the time left back (the libc
         * wrappers of the last two hide it: raw calls). */
        struct timeval tv0 = {0, 30000};
        FD_ZERO(&rs);
        FD_SET(pf[0], &rs);
        r = select(pf[0] + 1, &rs, NULL, NULL, &tv0);
        printf("select timeout: %d left %ld.%06ld\n", r, (long)tv0.tv_sec, (long)tv0.tv_usec);
        struct timespec pt2 = {2, 0};
        setitimer(ITIMER_REAL, &once, NULL);
        r = syscall(SYS_ppoll, &pfd, 1, &pt2, NULL, 8);
        printf("raw ppoll alarm: %d EINTR %d left %d\n", r, errno == EINTR,
               pt2.tv_sec == 1 && pt2.tv_nsec > 0);
        struct timespec pt3 = {0, 0};
        r = syscall(SYS_ppoll, &pfd, 1, &pt3, NULL, 8);
        printf("raw ppoll zero: %d left %ld.%09ld\n", r, (long)pt3.tv_sec, pt3.tv_nsec);
        struct timespec pt4 = {0, 20000000};
        FD_ZERO(&rs);
        FD_SET(pf[0], &rs);
        r = syscall(SYS_pselect6, pf[0] + 1, &rs, NULL, NULL, &pt4, NULL);
        printf("raw pselect6 timeout: %d left %ld.%09ld\n", r, (long)pt4.tv_sec, pt4.tv_nsec);
        int ep = epoll_create1(0);
        struct epoll_event ev = {EPOLLIN, {0}};
        epoll_ctl(ep, EPOLL_CTL_ADD, pf[0], &ev);
        before = alarms;
        raise(SIGUSR1);
        r = epoll_pwait(ep, &ev, 1, 2000, &empty);
        sigprocmask(SIG_SETMASK, NULL, &cur);
        printf("epoll_pwait mask: %d EINTR %d handler %d mask back %d\n", r, errno == EINTR,
               alarms > before, sigismember(&cur, SIGUSR1));
        printf("epoll_wait timeout: %d\n", epoll_wait(ep, &ev, 1, 20));
        if (fork() == 0) {
            usleep(50000);
            write(pf[1], "x", 1);
            _exit(0);
        }
        r = epoll_wait(ep, &ev, 1, 2000);
        printf("epoll_wait woken: %d\n", r);
        wait(NULL);
        static int fw;
        struct timespec ft = {0, 20000000};
        long fr = syscall(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 0, &ft, NULL, 0);
        printf("futex timeout: %ld ETIMEDOUT %d\n", fr, errno == ETIMEDOUT);
        fr = syscall(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 1, &ft, NULL, 0);
        printf("futex changed: %ld EAGAIN %d\n", fr, errno == EAGAIN);
        setitimer(ITIMER_REAL, &once, NULL);
        fr = syscall(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        printf("futex alarm: %ld EINTR %d\n", fr, errno == EINTR);
        /* A timed futex wait is EINTR after a handler, SA_RESTART or not
         * (Linux's restart block for it is only for restarts without
         * one). */
        struct sigaction sa6 = {0};
        sa6.sa_handler = on_alrm;
        sa6.sa_flags = SA_RESTART;
        sigaction(SIGALRM, &sa6, NULL);
        struct timespec lt = {2, 0};
        setitimer(ITIMER_REAL, &once, NULL);
        fr = syscall(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 0, &lt, NULL, 0);
        printf("futex timed SA_RESTART: %ld EINTR %d\n", fr, errno == EINTR);
        sigaction(SIGALRM, &sa5, NULL);
        sigset_t w2;
        sigemptyset(&w2);
        sigaddset(&w2, SIGUSR2);
        struct timespec st = {2, 0};
        setitimer(ITIMER_REAL, &once, NULL);
        r = sigtimedwait(&w2, NULL, &st);
        printf("sigtimedwait alarm: %d EINTR %d\n", r, errno == EINTR);
        close(ep);
        close(pf[0]);
        close(pf[1]);
        /* A stop and continue restart a timed wait without a handler: it
         * ends when it would have (restart_syscall), not a full period
         * later. epoll_wait and sigtimedwait fail with EINTR instead
         * (Linux never restarts them). */
        const char *kinds[] = {"nanosleep", "futex", "poll", "epoll_wait", "sigtimedwait"};
        for (int kind = 0; kind < 5; kind++) {
            pid_t c = fork();
            if (c == 0) {
                struct timespec a, b, d = {0, 600000000};
                int cp[2];
                pipe(cp);
                struct pollfd cpf = {cp[0], POLLIN, 0};
                int cep = epoll_create1(0);
                struct epoll_event cev = {EPOLLIN, {0}};
                epoll_ctl(cep, EPOLL_CTL_ADD, cp[0], &cev);
                clock_gettime(CLOCK_MONOTONIC, &a);
                long rr;
                int ok;
                if (kind == 0) {
                    rr = nanosleep(&d, NULL);
                    ok = rr == 0;
                } else if (kind == 1) {
                    rr = syscall(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 0, &d, NULL, 0);
                    ok = rr < 0 && errno == ETIMEDOUT;
                } else if (kind == 2) {
                    rr = poll(&cpf, 1, 600);
                    ok = rr == 0;
                } else if (kind == 3) {
                    rr = epoll_wait(cep, &cev, 1, 600);
                    ok = rr < 0 && errno == EINTR;
                } else {
                    rr = sigtimedwait(&w2, NULL, &d);
                    ok = rr < 0 && errno == EINTR;
                }
                clock_gettime(CLOCK_MONOTONIC, &b);
                long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
                if (kind < 3)
                    ok = ok && ms >= 590 && ms < 850;
                _exit(ok ? 0 : 1);
            }
            wait_sleeping(c);
            usleep(20000);
            kill(c, SIGSTOP);
            usleep(300000);
            kill(c, SIGCONT);
            int cst = 0;
            waitpid(c, &cst, 0);
            printf("%s across stop: %d\n", kinds[kind], WIFEXITED(cst) ? WEXITSTATUS(cst) : -1);
        }
    }
    printf("mmsig done\n");
    return 0;
}
