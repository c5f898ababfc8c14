/* POLL_OUT SIGIO on AF_UNIX sockets: an O_ASYNC writer that filled its
 * peer's queue (EAGAIN) gets SIGIO with si_code POLL_OUT once the reader
 * drains it; one that never ran out of room gets none. Stream and
 * seqpacket pairs. Compared with a native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static sigset_t set;

/* Every SIGIO that comes within `ms`, summed up: count, last code, fd ok. */
static void report(const char *what, int fd, int ms)
{
    siginfo_t si;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    int n = 0, code = 0, fdok = 0;
    long band = 0;
    while (sigtimedwait(&set, &si, &ts) == SIGIO) {
        n++;
        code = si.si_code;
        band = si.si_band;
        fdok = si.si_fd == fd;
        ts.tv_sec = 0;
        ts.tv_nsec = 200 * 1000000L;
    }
    if (n == 0)
        printf("%s: none\n", what);
    else
        printf("%s: %s, code %s, band %#lx, fd ok %d\n", what, n == 1 ? "one SIGIO" : "several",
               code == POLL_OUT ? "POLL_OUT" : code == POLL_IN ? "POLL_IN" : "other", band, fdok);
}

static void pair(int type, const char *name)
{
    int sv[2];
    if (socketpair(AF_UNIX, type, 0, sv) < 0) {
        printf("socketpair: %s\n", strerror(errno));
        return;
    }
    int a = sv[0], b = sv[1];
    fcntl(a, F_SETOWN, getpid());
    fcntl(a, F_SETSIG, SIGIO);
    fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_ASYNC | O_NONBLOCK);
    fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK);

    /* Room never ran out: reading sends nothing. */
    write(a, "0123456789", 10);
    char buf[4096];
    read(b, buf, sizeof buf);
    printf("%s: ", name);
    report("read without a full queue", a, 500);

    /* Fill b's queue until a's write fails. */
    int writes = 0;
    memset(buf, 'x', sizeof buf);
    while (write(a, buf, 1024) > 0)
        writes++;
    printf("%s: filled, %s\n", name, errno == EAGAIN ? "EAGAIN" : strerror(errno));
    printf("%s: ", name);
    report("while full", a, 500);
    while (read(b, buf, sizeof buf) > 0)
        ;
    printf("%s: ", name);
    report("after draining", a, 10000);
    close(a);
    close(b);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pair(SOCK_STREAM, "stream");
    pair(SOCK_SEQPACKET, "seqpacket");
    printf("sigio_unix done\n");
    return 0;
}
