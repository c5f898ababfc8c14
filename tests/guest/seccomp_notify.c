#define _GNU_SOURCE
/* seccomp user notification: a filter installed with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER hands each SECCOMP_RET_USER_NOTIF
 * syscall to the process holding its listener fd, which receives it
 * (NOTIF_RECV), checks it (NOTIF_ID_VALID), answers it with a value, an
 * error or "continue" (NOTIF_SEND), or installs fds into the caller
 * (NOTIF_ADDFD). Signals during the wait (with and without SA_RESTART,
 * and WAIT_KILLABLE_RECV), closing the listener, poll's bits and the
 * errnos of misuse. Each case runs in its own process (the "supervisor",
 * which installs the filter and prints); the trapped calls are made by
 * its children, which report through a pipe. Ids and fds are compared,
 * never printed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR offsetof(struct seccomp_data, nr)
/* Newer than bookworm's headers. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#endif
#define ID_VALID_WRONG_DIR _IOR('!', 2, __u64)
#define TRAPPED SYS_getppid

static const char *err(long r)
{
    if (r >= 0)
        return "ok";
    switch (errno) {
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case ENOENT: return "ENOENT";
    case EINPROGRESS: return "EINPROGRESS";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case ENOSYS: return "ENOSYS";
    case EINTR: return "EINTR";
    case EPERM: return "EPERM";
    case E2BIG: return "E2BIG";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return strerror(errno);
    }
}

static long seccomp(unsigned op, unsigned flags, void *args)
{
    return syscall(SYS_seccomp, op, flags, args);
}

/* USER_NOTIF for TRAPPED, ALLOW for the rest. */
static long listen_on(unsigned flags)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TRAPPED, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p = {.len = 4, .filter = f};
    return seccomp(SECCOMP_SET_MODE_FILTER, flags, &p);
}

static long allow_all(unsigned flags)
{
    struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog p = {.len = 1, .filter = f};
    return seccomp(SECCOMP_SET_MODE_FILTER, flags, &p);
}

static long recv_notif(int fd, struct seccomp_notif *n)
{
    memset(n, 0, sizeof *n);
    return ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, n);
}

static long send_resp(int fd, __u64 id, long long val, int error, unsigned flags)
{
    struct seccomp_notif_resp r = {.id = id, .val = val, .error = error, .flags = flags};
    return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &r);
}

static long id_valid(int fd, __u64 id)
{
    return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id);
}

/* What a trapped child saw: its result and errno. */
struct report {
    long r;
    int err;
    int extra;
};

static int rep[2];
/* The case's listener: children close their copy, so that closing it in
 * the supervisor is the last close. */
static int listener = -1;
static volatile sig_atomic_t handled;

static void on_usr1(int s)
{
    (void)s;
    handled = 1;
}

/* A child that makes the trapped call (with arguments 7 and 8) once and
 * reports. `sa`: 0 no handler, 1 SIGUSR1 without SA_RESTART, 2 with. */
static pid_t trapped_child(int sa)
{
    pid_t p = fork();
    if (p == 0) {
        close(listener);
        if (sa) {
            struct sigaction act = {.sa_handler = on_usr1};
            act.sa_flags = sa == 2 ? SA_RESTART : 0;
            sigaction(SIGUSR1, &act, NULL);
        }
        errno = 0;
        struct report r = {0};
        r.r = syscall(TRAPPED, 7, 8);
        r.err = r.r < 0 ? errno : 0;
        r.extra = handled;
        write(rep[1], &r, sizeof r);
        _exit(0);
    }
    return p;
}

static struct report reap(pid_t p)
{
    struct report r = {0};
    if (read(rep[0], &r, sizeof r) != sizeof r)
        printf("  no report\n");
    waitpid(p, NULL, 0);
    return r;
}

static const char *errname(int e)
{
    errno = e;
    return err(-1);
}

/* Block until a notification is pending on `fd`. */
static void wait_pending(int fd)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    poll(&pf, 1, -1);
}

