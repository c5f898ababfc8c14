/* AF_INET/AF_INET6 sockets over loopback as programs use them. Only
 * deterministic things are printed: return values, errno names, byte
 * counts, data, address families and IPs, never kernel-chosen ports.
 * Children never print; they report through exit codes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *en(int r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

/* "ret errno" for a call's result. */
#define SHOW(label, call)                                                       \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(call);                                                \
        printf("%s: %ld %s\n", label, r_, en((int)r_));                        \
    } while (0)

static struct sockaddr_in sin4(const char *ip, int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static int port_of(int fd) {
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    return a.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&a)->sin6_port)
                                   : ntohs(((struct sockaddr_in *)&a)->sin_port);
}

/* Family, address and whether the port is set: what may be printed. */
static void show_addr(const char *label, int fd, int peer) {
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    errno = 0;
    int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l)
                 : getsockname(fd, (struct sockaddr *)&a, &l);
    if (r < 0) {
        printf("%s: %s\n", label, en(r));
        return;
    }
    char ip[64] = "?";
    int port;
    if (a.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a)->sin6_addr, ip, sizeof ip);
        port = ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&a)->sin_addr, ip, sizeof ip);
        port = ntohs(((struct sockaddr_in *)&a)->sin_port);
    }
    printf("%s: family %s len %u ip %s port %s\n", label,
           a.ss_family == AF_INET ? "AF_INET" : a.ss_family == AF_INET6 ? "AF_INET6" : "?",
           (unsigned)l, ip, port ? "set" : "0");
}

/* A listening TCP socket on 127.0.0.1 with a kernel-chosen port. */
static int listener(int backlog, int reuse) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    struct sockaddr_in a = sin4("127.0.0.1", 0);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, backlog) < 0)
        perror("listener");
    return s;
}

static int connect_to(int port, int flags) {
    int c = socket(AF_INET, SOCK_STREAM | flags, 0);
    struct sockaddr_in a = sin4("127.0.0.1", port);
    int r = connect(c, (struct sockaddr *)&a, sizeof a);
    if (r < 0 && errno != EINPROGRESS)
        return -errno;
    return c;
}

static ssize_t read_full(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            return r < 0 ? r : (ssize_t)got;
        got += r;
    }
    return got;
}

