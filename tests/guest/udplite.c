/* UDP-Lite sockets (RFC 3828) over loopback: socket options at
 * SOL_UDPLITE with Linux's rounding, ports of their own, datagrams with
 * partial checksum coverage and the receiver's minimum, connect, peek,
 * truncation, FIONREAD, control messages, IPv6 and dual stack,
 * /proc/net/udplite, and a fresh network namespace. Compared with a
 * native run. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif
#define SOL_UDPLITE 136
#define SOL_UDP 17
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11

static const char *err(int r)
{
    static char b[64];
    if (r >= 0)
        return "ok";
    snprintf(b, sizeof b, "%s", strerror(errno));
    return b;
}

static int lite(int fam)
{
    int s = socket(fam, SOCK_DGRAM, IPPROTO_UDPLITE);
    if (s < 0) {
        printf("socket: %s\n", strerror(errno));
        exit(1);
    }
    return s;
}

static int geti(int s, int lvl, int opt)
{
    int v = -1;
    socklen_t l = sizeof v;
    if (getsockopt(s, lvl, opt, &v, &l) < 0)
        return -errno;
    return v;
}

static int seti(int s, int lvl, int opt, int v)
{
    return setsockopt(s, lvl, opt, &v, sizeof v);
}

static struct sockaddr_in lo4(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int port_of(int s)
{
    struct sockaddr_in6 a;
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    return ntohs(a.sin6_port);
}

/* A socket bound to 127.0.0.1 on an ephemeral port. */
static int bound4(void)
{
    int s = lite(AF_INET);
    struct sockaddr_in a = lo4(0);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0)
        printf("bind: %s\n", strerror(errno));
    return s;
}

static void send_to(int s, int to, const char *msg)
{
    struct sockaddr_in a = lo4(port_of(to));
    if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) < 0)
        printf("sendto: %s\n", strerror(errno));
}

/* The next datagram (waiting up to 10 s), or "(none)". */
static const char *next(int s)
{
    static char b[256];
    struct pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1)
        return "(none)";
    ssize_t n = recv(s, b, sizeof b - 1, 0);
    if (n < 0)
        return strerror(errno);
    b[n] = 0;
    return b;
}

static void options(void)
{
    int s = lite(AF_INET);
    printf("SO_PROTOCOL %d SO_TYPE %d\n", geti(s, SOL_SOCKET, SO_PROTOCOL),
           geti(s, SOL_SOCKET, SO_TYPE));
    printf("send_cscov %d recv_cscov %d\n", geti(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV),
           geti(s, SOL_UDPLITE, UDPLITE_RECV_CSCOV));
    int vals[] = {0, 1, 7, 8, 9, -5, 70000};
    for (unsigned i = 0; i < sizeof vals / sizeof *vals; i++) {
        seti(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV, vals[i]);
        seti(s, SOL_UDP, UDPLITE_RECV_CSCOV, vals[i]);
        printf("set %d: send %d recv %d\n", vals[i],
               geti(s, SOL_UDP, UDPLITE_SEND_CSCOV),
               geti(s, SOL_UDPLITE, UDPLITE_RECV_CSCOV));
    }
    short sh = 20;
    printf("short value: %s\n",
           err(setsockopt(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &sh, sizeof sh)));
    printf("unknown option: set %s, get %d\n", err(seti(s, SOL_UDPLITE, 99, 1)),
           geti(s, SOL_UDPLITE, 99));
    close(s);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    printf("udp socket: set %s, get %d\n",
           err(seti(u, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 20)),
           geti(u, SOL_UDPLITE, UDPLITE_SEND_CSCOV));
    close(u);
    s = socket(AF_INET, SOCK_STREAM, IPPROTO_UDPLITE);
    printf("stream udplite: %s\n", err(s));
}

static void ports(void)
{
    int a = bound4();
    int p = port_of(a);
    int b = lite(AF_INET);
    struct sockaddr_in sa = lo4(p);
    printf("second udplite on the port: %s\n", err(bind(b, (struct sockaddr *)&sa, sizeof sa)));
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    printf("udp on the port: %s\n", err(bind(u, (struct sockaddr *)&sa, sizeof sa)));
    /* A UDP datagram to the port reaches the UDP socket only. */
    int us = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(us, "udp", 3, 0, (struct sockaddr *)&sa, sizeof sa);
    printf("udp socket got: %s\n", next(u));
    char c;
    printf("udplite socket: %s\n", err(recv(a, &c, 1, MSG_DONTWAIT)));
    close(a), close(b), close(u), close(us);
}