/* Run `body` in a process of its own (so that its filters stay there). */
static void run_case(const char *name, void (*body)(void))
{
    printf("%s:\n", name);
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        pipe(rep);
        body();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        printf("  case ended with status %#x\n", st);
}

static void setup_checks(void)
{
    unsigned action = SECCOMP_RET_USER_NOTIF;
    printf("  action avail: %s\n", err(seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action)));
    struct seccomp_notif_sizes sz;
    seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sz);
    printf("  sizes: %u %u %u\n", sz.seccomp_notif, sz.seccomp_notif_resp, sz.seccomp_data);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    printf("  killable without listener: %s\n",
           err(listen_on(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)));
    printf("  tsync without esrch: %s\n",
           err(listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC)));
    long fd = listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC |
                        SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
    printf("  listener: %s, cloexec %d\n", err(fd), fd >= 0 ? fcntl(fd, F_GETFD) : -1);
    printf("  second listener: %s\n", err(listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER)));
    printf("  plain filter on top: %s\n", err(allow_all(0)));
    printf("  second listener above it: %s\n", err(listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER)));
    struct pollfd pf = {.fd = fd, .events = POLLIN | POLLOUT};
    int ready = poll(&pf, 1, 0);
    printf("  poll idle: %d %#x\n", ready, pf.revents);
    struct seccomp_notif n;
    memset(&n, 0, sizeof n);
    n.pid = 1;
    printf("  recv dirty buffer: %s\n", err(ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &n)));
    printf("  recv bad pointer: %s\n", err(ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, (void *)8)));
    printf("  unknown ioctl: %s\n", err(ioctl(fd, _IO('!', 9))));
    printf("  set flags: %s %s\n", err(ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1UL)),
           err(ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 2UL)));
    printf("  id valid of nothing: %s\n", err(id_valid(fd, 12345)));
    printf("  send to nothing: %s\n", err(send_resp(fd, 12345, 0, 0, 0)));
    FILE *f = fopen("/proc/sys/kernel/seccomp/actions_avail", "r");
    char line[256] = "";
    if (f) {
        fgets(line, sizeof line, f);
        fclose(f);
    }
    printf("  actions_avail: %s", line);
}

static void answer_value(void)
{
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int fd = listener = listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER);
    pid_t c = trapped_child(0);
    wait_pending(fd);
    struct pollfd pf = {.fd = fd, .events = POLLIN | POLLOUT};
    int ready = poll(&pf, 1, 0);
    printf("  poll posted: %d %#x\n", ready, pf.revents);
    struct seccomp_notif n;
    printf("  recv: %s\n", err(recv_notif(fd, &n)));
    printf("  nr %s, arch %s, pid %s, args %llu %llu, flags %u\n",
           n.data.nr == TRAPPED ? "ok" : "wrong", n.data.arch == AUDIT_ARCH_X86_64 ? "ok" : "wrong",
           n.pid == (unsigned)c ? "child" : "wrong", (unsigned long long)n.data.args[0],
           (unsigned long long)n.data.args[1], n.flags);
    pf.revents = 0;
    ready = poll(&pf, 1, 0);
    printf("  poll received: %d %#x\n", ready, pf.revents);
    printf("  id valid: %s\n", err(id_valid(fd, n.id)));
    printf("  id valid, old number: %s\n", err(ioctl(fd, ID_VALID_WRONG_DIR,
                                                     &n.id)));
    printf("  send bad flags: %s\n", err(send_resp(fd, n.id, 0, 0, 2)));
    printf("  continue with a value: %s\n",
           err(send_resp(fd, n.id, 1, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE)));
    printf("  continue with an error: %s\n",
           err(send_resp(fd, n.id, 0, -EPERM, SECCOMP_USER_NOTIF_FLAG_CONTINUE)));
    printf("  send other id: %s\n", err(send_resp(fd, n.id + 1000, 0, 0, 0)));
    printf("  send: %s\n", err(send_resp(fd, n.id, 42, 0, 0)));
    struct report r = reap(c);
    printf("  child got %ld (%s)\n", r.r, r.err ? errname(r.err) : "no error");
    printf("  id valid after: %s\n", err(id_valid(fd, n.id)));
    printf("  send after: %s\n", err(send_resp(fd, n.id, 1, 0, 0)));
    /* An error answer. */
    c = trapped_child(0);
    printf("  recv: %s\n", err(recv_notif(fd, &n)));
    printf("  send error: %s\n", err(send_resp(fd, n.id, 99, -EPERM, 0)));
    r = reap(c);
    printf("  child got %ld (%s)\n", r.r, r.err ? errname(r.err) : "no error");
    /* Continue: the call runs for real (getppid gives this process). */
    c = trapped_child(0);
    printf("  recv: %s\n", err(recv_notif(fd, &n)));
    printf("  send continue: %s\n", err(send_resp(fd, n.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE)));
    r = reap(c);
    printf("  child got the real result: %s\n", r.r == getpid() ? "yes" : "no");
}

