/* sigio: F_SETOWN/F_GETOWN(_EX) and O_ASYNC. A pipe's read end with
 * O_ASYNC signals its owner on writes (SIGIO, or the F_SETSIG signal with
 * POLL_IN, si_fd and si_band), a write end on reads (POLL_OUT); process
 * group owners reach every member; the setter's credentials must allow
 * the signal; no signal without O_ASYNC; FIOASYNC; AF_UNIX socketpairs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int count, last_sig, last_code, last_fd;
static volatile long last_band;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    count++;
    last_sig = sig;
    last_code = si->si_code;
    last_fd = si->si_fd;
    last_band = si->si_band;
}

static void res(const char *what, int r)
{
    if (r < 0)
        printf("%s: %d errno %s\n", what, r, strerror(errno));
    else
        printf("%s: %d\n", what, r);
}

/* What the handler saw since the last report. */
static void seen(const char *what, int fd)
{
    printf("%s: count %d sig %s code %d fd %s band 0x%lx\n", what, count,
           last_sig == SIGIO ? "SIGIO" : last_sig == SIGRTMIN ? "SIGRTMIN" : "other",
           last_code, last_fd == fd ? "ok" : "other", last_code > 0 ? last_band : 0L);
    count = 0;
    last_sig = last_code = last_fd = 0;
    last_band = 0;
}

static void handle(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(sig, &sa, NULL);
}

static char buf[16];

static void pipe_owner(void)
{
    int p[2];
    pipe(p);
    struct f_owner_ex o = {7, 7};
    printf("getown default: %d\n", fcntl(p[0], F_GETOWN));
    res("getown_ex default", fcntl(p[0], F_GETOWN_EX, &o));
    printf("  type %d pid %d\n", o.type, o.pid);

    /* An owner but no O_ASYNC: nothing. */
    res("setown self", fcntl(p[0], F_SETOWN, getpid()));
    printf("getown is self: %d\n", fcntl(p[0], F_GETOWN) == getpid());
    write(p[1], "a", 1);
    seen("no O_ASYNC", p[0]);
    read(p[0], buf, sizeof buf);

    res("setfl O_ASYNC", fcntl(p[0], F_SETFL, O_ASYNC));
    printf("getfl O_ASYNC: %d\n", !!(fcntl(p[0], F_GETFL) & O_ASYNC));
    write(p[1], "a", 1);
    seen("write", p[0]);
    read(p[0], buf, sizeof buf);
    seen("read (writer not async)", p[0]);

    /* F_SETSIG: a queued signal with the details. */
    res("setsig", fcntl(p[0], F_SETSIG, SIGRTMIN));
    write(p[1], "ab", 2);
    seen("write setsig", p[0]);
    /* Through a dup: si_fd stays the fd O_ASYNC was set through. */
    int d = dup(p[0]);
    write(p[1], "c", 1);
    seen("write dup", p[0]);
    close(d);
    read(p[0], buf, sizeof buf);

    /* The write end hears reads. */
    res("setown writer", fcntl(p[1], F_SETOWN, getpid()));
    res("setsig writer", fcntl(p[1], F_SETSIG, SIGRTMIN));
    res("setfl writer", fcntl(p[1], F_SETFL, O_ASYNC));
    write(p[1], "a", 1);
    count = 0;
    read(p[0], buf, sizeof buf);
    seen("read", p[1]);

    /* O_ASYNC off again. */
    res("setfl 0", fcntl(p[0], F_SETFL, 0));
    res("setfl writer 0", fcntl(p[1], F_SETFL, 0));
    write(p[1], "a", 1);
    read(p[0], buf, sizeof buf);
    seen("async off", p[0]);

    /* FIOASYNC turns it on and off too. */
    int on = 1;
    res("fioasync 1", ioctl(p[0], FIOASYNC, &on));
    printf("getfl O_ASYNC: %d\n", !!(fcntl(p[0], F_GETFL) & O_ASYNC));
    write(p[1], "a", 1);
    seen("fioasync write", p[0]);
    read(p[0], buf, sizeof buf);
    on = 0;
    res("fioasync 0", ioctl(p[0], FIOASYNC, &on));
    printf("getfl O_ASYNC: %d\n", !!(fcntl(p[0], F_GETFL) & O_ASYNC));
    write(p[1], "a", 1);
    seen("fioasync off", p[0]);
    read(p[0], buf, sizeof buf);

    /* Owner 0: nobody. */
    fcntl(p[0], F_SETFL, O_ASYNC);
    res("setown 0", fcntl(p[0], F_SETOWN, 0));
    write(p[1], "a", 1);
    seen("owner 0", p[0]);
    close(p[0]);
    close(p[1]);
}