static void coverage(void)
{
    int a = bound4(), b = bound4();
    char msg[21] = "twenty bytes of data";
    seti(b, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 8);
    send_to(b, a, msg);
    printf("cov 8, no minimum: %s\n", next(a));
    seti(a, SOL_UDPLITE, UDPLITE_RECV_CSCOV, 20);
    send_to(b, a, "cov 8 below minimum 20");
    seti(b, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 24);
    send_to(b, a, "cov 24 over minimum 20");
    printf("minimum 20: %s\n", next(a));
    /* Coverage past the datagram's length is full coverage. */
    seti(b, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 1000);
    send_to(b, a, "short");
    printf("minimum 20, cov past the end: %s\n", next(a));
    seti(a, SOL_UDPLITE, UDPLITE_RECV_CSCOV, 0);
    seti(b, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 24);
    send_to(b, a, "cov 24 while full coverage wanted");
    seti(b, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 0);
    send_to(b, a, "cov 0 is full coverage");
    printf("minimum 0: %s\n", next(a));
    close(a), close(b);
}

static void datagrams(void)
{
    int a = bound4(), b = lite(AF_INET);
    struct sockaddr_in sa = lo4(port_of(a));
    printf("connect: %s\n", err(connect(b, (struct sockaddr *)&sa, sizeof sa)));
    struct sockaddr_in got;
    socklen_t l = sizeof got;
    getpeername(b, (struct sockaddr *)&got, &l);
    printf("peer is a: %d\n", ntohs(got.sin_port) == port_of(a));
    l = sizeof got;
    getsockname(b, (struct sockaddr *)&got, &l);
    printf("b bound to %s, port set: %d\n", inet_ntoa(got.sin_addr), got.sin_port != 0);
    printf("send: %s\n", err(send(b, "0123456789", 10, 0)));
    struct pollfd p = {a, POLLIN, 0};
    int pr = poll(&p, 1, 10000);
    printf("poll: %d revents %x\n", pr, p.revents);
    int n = -1;
    ioctl(a, FIONREAD, &n);
    printf("FIONREAD %d\n", n);
    char buf[64] = {0};
    l = sizeof got;
    ssize_t r = recvfrom(a, buf, 4, MSG_PEEK, (struct sockaddr *)&got, &l);
    printf("peek %zd '%s' from b: %d\n", r, buf, ntohs(got.sin_port) == port_of(b));
    memset(buf, 0, sizeof buf);
    r = recv(a, buf, 4, MSG_TRUNC);
    printf("trunc %zd '%s'\n", r, buf);
    printf("empty: %s\n", err(recv(a, buf, sizeof buf, MSG_DONTWAIT)));
    /* Connected b takes datagrams from a only. */
    int c = bound4();
    send_to(c, b, "from c");
    send_to(a, b, "from a");
    printf("b got: %s\n", next(b));
    printf("sendto without address: %s\n",
           err(sendto(c, "x", 1, 0, NULL, 0)));
    struct sockaddr_in z = lo4(0);
    printf("sendto port 0: %s\n", err(sendto(c, "x", 1, 0, (struct sockaddr *)&z, sizeof z)));
    printf("shutdown: %s\n", err(shutdown(b, SHUT_RD)));
    printf("after shutdown: %s\n", err(recv(b, buf, sizeof buf, 0)));
    close(a), close(b), close(c);
}

static void control(void)
{
    int a = bound4(), b = bound4();
    seti(a, IPPROTO_IP, IP_PKTINFO, 1);
    seti(a, IPPROTO_IP, IP_RECVTTL, 1);
    seti(b, IPPROTO_IP, IP_TTL, 9);
    send_to(b, a, "ttl 9");
    char buf[64], cb[256];
    struct iovec io = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cb,
                       .msg_controllen = sizeof cb};
    struct pollfd p = {a, POLLIN, 0};
    poll(&p, 1, 10000);
    ssize_t n = recvmsg(a, &m, 0);
    printf("recvmsg %zd\n", n);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo *pi = (void *)CMSG_DATA(c);
            printf("pktinfo ifindex %d dst %s\n", pi->ipi_ifindex, inet_ntoa(pi->ipi_addr));
        } else if (c->cmsg_type == IP_TTL) {
            printf("ttl %d\n", *(int *)CMSG_DATA(c));
        } else {
            printf("cmsg %d/%d\n", c->cmsg_level, c->cmsg_type);
        }
    }
    /* IP_TTL for one datagram. */
    struct sockaddr_in sa = lo4(port_of(a));
    char sc[CMSG_SPACE(sizeof(int))] = {0};
    struct msghdr sm = {.msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &io,
                        .msg_iovlen = 1, .msg_control = sc, .msg_controllen = sizeof sc};
    struct cmsghdr *c = CMSG_FIRSTHDR(&sm);
    c->cmsg_level = IPPROTO_IP, c->cmsg_type = IP_TTL, c->cmsg_len = CMSG_LEN(sizeof(int));
    *(int *)CMSG_DATA(c) = 3;
    io.iov_len = 5;
    printf("sendmsg: %zd\n", sendmsg(b, &sm, 0));
    io.iov_len = sizeof buf;
    m.msg_controllen = sizeof cb;
    poll(&p, 1, 10000);
    recvmsg(a, &m, 0);
    for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_type == IP_TTL)
            printf("ttl %d\n", *(int *)CMSG_DATA(c));
    close(a), close(b);
}

