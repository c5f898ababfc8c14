/* Socket and event semantics third-party suites check: edge-triggered and
 * one-shot epoll, epoll_ctl errors, sendfile to a full socket, AF_UNIX
 * autobind, SO_DOMAIN/SO_PROTOCOL/SO_TYPE/SO_REUSEPORT. Only deterministic
 * things are printed; children report through pipes and exit codes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

#define SHOW(label, call)                                                      \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(call);                                                \
        printf("%s: %ld %s\n", label, r_, en(r_));                             \
    } while (0)

static int ctl(int ep, int op, int fd, unsigned ev) {
    struct epoll_event e = {.events = ev, .data.fd = fd};
    return epoll_ctl(ep, op, fd, &e);
}

/* Number of events epoll_wait reports now (or after a short wait). */
static int nready(int ep, int ms) {
    struct epoll_event e[8];
    return epoll_wait(ep, e, 8, ms);
}

static void epoll_edge(void) {
    int p[2];
    pipe(p);
    int ep = epoll_create1(0);
    SHOW("et add", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET));
    SHOW("et empty", nready(ep, 0));
    write(p[1], "a", 1);
    SHOW("et first", nready(ep, 1000));
    SHOW("et again", nready(ep, 0));
    SHOW("et again2", nready(ep, 0));
    write(p[1], "b", 1);
    SHOW("et new data", nready(ep, 1000));
    SHOW("et after", nready(ep, 0));
    char b[8];
    SHOW("et read", read(p[0], b, sizeof b));
    SHOW("et drained", nready(ep, 0));
    SHOW("et mod rearms", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET));
    write(p[1], "c", 1);
    SHOW("et mod then data", nready(ep, 1000));
    SHOW("et mod", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET));
    SHOW("et after mod", nready(ep, 1000));
    close(ep);

    /* Level-triggered reports as long as the data is there. */
    ep = epoll_create1(0);
    ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN);
    SHOW("lt first", nready(ep, 0));
    SHOW("lt again", nready(ep, 0));
    close(ep);

    /* Writable, edge-triggered: once. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    ep = epoll_create1(0);
    ctl(ep, EPOLL_CTL_ADD, sv[0], EPOLLOUT | EPOLLET);
    SHOW("et out", nready(ep, 1000));
    SHOW("et out again", nready(ep, 0));
    /* The peer's data arriving is a new kind of readiness. */
    SHOW("et mod in|out", ctl(ep, EPOLL_CTL_MOD, sv[0], EPOLLIN | EPOLLOUT | EPOLLET));
    SHOW("et in|out", nready(ep, 1000));
    SHOW("et in|out again", nready(ep, 0));
    write(sv[1], "x", 1);
    struct epoll_event e;
    SHOW("et data", epoll_wait(ep, &e, 1, 1000));
    printf("et data events: in %d out %d\n", !!(e.events & EPOLLIN), !!(e.events & EPOLLOUT));
    close(ep);
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);
}

static void epoll_oneshot(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int ep = epoll_create1(0);
    SHOW("oneshot add", ctl(ep, EPOLL_CTL_ADD, sv[0], EPOLLIN | EPOLLONESHOT));
    write(sv[1], "x", 1);
    SHOW("oneshot first", nready(ep, 1000));
    SHOW("oneshot disarmed", nready(ep, 0));
    write(sv[1], "y", 1);
    SHOW("oneshot still disarmed", nready(ep, 0));
    SHOW("oneshot mod", ctl(ep, EPOLL_CTL_MOD, sv[0], EPOLLIN | EPOLLONESHOT));
    SHOW("oneshot rearmed", nready(ep, 1000));
    SHOW("oneshot disarmed again", nready(ep, 0));
    close(ep);
    close(sv[0]);
    close(sv[1]);
}

