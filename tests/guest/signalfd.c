/*
 * signalfd semantics, compared line by line with a native run
 * (tests/spine_c.rs): creation flags, nonblocking and blocking reads,
 * struct signalfd_siginfo fields by signal kind, several records in one
 * read, mask updates through an existing signalfd, poll/select/epoll
 * readiness (also while sleeping), signals being the reader's own (not the
 * creator's) across fork, and the errors. Never prints pids or times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, what)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            printf("FAIL %s (line %d, errno %d %s)\n", what, __LINE__, errno, \
                   strerror(errno));                                          \
            failures++;                                                       \
        }                                                                     \
    } while (0)

static int poll_in(int fd, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    return n == 1 ? p.revents : n;
}

/* "value errno-name" of an expression, errno read after it. */
#define RES(expr)                                                             \
    ({                                                                        \
        errno = 0;                                                            \
        long r_ = (long)(expr);                                               \
        static char b_[64];                                                   \
        snprintf(b_, sizeof b_, "%ld %s", r_,                                 \
                 errno ? strerrorname_np(errno) : "ok");                      \
        b_;                                                                   \
    })

static void show(const char *what, const struct signalfd_siginfo *si) {
    printf("%s: signo %u code %d errno %d pid_is_self %d pid_is_parent %d uid_is_self %d int %d ptr %llu status %d\n",
           what, si->ssi_signo, si->ssi_code, si->ssi_errno, si->ssi_pid == (unsigned)getpid(),
           si->ssi_pid == (unsigned)getppid(), si->ssi_uid == (unsigned)getuid(), si->ssi_int,
           (unsigned long long)si->ssi_ptr, si->ssi_status);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("record size %zu\n", sizeof(struct signalfd_siginfo));

    sigset_t block, m;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGCHLD);
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "sigprocmask");

    /* Flags. */
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    int sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK(sfd >= 0, "signalfd");
    printf("cloexec %d nonblock %d\n", (fcntl(sfd, F_GETFD) & FD_CLOEXEC) != 0,
           (fcntl(sfd, F_GETFL) & O_NONBLOCK) != 0);
    char link[64] = "";
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", sfd);
    ssize_t ll = readlink(path, link, sizeof link - 1);
    if (ll > 0)
        link[ll] = 0;
    printf("fd link %s\n", link);

    /* Nothing pending. */
    struct signalfd_siginfo si[4];
    printf("empty read %s\n", RES(read(sfd, si, sizeof si)));
    printf("empty poll %d\n", poll_in(sfd, 0));
    printf("short buffer read %s\n", RES(read(sfd, si, 100)));

    /* raise = tgkill: SI_TKILL, the sender's pid and uid. */
    raise(SIGUSR1);
    printf("poll after raise 0x%x\n", poll_in(sfd, 0));
    ssize_t n = read(sfd, si, sizeof si);
    printf("read %zd\n", n);
    show("raise", &si[0]);
    printf("poll after read %d\n", poll_in(sfd, 0));

    /* A signal outside the mask is not readable, until the mask grows. */
    kill(getpid(), SIGUSR2);
    printf("poll usr2 outside mask %d\n", poll_in(sfd, 0));
    sigaddset(&m, SIGUSR2);
    printf("mask update returns same fd %d\n", signalfd(sfd, &m, 0) == sfd);
    printf("poll usr2 inside mask 0x%x\n", poll_in(sfd, 0));
    n = read(sfd, si, sizeof si);
    printf("read %zd\n", n);
    show("kill", &si[0]);

    /* sigqueue carries a value. */
    union sigval sv = {.sival_int = 42};
    CHECK(sigqueue(getpid(), SIGUSR1, sv) == 0, "sigqueue");
    n = read(sfd, si, sizeof si);
    printf("read %zd\n", n);
    show("sigqueue", &si[0]);

    /* Several records in one read, lowest signal first; a buffer of one
     * record takes one. */
    raise(SIGUSR2);
    raise(SIGUSR1);
    n = read(sfd, si, sizeof si);
    printf("two pending: read %zd signos %u %u\n", n, si[0].ssi_signo, n >= 256 ? si[1].ssi_signo : 0);
    raise(SIGUSR2);
    raise(SIGUSR1);
    n = read(sfd, si, sizeof si[0] + 10);
    printf("one-record buffer: read %zd signo %u, left 0x%x\n", n, si[0].ssi_signo, poll_in(sfd, 0));
    n = read(sfd, si, sizeof si);
    printf("rest: read %zd signo %u\n", n, si[0].ssi_signo);

    /* select and epoll see it too. */
    raise(SIGUSR1);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(sfd, &rs);
    struct timeval tv = {0, 0};
    int sel = select(sfd + 1, &rs, NULL, NULL, &tv);
    printf("select %d isset %d\n", sel, FD_ISSET(sfd, &rs) != 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, out[2];
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) == 0, "epoll_ctl");
    int en = epoll_wait(ep, out, 2, 0);
    printf("epoll %d events 0x%x data %llu\n", en, en > 0 ? out[0].events : 0,
           en > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
    read(sfd, si, sizeof si);
    printf("epoll after read %d\n", epoll_wait(ep, out, 2, 0));

    /* Pending signals are not inherited; a child reads its own. */
    raise(SIGUSR1);
    pid_t c = fork();
    if (c == 0) {
        printf("child, parent's signal pending: read %s", RES(read(sfd, si, sizeof si)));
        printf(" poll %d\n", poll_in(sfd, 0));
        raise(SIGUSR2);
        ssize_t r = read(sfd, si, sizeof si);
        printf("child own: read %zd signo %u\n", r, si[0].ssi_signo);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    n = read(sfd, si, sizeof si);
    printf("parent after child: read %zd signo %u\n", n, si[0].ssi_signo);
    read(sfd, si, sizeof si); /* the SIGCHLD is not in this mask */

    /* A blocking signalfd sleeps until a signal comes: SIGCHLD with the
     * child's status. */
    sigset_t cm;
    sigemptyset(&cm);
    sigaddset(&cm, SIGCHLD);
    int cfd = signalfd(-1, &cm, 0);
    CHECK(cfd >= 0, "signalfd SIGCHLD");
    /* Drop a SIGCHLD left from the child above. */
    fcntl(cfd, F_SETFL, O_NONBLOCK);
    while (read(cfd, si, sizeof si) > 0)
        ;
    fcntl(cfd, F_SETFL, 0);
    c = fork();
    if (c == 0) {
        usleep(50000);
        _exit(3);
    }
    n = read(cfd, si, sizeof si);
    printf("blocking read %zd signo %u code %d status %d pid_is_child %d\n", n, si[0].ssi_signo,
           si[0].ssi_code, si[0].ssi_status, si[0].ssi_pid == (unsigned)c);
    waitpid(c, NULL, 0);

    /* poll sleeps until another process signals us. */
    c = fork();
    if (c == 0) {
        usleep(50000);
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    printf("sleeping poll 0x%x\n", poll_in(sfd, 5000));
    n = read(sfd, si, sizeof si);
    printf("read %zd signo %u code %d pid_is_child %d\n", n, si[0].ssi_signo, si[0].ssi_code,
           si[0].ssi_pid == (unsigned)c);
    waitpid(c, NULL, 0);

    /* A blocking read is woken by another process's signal too. */
    c = fork();
    if (c == 0) {
        usleep(50000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    fcntl(sfd, F_SETFL, 0);
    n = read(sfd, si, sizeof si);
    printf("sleeping read %zd signo %u\n", n, si[0].ssi_signo);
    waitpid(c, NULL, 0);

    /* Errors. */
    printf("bad flags %s\n", RES(signalfd(-1, &m, 0x1)));
    printf("not a signalfd %s\n", RES(signalfd(ep, &m, 0)));
    printf("bad fd %s\n", RES(signalfd(999, &m, 0)));
    printf("bad size %s\n", RES(syscall(SYS_signalfd4, -1, &m, 4, 0)));
    printf("write %s\n", RES(write(sfd, si, sizeof si[0])));

    /* SIGKILL and SIGSTOP in the mask are ignored (the call succeeds). */
    sigset_t km;
    sigemptyset(&km);
    sigaddset(&km, SIGKILL);
    sigaddset(&km, SIGSTOP);
    int kfd = signalfd(-1, &km, SFD_NONBLOCK);
    printf("kill/stop mask ok %d, poll %d\n", kfd >= 0, poll_in(kfd, 0));

    close(kfd);
    close(cfd);
    close(ep);
    close(sfd);
    if (failures)
        printf("%d failures\n", failures);
    printf("signalfd done\n");
    return 0;
}