static int wait_child(pid_t p) {
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void errors(void) {
    SHOW("socket bad family", socket(12345, SOCK_STREAM, 0));
    SHOW("socket stream udp", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    SHOW("socket dgram tcp", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    SHOW("socket seqpacket", socket(AF_INET, SOCK_SEQPACKET, 0));
    int sv[2];
    SHOW("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));

    int s = socket(AF_INET, SOCK_STREAM, 0);
    show_addr("fresh name", s, 0);
    show_addr("fresh peer", s, 1);
    char b[4];
    SHOW("recv unconnected", recv(s, b, 4, MSG_DONTWAIT));
    struct sockaddr_in a = sin4("10.1.2.3", 0);
    SHOW("bind foreign ip", bind(s, (struct sockaddr *)&a, sizeof a));
    a = sin4("127.0.0.1", 0);
    SHOW("bind short", bind(s, (struct sockaddr *)&a, 8));
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    SHOW("bind v6 addr", bind(s, (struct sockaddr *)&a6, sizeof a6));
    SHOW("bind", bind(s, (struct sockaddr *)&a, sizeof a));
    show_addr("bound name", s, 0);
    SHOW("bind again", bind(s, (struct sockaddr *)&a, sizeof a));
    int p = port_of(s);

    /* Same port: EADDRINUSE, unless both have SO_REUSEADDR and the
     * holder does not listen. */
    int s2 = socket(AF_INET, SOCK_STREAM, 0);
    a = sin4("127.0.0.1", p);
    SHOW("bind same port", bind(s2, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in any = sin4("0.0.0.0", p);
    SHOW("bind any same port", bind(s2, (struct sockaddr *)&any, sizeof any));
    close(s2);
    close(s);
    int one = 1;
    s = socket(AF_INET, SOCK_STREAM, 0);
    s2 = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(s2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    a = sin4("127.0.0.1", 0);
    SHOW("reuse bind", bind(s, (struct sockaddr *)&a, sizeof a));
    a = sin4("127.0.0.1", port_of(s));
    SHOW("reuse bind same port", bind(s2, (struct sockaddr *)&a, sizeof a));
    SHOW("listen first", listen(s, 5));
    SHOW("listen second", listen(s2, 5));
    int s3 = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    SHOW("reuse bind to listener", bind(s3, (struct sockaddr *)&a, sizeof a));
    close(s);
    close(s2);
    close(s3);

    /* listen without bind picks a port. */
    s = socket(AF_INET, SOCK_STREAM, 0);
    SHOW("listen unbound", listen(s, 1));
    show_addr("autobound name", s, 0);
    SHOW("connect listener", connect(s, (struct sockaddr *)&a, sizeof a));
    fcntl(s, F_SETFL, O_NONBLOCK);
    SHOW("accept empty", accept(s, NULL, NULL));
    close(s);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    SHOW("listen udp", listen(s, 1));
    SHOW("accept udp", accept(s, NULL, NULL));
    close(s);
}

static void options(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int v = -1;
    socklen_t l = sizeof v;
    getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l);
    printf("SO_TYPE %d len %u\n", v, (unsigned)l);
    getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l);
    printf("SO_DOMAIN %d\n", v);
    getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l);
    printf("SO_PROTOCOL %d\n", v);
    getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &l);
    printf("SO_REUSEADDR %d\n", v);
    v = 1;
    SHOW("set SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &l);
    printf("SO_REUSEADDR %d\n", v != 0);
    SHOW("set SO_KEEPALIVE", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v));
    getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, &l);
    printf("SO_KEEPALIVE %d\n", v != 0);
    getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l);
    printf("TCP_NODELAY %d\n", v);
    v = 1;
    SHOW("set TCP_NODELAY", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
    getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l);
    printf("TCP_NODELAY %d\n", v != 0);
    struct linger lg = {1, 5};
    SHOW("set SO_LINGER", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    memset(&lg, 0, sizeof lg);
    l = sizeof lg;
    getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l);
    printf("SO_LINGER %d %d len %u\n", lg.l_onoff != 0, lg.l_linger, (unsigned)l);
    v = 65536;
    SHOW("set SO_RCVBUF", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    SHOW("set SO_SNDBUF", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    struct timeval tv = {2, 500000};
    SHOW("set SO_RCVTIMEO", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    memset(&tv, 0, sizeof tv);
    l = sizeof tv;
    getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &l);
    printf("SO_RCVTIMEO %ld.%06ld len %u\n", (long)tv.tv_sec, (long)tv.tv_usec, (unsigned)l);
    l = sizeof v;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &l);
    printf("SO_ERROR %d\n", v);
    SHOW("getsockopt bad level", getsockopt(s, 9999, 1, &v, &l));
    SHOW("setsockopt bad level", setsockopt(s, 9999, 1, &v, sizeof v));
    SHOW("getsockopt bad option", getsockopt(s, SOL_SOCKET, 9999, &v, &l));
    SHOW("get IPV6_V6ONLY on v4", getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l));
    getsockopt(s, IPPROTO_IP, IP_TTL, &v, &l);
    printf("IP_TTL %d\n", v);
    SHOW("setsockopt short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
    getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l);
    printf("SO_ACCEPTCONN %d\n", v);
    listen(s, 1);
    getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l);
    printf("SO_ACCEPTCONN listening %d\n", v);
    close(s);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    l = sizeof v;
    getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l);
    printf("udp SO_TYPE %d\n", v);
    SHOW("udp get TCP_NODELAY", getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l));
    SHOW("udp set TCP_NODELAY", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
    close(s);
    s = socket(AF_INET6, SOCK_STREAM, 0);
    SHOW("v6 get IP_TTL", getsockopt(s, IPPROTO_IP, IP_TTL, &v, &l));
    getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l);
    printf("IPV6_V6ONLY %d\n", v);
    close(s);
}

