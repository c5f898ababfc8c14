/* IP-level ancillary data on UDP sockets over loopback (127.0.0.1 and
 * ::1): IP_PKTINFO/IP_RECVTTL/IP_RECVTOS and IPV6_RECVPKTINFO/
 * IPV6_RECVHOPLIMIT/IPV6_RECVTCLASS control messages carrying the
 * received packet's own fields; sending with IP_PKTINFO, IP_TTL, IP_TOS,
 * IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS control messages and their
 * refusals; MSG_CTRUNC; IP_TTL, IP_MULTICAST_TTL, IPV6_UNICAST_HOPS,
 * IPV6_MULTICAST_HOPS and IPV6_TCLASS get/set. Compared with a native run. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *en(long r)
{
    return r < 0 ? strerrorname_np(errno) : "OK";
}

static unsigned lo_index;

/* A UDP socket of `fam` bound to the loopback address, port 0. */
static int udp(int fam)
{
    int s = socket(fam, SOCK_DGRAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fam == AF_INET) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bind(s, (void *)&a, sizeof a);
    } else {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
        bind(s, (void *)&a, sizeof a);
    }
    return s;
}

static void setint(int s, int level, int name, int val, const char *what)
{
    printf("set %s %d: %s\n", what, val, en(setsockopt(s, level, name, &val, sizeof val)));
}

static void getint(int s, int level, int name, const char *what)
{
    int v = -99;
    socklen_t l = sizeof v;
    long r = getsockopt(s, level, name, &v, &l);
    printf("get %s: %s %d (len %u)\n", what, en(r), v, l);
}

static void show_cmsgs(struct msghdr *m)
{
    printf("  controllen %zu%s\n", (size_t)m->msg_controllen,
           m->msg_flags & MSG_CTRUNC ? " MSG_CTRUNC" : "");
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        size_t n = c->cmsg_len - CMSG_LEN(0);
        printf("  cmsg level %d type %d len %zu:", c->cmsg_level, c->cmsg_type,
               (size_t)c->cmsg_len);
        char buf[64];
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && n >= sizeof(struct in_pktinfo)) {
            struct in_pktinfo p;
            memcpy(&p, CMSG_DATA(c), sizeof p);
            printf(" lo %d spec_dst %s", p.ipi_ifindex == (int)lo_index,
                   inet_ntop(AF_INET, &p.ipi_spec_dst, buf, sizeof buf));
            printf(" addr %s", inet_ntop(AF_INET, &p.ipi_addr, buf, sizeof buf));
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   n >= sizeof(struct in6_pktinfo)) {
            struct in6_pktinfo p;
            memcpy(&p, CMSG_DATA(c), sizeof p);
            printf(" lo %d addr %s", p.ipi6_ifindex == lo_index,
                   inet_ntop(AF_INET6, &p.ipi6_addr, buf, sizeof buf));
        } else if (n == 1) {
            printf(" byte 0x%x", *(unsigned char *)CMSG_DATA(c));
        } else if (n >= 4) {
            int v;
            memcpy(&v, CMSG_DATA(c), 4);
            printf(" int %d", v);
        } else {
            printf(" %zu bytes", n);
        }
        printf("\n");
    }
}

/* Receive one datagram on `r` with `room` bytes of control buffer (-1:
 * none at all) and show what came with it. */
static void receive(int r, int room, const char *what)
{
    char data[64], ctl[512];
    struct iovec iov = {data, sizeof data};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (room >= 0) {
        m.msg_control = ctl;
        m.msg_controllen = room;
    }
    memset(ctl, 0, sizeof ctl);
    long n = recvmsg(r, &m, 0);
    printf("%s: recv %s %ld\n", what, en(n), n);
    if (n >= 0)
        show_cmsgs(&m);
}

/* Send "hi" from `s` to `r`'s address with the given control messages. */
static long send_ctl(int s, int r, void *ctl, size_t len)
{
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    getsockname(r, (void *)&a, &al);
    struct iovec iov = {"hi", 2};
    struct msghdr m = {.msg_name = &a, .msg_namelen = al, .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = ctl, .msg_controllen = len};
    return sendmsg(s, &m, 0);
}