static void epoll_errors(void) {
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    char path[64];
    snprintf(path, sizeof path, "/tmp/netsem-ep-%d", getpid());
    int f = open(path, O_CREAT | O_RDWR, 0600);
    unlink(path);
    int d = open("/", O_RDONLY | O_DIRECTORY);
    SHOW("regular file", ctl(ep, EPOLL_CTL_ADD, f, EPOLLIN));
    SHOW("directory", ctl(ep, EPOLL_CTL_ADD, d, EPOLLIN));
    SHOW("itself", ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN));
    SHOW("not epoll", ctl(p[0], EPOLL_CTL_ADD, p[1], EPOLLOUT));
    SHOW("bad fd", ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN));
    SHOW("add", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN));
    SHOW("add twice", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN));
    SHOW("mod missing", ctl(ep, EPOLL_CTL_MOD, p[1], EPOLLOUT));
    SHOW("del missing", ctl(ep, EPOLL_CTL_DEL, p[1], 0));
    SHOW("bad op", ctl(ep, 99, p[0], EPOLLIN));
    SHOW("del", ctl(ep, EPOLL_CTL_DEL, p[0], 0));
    SHOW("exclusive add", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLEXCLUSIVE));
    SHOW("exclusive mod", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLEXCLUSIVE));
    SHOW("mod of exclusive", ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN));
    SHOW("exclusive oneshot", ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT));
    close(f);
    close(d);
    close(p[0]);
    close(p[1]);
    close(ep);
}

#define BIG (4 << 20)

static int make_file(const char *tag, int size) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/netsem-%s-%d", tag, getpid());
    int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    unlink(path);
    char *b = malloc(size);
    for (int i = 0; i < size; i++)
        b[i] = (char)(i * 7 + i / 4096);
    write(f, b, size);
    free(b);
    lseek(f, 0, SEEK_SET);
    return f;
}

static int sigpipes;
static void on_pipe(int s) { (void)s; sigpipes++; }

static void sendfile_socket(int inet) {
    int f = make_file("big", BIG);
    int s[2];
    if (inet) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        bind(l, (struct sockaddr *)&a, sizeof a);
        listen(l, 1);
        socklen_t al = sizeof a;
        getsockname(l, (struct sockaddr *)&a, &al);
        s[0] = socket(AF_INET, SOCK_STREAM, 0);
        connect(s[0], (struct sockaddr *)&a, sizeof a);
        s[1] = accept(l, NULL, NULL);
        close(l);
    } else {
        socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    }
    int rep[2];
    pipe(rep);
    pid_t c = fork();
    if (c == 0) {
        close(s[0]);
        /* Read slowly at first so that the sender's buffer fills. */
        usleep(200000);
        long total = 0;
        unsigned long sum = 0;
        char b[8192];
        ssize_t n;
        while ((n = read(s[1], b, sizeof b)) > 0) {
            for (ssize_t i = 0; i < n; i++)
                sum = sum * 31 + (unsigned char)b[i];
            total += n;
        }
        char line[64];
        int len = snprintf(line, sizeof line, "%ld %lu", total, sum);
        write(rep[1], line, len);
        _exit(0);
    }
    close(s[1]);
    close(rep[1]);
    SHOW(inet ? "sendfile tcp" : "sendfile unix", sendfile(s[0], f, NULL, BIG));
    SHOW("file position", lseek(f, 0, SEEK_CUR));
    close(s[0]);
    char line[64] = "";
    read(rep[0], line, sizeof line - 1);
    waitpid(c, NULL, 0);
    unsigned long sum = 0;
    char *b = malloc(BIG);
    pread(f, b, BIG, 0);
    for (int i = 0; i < BIG; i++)
        sum = sum * 31 + (unsigned char)b[i];
    free(b);
    char want[64];
    snprintf(want, sizeof want, "%d %lu", BIG, sum);
    printf("receiver got everything: %d\n", strcmp(line, want) == 0);
    close(rep[0]);
    close(f);
}

