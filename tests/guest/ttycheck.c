/* Terminal semantics on ptys, printed as facts: run natively on Linux
 * (the reference) and in ruml, the outputs must match line by line.
 * Covers VMIN/VTIME, canonical reads and echo, signal characters, IXON,
 * window size + SIGWINCH, FIONREAD, locked slaves, /dev/tty, controlling
 * tty rules (TIOCSCTTY, TIOCNOTTY, TIOCGSID), background reads (SIGTTIN,
 * EIO for orphans), TOSTOP, and hangups in both directions. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *err(int r)
{
    return r < 0 ? strerrorname_np(errno) : "ok";
}

/* A new pty; the slave opened without becoming a controlling tty. */
static void new_pty(int *m, int *s)
{
    *m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(*m);
    unlockpt(*m);
    *s = open(ptsname(*m), O_RDWR | O_NOCTTY);
    if (*m < 0 || *s < 0) {
        perror("pty");
        exit(1);
    }
}

static void set_raw(int s, int min, int time)
{
    struct termios t;
    tcgetattr(s, &t);
    t.c_lflag &= ~(ICANON | ECHO | ISIG);
    t.c_cc[VMIN] = min;
    t.c_cc[VTIME] = time;
    tcsetattr(s, TCSANOW, &t);
}

/* Write `what` to fd after `delay` seconds, from a child process. */
static pid_t later(int fd, double delay, const char *what)
{
    pid_t p = fork();
    if (p == 0) {
        usleep(delay * 1e6);
        write(fd, what, strlen(what));
        _exit(0);
    }
    return p;
}

static void drain(int m)
{
    char b[256];
    int fl = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, fl | O_NONBLOCK);
    while (read(m, b, sizeof b) > 0) {
    }
    fcntl(m, F_SETFL, fl);
}

static void vmin_vtime(void)
{
    int m, s;
    char b[64];
    new_pty(&m, &s);

    set_raw(s, 0, 0);
    double t0 = now();
    int n = read(s, b, sizeof b);
    printf("min0 time0 empty: n=%d quick=%d\n", n, now() - t0 < 0.2);

    set_raw(s, 0, 4);
    t0 = now();
    n = read(s, b, sizeof b);
    double dt = now() - t0;
    printf("min0 time4 empty: n=%d waited=%d\n", n, dt > 0.3 && dt < 2);

    pid_t p = later(m, 0.1, "x");
    n = read(s, b, sizeof b);
    waitpid(p, NULL, 0);
    printf("min0 time4 data: n=%d\n", n);

    set_raw(s, 3, 0);
    p = later(m, 0.1, "a");
    pid_t q = later(m, 0.3, "bc");
    n = read(s, b, sizeof b);
    waitpid(p, NULL, 0);
    waitpid(q, NULL, 0);
    printf("min3 time0: n=%d data=%.*s\n", n, n > 0 ? n : 0, b);

    set_raw(s, 5, 2);
    p = later(m, 0.1, "ab");
    t0 = now();
    n = read(s, b, sizeof b);
    dt = now() - t0;
    waitpid(p, NULL, 0);
    printf("min5 time2 interbyte: n=%d waited=%d\n", n, dt > 0.2 && dt < 2);

    set_raw(s, 2, 0);
    write(m, "xyz", 3);
    usleep(50000);
    int avail = -1;
    ioctl(s, FIONREAD, &avail);
    n = read(s, b, 1);
    printf("min2 count1: n=%d fionread=%d\n", n, avail);
    n = read(s, b, sizeof b);
    printf("min2 rest: n=%d\n", n);
    close(s);
    close(m);
}

static void canonical(void)
{
    int m, s;
    char b[64];
    new_pty(&m, &s);
    write(m, "hello\rworld\n", 12);
    usleep(50000);
    int avail = -1;
    ioctl(s, FIONREAD, &avail);
    int n1 = read(s, b, sizeof b);
    int n2 = read(s, b + n1, sizeof b - n1);
    printf("canon: fionread=%d reads=%d,%d data=%.*s", avail, n1, n2, n1 + n2, b);
    n1 = read(m, b, sizeof b);
    printf("canon echo:");
    for (int i = 0; i < n1; i++)
        printf(" %02x", (unsigned char)b[i]);
    printf("\n");
    /* Erase and kill while editing. */
    write(m, "abc\x7f\x7f" "d\x15" "ok\x17" "fine\n", 15);
    usleep(50000);
    n1 = read(s, b, sizeof b);
    printf("canon edit: %.*s", n1, b);
    drain(m);
    /* ^D at line start: end of file; after text: pushes the line. */
    write(m, "\x04" "part\x04", 6);
    usleep(50000);
    n1 = read(s, b, sizeof b);
    n2 = read(s, b, sizeof b);
    printf("canon eof: %d %d\n", n1, n2);
    /* Output processing: \n -> \r\n. */
    drain(m);
    write(s, "a\nb", 3);
    usleep(50000);
    n1 = read(m, b, sizeof b);
    printf("opost: %d bytes\n", n1);
    close(s);
    close(m);
}

