/*
 * pty packet mode (TIOCPKT), compared line by line with a native run
 * (tests/spine_c.rs): turning it on and off, the TIOCPKT_DATA byte before
 * data, status bytes for flow control (tcflow, ^S-style termios changes),
 * flushes (tcflush, a signal character), POLLPRI on the master, and the
 * slave refusing the request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static int m, s;

/* Wait until the master has something to read (Linux moves pty data
 * and line-discipline work through a work queue: not at once). */
static void settle(void) {
    struct pollfd p = {.fd = m, .events = POLLIN | POLLPRI};
    poll(&p, 1, 2000);
}

/* One read from the master, printed as hex bytes. */
static void rd_now(const char *what) {
    unsigned char b[64];
    ssize_t n = read(m, b, sizeof b);
    printf("%s: %zd", what, n);
    if (n < 0)
        printf(" %s", strerrorname_np(errno));
    for (ssize_t i = 0; i < n; i++)
        printf(" %02x", b[i]);
    printf("\n");
}

/* One read once something is there. */
static void rd(const char *what) {
    settle();
    rd_now(what);
}

static void pollm(const char *what) {
    struct pollfd p = {.fd = m, .events = POLLIN | POLLPRI};
    int n = poll(&p, 1, 0);
    printf("%s: poll %d revents 0x%x\n", what, n, n > 0 ? p.revents : 0);
}

static void set_ixon(int on) {
    struct termios t;
    tcgetattr(s, &t);
    if (on)
        t.c_iflag |= IXON;
    else
        t.c_iflag &= ~IXON;
    tcsetattr(s, TCSANOW, &t);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        perror("ptmx");
        return 1;
    }
    s = open(ptsname(m), O_RDWR | O_NOCTTY);
    if (s < 0) {
        perror("slave");
        return 1;
    }
    int v = -1;
    printf("TIOCGPKT %d", ioctl(m, TIOCGPKT, &v));
    printf(" = %d\n", v);
    int one = 1, zero = 0;
    errno = 0;
    int r = ioctl(s, TIOCPKT, &one);
    printf("TIOCPKT on the slave %d %s\n", r, r ? strerrorname_np(errno) : "ok");
    printf("TIOCPKT on %d", ioctl(m, TIOCPKT, &one));
    ioctl(m, TIOCGPKT, &v);
    printf(", TIOCGPKT = %d\n", v);

    rd_now("nothing");
    pollm("nothing");
    write(s, "hi\n", 3);
    settle();
    pollm("data");
    rd("data");

    tcflow(s, TCOOFF);
    pollm("stopped");
    rd("stopped");
    pollm("after status");
    tcflow(s, TCOON);
    rd("started");
    tcflow(s, TCOOFF);
    tcflow(s, TCOON);
    rd("stopped and started");

    tcflush(s, TCIFLUSH);
    rd("input flush");
    tcflush(s, TCOFLUSH);
    rd("output flush");
    tcflush(s, TCIOFLUSH);
    rd("both flushed");

    set_ixon(0);
    rd("ixon off");
    set_ixon(1);
    rd("ixon on");
    set_ixon(1);
    rd_now("ixon unchanged");

    /* ^C typed at the master: the slave's line discipline flushes both
     * ways (no one to signal: the slave is nobody's controlling tty), then
     * echoes it. */
    write(m, "\x03", 1);
    rd("^C status");
    rd("^C echo");

    /* A one-byte buffer gets the TIOCPKT_DATA byte alone. */
    write(s, "x", 1);
    unsigned char c = 0xff;
    settle();
    ssize_t n = read(m, &c, 1);
    printf("one-byte read %zd %02x\n", n, c);
    rd("rest");

    /* Off again: plain data, and events are not recorded. */
    printf("TIOCPKT off %d\n", ioctl(m, TIOCPKT, &zero));
    tcflow(s, TCOOFF);
    tcflow(s, TCOON);
    tcflush(s, TCIFLUSH);
    write(s, "ok\n", 3);
    rd("plain");
    ioctl(m, TIOCPKT, &one);
    rd("on again, nothing pending");

    close(s);
    close(m);
    printf("ptypkt done\n");
    return 0;
}
