/*
 * spine: a guest program whose stdout is fully deterministic and identical
 * natively and under any correct Linux-compatible kernel. tests/spine_c.rs
 * runs it on the host and in the guest and compares the output line by line.
 *
 * Exercises: pthreads (mutex, condvar barrier and round-robin handoff),
 * file-backed MAP_SHARED and MAP_PRIVATE mappings, shared anonymous memory
 * across fork, fork/execve/waitpid, exit codes and SIGKILL, SIGSEGV with
 * SA_SIGINFO and siglongjmp, raise(SIGUSR1), CLOCK_MONOTONIC + nanosleep,
 * pipes between parent and child.
 *
 * Never prints pids, addresses other than fixed ones, or times.
 *
 * Build: gcc -O2 -Wall -o spine spine.c -pthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 8
#define ROUNDS 50
#define FREE_INCS 10000

static int failures;

#define CHECK(cond, what)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            printf("FAIL %s (line %d, errno %d %s)\n", what, __LINE__, errno, \
                   strerror(errno));                                          \
            failures++;                                                       \
        }                                                                     \
    } while (0)

/* ---------------------------------------------------------------- threads */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int arrived;          /* barrier count */
static int turn;             /* round-robin handoff: whose turn (mod NTHREADS) */
static long counter;         /* shared counter */
static long sums[NTHREADS];  /* per-thread contributions */

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    long mine = 0;

    /* Barrier built from the mutex and condvar: nobody starts early. */
    pthread_mutex_lock(&mu);
    arrived++;
    if (arrived == NTHREADS)
        pthread_cond_broadcast(&cv);
    while (arrived < NTHREADS)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    /* Free-for-all increments under the mutex. */
    for (int i = 0; i < FREE_INCS; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
        mine++;
    }

    /* Strict round-robin handoff: thread id may go only when turn % N == id. */
    for (int r = 0; r < ROUNDS; r++) {
        pthread_mutex_lock(&mu);
        while (turn % NTHREADS != id)
            pthread_cond_wait(&cv, &mu);
        counter += id + 1;
        mine += id + 1;
        turn++;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
    sums[id] = mine;
    return (void *)(intptr_t)(id * 10);
}

static void test_threads(void)
{
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) == 0, "pthread_create");
    for (int i = 0; i < NTHREADS; i++) {
        void *ret = NULL;
        CHECK(pthread_join(th[i], &ret) == 0, "pthread_join");
        printf("thread %d: sum %ld ret %ld\n", i, sums[i], (long)(intptr_t)ret);
    }
    long expect = (long)NTHREADS * FREE_INCS;
    for (int i = 0; i < NTHREADS; i++)
        expect += (long)ROUNDS * (i + 1);
    printf("threads: counter %ld (expected %ld) turns %d\n", counter, expect, turn);
}

/* ------------------------------------------------------------------- mmap */

static void test_mmap(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/spine-mmap-%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "open mmap file");
    if (fd < 0)
        return;
    long pg = sysconf(_SC_PAGESIZE);
    CHECK(ftruncate(fd, pg) == 0, "ftruncate");

    char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap MAP_SHARED");
    if (p != MAP_FAILED) {
        const char *msg = "hello from a shared mapping";
        memcpy(p, msg, strlen(msg) + 1);
        CHECK(msync(p, pg, MS_SYNC) == 0, "msync");
        CHECK(munmap(p, pg) == 0, "munmap");
    }
    char buf[128] = {0};
    CHECK(pread(fd, buf, sizeof buf - 1, 0) > 0, "pread after munmap");
    printf("mmap shared: file says \"%s\"\n", buf);

    char *q = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(q != MAP_FAILED, "mmap MAP_PRIVATE");
    if (q != MAP_FAILED) {
        printf("mmap private: initially \"%s\"\n", q);
        memcpy(q, "PRIVATE", 7);
        printf("mmap private: mapping now \"%s\"\n", q);
        memset(buf, 0, sizeof buf);
        CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
        CHECK(read(fd, buf, sizeof buf - 1) > 0, "read after private write");
        printf("mmap private: file still \"%s\"\n", buf);
        CHECK(munmap(q, pg) == 0, "munmap private");
    }
    close(fd);
    CHECK(unlink(path) == 0, "unlink");

    /* Shared anonymous memory survives fork in both directions. */
    volatile int *shared = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED, "mmap shared anon");
    if (shared == MAP_FAILED)
        return;
    shared[0] = 1;
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        shared[1] = shared[0] + 41;
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid anon");
    printf("mmap shared anon: child wrote %d\n", shared[1]);
    munmap((void *)shared, pg);
}