static void sendfile_misc(void) {
    int f = make_file("src", 5000);
    char path[64];
    snprintf(path, sizeof path, "/tmp/netsem-dst-%d", getpid());
    int o = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    unlink(path);
    off_t off = -1;
    SHOW("negative offset", sendfile(o, f, &off, 10));
    off = 10;
    SHOW("file to file", sendfile(o, f, &off, 1000));
    printf("offset now %ld, position %ld\n", (long)off, (long)lseek(f, 0, SEEK_CUR));
    struct stat st;
    fstat(o, &st);
    printf("dst size %ld\n", (long)st.st_size);
    SHOW("past end", sendfile(o, f, NULL, 10000));
    printf("position %ld\n", (long)lseek(f, 0, SEEK_CUR));
    SHOW("at end", sendfile(o, f, NULL, 10000));
    lseek(f, 0, SEEK_SET);
    int p[2];
    pipe(p);
    SHOW("file to pipe", sendfile(p[1], f, NULL, 100));
    char b[200];
    SHOW("pipe holds", read(p[0], b, sizeof b));
    printf("pipe data ok: %d\n", b[5] == (char)35 && b[99] == (char)(99 * 7));
    SHOW("read-only out", sendfile(p[0], f, NULL, 10));
    SHOW("write-only in", sendfile(o, p[1], NULL, 10));
    SHOW("zero count", sendfile(o, f, NULL, 0));

    /* The peer is gone: EPIPE and SIGPIPE. */
    signal(SIGPIPE, on_pipe);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    SHOW("closed peer", sendfile(sv[0], f, NULL, 100));
    printf("sigpipes %d\n", sigpipes);
    close(sv[0]);
    close(p[0]);
    close(p[1]);
    close(o);
    close(f);
}

static int getint(int s, int level, int opt) {
    int v = -1;
    socklen_t l = sizeof v;
    if (getsockopt(s, level, opt, &v, &l) < 0)
        return -errno;
    return v;
}

static void unix_autobind(void) {
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    SHOW("autobind", bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
    struct sockaddr_un got;
    socklen_t l = sizeof got;
    getsockname(s, (struct sockaddr *)&got, &l);
    int hex = 1;
    for (int i = 1; i < 6; i++)
        hex &= strchr("0123456789abcdef", got.sun_path[i]) != NULL && got.sun_path[i];
    printf("autobind name: len %u abstract %d five hex digits %d\n", (unsigned)l,
           got.sun_path[0] == 0, hex);
    SHOW("autobind again", bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
    socklen_t l2 = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l2);
    printf("name kept: %d\n", l2 == l && memcmp(&a, &got, l) == 0);
    int c = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW("send to autobound", sendto(c, "hi", 2, 0, (struct sockaddr *)&got, l));
    char b[8] = "";
    SHOW("recv", recv(s, b, sizeof b, 0));
    printf("got %s\n", b);
    struct sockaddr_un named = {.sun_family = AF_UNIX};
    SHOW("bind after autobind", bind(s, (struct sockaddr *)&named, sizeof named));
    close(c);
    close(s);
}

static void sockopts(void) {
    struct { int domain, type, proto; const char *name; } k[] = {
        {AF_UNIX, SOCK_STREAM, 0, "unix stream"},
        {AF_UNIX, SOCK_DGRAM, 0, "unix dgram"},
        {AF_UNIX, SOCK_SEQPACKET, 0, "unix seqpacket"},
        {AF_INET, SOCK_STREAM, 0, "tcp"},
        {AF_INET, SOCK_DGRAM, 0, "udp"},
        {AF_INET6, SOCK_STREAM, 0, "tcp6"},
        {AF_INET6, SOCK_DGRAM, 0, "udp6"},
    };
    for (unsigned i = 0; i < sizeof k / sizeof k[0]; i++) {
        int s = socket(k[i].domain, k[i].type, k[i].proto);
        printf("%s: domain %d type %d protocol %d\n", k[i].name,
               getint(s, SOL_SOCKET, SO_DOMAIN), getint(s, SOL_SOCKET, SO_TYPE),
               getint(s, SOL_SOCKET, SO_PROTOCOL));
        close(s);
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    printf("reuseport before %d\n", getint(s, SOL_SOCKET, SO_REUSEPORT));
    SHOW("set reuseport", setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one));
    printf("reuseport after %d\n", getint(s, SOL_SOCKET, SO_REUSEPORT));
    close(s);
    s = socket(AF_INET6, SOCK_DGRAM, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    printf("udp6 reuseport %d\n", getint(s, SOL_SOCKET, SO_REUSEPORT));
    close(s);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    epoll_edge();
    epoll_oneshot();
    epoll_errors();
    sendfile_socket(0);
    sendfile_socket(1);
    sendfile_misc();
    unix_autobind();
    sockopts();
    printf("netsem done\n");
    return 0;
}