/* Echo over a blocking connect; the server sleeps in accept. */
static void echo_blocking(void) {
    int ls = listener(5, 0);
    int port = port_of(ls);
    pid_t c = fork();
    if (c == 0) {
        usleep(20000);
        int fd = connect_to(port, 0);
        if (fd < 0)
            _exit(1);
        char buf[64];
        if (send(fd, "hello", 5, 0) != 5)
            _exit(2);
        if (read_full(fd, buf, 5) != 5 || memcmp(buf, "HELLO", 5))
            _exit(3);
        close(fd);
        _exit(0);
    }
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int fd = accept(ls, (struct sockaddr *)&peer, &pl);
    printf("accept: %s family %d len %u ip %s\n", en(fd), peer.sin_family, (unsigned)pl,
           inet_ntoa(peer.sin_addr));
    show_addr("accepted name", fd, 0);
    show_addr("accepted peer", fd, 1);
    char buf[64];
    ssize_t n = read_full(fd, buf, 5);
    printf("server got %zd %.5s\n", n, buf);
    for (int i = 0; i < 5; i++)
        buf[i] -= 32;
    write(fd, buf, 5);
    printf("eof after client close: %zd\n", read(fd, buf, sizeof buf));
    printf("client exit %d\n", wait_child(c));
    close(fd);
    close(ls);
}

/* Non-blocking connect completed by poll, then by epoll. */
static void echo_nonblocking(void) {
    int ls = listener(5, 0);
    int port = port_of(ls);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = sin4("127.0.0.1", port);
    SHOW("nb connect", connect(c, (struct sockaddr *)&a, sizeof a));
    struct pollfd pf = {.fd = c, .events = POLLOUT | POLLIN};
    int n = poll(&pf, 1, 5000);
    printf("poll: %d out %d in %d err %d\n", n, !!(pf.revents & POLLOUT),
           !!(pf.revents & POLLIN), !!(pf.revents & POLLERR));
    int err = -1;
    socklen_t l = sizeof err;
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &l);
    printf("SO_ERROR %d\n", err);
    SHOW("connect again", connect(c, (struct sockaddr *)&a, sizeof a));
    SHOW("connect third", connect(c, (struct sockaddr *)&a, sizeof a));
    show_addr("nb peer", c, 1);
    int fd = accept(ls, NULL, NULL);
    char buf[64];
    SHOW("recv empty nonblocking", recv(c, buf, sizeof buf, 0));
    /* SO_RCVTIMEO: a blocking read gives up with EAGAIN. */
    struct timeval tmo = {0, 150000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    SHOW("read with SO_RCVTIMEO", read(fd, buf, sizeof buf));
    SHOW("recv with SO_RCVTIMEO", recv(fd, buf, sizeof buf, 0));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("waited about 0.3 s: %d\n", waited > 0.25 && waited < 2);
    setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
    SHOW("accept with SO_RCVTIMEO", accept(ls, NULL, NULL));
    SHOW("recv MSG_DONTWAIT", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
    pf.events = POLLIN;
    printf("poll idle: %d\n", poll(&pf, 1, 0));
    write(fd, "pong", 4);
    n = poll(&pf, 1, 5000);
    printf("poll data: %d in %d\n", n, !!(pf.revents & POLLIN));
    int avail = -1;
    ioctl(c, FIONREAD, &avail);
    printf("FIONREAD %d\n", avail);
    SHOW("peek", recv(c, buf, 2, MSG_PEEK));
    printf("peeked %.2s\n", buf);
    SHOW("recv", recv(c, buf, sizeof buf, 0));
    printf("got %.4s\n", buf);
    close(c);
    close(fd);

    /* epoll: EPOLLOUT when connected, EPOLLIN when data comes. */
    int ep = epoll_create1(0);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SHOW("epoll nb connect", connect(c, (struct sockaddr *)&a, sizeof a));
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.fd = c}, out[2];
    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
    n = epoll_wait(ep, out, 2, 5000);
    printf("epoll: %d out %d in %d\n", n, !!(out[0].events & EPOLLOUT), !!(out[0].events & EPOLLIN));
    fd = accept(ls, NULL, NULL);
    ev.events = EPOLLIN;
    epoll_ctl(ep, EPOLL_CTL_MOD, c, &ev);
    printf("epoll idle: %d\n", epoll_wait(ep, out, 2, 0));
    pid_t ch = fork();
    if (ch == 0) {
        usleep(30000);
        write(fd, "late", 4);
        _exit(0);
    }
    n = epoll_wait(ep, out, 2, 5000);
    printf("epoll data: %d in %d\n", n, !!(out[0].events & EPOLLIN));
    wait_child(ch);
    SHOW("read", read(c, buf, sizeof buf));
    /* MSG_WAITALL: the reader sleeps until all it asked for is there. */
    ch = fork();
    if (ch == 0) {
        for (int i = 0; i < 3; i++) {
            usleep(20000);
            write(fd, "abcd", 4);
        }
        _exit(0);
    }
    int fl = fcntl(c, F_GETFL);
    fcntl(c, F_SETFL, fl & ~O_NONBLOCK);
    SHOW("recv MSG_WAITALL", recv(c, buf, 12, MSG_WAITALL));
    printf("got %.12s\n", buf);
    wait_child(ch);
    write(fd, "xy", 2);
    SHOW("nonblocking MSG_WAITALL", recv(c, buf, 12, MSG_WAITALL | MSG_DONTWAIT));
    close(ep);
    close(c);
    close(fd);
    close(ls);
}

