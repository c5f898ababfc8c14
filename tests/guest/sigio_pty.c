/* POLL_OUT SIGIO on ttys: an O_ASYNC pty slave whose non-blocking write
 * stopped short (its output full) gets SIGIO with si_code POLL_OUT once
 * the master reads the output; a write that went in whole brings none.
 * Compared with a native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static sigset_t set;

/* Every SIGIO that comes within `ms`, summed up. */
static void report(const char *what, int fd, int ms)
{
    siginfo_t si;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    int n = 0, code = 0, fdok = 0;
    while (sigtimedwait(&set, &si, &ts) == SIGIO) {
        n++;
        code = si.si_code;
        fdok = si.si_fd == fd;
        ts.tv_sec = 0;
        ts.tv_nsec = 200 * 1000000L;
    }
    if (n == 0)
        printf("%s: none\n", what);
    else
        printf("%s: %s, code %s, fd ok %d\n", what, n == 1 ? "one SIGIO" : "several",
               code == POLL_OUT ? "POLL_OUT" : code == POLL_IN ? "POLL_IN" : "other", fdok);
}

static void drain(int m)
{
    char buf[4096];
    while (read(m, buf, sizeof buf) > 0)
        ;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
    grantpt(m);
    unlockpt(m);
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    struct termios t;
    tcgetattr(s, &t);
    cfmakeraw(&t);
    tcsetattr(s, TCSANOW, &t);
    fcntl(s, F_SETOWN, getpid());
    fcntl(s, F_SETSIG, SIGIO);
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_ASYNC | O_NONBLOCK);

    printf("write: %zd\n", write(s, "0123456789", 10));
    drain(m);
    report("read of a whole write", s, 500);

    char buf[1024];
    memset(buf, 'x', sizeof buf);
    while (write(s, buf, sizeof buf) > 0)
        ;
    printf("filled: %s\n", errno == EAGAIN ? "EAGAIN" : strerror(errno));
    report("while full", s, 500);
    drain(m);
    report("after the master read", s, 10000);
    printf("sigio_pty done\n");
    return 0;
}
