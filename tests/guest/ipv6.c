/* IPv6 sockets over ::1: TCP and UDP echo, the sockaddr_in6 forms that
 * getsockname/getpeername/recvfrom/accept give, /proc/net/tcp6 and udp6
 * entries, a raw ICMPv6 echo, and the errors Linux gives for addresses
 * and protocols it refuses. Deterministic lines, compared with the host. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, struct sockaddr_in6 *a, socklen_t len)
{
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    printf("%s: len %u family %s addr %s port %s scope %u flow %u\n", what,
           (unsigned)len, a->sin6_family == AF_INET6 ? "AF_INET6" : "other",
           buf, ntohs(a->sin6_port) ? "set" : "0", a->sin6_scope_id,
           a->sin6_flowinfo);
}

static void err(const char *what, int r)
{
    printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok");
}

static struct sockaddr_in6 addr6(const char *s, int port, unsigned scope)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_scope_id = scope;
    inet_pton(AF_INET6, s, &a.sin6_addr);
    return a;
}

/* Is there a line in /proc/net/FILE for ::1 port `port` in state `st`? */
static int listed(const char *file, int port, const char *st)
{
    char path[64], line[512], want[64];
    snprintf(path, sizeof path, "/proc/net/%s", file);
    snprintf(want, sizeof want, "00000000000000000000000001000000:%04X", port);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        char local[64], remote[64], state[8];
        int n;
        if (sscanf(line, " %d: %63s %63s %7s", &n, local, remote, state) == 4 &&
            !strcmp(local, want) && !strcmp(state, st))
            found = 1;
    }
    fclose(f);
    return found;
}

static int wait_in(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 10000);
}

static void tcp(void)
{
    int l = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = addr6("::1", 0, 0), b;
    socklen_t len = sizeof b;
    err("tcp bind ::1", bind(l, (struct sockaddr *)&a, sizeof a));
    listen(l, 4);
    getsockname(l, (struct sockaddr *)&b, &len);
    show("tcp listener", &b, len);
    int port = ntohs(b.sin6_port);
    printf("tcp6 listener listed: %d\n", listed("tcp6", port, "0A"));
    int c = socket(AF_INET6, SOCK_STREAM, 0);
    len = sizeof b;
    printf("peername unconnected: %s\n",
           getpeername(c, (struct sockaddr *)&b, &len) < 0 ? strerror(errno) : "ok");
    struct sockaddr_in6 to = addr6("::1", port, 0);
    err("tcp connect", connect(c, (struct sockaddr *)&to, sizeof to));
    len = sizeof b;
    int s = accept(l, (struct sockaddr *)&b, &len);
    show("accepted from", &b, len);
    len = sizeof b;
    getsockname(c, (struct sockaddr *)&b, &len);
    show("client name", &b, len);
    len = sizeof b;
    getpeername(c, (struct sockaddr *)&b, &len);
    show("client peer", &b, len);
    write(c, "hello6", 6);
    char buf[16] = {0};
    wait_in(s);
    int n = read(s, buf, sizeof buf - 1);
    write(s, buf, n);
    memset(buf, 0, sizeof buf);
    wait_in(c);
    n = read(c, buf, sizeof buf - 1);
    printf("tcp echo: %d %s\n", n, buf);
    close(c);
    close(s);
    close(l);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    err("tcp connect closed port", connect(c, (struct sockaddr *)&to, sizeof to));
    close(c);
}