static void owner_ex(void)
{
    int p[2];
    pipe(p);
    struct f_owner_ex o = {5, getpid()};
    res("setown_ex bad type", fcntl(p[0], F_SETOWN_EX, &o));
    o.type = -1;
    res("setown_ex type -1", fcntl(p[0], F_SETOWN_EX, &o));
    o.type = F_OWNER_TID;
    o.pid = gettid();
    res("setown_ex tid", fcntl(p[0], F_SETOWN_EX, &o));
    memset(&o, 0, sizeof o);
    fcntl(p[0], F_GETOWN_EX, &o);
    printf("  type %d pid is self %d\n", o.type, o.pid == gettid());
    printf("getown is self: %d\n", fcntl(p[0], F_GETOWN) == getpid());
    o.type = F_OWNER_PGRP;
    o.pid = getpgrp();
    res("setown_ex pgrp", fcntl(p[0], F_SETOWN_EX, &o));
    printf("getown is -pgrp: %d\n", fcntl(p[0], F_GETOWN) == -getpgrp());
    memset(&o, 0, sizeof o);
    fcntl(p[0], F_GETOWN_EX, &o);
    printf("  type %d pid is pgrp %d\n", o.type, o.pid == getpgrp());
    o.type = F_OWNER_PID;
    o.pid = 0;
    res("setown_ex pid 0", fcntl(p[0], F_SETOWN_EX, &o));
    fcntl(p[0], F_GETOWN_EX, &o);
    printf("  type %d pid %d\n", o.type, o.pid);
    res("setown INT_MIN", fcntl(p[0], F_SETOWN, -2147483647 - 1));

    /* A pid nobody has: ESRCH. */
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    waitpid(c, NULL, 0);
    res("setown gone", fcntl(p[0], F_SETOWN, c));
    res("setown gone group", fcntl(p[0], F_SETOWN, -c));
    o.type = F_OWNER_TID;
    o.pid = c;
    res("setown_ex gone", fcntl(p[0], F_SETOWN_EX, &o));
    close(p[0]);
    close(p[1]);
}

/* Wait up to 20 s for SIGIO (blocked); 1 if it came. */
static int got_sigio(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGIO);
    struct timespec ts = {20, 0};
    return sigtimedwait(&s, NULL, &ts) == SIGIO;
}