/* One control message of `n` data bytes at `level`/`type`. */
static void send_one(int s, int r, int level, int type, const void *data, size_t n,
                     const char *what)
{
    union {
        char buf[CMSG_SPACE(64)];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct cmsghdr *c = (void *)u.buf;
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(n);
    memcpy(CMSG_DATA(c), data, n);
    long k = send_ctl(s, r, u.buf, CMSG_SPACE(n));
    printf("send with %s: %s\n", what, en(k));
    if (k >= 0)
        receive(r, 512, what);
}

static void options(void)
{
    int s = udp(AF_INET);
    getint(s, IPPROTO_IP, IP_TTL, "IP_TTL");
    setint(s, IPPROTO_IP, IP_TTL, 0, "IP_TTL");
    setint(s, IPPROTO_IP, IP_TTL, 256, "IP_TTL");
    setint(s, IPPROTO_IP, IP_TTL, 33, "IP_TTL");
    getint(s, IPPROTO_IP, IP_TTL, "IP_TTL");
    setint(s, IPPROTO_IP, IP_TTL, -1, "IP_TTL");
    getint(s, IPPROTO_IP, IP_TTL, "IP_TTL");
    unsigned char b = 9;
    printf("set IP_TTL one byte: %s\n", en(setsockopt(s, IPPROTO_IP, IP_TTL, &b, 1)));
    getint(s, IPPROTO_IP, IP_TTL, "IP_TTL");
    getint(s, IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL");
    setint(s, IPPROTO_IP, IP_MULTICAST_TTL, 300, "IP_MULTICAST_TTL");
    setint(s, IPPROTO_IP, IP_MULTICAST_TTL, 5, "IP_MULTICAST_TTL");
    getint(s, IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL");
    setint(s, IPPROTO_IP, IP_MULTICAST_TTL, -1, "IP_MULTICAST_TTL");
    getint(s, IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL");
    getint(s, IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO");
    getint(s, IPPROTO_IP, IP_RECVTTL, "IP_RECVTTL");
    getint(s, IPPROTO_IP, IP_RECVTOS, "IP_RECVTOS");
    setint(s, IPPROTO_IP, IP_RECVTTL, 5, "IP_RECVTTL");
    getint(s, IPPROTO_IP, IP_RECVTTL, "IP_RECVTTL");
    close(s);

    s = udp(AF_INET6);
    getint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS");
    setint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 256, "IPV6_UNICAST_HOPS");
    setint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -2, "IPV6_UNICAST_HOPS");
    printf("set IPV6_UNICAST_HOPS one byte: %s\n",
           en(setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &b, 1)));
    setint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 0, "IPV6_UNICAST_HOPS");
    getint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS");
    setint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1, "IPV6_UNICAST_HOPS");
    getint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS");
    getint(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS");
    setint(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 7, "IPV6_MULTICAST_HOPS");
    getint(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS");
    setint(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, -1, "IPV6_MULTICAST_HOPS");
    getint(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS");
    getint(s, IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS");
    setint(s, IPPROTO_IPV6, IPV6_TCLASS, 256, "IPV6_TCLASS");
    setint(s, IPPROTO_IPV6, IPV6_TCLASS, 0x28, "IPV6_TCLASS");
    getint(s, IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS");
    setint(s, IPPROTO_IPV6, IPV6_TCLASS, -1, "IPV6_TCLASS");
    getint(s, IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS");
    getint(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO");
    getint(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT");
    getint(s, IPPROTO_IPV6, IPV6_RECVTCLASS, "IPV6_RECVTCLASS");
    setint(s, IPPROTO_IPV6, IPV6_RECVTCLASS, 3, "IPV6_RECVTCLASS");
    getint(s, IPPROTO_IPV6, IPV6_RECVTCLASS, "IPV6_RECVTCLASS");
    close(s);
}

static void ipv4(void)
{
    int r = udp(AF_INET), s = udp(AF_INET);
    char what[] = "no options";
    send_ctl(s, r, NULL, 0);
    receive(r, 512, what);
    setint(r, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
    setint(r, IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL");
    setint(r, IPPROTO_IP, IP_RECVTOS, 1, "IP_RECVTOS");
    send_ctl(s, r, NULL, 0);
    receive(r, 512, "defaults");
    setint(s, IPPROTO_IP, IP_TTL, 33, "IP_TTL");
    setint(s, IPPROTO_IP, IP_TOS, 0x10, "IP_TOS");
    send_ctl(s, r, NULL, 0);
    receive(r, 512, "socket's TTL and TOS");

    int v = 7;
    send_one(s, r, IPPROTO_IP, IP_TTL, &v, 4, "IP_TTL 7");
    unsigned char tos = 0x20;
    send_one(s, r, IPPROTO_IP, IP_TOS, &tos, 1, "IP_TOS byte 0x20");
    v = 0x48;
    send_one(s, r, IPPROTO_IP, IP_TOS, &v, 4, "IP_TOS int 0x48");
    struct in_pktinfo p = {0};
    p.ipi_spec_dst.s_addr = htonl(INADDR_LOOPBACK);
    send_one(s, r, IPPROTO_IP, IP_PKTINFO, &p, sizeof p, "IP_PKTINFO 127.0.0.1");
    inet_pton(AF_INET, "192.0.2.77", &p.ipi_spec_dst);
    send_one(s, r, IPPROTO_IP, IP_PKTINFO, &p, sizeof p, "IP_PKTINFO 192.0.2.77");
    p.ipi_spec_dst.s_addr = 0;
    p.ipi_ifindex = 999;
    send_one(s, r, IPPROTO_IP, IP_PKTINFO, &p, sizeof p, "IP_PKTINFO ifindex 999");
    v = 0;
    send_one(s, r, IPPROTO_IP, IP_TTL, &v, 4, "IP_TTL 0");
    v = 256;
    send_one(s, r, IPPROTO_IP, IP_TTL, &v, 4, "IP_TTL 256");
    send_one(s, r, IPPROTO_IP, IP_TTL, &v, 2, "IP_TTL of 2 bytes");
    v = 300;
    send_one(s, r, IPPROTO_IP, IP_TOS, &v, 4, "IP_TOS 300");
    send_one(s, r, IPPROTO_IP, 99, &v, 4, "SOL_IP type 99");
    v = 5;
    send_one(s, r, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, 4, "IPV6_HOPLIMIT on AF_INET");

    /* Control buffers too small: what fits is kept, MSG_CTRUNC said. */
    for (int i = 0; i < 4; i++)
        send_ctl(s, r, NULL, 0);
    receive(r, CMSG_SPACE(sizeof(struct in_pktinfo)), "room for pktinfo only");
    receive(r, 20, "20 bytes of room");
    receive(r, 8, "8 bytes of room");
    receive(r, -1, "no control buffer");
    close(r);
    close(s);
}

static void ipv6(void)
{
    int r = udp(AF_INET6), s = udp(AF_INET6);
    send_ctl(s, r, NULL, 0);
    receive(r, 512, "no options");
    setint(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
    setint(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
    setint(r, IPPROTO_IPV6, IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS");
    send_ctl(s, r, NULL, 0);
    receive(r, 512, "defaults");
    setint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9, "IPV6_UNICAST_HOPS");
    setint(s, IPPROTO_IPV6, IPV6_TCLASS, 0x28, "IPV6_TCLASS");
    send_ctl(s, r, NULL, 0);
    receive(r, 512, "socket's hop limit and class");

    int v = 3;
    send_one(s, r, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, 4, "IPV6_HOPLIMIT 3");
    v = 0;
    send_one(s, r, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, 4, "IPV6_HOPLIMIT 0");
    v = -1;
    send_one(s, r, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, 4, "IPV6_HOPLIMIT -1");
    v = 0xb8;
    send_one(s, r, IPPROTO_IPV6, IPV6_TCLASS, &v, 4, "IPV6_TCLASS 0xb8");
    v = -1;
    send_one(s, r, IPPROTO_IPV6, IPV6_TCLASS, &v, 4, "IPV6_TCLASS -1");
    struct in6_pktinfo p = {.ipi6_addr = in6addr_loopback};
    send_one(s, r, IPPROTO_IPV6, IPV6_PKTINFO, &p, sizeof p, "IPV6_PKTINFO ::1");
    p.ipi6_ifindex = lo_index;
    send_one(s, r, IPPROTO_IPV6, IPV6_PKTINFO, &p, sizeof p, "IPV6_PKTINFO ::1 on lo");
    inet_pton(AF_INET6, "2001:db8::77", &p.ipi6_addr);
    send_one(s, r, IPPROTO_IPV6, IPV6_PKTINFO, &p, sizeof p, "IPV6_PKTINFO 2001:db8::77");
    p.ipi6_addr = in6addr_any;
    p.ipi6_ifindex = 999;
    send_one(s, r, IPPROTO_IPV6, IPV6_PKTINFO, &p, sizeof p, "IPV6_PKTINFO ifindex 999");
    inet_pton(AF_INET6, "fe80::77", &p.ipi6_addr);
    p.ipi6_ifindex = 0;
    send_one(s, r, IPPROTO_IPV6, IPV6_PKTINFO, &p, sizeof p, "IPV6_PKTINFO fe80::77");
    send_one(s, r, IPPROTO_IPV6, IPV6_PKTINFO, &p, 12, "IPV6_PKTINFO of 12 bytes");
    v = 256;
    send_one(s, r, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, 4, "IPV6_HOPLIMIT 256");
    send_one(s, r, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, 1, "IPV6_HOPLIMIT of 1 byte");
    v = -2;
    send_one(s, r, IPPROTO_IPV6, IPV6_TCLASS, &v, 4, "IPV6_TCLASS -2");
    send_one(s, r, IPPROTO_IPV6, 99, &v, 4, "SOL_IPV6 type 99");
    v = 5;
    send_one(s, r, IPPROTO_IP, IP_TTL, &v, 4, "IP_TTL on AF_INET6");

    for (int i = 0; i < 2; i++)
        send_ctl(s, r, NULL, 0);
    receive(r, CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_LEN(2), "room for pktinfo and a bit");
    receive(r, 0, "zero room");
    close(r);
    close(s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    lo_index = if_nametoindex("lo");
    options();
    ipv4();
    ipv6();
    printf("ipcmsg done\n");
    return 0;
}