/* ---------------------------------------------------------- fork and exec */

static void print_status(const char *what, int st)
{
    if (WIFEXITED(st))
        printf("%s: WIFEXITED=1 WEXITSTATUS=%d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: WIFSIGNALED=1 WTERMSIG=%d\n", what, WTERMSIG(st));
    else
        printf("%s: status 0x%x\n", what, st);
}

static void test_fork_exec(const char *self)
{
    int st;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork echo");
    if (pid == 0) {
        char *argv[] = {"echo", "exec", "of", "/bin/echo", "ok", NULL};
        char *envp[] = {"PATH=/bin:/usr/bin", NULL};
        execve("/bin/echo", argv, envp);
        _exit(127);
    }
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid echo");
    print_status("exec /bin/echo", st);

    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork self");
    if (pid == 0) {
        char *argv[] = {(char *)self, "--exec-child", "a b", NULL};
        char *envp[] = {"SPINE_ENV=from-parent", NULL};
        execve(self, argv, envp);
        _exit(127);
    }
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid self");
    print_status("exec self", st);

    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork exit7");
    if (pid == 0)
        _exit(7);
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid exit7");
    print_status("child exit 7", st);

    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork sigkill");
    if (pid == 0) {
        for (;;)
            pause();
    }
    CHECK(kill(pid, SIGKILL) == 0, "kill SIGKILL");
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid sigkill");
    print_status("child SIGKILL", st);

    /* No children left. */
    errno = 0;
    CHECK(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD, "no children left");
}

static int exec_child(int argc, char **argv)
{
    const char *env = getenv("SPINE_ENV");
    printf("exec self: argc=%d argv[1]=%s argv[2]=\"%s\" SPINE_ENV=%s\n", argc, argv[1],
           argc > 2 ? argv[2] : "", env ? env : "(unset)");
    return 3;
}

/* ---------------------------------------------------------------- signals */

static sigjmp_buf segv_env;
/* volatile so the compiler neither warns about nor folds the bad accesses */
static volatile uintptr_t bad_addr1 = 0x10, bad_addr2 = 0x20;
static volatile sig_atomic_t segv_signo, segv_code;
static void *volatile segv_addr;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    segv_signo = sig == si->si_signo ? si->si_signo : -1;
    segv_code = si->si_code;
    segv_addr = si->si_addr;
    siglongjmp(segv_env, 1);
}

static volatile sig_atomic_t usr1_count, usr1_pid_ok, usr1_code_ok;

static void usr1_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    usr1_count++;
    usr1_pid_ok = sig == SIGUSR1 && si->si_signo == SIGUSR1 && si->si_pid == getpid();
    usr1_code_ok = si->si_code == SI_TKILL;
}