/* A process group owner: both members get the signal. */
static void group_owner(void)
{
    pid_t a = fork();
    if (a == 0) {
        setpgid(0, 0);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGIO);
        sigprocmask(SIG_BLOCK, &s, NULL);
        int p[2];
        pipe(p);
        pid_t b = fork();
        if (b == 0)
            _exit(got_sigio() ? 0 : 1);
        fcntl(p[0], F_SETOWN, -getpgrp());
        fcntl(p[0], F_SETFL, O_ASYNC);
        write(p[1], "a", 1);
        int mine = got_sigio();
        int st;
        waitpid(b, &st, 0);
        _exit((mine ? 0 : 2) | (WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 4));
    }
    int st;
    waitpid(a, &st, 0);
    printf("group owner: status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* The owner was set by an unprivileged user: no signal to root. */
static void perm(void)
{
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        if (setuid(65534) < 0)
            _exit(3);
        fcntl(p[0], F_SETOWN, getppid());
        _exit(fcntl(p[0], F_SETFL, O_ASYNC) == 0 ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    printf("perm child: %d\n", WEXITSTATUS(st));
    printf("owner set by nobody: %d\n", fcntl(p[0], F_GETOWN) == getpid());
    count = 0;
    write(p[1], "a", 1);
    seen("write, owner set by nobody", p[0]);
    /* Set again by root: delivered. */
    fcntl(p[0], F_SETOWN, getpid());
    write(p[1], "a", 1);
    seen("write, owner set by root", p[0]);
    close(p[0]);
    close(p[1]);
}

static void sockets(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    res("sock setown", fcntl(sv[0], F_SETOWN, getpid()));
    res("sock setfl", fcntl(sv[0], F_SETFL, O_ASYNC));
    write(sv[1], "a", 1);
    seen("stream write", sv[0]);
    fcntl(sv[0], F_SETSIG, SIGRTMIN);
    write(sv[1], "a", 1);
    seen("stream write setsig", sv[0]);
    read(sv[0], buf, sizeof buf);
    close(sv[0]);
    close(sv[1]);

    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    fcntl(sv[0], F_SETOWN, getpid());
    int on = 1;
    res("dgram fioasync", ioctl(sv[0], FIOASYNC, &on));
    write(sv[1], "a", 1);
    seen("dgram write", sv[0]);
    close(sv[0]);
    close(sv[1]);
}

/* A pty: the master hears the slave's output, the slave (owner set by
 * O_ASYNC itself: no foreground group, so the caller) a complete line.
 * Linux passes pty data on from a work queue: wait for the signal. */
static void tty(void)
{
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGIO);
    sigprocmask(SIG_BLOCK, &s, &old);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m);
    unlockpt(m);
    int sl = open(ptsname(m), O_RDWR | O_NOCTTY);
    fcntl(m, F_SETOWN, getpid());
    res("pty master setfl", fcntl(m, F_SETFL, O_ASYNC | O_RDWR));
    write(sl, "x\n", 2);
    printf("master sigio: %d\n", got_sigio());
    /* The slave echoes: keep the master quiet from here on. */
    fcntl(m, F_SETFL, O_RDWR);
    res("pty slave setfl", fcntl(sl, F_SETFL, O_ASYNC | O_RDWR));
    printf("slave owner is self: %d\n", fcntl(sl, F_GETOWN) == getpid());
    write(m, "y", 1);
    write(m, "\n", 1);
    printf("slave sigio: %d\n", got_sigio());
    close(sl);
    close(m);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* inotify: each queued event. */
static void inotify(void)
{
    int in = inotify_init();
    inotify_add_watch(in, ".", IN_CREATE | IN_DELETE);
    fcntl(in, F_SETOWN, getpid());
    res("inotify setfl", fcntl(in, F_SETFL, O_ASYNC));
    close(open("sigio-in", O_RDWR | O_CREAT, 0600));
    seen("inotify create", in);
    fcntl(in, F_SETSIG, SIGRTMIN);
    unlink("sigio-in");
    seen("inotify delete setsig", in);
    close(in);
}

/* F_NOTIFY makes the caller the owner if there is none; its signal goes
 * to the owner, so none after F_SETOWN 0. */
static void dnotify(void)
{
    int d = open(".", O_RDONLY);
    res("notify", fcntl(d, F_NOTIFY, DN_CREATE | DN_MULTISHOT));
    printf("owner after notify is self: %d\n", fcntl(d, F_GETOWN) == getpid());
    close(open("sigio-dn", O_RDWR | O_CREAT, 0600));
    seen("dnotify create", d);
    fcntl(d, F_SETOWN, 0);
    unlink("sigio-dn");
    close(open("sigio-dn", O_RDWR | O_CREAT, 0600));
    seen("dnotify create, owner 0", d);
    unlink("sigio-dn");
    close(d);
}

/* Files without O_ASYNC: F_SETFL drops the flag, FIOASYNC is ENOTTY. */
static void no_async(const char *what, int fd)
{
    int on = 1;
    res(what, fcntl(fd, F_SETFL, O_ASYNC | fcntl(fd, F_GETFL)));
    printf("  getfl O_ASYNC: %d\n", !!(fcntl(fd, F_GETFL) & O_ASYNC));
    res("  fioasync", ioctl(fd, FIOASYNC, &on));
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    handle(SIGIO);
    handle(SIGRTMIN);
    pipe_owner();
    owner_ex();
    group_owner();
    perm();
    sockets();
    tty();
    inotify();
    dnotify();
    no_async("regular file", open("sigio-file", O_RDWR | O_CREAT, 0600));
    no_async("eventfd", eventfd(0, 0));
    unlink("sigio-file");
    printf("sigio done\n");
    return 0;
}