/* Several clients queue on one listener before it accepts. */
static void backlog(void) {
    int ls = listener(4, 0);
    int port = port_of(ls);
    int cs[4];
    for (int i = 0; i < 4; i++) {
        cs[i] = connect_to(port, 0);
        char m[16];
        int len = snprintf(m, sizeof m, "client %d", i);
        printf("connect %d: %s\n", i, cs[i] < 0 ? strerrorname_np(-cs[i]) : "ok");
        send(cs[i], m, len, 0);
    }
    for (int i = 0; i < 4; i++) {
        int fd = accept(ls, NULL, NULL);
        char m[16] = {0};
        ssize_t n = read(fd, m, sizeof m - 1);
        printf("accepted %d: %zd %s\n", i, n, m);
        close(fd);
    }
    for (int i = 0; i < 4; i++) {
        char m[4];
        printf("client %d sees eof: %zd\n", i, read(cs[i], m, sizeof m));
        close(cs[i]);
    }
    close(ls);
}

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* A few MB one way, checksummed; the reader uses readv, the writer
 * writev and sendmsg. */
static void large(void) {
    int ls = listener(1, 0);
    int port = port_of(ls);
    const size_t total = 4 << 20;
    pid_t c = fork();
    if (c == 0) {
        int fd = connect_to(port, 0);
        char *buf = malloc(total);
        uint32_t seed = 42;
        for (size_t i = 0; i < total; i++)
            buf[i] = (char)lcg(&seed);
        size_t done = 0;
        int k = 0;
        while (done < total) {
            size_t chunk = total - done < 100000 ? total - done : 100000;
            ssize_t r;
            struct iovec iov[2] = {{buf + done, chunk / 2}, {buf + done + chunk / 2, chunk - chunk / 2}};
            if (k++ % 2) {
                r = writev(fd, iov, 2);
            } else {
                struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
                r = sendmsg(fd, &m, 0);
            }
            if (r <= 0)
                _exit(1);
            done += r;
        }
        close(fd);
        _exit(0);
    }
    int fd = accept(ls, NULL, NULL);
    size_t got = 0;
    uint32_t sum = 0, seed = 42;
    int bad = 0;
    char b1[3000], b2[70000];
    for (;;) {
        struct iovec iov[2] = {{b1, sizeof b1}, {b2, sizeof b2}};
        ssize_t r = readv(fd, iov, 2);
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++) {
            unsigned char ch = i < (ssize_t)sizeof b1 ? b1[i] : b2[i - sizeof b1];
            if (ch != (unsigned char)lcg(&seed))
                bad++;
            sum = sum * 31 + ch;
        }
        got += r;
    }
    printf("large: got %zu bytes, %d wrong, sum %08x\n", got, bad, sum);
    printf("sender exit %d\n", wait_child(c));
    close(fd);
    close(ls);
}

