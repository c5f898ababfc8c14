/* NETLINK_KOBJECT_UEVENT sockets (udev's and systemd's device monitors):
 * creation, bind and getsockname (autobind port ids, group masks,
 * rebinding), memberships, SO_RCVBUF/SO_RCVBUFFORCE, SO_PASSCRED,
 * SO_ATTACH_FILTER checks, and receiving with nothing to receive
 * (EAGAIN, poll, a blocking recv ended by a signal). Run as root; no
 * events are expected or looked for. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void show(const char *what, int r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %d\n", what, r);
}

static int bindnl(int fd, unsigned pid, unsigned groups)
{
    struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_pid = pid, .nl_groups = groups};
    return bind(fd, (struct sockaddr *)&a, sizeof a);
}

/* getsockname: length, family, whether the port is our pid (or its
 * sign), the groups. */
static void name(const char *what, int fd)
{
    struct sockaddr_nl a;
    socklen_t len = sizeof a;
    memset(&a, 0xaa, sizeof a);
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        show(what, -1);
        return;
    }
    const char *port = a.nl_pid == 0 ? "0" : a.nl_pid == (unsigned)getpid() ? "pid"
                                         : (int)a.nl_pid < 0               ? "negative"
                                                                           : "other";
    printf("%s: len %u family %u port %s groups %#x\n", what, len, a.nl_family, port,
           a.nl_groups);
}

static int getint(int fd, int level, int opt)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, opt, &v, &len) < 0)
        return -errno;
    return v;
}

static int setint(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof v);
}

