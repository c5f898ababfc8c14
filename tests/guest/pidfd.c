/* pidfd_open, pidfd_send_signal, pidfd_getfd, CLONE_PIDFD and
 * waitid(P_PIDFD) compared with a native run: poll on a pidfd turning
 * readable at exit, signals through it, fds taken from another process,
 * and the ESRCH/EINVAL/EBADF/EPERM/EAGAIN rules. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ESRCH: return "ESRCH";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case ECHILD: return "ECHILD";
    default: return strerror(e);
    }
}

#define R(call) ((call) < 0 ? en(errno) : "ok")

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int send_sig(int fd, int sig, siginfo_t *info, unsigned flags) {
    return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}
static int getfd(int pidfd, int fd, unsigned flags) {
    return syscall(SYS_pidfd_getfd, pidfd, fd, flags);
}

/* The flags: and Pid: lines of /proc/self/fdinfo/FD, the pid shown
 * relative to `pid` (same, -1 or other). */
static void fdinfo(int fd, pid_t pid) {
    char path[64], b[1024];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("fdinfo: %s\n", en(errno));
        return;
    }
    size_t n = fread(b, 1, sizeof b - 1, f);
    b[n] = 0;
    fclose(f);
    char *fl = strstr(b, "flags:");
    char *p = strstr(b, "\nPid:");
    int v = p ? atoi(p + 6) : -2;
    printf("fdinfo flags %.*s Pid %s\n", fl ? (int)(strchr(fl, '\n') - fl) : 0, fl ? fl : "",
           !p ? "absent" : v == pid ? "same" : v == -1 ? "-1" : "other");
}

static int readable(int fd, int timeout) {
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, timeout);
    return n > 0 && (p.revents & POLLIN);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int go[2];
    pipe(go);
    pid_t c = fork();
    if (c == 0) {
        char b;
        read(go[0], &b, 1);
        _exit(7);
    }
    int pfd = pidfd_open(c, 0);
    printf("pidfd_open child: %s cloexec %d\n", pfd < 0 ? en(errno) : "ok",
           (fcntl(pfd, F_GETFD) & FD_CLOEXEC) != 0);
    printf("readable while running: %d\n", readable(pfd, 0));
    fdinfo(pfd, c);
    printf("pidfd_open bad flags: %s\n", R(pidfd_open(c, 1)));
    printf("pidfd_open pid 0: %s\n", R(pidfd_open(0, 0)));
    printf("pidfd_open pid -1: %s\n", R(pidfd_open(-1, 0)));
    printf("pidfd_open no such pid: %s\n", R(pidfd_open(4000000, 0)));
    printf("read pidfd: %s\n", R(read(pfd, &(char){0}, 1)));

    /* waitid on a non-blocking pidfd with nothing to report. */
    int nb = pidfd_open(c, O_NONBLOCK);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    printf("waitid nonblocking pidfd: %s\n", R(waitid(P_PIDFD, nb, &si, WEXITED)));
    printf("waitid P_PIDFD bad fd: %s\n", R(waitid(P_PIDFD, 999, &si, WEXITED)));
    printf("waitid P_PIDFD not a pidfd: %s\n", R(waitid(P_PIDFD, go[0], &si, WEXITED)));
    printf("waitid P_PIDFD -1: %s\n", R(waitid(P_PIDFD, -1, &si, WEXITED)));

    /* pidfd_getfd: the child's read end of the pipe. */
    int stolen = getfd(pfd, go[0], 0);
    printf("getfd: %s cloexec %d\n", stolen < 0 ? en(errno) : "ok",
           (fcntl(stolen, F_GETFD) & FD_CLOEXEC) != 0);
    printf("getfd bad flags: %s\n", R(getfd(pfd, go[0], 1)));
    printf("getfd no such fd: %s\n", R(getfd(pfd, 77, 0)));
    printf("getfd not a pidfd: %s\n", R(getfd(go[0], 0, 0)));
    close(stolen);

    /* pidfd_send_signal rules. */
    printf("send sig 0: %s\n", R(send_sig(pfd, 0, NULL, 0)));
    printf("send bad flags: %s\n", R(send_sig(pfd, 0, NULL, 8)));
    printf("send two flags: %s\n", R(send_sig(pfd, 0, NULL, 3)));
    printf("send bad sig: %s\n", R(send_sig(pfd, 99, NULL, 0)));
    printf("send not a pidfd: %s\n", R(send_sig(go[0], 0, NULL, 0)));
    printf("send bad fd: %s\n", R(send_sig(999, 0, NULL, 0)));
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    printf("send info signo mismatch: %s\n", R(send_sig(pfd, SIGUSR2, &si, 0)));
    si.si_code = 0;
    printf("send info code 0 to another: %s\n", R(send_sig(pfd, SIGUSR1, &si, 0)));
    int self = pidfd_open(getpid(), 0);
    signal(SIGUSR1, SIG_IGN);
    printf("send info code 0 to self: %s\n", R(send_sig(self, SIGUSR1, &si, 0)));

    /* Exit: the pidfd becomes readable; a zombie takes signals. */
    write(go[1], "x", 1);
    printf("readable after exit: %d\n", readable(pfd, 10000));
    printf("send to zombie: %s\n", R(send_sig(pfd, SIGTERM, NULL, 0)));
    printf("getfd from zombie: %s\n", R(getfd(pfd, 0, 0)));
    memset(&si, 0, sizeof si);
    printf("waitid P_PIDFD: %s", R(waitid(P_PIDFD, pfd, &si, WEXITED)));
    printf(" pid ok %d code %d status %d\n", si.si_pid == c, si.si_code, si.si_status);
    printf("send after reap: %s\n", R(send_sig(pfd, 0, NULL, 0)));
    printf("waitid after reap: %s\n", R(waitid(P_PIDFD, pfd, &si, WEXITED)));
    printf("pidfd_open reaped: %s\n", R(pidfd_open(c, 0)));
    fdinfo(pfd, c);
    close(pfd);
    close(nb);

    /* A pidfd kills: the child dies of SIGKILL. */
    c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    pfd = pidfd_open(c, 0);
    printf("kill via pidfd: %s\n", R(send_sig(pfd, SIGKILL, NULL, 0)));
    int st;
    waitpid(c, &st, 0);
    printf("child killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    close(pfd);

    /* Another user's process: EPERM. */
    c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    pfd = pidfd_open(c, 0);
    pid_t u = fork();
    if (u == 0) {
        setuid(65534);
        printf("nobody sends to root's: %s\n", R(send_sig(pfd, SIGTERM, NULL, 0)));
        printf("nobody getfd from root's: %s\n", R(getfd(pfd, 0, 0)));
        _exit(0);
    }
    waitpid(u, NULL, 0);
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    close(pfd);

    /* CLONE_PIDFD through clone(2). */
    int cpfd = -1;
    long r = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &cpfd, 0, 0);
    if (r == 0)
        _exit(3);
    printf("clone CLONE_PIDFD: %s fd valid %d\n", r < 0 ? en(errno) : "ok",
           fcntl(cpfd, F_GETFD) >= 0);
    memset(&si, 0, sizeof si);
    printf("waitid clone pidfd: %s", R(waitid(P_PIDFD, cpfd, &si, WEXITED)));
    printf(" status %d\n", si.si_status);
    int dummy;
    printf("clone CLONE_PIDFD|CLONE_PARENT_SETTID: %s\n",
           R(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &dummy, 0, 0)));
    printf("pidfd done\n");
    return 0;
}