/* Blocking writes the peer is slow to take still go in whole, also one
 * far larger than the socket's send buffer (write and send). */
static void whole_writes(void) {
    int ls = listener(1, 0);
    int port = port_of(ls);
    pid_t c = fork();
    if (c == 0) {
        int fd = connect_to(port, 0);
        char *b = calloc(1, 3 << 20);
        for (int i = 0; i < 3; i++)
            if (write(fd, b, 200000) != 200000)
                _exit(10 + i);
        if (write(fd, b, 3 << 20) != 3 << 20)
            _exit(20);
        if (send(fd, b, 3 << 20, 0) != 3 << 20)
            _exit(21);
        close(fd);
        _exit(0);
    }
    int fd = accept(ls, NULL, NULL);
    usleep(100000);
    char buf[65536];
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        got += r;
    printf("whole writes: got %zu, writer exit %d\n", got, wait_child(c));
    close(fd);
    close(ls);
}

/* shutdown(SHUT_WR): the other side reads EOF and can still answer. */
static void half_close(void) {
    int ls = listener(1, 0);
    int c = connect_to(port_of(ls), 0);
    int fd = accept(ls, NULL, NULL);
    send(c, "abc", 3, 0);
    SHOW("shutdown SHUT_WR", shutdown(c, SHUT_WR));
    SHOW("send after SHUT_WR", send(c, "x", 1, MSG_NOSIGNAL));
    char buf[16];
    SHOW("server read", read(fd, buf, sizeof buf));
    struct pollfd pf = {.fd = fd, .events = POLLIN | POLLRDHUP | POLLOUT};
    poll(&pf, 1, 1000);
    printf("server poll in %d rdhup %d out %d hup %d\n", !!(pf.revents & POLLIN),
           !!(pf.revents & POLLRDHUP), !!(pf.revents & POLLOUT), !!(pf.revents & POLLHUP));
    SHOW("server read eof", read(fd, buf, sizeof buf));
    SHOW("server reply", write(fd, "reply", 5));
    SHOW("client read", read(c, buf, sizeof buf));
    SHOW("server SHUT_RDWR", shutdown(fd, SHUT_RDWR));
    SHOW("client read eof", read(c, buf, sizeof buf));
    pf.fd = c;
    poll(&pf, 1, 1000);
    printf("client poll in %d rdhup %d out %d hup %d\n", !!(pf.revents & POLLIN),
           !!(pf.revents & POLLRDHUP), !!(pf.revents & POLLOUT), !!(pf.revents & POLLHUP));
    SHOW("shutdown bad how", shutdown(c, 7));
    close(c);
    close(fd);
    close(ls);
}

static int sigpipes;
static void on_pipe(int s) { (void)s; sigpipes++; }