static volatile sig_atomic_t got;
static void on_sig(int sig)
{
    got = sig;
}

/* A child that makes the slave its controlling tty, then runs `fn`. */
static pid_t in_session(int m, int s, void (*fn)(int))
{
    pid_t p = fork();
    if (p == 0) {
        close(m);
        setsid();
        if (ioctl(s, TIOCSCTTY, 0) < 0) {
            printf("TIOCSCTTY: %s\n", err(-1));
            _exit(1);
        }
        fn(s);
        _exit(0);
    }
    return p;
}

static void wait_for_sigint(int s)
{
    (void)s;
    pause();
    _exit(3);
}

static int sync_fd = -1;

/* Session leader: run a child job in the foreground, report how it
 * stopped on sync_fd. */
static void job_leader(int s)
{
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        for (;;)
            pause();
    }
    setpgid(c, c);
    tcsetpgrp(s, c);
    write(sync_fd, "r", 1);
    int st;
    waitpid(c, &st, WUNTRACED);
    char line[64];
    int n = snprintf(line, sizeof line, "^Z: stopped=%d sig=%d\n", WIFSTOPPED(st),
                     WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
    write(sync_fd, line, n);
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
}

static void signal_chars(void)
{
    int m, s;
    new_pty(&m, &s);
    pid_t p = in_session(m, s, wait_for_sigint);
    usleep(100000);
    write(m, "\x03", 1);
    int st;
    waitpid(p, &st, 0);
    printf("^C: signaled=%d sig=%d\n", WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    char b[16];
    int n = read(m, b, sizeof b);
    printf("^C echo: %.*s\n", n, b);
    close(s);
    close(m);

    /* ^Z stops a foreground job (a group with a parent in the session:
     * stop signals to orphaned groups are discarded). */
    new_pty(&m, &s);
    int sync[2];
    pipe(sync);
    sync_fd = sync[1];
    p = in_session(m, s, job_leader);
    close(sync[1]);
    char x;
    read(sync[0], &x, 1);
    write(m, "\x1a", 1);
    char line[64] = {0};
    int k = read(sync[0], line, sizeof line - 1);
    printf("%.*s", k > 0 ? k : 0, line);
    waitpid(p, &st, 0);
    close(sync[0]);
    close(s);
    close(m);
}

static void flow_control(void)
{
    int m, s;
    new_pty(&m, &s);
    write(m, "\x13", 1); /* ^S: stop output */
    usleep(50000);
    int fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl | O_NONBLOCK);
    int r = write(s, "x", 1);
    printf("ixon stopped write: %s\n", err(r));
    struct pollfd pf = {s, POLLOUT, 0};
    poll(&pf, 1, 0);
    printf("ixon stopped pollout: %d\n", !!(pf.revents & POLLOUT));
    write(m, "\x11", 1); /* ^Q */
    usleep(50000);
    r = write(s, "y", 1);
    printf("ixon started write: %d\n", r);
    char b[16];
    int n = read(m, b, sizeof b);
    printf("ixon master got: %.*s\n", n, b);
    close(s);
    close(m);
}