static void udp(void)
{
    int s = socket(AF_INET6, SOCK_DGRAM, 0), c = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = addr6("::1", 0, 0), b, from;
    socklen_t len = sizeof b;
    getsockname(c, (struct sockaddr *)&b, &len);
    show("udp unbound", &b, len);
    bind(s, (struct sockaddr *)&a, sizeof a);
    len = sizeof b;
    getsockname(s, (struct sockaddr *)&b, &len);
    show("udp bound", &b, len);
    int port = ntohs(b.sin6_port);
    printf("udp6 socket listed: %d\n", listed("udp6", port, "07"));
    err("udp sendto", sendto(c, "ping6", 5, 0, (struct sockaddr *)&b, sizeof b) - 4);
    char buf[16] = {0};
    wait_in(s);
    len = sizeof from;
    int n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
    show("udp from", &from, len);
    struct sockaddr_in6 cn;
    socklen_t cl = sizeof cn;
    getsockname(c, (struct sockaddr *)&cn, &cl);
    printf("udp got %d %s, from the client's port: %d\n", n, buf,
           cn.sin6_port == from.sin6_port);
    sendto(s, buf, n, 0, (struct sockaddr *)&from, len);
    memset(buf, 0, sizeof buf);
    wait_in(c);
    n = recv(c, buf, sizeof buf, 0);
    printf("udp echo: %d %s\n", n, buf);
    close(s);
    close(c);
}

static void icmp6(void)
{
    int s = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    if (s < 0) {
        printf("raw icmpv6: %s\n", strerror(errno));
        return;
    }
    struct icmp6_hdr h;
    memset(&h, 0, sizeof h);
    h.icmp6_type = ICMP6_ECHO_REQUEST;
    h.icmp6_id = htons(0x4242);
    h.icmp6_seq = htons(7);
    struct sockaddr_in6 to = addr6("::1", 0, 0), from;
    err("icmpv6 sendto", sendto(s, &h, sizeof h, 0, (struct sockaddr *)&to, sizeof to) - 8);
    for (int i = 0; i < 4; i++) {
        unsigned char buf[256];
        socklen_t len = sizeof from;
        if (wait_in(s) <= 0)
            break;
        int n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        struct icmp6_hdr *r = (struct icmp6_hdr *)buf;
        if (n < 8 || r->icmp6_type != ICMP6_ECHO_REPLY || r->icmp6_id != htons(0x4242))
            continue;
        printf("icmpv6 echo reply: %d bytes seq %d\n", n, ntohs(r->icmp6_seq));
        show("icmpv6 from", &from, len);
        break;
    }
    close(s);
}

static void errors(void)
{
    int s = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = addr6("2001:db8::99", 0, 0);
    err("bind unconfigured", bind(s, (struct sockaddr *)&a, sizeof a));
    a = addr6("::1", 0, 0);
    err("bind short", bind(s, (struct sockaddr *)&a, 23));
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    err("bind sockaddr_in", bind(s, (struct sockaddr *)&v4, sizeof v4));
    a.sin6_family = AF_INET;
    err("bind AF_INET family", bind(s, (struct sockaddr *)&a, sizeof a));
    a = addr6("fe80::1", 0, 0);
    err("bind link-local no scope", bind(s, (struct sockaddr *)&a, sizeof a));
    a = addr6("fe80::1", 0, 1);
    err("bind link-local on lo", bind(s, (struct sockaddr *)&a, sizeof a));
    a = addr6("fe80::1", 0, 999);
    err("bind link-local no such if", bind(s, (struct sockaddr *)&a, sizeof a));
    a = addr6("fe80::1", 9, 0);
    err("sendto link-local no scope", sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a));
    close(s);
    s = socket(AF_INET6, SOCK_STREAM, 0);
    err("tcp connect link-local no scope", connect(s, (struct sockaddr *)&a, sizeof a));
    close(s);
    err("AF_INET6 DGRAM IPPROTO_ICMP", socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMP));
    err("AF_INET DGRAM IPPROTO_ICMPV6", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMPV6));
    err("AF_INET6 STREAM IPPROTO_UDP", socket(AF_INET6, SOCK_STREAM, IPPROTO_UDP));
    err("AF_INET6 SEQPACKET", socket(AF_INET6, SOCK_SEQPACKET, 0));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    tcp();
    udp();
    icmp6();
    errors();
    printf("ipv6 done\n");
    return 0;
}