static void signals(void)
{
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int fd = listener = listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER);
    struct seccomp_notif n, n2;
    /* A handler without SA_RESTART, after the supervisor received it. */
    pid_t c = trapped_child(1);
    printf("  recv: %s\n", err(recv_notif(fd, &n)));
    kill(c, SIGUSR1);
    struct report r = reap(c);
    printf("  no SA_RESTART: %ld (%s), handler ran %d\n", r.r, errname(r.err), r.extra);
    printf("  id valid after: %s\n", err(id_valid(fd, n.id)));
    printf("  send after: %s\n", err(send_resp(fd, n.id, 1, 0, 0)));
    /* With SA_RESTART: the call comes again as a new notification. */
    c = trapped_child(2);
    printf("  recv: %s\n", err(recv_notif(fd, &n)));
    kill(c, SIGUSR1);
    printf("  recv again: %s\n", err(recv_notif(fd, &n2)));
    printf("  new id: %s, same call: %s\n", n2.id != n.id ? "yes" : "no",
           n2.data.nr == n.data.nr && n2.pid == n.pid ? "yes" : "no");
    printf("  send to the old one: %s\n", err(send_resp(fd, n.id, 1, 0, 0)));
    printf("  send to the new one: %s\n", err(send_resp(fd, n2.id, 7, 0, 0)));
    r = reap(c);
    printf("  SA_RESTART: %ld (%s), handler ran %d\n", r.r, r.err ? errname(r.err) : "no error",
           r.extra);
    /* Interrupted before anyone received it: the RECV that would have
     * taken it finds nothing. */
    c = trapped_child(1);
    wait_pending(fd);
    kill(c, SIGUSR1);
    r = reap(c);
    printf("  interrupted before recv: %ld (%s)\n", r.r, errname(r.err));
    printf("  recv finds it gone: %s\n", err(recv_notif(fd, &n)));
}

static void killable(void)
{
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int fd = listener =
        listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    printf("  listener: %s\n", err(fd));
    struct seccomp_notif n;
    pid_t c = trapped_child(1);
    printf("  recv: %s\n", err(recv_notif(fd, &n)));
    kill(c, SIGUSR1);
    usleep(100000);
    printf("  still valid after the signal: %s\n", err(id_valid(fd, n.id)));
    printf("  send: %s\n", err(send_resp(fd, n.id, 5, 0, 0)));
    struct report r = reap(c);
    printf("  child got %ld (%s), handler ran %d\n", r.r, r.err ? errname(r.err) : "no error",
           r.extra);
}

static void closing(void)
{
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int fd = listener = listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER);
    pid_t c = trapped_child(0);
    wait_pending(fd);
    close(fd);
    struct report r = reap(c);
    printf("  waiting when closed: %ld (%s)\n", r.r, errname(r.err));
    c = trapped_child(0);
    r = reap(c);
    printf("  after close: %ld (%s)\n", r.r, errname(r.err));
    printf("  new listener on the chain: %s\n", err(listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER)));
}

static long addfd(int fd, __u64 id, unsigned src, unsigned newfd, unsigned flags, unsigned nfl)
{
    struct seccomp_notif_addfd a = {
        .id = id, .flags = flags, .srcfd = src, .newfd = newfd, .newfd_flags = nfl};
    return ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
}