static void ipv6(void)
{
    int a = lite(AF_INET6), b = lite(AF_INET6);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    printf("bind ::1: %s\n", err(bind(a, (struct sockaddr *)&sa, sizeof sa)));
    sa.sin6_port = htons(port_of(a));
    seti(a, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
    seti(b, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 12);
    printf("sendto: %s\n", err(sendto(b, "over v6", 7, 0, (struct sockaddr *)&sa, sizeof sa)));
    char buf[64] = {0}, cb[128];
    struct sockaddr_in6 from;
    struct iovec io = {buf, sizeof buf};
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &io,
                       .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb};
    struct pollfd p = {a, POLLIN, 0};
    poll(&p, 1, 10000);
    ssize_t n = recvmsg(a, &m, 0);
    char s[64];
    inet_ntop(AF_INET6, &from.sin6_addr, s, sizeof s);
    printf("v6 got %zd '%s' from %s\n", n, buf, s);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_type == IPV6_HOPLIMIT)
            printf("hoplimit %d\n", *(int *)CMSG_DATA(c));
    /* Dual stack: a v6 wildcard socket hears IPv4. */
    int d = lite(AF_INET6);
    struct sockaddr_in6 any = {.sin6_family = AF_INET6};
    bind(d, (struct sockaddr *)&any, sizeof any);
    int v4 = bound4();
    send_to(v4, d, "v4 to dual");
    memset(buf, 0, sizeof buf);
    m.msg_namelen = sizeof from;
    m.msg_controllen = 0;
    p.fd = d;
    poll(&p, 1, 10000);
    n = recvmsg(d, &m, 0);
    inet_ntop(AF_INET6, &from.sin6_addr, s, sizeof s);
    printf("dual got %zd '%s' from %s\n", n, buf, s);
    int o = 1;
    int w = lite(AF_INET6);
    setsockopt(w, IPPROTO_IPV6, IPV6_V6ONLY, &o, sizeof o);
    any.sin6_port = htons(port_of(d));
    printf("v6only bind on the dual socket's port: %s\n", err(bind(w, (struct sockaddr *)&any, sizeof any)));
    close(a), close(b), close(d), close(v4), close(w);
}

static void procfs(void)
{
    int a = bound4();
    char want[32], line[512];
    snprintf(want, sizeof want, "0100007F:%04X", port_of(a));
    FILE *f = fopen("/proc/net/udplite", "r");
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        found |= strstr(line, want) != NULL;
    printf("/proc/net/udplite lists it: %d\n", found);
    if (f)
        fclose(f);
    f = fopen("/proc/net/udplite6", "r");
    printf("/proc/net/udplite6: %s\n", f ? "present" : "missing");
    if (f)
        fclose(f);
    close(a);
}

static void netns(void)
{
    if (unshare(CLONE_NEWNET) < 0) {
        printf("unshare: %s\n", strerror(errno));
        return;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq r = {0};
    strcpy(r.ifr_name, "lo");
    ioctl(s, SIOCGIFFLAGS, &r);
    r.ifr_flags |= IFF_UP;
    printf("lo up: %s\n", err(ioctl(s, SIOCSIFFLAGS, &r)));
    close(s);
    int a = lite(AF_INET);
    struct sockaddr_in sa = lo4(4000);
    printf("bind 4000: %s\n", err(bind(a, (struct sockaddr *)&sa, sizeof sa)));
    int b = bound4();
    send_to(b, a, "inside the namespace");
    printf("netns got: %s\n", next(a));
    close(a), close(b);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    options();
    ports();
    coverage();
    datagrams();
    control();
    ipv6();
    procfs();
    netns();
    printf("udplite done\n");
    return 0;
}