static void winsize(void)
{
    int m, s;
    new_pty(&m, &s);
    struct winsize ws = {0};
    ioctl(s, TIOCGWINSZ, &ws);
    printf("winsize initial: %dx%d\n", ws.ws_row, ws.ws_col);
    signal(SIGWINCH, on_sig);
    /* Make the slave our own controlling tty in a child session. */
    pid_t p = fork();
    if (p == 0) {
        close(m);
        setsid();
        ioctl(s, TIOCSCTTY, 0);
        got = 0;
        write(1, "", 0);
        for (int i = 0; i < 100 && !got; i++)
            usleep(10000);
        struct winsize w2;
        ioctl(s, TIOCGWINSZ, &w2);
        printf("winsize child: sigwinch=%d %dx%d\n", got == SIGWINCH, w2.ws_row, w2.ws_col);
        fflush(stdout);
        _exit(0);
    }
    usleep(100000);
    ws.ws_row = 33;
    ws.ws_col = 111;
    ioctl(m, TIOCSWINSZ, &ws);
    waitpid(p, NULL, 0);
    signal(SIGWINCH, SIG_DFL);
    close(s);
    close(m);
}

static void locked_slave(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m);
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    printf("locked slave open: %s\n", err(s));
    int lock = 1;
    ioctl(m, TIOCGPTLCK, &lock);
    printf("locked flag: %d\n", lock);
    unlockpt(m);
    s = open(ptsname(m), O_RDWR | O_NOCTTY);
    printf("unlocked slave open: %s\n", err(s));
    int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    printf("TIOCGPTPEER: %s same=%d\n", err(peer), peer >= 0 && !strcmp(ttyname(peer), ptsname(m)));
    close(peer);
    close(s);
    close(m);
}