static void test_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction SIGSEGV");

    if (sigsetjmp(segv_env, 1) == 0) {
        *(volatile int *)bad_addr1 = 1;
        printf("SIGSEGV: store to 0x10 did not fault\n");
    } else {
        printf("SIGSEGV: si_signo=%d SEGV_MAPERR=%d si_addr==0x10 %d\n", (int)segv_signo,
               segv_code == SEGV_MAPERR, segv_addr == (void *)0x10);
    }
    /* The mask was restored by siglongjmp: a second fault is caught too. */
    segv_signo = 0;
    if (sigsetjmp(segv_env, 1) == 0) {
        (void)*(volatile int *)bad_addr2;
        printf("SIGSEGV again: load from 0x20 did not fault\n");
    } else {
        printf("SIGSEGV again: si_signo=%d si_addr==0x20 %d\n", (int)segv_signo,
               segv_addr == (void *)0x20);
    }
    signal(SIGSEGV, SIG_DFL);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = usr1_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction SIGUSR1");
    CHECK(raise(SIGUSR1) == 0, "raise");
    printf("SIGUSR1: handled %d time(s) si_pid==getpid %d si_code==SI_TKILL %d\n",
           (int)usr1_count, (int)usr1_pid_ok, (int)usr1_code_ok);

    /* Blocked, then pending, then delivered on unblock. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0, "sigprocmask block");
    CHECK(kill(getpid(), SIGUSR1) == 0, "kill self");
    sigset_t pend;
    sigemptyset(&pend);
    CHECK(sigpending(&pend) == 0, "sigpending");
    printf("SIGUSR1 blocked: pending %d handled %d\n", sigismember(&pend, SIGUSR1), (int)usr1_count);
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0, "sigprocmask unblock");
    printf("SIGUSR1 unblocked: handled %d\n", (int)usr1_count);
    signal(SIGUSR1, SIG_DFL);
}

/* ------------------------------------------------------------------- time */

static void test_time(void)
{
    struct timespec a, b, req = {0, 50 * 1000 * 1000};
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "clock_gettime");
    int r;
    while ((r = nanosleep(&req, &req)) == -1 && errno == EINTR)
        ;
    CHECK(r == 0, "nanosleep");
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0, "clock_gettime");
    long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    if (ns >= 50LL * 1000 * 1000)
        printf("nanosleep ok\n");
    else
        printf("nanosleep too short\n");
}

/* ------------------------------------------------------------------ pipes */

