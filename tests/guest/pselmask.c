/*
 * pselect6 and ppoll apply their signal-mask argument for the duration of
 * the wait (compared line by line with a native run, tests/spine_c.rs):
 * SIGUSR1 is blocked, a child sends it while the parent waits with a mask
 * that unblocks it, and the wait must end with EINTR after the handler ran
 * under the temporary mask; the old mask is back afterwards. A mask that
 * keeps the signal blocked lets the wait time out. Raw syscalls, so the
 * libc wrapper cannot emulate the mask itself. Never prints pids or times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static volatile sig_atomic_t handled;
/* Was SIGUSR2 blocked while the SIGUSR1 handler ran? (The temporary mask
 * blocks it; the handler's frame must be built over that mask.) */
static volatile sig_atomic_t usr2_blocked_in_handler = -1;

#define CHECK(cond, what)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            printf("FAIL %s (line %d, errno %d %s)\n", what, __LINE__, errno, \
                   strerror(errno));                                          \
            failures++;                                                       \
        }                                                                     \
    } while (0)

static void on_usr1(int sig) {
    sigset_t cur;
    (void)sig;
    handled++;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    usr2_blocked_in_handler = sigismember(&cur, SIGUSR2);
}

/* A child that sends SIGUSR1 to the parent after a short delay. */
static pid_t send_later(void) {
    pid_t parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        struct timespec d = {0, 100 * 1000 * 1000};
        nanosleep(&d, NULL);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    return c;
}

static void reap(pid_t c) {
    int st;
    waitpid(c, &st, 0);
}

/* The kernel's sigset is 8 bytes; glibc's sigset_t is bigger. */
struct sigmask_arg {
    const void *ss;
    size_t ss_len;
};

static long pselect_raw(int nfds, fd_set *r, struct timespec *ts, const sigset_t *mask) {
    struct sigmask_arg a = {mask, 8};
    return syscall(SYS_pselect6, nfds, r, NULL, NULL, ts, mask ? &a : NULL);
}

static long ppoll_raw(struct pollfd *p, int n, struct timespec *ts, const sigset_t *mask) {
    return syscall(SYS_ppoll, p, n, ts, mask, 8);
}

static int still_blocked(int sig) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig);
}

/* Wait on the read end of an empty pipe with `which` (0 pselect6, 1 ppoll). */
static long wait_empty_pipe(int which, int fd, long secs, const sigset_t *mask) {
    struct timespec ts = {secs, 0};
    if (which == 0) {
        fd_set r;
        FD_ZERO(&r);
        FD_SET(fd, &r);
        return pselect_raw(fd + 1, &r, &ts, mask);
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return ppoll_raw(&p, 1, &ts, mask);
}

static void one(int which, int fd) {
    const char *name = which == 0 ? "pselect6" : "ppoll";
    sigset_t unblock_usr1, keep_blocked;

    /* The temporary mask unblocks SIGUSR1 and blocks SIGUSR2. */
    sigemptyset(&unblock_usr1);
    sigaddset(&unblock_usr1, SIGUSR2);
    handled = 0;
    usr2_blocked_in_handler = -1;
    pid_t c = send_later();
    errno = 0;
    long r = wait_empty_pipe(which, fd, 5, &unblock_usr1);
    int e = errno;
    reap(c);
    printf("%s unblocking mask: ret %ld errno %s handled %d usr2 blocked in handler %d\n",
           name, r, e == EINTR ? "EINTR" : strerror(e), (int)handled,
           (int)usr2_blocked_in_handler);
    printf("%s after: usr1 blocked %d usr2 blocked %d\n", name, still_blocked(SIGUSR1),
           still_blocked(SIGUSR2));

    /* A mask that keeps SIGUSR1 blocked: the wait times out, the signal
     * stays pending until it is unblocked. */
    sigemptyset(&keep_blocked);
    sigaddset(&keep_blocked, SIGUSR1);
    handled = 0;
    c = send_later();
    errno = 0;
    r = wait_empty_pipe(which, fd, 1, &keep_blocked);
    e = errno;
    reap(c);
    sigset_t pend;
    sigpending(&pend);
    printf("%s blocking mask: ret %ld errno %d handled %d pending %d\n", name, r, e,
           (int)handled, sigismember(&pend, SIGUSR1));
    /* Let it in, then block it again for the next round. */
    sigset_t u;
    sigemptyset(&u);
    sigaddset(&u, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &u, NULL);
    sigprocmask(SIG_BLOCK, &u, NULL);
    printf("%s delivered after unblocking: %d\n", name, (int)handled);

    /* A bad mask size is EINVAL (checked before waiting). */
    errno = 0;
    if (which == 0) {
        struct sigmask_arg a = {&keep_blocked, 4};
        struct timespec ts = {0, 0};
        r = syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, &a);
    } else {
        struct timespec ts = {0, 0};
        r = syscall(SYS_ppoll, NULL, 0, &ts, &keep_blocked, 4);
    }
    printf("%s mask size 4: ret %ld errno %s\n", name, r, errno == EINVAL ? "EINVAL" : strerror(errno));
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t b;
    sigemptyset(&b);
    sigaddset(&b, SIGUSR1);
    sigprocmask(SIG_BLOCK, &b, NULL);

    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    one(0, p[0]);
    one(1, p[0]);
    if (failures)
        printf("%d failures\n", failures);
    printf("pselmask done\n");
    return failures != 0;
}
