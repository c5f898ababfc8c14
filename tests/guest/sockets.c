/* AF_UNIX sockets as programs use them; deterministic output. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static socklen_t addr_of(struct sockaddr_un *a, const char *path, int abstract) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (abstract) {
        strcpy(a->sun_path + 1, path);
        return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
    }
    strcpy(a->sun_path, path);
    return sizeof *a;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* socketpair: both directions, EOF after close. */
    int sv[2];
    printf("socketpair: %d\n", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    write(sv[0], "ping", 4);
    char buf[64] = {0};
    printf("read %zd %.4s\n", read(sv[1], buf, sizeof buf), buf);
    write(sv[1], "pong!", 5);
    printf("read %zd %.5s\n", read(sv[0], buf, sizeof buf), buf);
    struct ucred cr;
    socklen_t cl = sizeof cr;
    getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("peercred pid==getpid %d uid %d\n", cr.pid == getpid(), (int)cr.uid);
    close(sv[1]);
    printf("eof: %zd\n", read(sv[0], buf, sizeof buf));
    ssize_t sn = send(sv[0], "x", 1, MSG_NOSIGNAL);
    printf("epipe: %zd %d\n", sn, errno == EPIPE);
    close(sv[0]);

    /* A server on a path; a forked client connects, talks, closes. */
    const char *path = "/tmp/ruml-test.sock";
    unlink(path);
    int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    socklen_t al = addr_of(&a, path, 0);
    int rb = bind(srv, (struct sockaddr *)&a, al);
    int rl = listen(srv, 4);
    printf("bind: %d listen: %d\n", rb, rl);
    struct stat st;
    stat(path, &st);
    printf("node is a socket: %d\n", S_ISSOCK(st.st_mode));
    rb = bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, al);
    printf("bind again: %d EADDRINUSE %d\n", rb, errno == EADDRINUSE);
    pid_t c = fork();
    if (c == 0) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&a, al) != 0) _exit(1);
        write(s, "hello server", 12);
        char r[32] = {0};
        ssize_t n = read(s, r, sizeof r);
        _exit(n == 5 && memcmp(r, "hi cl", 5) == 0 ? 0 : 2);
    }
    struct pollfd pf = {.fd = srv, .events = POLLIN};
    int pr = poll(&pf, 1, 5000);
    printf("poll listener: %d\n", pr);
    int conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
    memset(buf, 0, sizeof buf);
    ssize_t rn = read(conn, buf, sizeof buf);
    printf("accepted: %d got %zd %s\n", conn >= 0, rn, buf);
    write(conn, "hi cl", 5);
    int stc;
    waitpid(c, &stc, 0);
    printf("client exit %d\n", WEXITSTATUS(stc));
    printf("after client close: %zd\n", read(conn, buf, sizeof buf));
    struct sockaddr_un got;
    socklen_t gl = sizeof got;
    getsockname(srv, (struct sockaddr *)&got, &gl);
    printf("sockname %s\n", got.sun_path);
    close(conn);
    close(srv);
    unlink(path);
    struct sockaddr_un none;
    addr_of(&none, "/tmp/nobody-here.sock", 0);
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    int rc = connect(s2, (struct sockaddr *)&none, sizeof none);
    printf("connect to nothing: %d ENOENT %d\n", rc, errno == ENOENT);

    /* Datagrams between abstract names, with the sender's address. */
    int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a1, a2;
    socklen_t l1 = addr_of(&a1, "ruml-d1", 1), l2 = addr_of(&a2, "ruml-d2", 1);
    bind(d1, (struct sockaddr *)&a1, l1);
    bind(d2, (struct sockaddr *)&a2, l2);
    sendto(d1, "one", 3, 0, (struct sockaddr *)&a2, l2);
    sendto(d1, "two!", 4, 0, (struct sockaddr *)&a2, l2);
    struct sockaddr_un from;
    socklen_t fl = sizeof from;
    memset(buf, 0, sizeof buf);
    ssize_t n = recvfrom(d2, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    printf("dgram %zd %s from %s\n", n, buf, from.sun_path + 1);
    n = recv(d2, buf, 2, MSG_TRUNC);
    printf("truncated dgram reports %zd\n", n);
    n = recv(d2, buf, sizeof buf, MSG_DONTWAIT);
    printf("empty nonblocking: %zd EAGAIN %d\n", n, errno == EAGAIN);
    /* SCM_RIGHTS: pass an open pipe end to a child, which writes to it. */
    int ps[2], pp[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, ps);
    pipe(pp);
    pid_t k = fork();
    if (k == 0) {
        close(pp[1]);
        char b1;
        struct iovec io = {.iov_base = &b1, .iov_len = 1};
        union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
        struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
        if (recvmsg(ps[1], &m, 0) != 1) _exit(1);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        if (!cm || cm->cmsg_type != SCM_RIGHTS) _exit(2);
        int got;
        memcpy(&got, CMSG_DATA(cm), sizeof got);
        write(got, "via passed fd", 13);
        _exit(0);
    }
    char one = 'x';
    struct iovec io = {.iov_base = &one, .iov_len = 1};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &pp[1], sizeof(int));
    ssize_t sent = sendmsg(ps[0], &m, 0);
    close(pp[1]);
    memset(buf, 0, sizeof buf);
    ssize_t nread = read(pp[0], buf, sizeof buf);
    int kst;
    waitpid(k, &kst, 0);
    printf("scm_rights: sent %zd, read %zd \"%s\", child exit %d\n", sent, nread, buf, WEXITSTATUS(kst));
    /* FIONREAD: all queued bytes of a stream or seqpacket socket, the next
     * datagram of a datagram socket; EINVAL on a listening socket. */
    int types[] = {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM};
    for (int i = 0; i < 3; i++) {
        int q[2], n = -1;
        socketpair(AF_UNIX, types[i], 0, q);
        ioctl(q[1], FIONREAD, &n);
        printf("fionread type %d empty %d", types[i], n);
        write(q[0], "abc", 3);
        write(q[0], "defgh", 5);
        ioctl(q[1], FIONREAD, &n);
        printf(" after 3+5: %d", n);
        read(q[1], buf, 2);
        ioctl(q[1], FIONREAD, &n);
        printf(" after reading 2: %d\n", n);
        close(q[0]);
        close(q[1]);
    }
    int l = socket(AF_UNIX, SOCK_STREAM, 0), avail = 0;
    struct sockaddr_un la;
    socklen_t ll = addr_of(&la, "fionread-listener", 1);
    bind(l, (struct sockaddr *)&la, ll);
    listen(l, 1);
    printf("fionread listening: %s\n", ioctl(l, FIONREAD, &avail) < 0 ? strerrorname_np(errno) : "ok");
    close(l);
    printf("sockets done\n");
    return 0;
}