static void test_pipe(void)
{
    int down[2], up[2];
    CHECK(pipe(down) == 0 && pipe(up) == 0, "pipe");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork pipe");
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        char buf[256];
        size_t len = 0;
        ssize_t n;
        /* Read until EOF: the parent closes its write end after writing. */
        while ((n = read(down[0], buf + len, sizeof buf - 1 - len)) > 0)
            len += n;
        for (size_t i = 0; i < len; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] -= 32;
        if (write(up[1], buf, len) != (ssize_t)len)
            _exit(1);
        _exit(n == 0 ? 0 : 2);
    }
    close(down[0]);
    close(up[1]);
    const char *msg = "ping through a pipe";
    CHECK(write(down[1], msg, strlen(msg)) == (ssize_t)strlen(msg), "write pipe");
    close(down[1]);
    char buf[256] = {0};
    size_t len = 0;
    ssize_t n;
    while ((n = read(up[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += n;
    close(up[0]);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid pipe");
    printf("pipe: child replied \"%s\"\n", buf);
    print_status("pipe child", st);

    /* Writing to a pipe with no reader: EPIPE (SIGPIPE ignored). */
    int p[2];
    CHECK(pipe(p) == 0, "pipe2");
    signal(SIGPIPE, SIG_IGN);
    close(p[0]);
    errno = 0;
    ssize_t w = write(p[1], "x", 1);
    printf("pipe without reader: write=%zd EPIPE=%d\n", w, errno == EPIPE);
    close(p[1]);
    signal(SIGPIPE, SIG_DFL);
}

/* ---- wait4/waitid and signals ---- */

static volatile sig_atomic_t alrm_count;
static void alrm_handler(int sig) { (void)sig; alrm_count++; }

/* A child that exits 3 after 400 ms; SIGALRM (handled, `flags`) comes
 * 100 ms into the parent's wait. */
static pid_t slow_child(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = alrm_handler;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
    alrm_count = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec ts = {0, 400000000};
        nanosleep(&ts, NULL);
        _exit(3);
    }
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    return pid;
}

static void test_wait_signals(void)
{
    int st, r;
    pid_t pid;
    siginfo_t si;

    pid = slow_child(0);
    errno = 0;
    r = waitpid(pid, &st, 0);
    printf("waitpid, handler without SA_RESTART: %d %s, handler ran %d\n", r == pid ? 1 : r,
           r < 0 ? strerror(errno) : "ok", (int)alrm_count);
    if (r < 0)
        r = waitpid(pid, &st, 0);
    CHECK(r == pid, "waitpid after EINTR");
    print_status("slow child", st);

    pid = slow_child(SA_RESTART);
    r = waitpid(pid, &st, 0);
    printf("waitpid, handler with SA_RESTART: %s, handler ran %d\n",
           r == pid ? "restarted" : strerror(errno), (int)alrm_count);
    print_status("slow child", st);

    pid = slow_child(0);
    memset(&si, 0, sizeof si);
    errno = 0;
    r = waitid(P_PID, pid, &si, WEXITED);
    printf("waitid, handler without SA_RESTART: %d %s, handler ran %d\n", r,
           r < 0 ? strerror(errno) : "ok", (int)alrm_count);
    if (r < 0)
        r = waitid(P_PID, pid, &si, WEXITED);
    printf("waitid: %d code %d status %d pid ok %d\n", r, si.si_code, si.si_status,
           si.si_pid == pid);

    pid = slow_child(SA_RESTART);
    memset(&si, 0, sizeof si);
    r = waitid(P_ALL, 0, &si, WEXITED);
    printf("waitid, handler with SA_RESTART: %d %s, handler ran %d, status %d\n", r,
           r < 0 ? strerror(errno) : "ok", (int)alrm_count, si.si_status);
    signal(SIGALRM, SIG_DFL);

    /* The child's exit wakes the wait and sends SIGCHLD (handled, no
     * SA_RESTART): the wait looks once more and reports the child. */
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = alrm_handler;
        sigaction(SIGCHLD, &sa, NULL);
        alrm_count = 0;
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
            _exit(4);
        }
        r = waitpid(pid, &st, 0);
        printf("waitpid with a SIGCHLD handler: %s, handler ran %d\n",
               r == pid ? "child" : strerror(errno), (int)alrm_count);
        if (r < 0)
            waitpid(pid, &st, 0);
        signal(SIGCHLD, SIG_DFL);
    }

    /* Stopped and continued children, waited for while they change. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        raise(SIGSTOP);
        nanosleep(&ts, NULL); /* continued: reported before the exit */
        _exit(5);
    }
    r = waitpid(pid, &st, WUNTRACED);
    printf("WUNTRACED: %d stopped %d by %d\n", r == pid, WIFSTOPPED(st), WSTOPSIG(st));
    r = waitpid(pid, &st, WNOHANG | WUNTRACED | WCONTINUED);
    printf("WNOHANG while stopped: %d\n", r);
    kill(pid, SIGCONT);
    r = waitpid(pid, &st, WCONTINUED);
    printf("WCONTINUED: %d continued %d\n", r == pid, WIFCONTINUED(st));
    r = waitpid(pid, &st, 0);
    CHECK(r == pid, "waitpid stopped child");
    print_status("stopped child", st);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "--exec-child") == 0)
        return exec_child(argc, argv);

    /* Re-exec ourselves by path: argv[0] if it is one, else /proc/self/exe. */
    const char *self = strchr(argv[0], '/') ? argv[0] : "/proc/self/exe";

    printf("spine start\n");
    test_threads();
    test_mmap();
    test_fork_exec(self);
    test_wait_signals();
    test_signals();
    test_time();
    test_pipe();
    printf("failures: %d\n", failures);
    printf("spine done\n");
    return failures ? 1 : 0;
}