static void on_alarm(int sig)
{
    (void)sig;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    show("socket raw", fd < 0 ? -1 : 0);
    int d = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT);
    show("socket dgram", d < 0 ? -1 : 0);
    show("socket stream", socket(AF_NETLINK, SOCK_STREAM, NETLINK_KOBJECT_UEVENT));
    show("socket seqpacket", socket(AF_NETLINK, SOCK_SEQPACKET, NETLINK_KOBJECT_UEVENT));
    show("socket proto 99", socket(AF_NETLINK, SOCK_RAW, 99));

    printf("SO_TYPE %d SO_PROTOCOL %d SO_DOMAIN %d\n", getint(fd, SOL_SOCKET, SO_TYPE),
           getint(fd, SOL_SOCKET, SO_PROTOCOL), getint(fd, SOL_SOCKET, SO_DOMAIN));

    printf("dgram SO_TYPE %d\n", getint(d, SOL_SOCKET, SO_TYPE));
    name("unbound", fd);
    struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = 1};
    show("bind short", bind(fd, (struct sockaddr *)&a, 4));
    a.nl_family = AF_INET;
    show("bind AF_INET", bind(fd, (struct sockaddr *)&a, sizeof a));
    name("after failed binds", fd);
    show("bind groups 1", bindnl(fd, 0, 1));
    name("bound", fd);
    show("rebind other port", bindnl(fd, 12345, 1));
    show("rebind same port, no groups", bindnl(fd, getpid(), 0));
    name("rebound", fd);
    show("rebind groups 3", bindnl(fd, getpid(), 3));
    name("rebound 3", fd);

    /* A second socket of the process gets a negative port; our pid is
     * taken for an explicit bind. */
    show("second bind", bindnl(d, 0, 0));
    name("second", d);
    int e = socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT);
    show("bind taken port", bindnl(e, getpid(), 0));
    name("after EADDRINUSE", e);

    /* Memberships. */
    show("add membership 0", setint(e, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 0));
    show("add membership 33", setint(e, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 33));
    show("add membership 2", setint(e, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 2));
    name("member of 2", e);
    show("drop membership 2", setint(e, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, 2));
    name("member of none", e);
    /* Flag options: off at first, then read back as set. */
    printf("pktinfo %d no_enobufs %d ext_ack %d\n", getint(e, SOL_NETLINK, NETLINK_PKTINFO),
           getint(e, SOL_NETLINK, NETLINK_NO_ENOBUFS), getint(e, SOL_NETLINK, NETLINK_EXT_ACK));
    show("set pktinfo", setint(e, SOL_NETLINK, NETLINK_PKTINFO, 1));
    show("set no_enobufs", setint(e, SOL_NETLINK, NETLINK_NO_ENOBUFS, 7));
    show("set ext_ack", setint(e, SOL_NETLINK, NETLINK_EXT_ACK, 1));
    show("clear ext_ack", setint(e, SOL_NETLINK, NETLINK_EXT_ACK, 0));
    printf("pktinfo %d no_enobufs %d ext_ack %d\n", getint(e, SOL_NETLINK, NETLINK_PKTINFO),
           getint(e, SOL_NETLINK, NETLINK_NO_ENOBUFS), getint(e, SOL_NETLINK, NETLINK_EXT_ACK));
    show("short pktinfo", setsockopt(e, SOL_NETLINK, NETLINK_PKTINFO, &(short){1}, sizeof(short)));
    printf("pktinfo after a short value %d\n", getint(e, SOL_NETLINK, NETLINK_PKTINFO));
    show("SOL_NETLINK 99", setint(e, SOL_NETLINK, 99, 1));
    show("level 999", setint(e, 999, 1, 1));
    short s = 1;
    show("short add membership", setsockopt(e, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &s, sizeof s));

    /* Buffer sizes: doubled; forced past rmem_max. */
    show("SO_RCVBUF 65536", setint(fd, SOL_SOCKET, SO_RCVBUF, 65536));
    printf("rcvbuf %d\n", getint(fd, SOL_SOCKET, SO_RCVBUF));
    show("SO_RCVBUF 10", setint(fd, SOL_SOCKET, SO_RCVBUF, 10));
    printf("rcvbuf %d\n", getint(fd, SOL_SOCKET, SO_RCVBUF));
    show("SO_RCVBUFFORCE 1M", setint(fd, SOL_SOCKET, SO_RCVBUFFORCE, 1 << 20));
    printf("rcvbuf %d\n", getint(fd, SOL_SOCKET, SO_RCVBUF));
    show("SO_RCVBUF short", setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s, sizeof s));

    printf("passcred %d\n", getint(fd, SOL_SOCKET, SO_PASSCRED));
    show("SO_PASSCRED 1", setint(fd, SOL_SOCKET, SO_PASSCRED, 1));
    printf("passcred %d\n", getint(fd, SOL_SOCKET, SO_PASSCRED));

    /* The SOL_SOCKET options of every socket: kept, read back as Linux
     * keeps them, or refused; SO_RCVTIMEO ends a blocking receive. */
    int o = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT);
    int gen[] = {SO_DEBUG, SO_REUSEADDR, SO_DONTROUTE, SO_BROADCAST, SO_SNDBUF, SO_KEEPALIVE,
                 SO_OOBINLINE, SO_NO_CHECK, SO_PRIORITY, SO_REUSEPORT, SO_RCVLOWAT, SO_SNDLOWAT,
                 SO_TIMESTAMP, SO_TIMESTAMPNS, SO_MARK, SO_TYPE, SO_ERROR, SO_PROTOCOL,
                 SO_ACCEPTCONN, SO_PEEK_OFF, SO_BUSY_POLL, SO_ZEROCOPY, 200};
    for (unsigned i = 0; i < sizeof gen / sizeof *gen; i++) {
        int before = getint(o, SOL_SOCKET, gen[i]);
        int r = setint(o, SOL_SOCKET, gen[i], 7);
        const char *e = r < 0 ? strerrorname_np(errno) : "ok";
        printf("option %d: %d, set 7: %s, then %d\n", gen[i], before, e, getint(o, SOL_SOCKET, gen[i]));
    }
    struct linger lg = {1, 5};
    show("SO_LINGER", setsockopt(o, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    socklen_t ll = sizeof lg;
    memset(&lg, 0, sizeof lg);
    getsockopt(o, SOL_SOCKET, SO_LINGER, &lg, &ll);
    printf("linger %d %d len %u\n", lg.l_onoff, lg.l_linger, ll);
    show("SO_RCVTIMEO int", setint(o, SOL_SOCKET, SO_RCVTIMEO, 1));
    struct timeval tv = {0, 2000000};
    show("SO_RCVTIMEO 2000000 us", setsockopt(o, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    tv.tv_usec = 200000;
    show("SO_RCVTIMEO 0.2 s", setsockopt(o, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    memset(&tv, 0, sizeof tv);
    socklen_t tl = sizeof tv;
    getsockopt(o, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl);
    printf("rcvtimeo %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
    char tb[16];
    show("blocking recv with a timeout", recv(o, tb, sizeof tb, 0));
    close(o);

    /* Filters: checked when attached. */
    struct sock_filter accept[] = {BPF_STMT(BPF_RET | BPF_K, 0xffffffff)};
    struct sock_filter badjump[] = {
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 5, 0),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog p = {1, accept};
    int zero = 0;
    show("detach without filter", setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof zero));
        show("attach", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p));
    p.len = 0;
    show("attach empty", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p));
    p.len = 2;
    p.filter = badjump;
    show("attach bad jump", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p));
    p.len = 1;
    p.filter = NULL;
    show("attach NULL", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p));
    show("detach", setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof zero));
    show("detach again", setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof zero));

    /* Nothing to receive on a socket in no group. */
    char buf[256];
    int g = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    show("recv nonblocking", recv(g, buf, sizeof buf, 0));
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    show("recvmsg nonblocking", recvmsg(g, &m, 0));
    show("read nonblocking", read(g, buf, sizeof buf));
    show("read no groups (blocking socket, MSG_DONTWAIT)", recv(d, buf, sizeof buf, MSG_DONTWAIT));
    struct pollfd pf = {d, POLLIN | POLLOUT, 0};
    int n = poll(&pf, 1, 50);
    printf("poll %d revents %#x\n", n, pf.revents);
    pf.events = POLLIN;
    n = poll(&pf, 1, 50);
    printf("poll in %d revents %#x\n", n, pf.revents);

    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    show("blocking recv, signal", recv(d, buf, sizeof buf, 0));

    struct sockaddr_nl peer;
    socklen_t plen = sizeof peer;
    memset(&peer, 0xaa, sizeof peer);
    int r = getpeername(d, (struct sockaddr *)&peer, &plen);
    printf("getpeername %d len %u family %u pid %u groups %u\n", r, plen, peer.nl_family,
           peer.nl_pid, peer.nl_groups);

    close(fd);
    close(d);
    close(e);
    close(g);
    printf("uevent done\n");
    return 0;
}
