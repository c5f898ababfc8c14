/* O_ASYNC on internet sockets over loopback: SIGIO to the owner when a
 * UDP datagram arrives (with F_SETSIG: si_code POLL_IN, si_band, si_fd),
 * when a TCP listener gets a connection (its F_SETSIG signal, "RT"), when
 * a non-blocking connect completes (SIGIO), when data or the peer's close reaches a connected socket;
 * none while nothing happens; a route netlink socket when its reply
 * queues. Compared with a native run. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static sigset_t set;

/* Wait (up to 10 s) for one of the signals in `set`; its number or 0. */
static int wait_sig(siginfo_t *si, int secs)
{
    struct timespec ts = {secs, 0};
    int s = sigtimedwait(&set, si, &ts);
    return s < 0 ? 0 : s;
}

/* Take every pending signal of `set`; say whether SIGIO was among them. */
static const char *drain(void)
{
    siginfo_t si;
    int any = 0;
    while (wait_sig(&si, 0) > 0)
        any = 1;
    return any ? "SIGIO" : "none";
}

/* Wait for a signal (up to 10 s), then take the rest; which came. */
static const char *expect(void)
{
    siginfo_t si;
    int got = 0, sig = wait_sig(&si, 10);
    while (sig > 0) {
        got |= sig == SIGIO ? 1 : 2;
        struct timespec ts = {0, 100 * 1000 * 1000};
        sig = sigtimedwait(&set, &si, &ts);
    }
    return (const char *[]){"none", "SIGIO", "RT", "SIGIO+RT"}[got];
}

static void async_on(int fd)
{
    fcntl(fd, F_SETOWN, getpid());
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    char buf[64];

    /* UDP. */
    int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
    bind(r, (void *)&a, sizeof a);
    getsockname(r, (void *)&a, &al);
    async_on(r);
    printf("udp after O_ASYNC: %s\n", drain());
    sendto(s, "x", 1, 0, (void *)&a, sizeof a);
    printf("udp datagram: %s\n", expect());
    recv(r, buf, sizeof buf, 0);
    printf("udp after reading: %s\n", drain());
    fcntl(r, F_SETSIG, SIGRTMIN + 1);
    sendto(s, "yy", 2, 0, (void *)&a, sizeof a);
    siginfo_t si;
    int sig = wait_sig(&si, 10);
    printf("udp F_SETSIG: rt %d code %d band 0x%lx fd %d\n", sig == SIGRTMIN + 1, si.si_code,
           (long)si.si_band, si.si_fd == r);
    recv(r, buf, sizeof buf, 0);
    printf("udp then: %s\n", drain());
    fcntl(r, F_SETFL, fcntl(r, F_GETFL) & ~O_ASYNC);
    sendto(s, "z", 1, 0, (void *)&a, sizeof a);
    struct pollfd p = {r, POLLIN, 0};
    poll(&p, 1, 10000);
    printf("udp without O_ASYNC: %s\n", drain());
    close(r);
    close(s);

    /* TCP. */
    a.sin_port = 0;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    bind(l, (void *)&a, sizeof a);
    al = sizeof a;
    getsockname(l, (void *)&a, &al);
    listen(l, 4);
    async_on(l);
    fcntl(l, F_SETSIG, SIGRTMIN + 1);
    printf("listener: %s\n", drain());
    int c = socket(AF_INET, SOCK_STREAM, 0);
    async_on(c);
    fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
    int cr = connect(c, (void *)&a, sizeof a);
    printf("connect: %d %s\n", cr, cr < 0 ? strerrorname_np(errno) : "OK");
    p = (struct pollfd){c, POLLOUT, 0};
    poll(&p, 1, 10000);
    printf("connection made: %s\n", expect());
    int x = accept(l, NULL, NULL);
    printf("after accept: %s\n", drain());
    async_on(x);
    printf("accepted O_ASYNC: %s\n", drain());
    write(c, "hello", 5);
    printf("data: %s\n", expect());
    printf("read %zd\n", read(x, buf, sizeof buf));
    printf("after reading: %s\n", drain());
    close(c);
    printf("peer closed: %s\n", expect());
    printf("read %zd\n", read(x, buf, sizeof buf));
    close(x);
    close(l);

    /* A route netlink socket: SIGIO when its reply queues. */
    int n = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    async_on(n);
    printf("netlink O_ASYNC: %s\n", drain());
    struct {
        struct nlmsghdr h;
        struct rtgenmsg g;
    } req = {{sizeof req, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0}, {AF_UNSPEC}};
    send(n, &req, sizeof req, 0);
    printf("netlink reply: %s\n", expect());
    close(n);
    printf("sigio_inet done\n");
    return 0;
}