/* Refused connects, writes to closed peers, resets. */
static void failures(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = sin4("127.0.0.1", 0);
    bind(s, (struct sockaddr *)&a, sizeof a);
    int port = port_of(s);
    close(s);
    int c = connect_to(port, 0);
    printf("connect closed port: %s\n", c < 0 ? strerrorname_np(-c) : "ok");
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    a = sin4("127.0.0.1", port);
    SHOW("nb connect closed port", connect(c, (struct sockaddr *)&a, sizeof a));
    struct pollfd pf = {.fd = c, .events = POLLOUT | POLLIN};
    poll(&pf, 1, 5000);
    printf("poll out %d err %d hup %d\n", !!(pf.revents & POLLOUT), !!(pf.revents & POLLERR),
           !!(pf.revents & POLLHUP));
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &l);
    printf("SO_ERROR %s\n", strerrorname_np(err));
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &l);
    printf("SO_ERROR again %d\n", err);
    close(c);
    a = sin4("0.0.0.0", port);
    c = socket(AF_INET, SOCK_STREAM, 0);
    SHOW("connect any addr", connect(c, (struct sockaddr *)&a, sizeof a));
    close(c);

    /* The peer closed: the first write goes out and is answered by a
     * reset; the next one is EPIPE with SIGPIPE. */
    signal(SIGPIPE, on_pipe);
    int ls = listener(1, 0);
    c = connect_to(port_of(ls), 0);
    int fd = accept(ls, NULL, NULL);
    close(fd);
    usleep(20000);
    char buf[8];
    SHOW("read after peer close", read(c, buf, sizeof buf));
    SHOW("write after peer close", write(c, "data", 4));
    usleep(20000);
    SHOW("write after reset", write(c, "data", 4));
    printf("sigpipes %d\n", sigpipes);
    SHOW("send MSG_NOSIGNAL", send(c, "data", 4, MSG_NOSIGNAL));
    printf("sigpipes %d\n", sigpipes);
    SHOW("read after reset", read(c, buf, sizeof buf));
    show_addr("peer after reset", c, 1);
    close(c);

    /* SO_LINGER 0: close resets; the peer reads ECONNRESET. */
    c = connect_to(port_of(ls), 0);
    fd = accept(ls, NULL, NULL);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    usleep(20000);
    SHOW("read after linger-0 close", read(c, buf, sizeof buf));
    SHOW("read again", read(c, buf, sizeof buf));
    SHOW("write after that", send(c, "x", 1, MSG_NOSIGNAL));
    close(c);

    /* Closing with unread data resets too. */
    c = connect_to(port_of(ls), 0);
    fd = accept(ls, NULL, NULL);
    send(c, "unread", 6, 0);
    usleep(20000);
    close(fd);
    usleep(20000);
    SHOW("read after close with unread data", read(c, buf, sizeof buf));
    close(c);
    close(ls);
    signal(SIGPIPE, SIG_DFL);
}

/* A server that closes first leaves TIME-WAIT behind: binding its port
 * again needs SO_REUSEADDR. */
static void time_wait(void) {
    int ls = listener(1, 1);
    int port = port_of(ls);
    int c = connect_to(port, 0);
    int fd = accept(ls, NULL, NULL);
    close(fd);
    usleep(20000);
    close(c);
    close(ls);
    usleep(20000);
    struct sockaddr_in a = sin4("127.0.0.1", port);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    SHOW("rebind in TIME-WAIT", bind(s, (struct sockaddr *)&a, sizeof a));
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    SHOW("rebind with SO_REUSEADDR", bind(s, (struct sockaddr *)&a, sizeof a));
    SHOW("listen again", listen(s, 1));
    close(s);
}

/* Many short connections, each side closing first in turn: TIME-WAIT
 * piles up on both sides and must not run out of ports or slow down. */
static void churn(void) {
    int ls = listener(16, 1);
    int port = port_of(ls), ok = 0;
    for (int i = 0; i < 1000; i++) {
        int c = connect_to(port, 0);
        int fd = accept(ls, NULL, NULL);
        char b[2];
        if (c < 0 || fd < 0)
            break;
        if (i % 2) {
            close(c);
            ok += read(fd, b, 1) == 0;
            close(fd);
        } else {
            write(fd, "x", 1);
            close(fd);
            ok += read(c, b, 2) == 1 && read(c, b, 1) == 0;
            close(c);
        }
    }
    printf("churn: %d of 1000 connections ok\n", ok);
    close(ls);
}