static void ctty_child(int s)
{
    pid_t sid = -1;
    int r = ioctl(s, TIOCGSID, &sid);
    printf("TIOCGSID: %s leader=%d\n", err(r), sid == getpid());
    pid_t pg = -1;
    ioctl(s, TIOCGPGRP, &pg);
    printf("TIOCGPGRP is own group: %d\n", pg == getpgrp());
    int fd = open("/dev/tty", O_RDWR);
    printf("/dev/tty with ctty: %s\n", err(fd));
    close(fd);
    /* A second TIOCSCTTY by the same leader on the same tty is fine. */
    printf("TIOCSCTTY again: %s\n", err(ioctl(s, TIOCSCTTY, 0)));
    /* A child in another session cannot take it. */
    pid_t c = fork();
    if (c == 0) {
        setsid();
        printf("steal without force: %s\n", err(ioctl(s, TIOCSCTTY, 0)));
        printf("/dev/tty after setsid: %s\n", err(open("/dev/tty", O_RDWR)));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    /* A non-leader drops it with TIOCNOTTY: /dev/tty fails after. */
    c = fork();
    if (c == 0) {
        printf("TIOCNOTTY non-leader: %s\n", err(ioctl(s, TIOCNOTTY)));
        printf("/dev/tty after TIOCNOTTY: %s\n", err(open("/dev/tty", O_RDWR)));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    fflush(stdout);
}

static void ctty(void)
{
    int m, s;
    new_pty(&m, &s);
    pid_t p = in_session(m, s, ctty_child);
    waitpid(p, NULL, 0);
    /* Not our controlling tty: process-group requests fail. */
    pid_t pg;
    printf("TIOCGPGRP not ctty: %s\n", err(ioctl(s, TIOCGPGRP, &pg)));
    close(s);
    close(m);
}

static void bg_reader(int s)
{
    /* The session leader is in the foreground; a child in its own
     * group is in the background. */
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        char b[4];
        int r = read(s, b, sizeof b);
        printf("bg read after SIGCONT: %d\n", r);
        fflush(stdout);
        _exit(0);
    }
    setpgid(c, c);
    int st;
    waitpid(c, &st, WUNTRACED);
    printf("bg read: stopped=%d sig=%d\n", WIFSTOPPED(st), WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
    kill(c, SIGKILL);
    waitpid(c, &st, 0);

    /* Ignoring SIGTTIN: EIO instead. */
    c = fork();
    if (c == 0) {
        setpgid(0, 0);
        signal(SIGTTIN, SIG_IGN);
        char b[4];
        printf("bg read ignoring SIGTTIN: %s\n", err(read(s, b, sizeof b)));
        fflush(stdout);
        _exit(0);
    }
    setpgid(c, c);
    waitpid(c, &st, 0);

    /* TOSTOP: background writes stop with SIGTTOU. */
    struct termios t;
    tcgetattr(s, &t);
    t.c_lflag |= TOSTOP;
    tcsetattr(s, TCSANOW, &t);
    c = fork();
    if (c == 0) {
        setpgid(0, 0);
        write(s, "w", 1);
        _exit(0);
    }
    setpgid(c, c);
    waitpid(c, &st, WUNTRACED);
    printf("bg write tostop: stopped=%d sig=%d\n", WIFSTOPPED(st), WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    /* tcsetattr from the background stops too (without TOSTOP). */
    t.c_lflag &= ~TOSTOP;
    tcsetattr(s, TCSANOW, &t);
    c = fork();
    if (c == 0) {
        setpgid(0, 0);
        tcsetattr(s, TCSANOW, &t);
        _exit(0);
    }
    setpgid(c, c);
    waitpid(c, &st, WUNTRACED);
    printf("bg tcsetattr: stopped=%d\n", WIFSTOPPED(st));
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    /* tcsetpgrp hands the terminal over. */
    c = fork();
    if (c == 0) {
        setpgid(0, 0);
        for (;;)
            pause();
    }
    setpgid(c, c);
    printf("tcsetpgrp: %s\n", err(tcsetpgrp(s, c)));
    printf("tcgetpgrp is child: %d\n", tcgetpgrp(s) == c);
    printf("tcsetpgrp bad group: %s\n", err(tcsetpgrp(s, 99999)));
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    fflush(stdout);
}

static void jobs(void)
{
    int m, s;
    new_pty(&m, &s);
    pid_t p = in_session(m, s, bg_reader);
    waitpid(p, NULL, 0);
    close(s);
    close(m);
}

static void hangups(void)
{
    int m, s;
    char b[16];
    new_pty(&m, &s);
    /* Slave side gone: the master reads what is left, then EIO. */
    write(s, "bye", 3);
    close(s);
    usleep(50000);
    struct pollfd pf = {m, POLLIN, 0};
    poll(&pf, 1, 0);
    printf("slave closed: pollhup=%d pollin=%d\n", !!(pf.revents & POLLHUP), !!(pf.revents & POLLIN));
    int n = read(m, b, sizeof b);
    printf("slave closed: read=%d\n", n);
    printf("slave closed: then %s\n", err(read(m, b, sizeof b)));
    close(m);

    /* Master gone: the session leader gets SIGHUP; the slave reads EOF
     * and writes fail. */
    new_pty(&m, &s);
    pid_t p = fork();
    if (p == 0) {
        close(m);
        setsid();
        ioctl(s, TIOCSCTTY, 0);
        signal(SIGHUP, on_sig);
        write(1, "", 0);
        for (int i = 0; i < 100 && !got; i++)
            usleep(10000);
        printf("master closed: sighup=%d\n", got == SIGHUP);
        printf("master closed: read=%d\n", (int)read(s, b, sizeof b));
        printf("master closed: write %s\n", err(write(s, "x", 1)));
        printf("master closed: /dev/tty %s\n", err(open("/dev/tty", O_RDWR)));
        fflush(stdout);
        _exit(0);
    }
    close(s);
    usleep(100000);
    close(m);
    waitpid(p, NULL, 0);

    /* The controlling process exits: its foreground group gets SIGHUP. */
    new_pty(&m, &s);
    int ready[2], result[2];
    pipe(ready);
    pipe(result);
    p = fork();
    if (p == 0) {
        close(m);
        setsid();
        ioctl(s, TIOCSCTTY, 0);
        pid_t c = fork();
        if (c == 0) {
            got = 0;
            signal(SIGHUP, on_sig);
            write(ready[1], "r", 1);
            for (int i = 0; i < 200 && !got; i++)
                usleep(10000);
            char r = got == SIGHUP ? 'H' : '-';
            write(result[1], &r, 1);
            _exit(0);
        }
        char x;
        read(ready[0], &x, 1);
        _exit(0); /* leader exits, child is in its foreground group */
    }
    close(ready[1]);
    close(result[1]);
    waitpid(p, NULL, 0);
    char r = 0;
    read(result[0], &r, 1);
    printf("leader exit: fg child got SIGHUP=%d\n", r == 'H');
    close(ready[0]);
    close(result[0]);
    close(s);
    close(m);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("/dev/tty without ctty: ");
    pid_t p = fork();
    if (p == 0) {
        setsid();
        printf("%s\n", err(open("/dev/tty", O_RDWR)));
        _exit(0);
    }
    waitpid(p, NULL, 0);
    vmin_vtime();
    canonical();
    signal_chars();
    flow_control();
    winsize();
    locked_slave();
    ctty();
    jobs();
    hangups();
    printf("ttycheck done\n");
    return 0;
}