static void add_fds(void)
{
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int fd = listener = listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER);
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        close(listener);
        close(p[0]);
        /* The supervisor puts the pipe's write end at 100 and answers
         * with a second copy's number. */
        long got = syscall(TRAPPED, 0, 0);
        int ok = got > 0 && write(got, "a", 1) == 1 && write(100, "b", 1) == 1;
        struct report r = {got, ok, fcntl(100, F_GETFD)};
        write(rep[1], &r, sizeof r);
        _exit(0);
    }
    struct seccomp_notif n;
    printf("  recv: %s\n", err(recv_notif(fd, &n)));
    printf("  bad newfd flags: %s\n", err(addfd(fd, n.id, p[1], 0, 0, O_NONBLOCK)));
    printf("  bad flags: %s\n", err(addfd(fd, n.id, p[1], 0, 4, 0)));
    printf("  newfd without SETFD: %s\n", err(addfd(fd, n.id, p[1], 5, 0, 0)));
    printf("  bad srcfd: %s\n", err(addfd(fd, n.id, 9999, 0, 0, 0)));
    printf("  other id: %s\n", err(addfd(fd, n.id + 1000, p[1], 0, 0, 0)));
    struct {
        struct seccomp_notif_addfd a;
        __u64 more;
    } big = {{.id = n.id, .srcfd = p[1]}, 1};
    unsigned long cmd32 = _IOC(_IOC_WRITE, '!', 3, sizeof big);
    printf("  bigger struct, nonzero tail: %s\n", err(ioctl(fd, cmd32, &big)));
    printf("  too small: %s\n", err(ioctl(fd, _IOC(_IOC_WRITE, '!', 3, 16), &big)));
    long at = addfd(fd, n.id, p[1], 100, SECCOMP_ADDFD_FLAG_SETFD, O_CLOEXEC);
    printf("  setfd 100: %ld\n", at);
    long sent = addfd(fd, n.id, p[1], 0, SECCOMP_ADDFD_FLAG_SEND, 0);
    printf("  send: %s\n", err(sent));
    struct report r = reap(c);
    printf("  child got the sent fd: %s, wrote through both: %d, fd 100 cloexec: %d\n",
           r.r == sent ? "yes" : "no", r.err, r.extra);
    close(p[1]);
    char buf[8] = "";
    int len = read(p[0], buf, sizeof buf - 1);
    printf("  pipe read %d: %s\n", len, buf);
    printf("  addfd after: %s\n", err(addfd(fd, n.id, p[0], 0, 0, 0)));
}

/* The filter's last user exits: its listener polls hung up. The
 * listener is taken from the exiting process with pidfd_getfd. */
static void hangup(void)
{
    int go[2], num[2];
    pipe(go);
    pipe(num);
    pid_t g = fork();
    if (g == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int fd = listen_on(SECCOMP_FILTER_FLAG_NEW_LISTENER);
        write(num[1], &fd, sizeof fd);
        char b;
        read(go[0], &b, 1);
        _exit(0);
    }
    int fd = -1;
    read(num[0], &fd, sizeof fd);
    int pidfd = syscall(SYS_pidfd_open, g, 0);
    int l = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    printf("  got the listener: %s\n", err(l));
    struct pollfd pf = {.fd = l, .events = POLLIN};
    int ready = poll(&pf, 1, 0);
    printf("  poll while used: %d %#x\n", ready, pf.revents);
    write(go[1], "x", 1);
    waitpid(g, NULL, 0);
    pf.revents = 0;
    ready = poll(&pf, 1, 5000);
    printf("  poll after exit: %d %#x\n", ready, pf.revents);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    run_case("setup", setup_checks);
    run_case("answers", answer_value);
    run_case("signals", signals);
    run_case("wait killable", killable);
    run_case("closing", closing);
    run_case("addfd", add_fds);
    run_case("hangup", hangup);
    printf("seccomp_notify done\n");
    return 0;
}