static void udp(void) {
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = sin4("127.0.0.1", 0);
    SHOW("udp bind a", bind(a, (struct sockaddr *)&sa, sizeof sa));
    SHOW("udp bind b", bind(b, (struct sockaddr *)&sa, sizeof sa));
    struct sockaddr_in to_b = sin4("127.0.0.1", port_of(b));
    int pa = port_of(a);
    SHOW("udp bind b's port", bind(socket(AF_INET, SOCK_DGRAM, 0), (struct sockaddr *)&to_b, sizeof to_b));
    char big[1000];
    memset(big, 'u', sizeof big);
    int sizes[3] = {5, 100, 1000};
    for (int i = 0; i < 3; i++)
        SHOW("sendto", sendto(a, big, sizes[i], 0, (struct sockaddr *)&to_b, sizeof to_b));
    int avail = -1;
    ioctl(b, FIONREAD, &avail);
    printf("udp FIONREAD %d\n", avail);
    for (int i = 0; i < 3; i++) {
        char buf[2000];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        printf("recvfrom %zd from %s family %d len %u port-is-a %d\n", n, inet_ntoa(from.sin_addr),
               from.sin_family, (unsigned)fl, ntohs(from.sin_port) == pa);
    }
    SHOW("recv empty", recv(b, big, sizeof big, MSG_DONTWAIT));
    /* Truncation: MSG_TRUNC returns the real length; recvmsg flags it. */
    sendto(a, big, 100, 0, (struct sockaddr *)&to_b, sizeof to_b);
    sendto(a, big, 100, 0, (struct sockaddr *)&to_b, sizeof to_b);
    sendto(a, "peekme", 6, 0, (struct sockaddr *)&to_b, sizeof to_b);
    char small[10];
    SHOW("recv MSG_TRUNC", recv(b, small, sizeof small, MSG_TRUNC));
    struct iovec iov = {small, sizeof small};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recvmsg(b, &m, 0);
    printf("recvmsg %zd trunc %d namelen %u\n", n, !!(m.msg_flags & MSG_TRUNC), (unsigned)m.msg_namelen);
    SHOW("peek", recv(b, small, sizeof small, MSG_PEEK));
    SHOW("recv", recv(b, small, sizeof small, 0));
    printf("got %.6s\n", small);
    SHOW("zero-length datagram", sendto(a, "", 0, 0, (struct sockaddr *)&to_b, sizeof to_b));
    SHOW("recv zero", recv(b, small, sizeof small, 0));
    SHOW("send unconnected", send(a, "x", 1, 0));
    /* Connected: default destination, and only the peer's datagrams. */
    struct sockaddr_in to_a = sin4("127.0.0.1", pa);
    SHOW("udp connect", connect(b, (struct sockaddr *)&to_a, sizeof to_a));
    show_addr("udp peer", b, 1);
    show_addr("udp name", b, 0);
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    SHOW("stranger sendto", sendto(c, "stranger", 8, 0, (struct sockaddr *)&to_b, sizeof to_b));
    show_addr("autobound udp name", c, 0);
    SHOW("peer sendto", sendto(a, "friend", 6, 0, (struct sockaddr *)&to_b, sizeof to_b));
    SHOW("connected recv", recv(b, small, sizeof small, 0));
    printf("got %.6s\n", small);
    SHOW("connected send", send(b, "back", 4, 0));
    SHOW("a recv", recv(a, small, sizeof small, 0));
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    SHOW("udp disconnect", connect(b, &un, sizeof un));
    show_addr("udp peer after disconnect", b, 1);
    /* A datagram over 64 KiB cannot be sent. */
    char *huge = calloc(1, 70000);
    SHOW("sendto huge", sendto(a, huge, 70000, 0, (struct sockaddr *)&to_b, sizeof to_b));
    free(huge);
    /* A blocking receive sleeps until a datagram comes. */
    pid_t ch = fork();
    if (ch == 0) {
        usleep(30000);
        sendto(c, "wakeup", 6, 0, (struct sockaddr *)&to_a, sizeof to_a);
        _exit(0);
    }
    SHOW("blocking recv", recv(a, small, sizeof small, 0));
    wait_child(ch);
    close(a);
    close(b);
    close(c);
}

static void ipv6(void) {
    int ls = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    SHOW("v6 bind", bind(ls, (struct sockaddr *)&a, sizeof a));
    SHOW("v6 listen", listen(ls, 2));
    show_addr("v6 listener", ls, 0);
    a.sin6_port = htons(port_of(ls));
    int c = socket(AF_INET6, SOCK_STREAM, 0);
    SHOW("v6 connect", connect(c, (struct sockaddr *)&a, sizeof a));
    int fd = accept(ls, NULL, NULL);
    show_addr("v6 accepted peer", fd, 1);
    show_addr("v6 client name", c, 0);
    SHOW("v6 send", send(c, "six", 3, 0));
    char buf[8];
    SHOW("v6 recv", recv(fd, buf, sizeof buf, 0));
    struct sockaddr_in v4 = sin4("127.0.0.1", 0);
    SHOW("v6 bind v4 addr", bind(socket(AF_INET6, SOCK_STREAM, 0), (struct sockaddr *)&v4, sizeof v4));
    close(c);
    close(fd);
    close(ls);
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 ua = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bind(u, (struct sockaddr *)&ua, sizeof ua);
    ua.sin6_port = htons(port_of(u));
    SHOW("v6 udp sendto self", sendto(u, "hi6", 3, 0, (struct sockaddr *)&ua, sizeof ua));
    struct sockaddr_in6 from;
    socklen_t fl = sizeof from;
    SHOW("v6 udp recvfrom", recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
    printf("v6 from len %u family %d\n", (unsigned)fl, from.sin6_family);
    close(u);
    /* A v4 wildcard listener takes no v6 connections, and the other way
     * round; both may share the port number. */
    int l4 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any4 = sin4("0.0.0.0", 0);
    bind(l4, (struct sockaddr *)&any4, sizeof any4);
    listen(l4, 1);
    struct sockaddr_in6 to6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
                               .sin6_port = htons(port_of(l4))};
    c = socket(AF_INET6, SOCK_STREAM, 0);
    SHOW("v6 connect to v4 listener", connect(c, (struct sockaddr *)&to6, sizeof to6));
    close(c);
    int l6 = socket(AF_INET6, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 any6 = {.sin6_family = AF_INET6, .sin6_port = htons(port_of(l4))};
    SHOW("v6 wildcard on the v4 port", bind(l6, (struct sockaddr *)&any6, sizeof any6));
    SHOW("v6 listen", listen(l6, 1));
    c = socket(AF_INET6, SOCK_STREAM, 0);
    SHOW("v6 connect", connect(c, (struct sockaddr *)&to6, sizeof to6));
    fd = accept(l6, NULL, NULL);
    show_addr("v6 wildcard accepted peer", fd, 1);
    close(fd);
    close(c);
    close(l6);
    close(l4);

    /* Dual stack: an AF_INET6 wildcard without IPV6_V6ONLY takes IPv4
     * connections too, and shows their addresses v4-mapped. */
    l6 = socket(AF_INET6, SOCK_STREAM, 0);
    any6.sin6_port = 0;
    SHOW("dual bind", bind(l6, (struct sockaddr *)&any6, sizeof any6));
    SHOW("dual listen", listen(l6, 2));
    struct sockaddr_in any4p = sin4("0.0.0.0", port_of(l6));
    l4 = socket(AF_INET, SOCK_STREAM, 0);
    SHOW("v4 bind on the dual port", bind(l4, (struct sockaddr *)&any4p, sizeof any4p));
    close(l4);
    c = connect_to(port_of(l6), 0);
    printf("v4 connect to dual listener: %s\n", c < 0 ? strerrorname_np(-c) : "ok");
    fd = accept(l6, NULL, NULL);
    show_addr("dual accepted peer", fd, 1);
    show_addr("dual accepted name", fd, 0);
    close(fd);
    close(c);
    struct sockaddr_in6 mapped = {.sin6_family = AF_INET6, .sin6_port = htons(port_of(l6))};
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    SHOW("v6 connect to v4-mapped", connect(c, (struct sockaddr *)&mapped, sizeof mapped));
    show_addr("v4-mapped client name", c, 0);
    fd = accept(l6, NULL, NULL);
    close(fd);
    close(c);
    close(l6);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    errors();
    options();
    echo_blocking();
    echo_nonblocking();
    backlog();
    large();
    whole_writes();
    half_close();
    failures();
    time_wait();
    churn();
    udp();
    ipv6();
    printf("inet done\n");
    return 0;
}
