/* Network namespaces: unshare(CLONE_NEWNET) gives a namespace with only
 * lo, down and without addresses; bringing it up (SIOCSIFFLAGS) gives
 * 127.0.0.1; ports and abstract AF_UNIX names are per namespace; setns
 * goes back to the first one, whose sockets are all still there. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *err(int r) {
    if (r >= 0)
        return "ok";
    switch (errno) {
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EADDRINUSE: return "EADDRINUSE";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    default: return strerror(errno);
    }
}

static struct sockaddr_in lo_addr(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int tcp_listener(int port, int *got) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = lo_addr(port);
    int r = bind(s, (struct sockaddr *)&a, sizeof a);
    if (r < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    listen(s, 4);
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    *got = ntohs(a.sin_port);
    return s;
}

static int tcp_connect(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = lo_addr(port);
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(s);
    errno = e;
    return r;
}

static socklen_t abstract(struct sockaddr_un *u, const char *name) {
    memset(u, 0, sizeof *u);
    u->sun_family = AF_UNIX;
    size_t n = strlen(name);
    memcpy(u->sun_path + 1, name, n);
    return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static int unix_bind(const char *name) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un u;
    socklen_t l = abstract(&u, name);
    if (bind(s, (struct sockaddr *)&u, l) < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    listen(s, 4);
    return s;
}

static int unix_connect(const char *name) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un u;
    socklen_t l = abstract(&u, name);
    int r = connect(s, (struct sockaddr *)&u, l);
    int e = errno;
    close(s);
    errno = e;
    return r;
}

static int lo_flags_on(int s) {
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    int x = ioctl(s, SIOCGIFFLAGS, &r);
    return x < 0 ? -1 : r.ifr_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING);
}

static int lo_flags(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    int f = lo_flags_on(s);
    close(s);
    return f;
}

static ino_t ns_ino(void) {
    struct stat st;
    stat("/proc/self/ns/net", &st);
    return st.st_ino;
}

static void list_links(const char *when) {
    struct if_nameindex *l = if_nameindex(), *p;
    printf("links %s:", when);
    for (p = l; p && p->if_index; p++)
        printf(" %s", p->if_name);
    printf("\n");
    if_freenameindex(l);
}

/* Rows of /proc/net/tcp after the header. */
static int tcp_rows(void) {
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        n++;
    if (f)
        fclose(f);
    return n;
}

int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    char name[64];
    snprintf(name, sizeof name, "ruml-netns-%d", getpid());

    /* In the first namespace: a TCP listener and an abstract name. */
    int port = 0;
    int l1 = tcp_listener(0, &port);
    int u1 = unix_bind(name);
    printf("first ns listener %d unix %d\n", l1 >= 0, u1 >= 0);
    int oldns = open("/proc/self/ns/net", O_RDONLY);
    ino_t first = ns_ino();

    printf("unshare: %s\n", err(unshare(CLONE_NEWNET)));
    printf("new namespace %d\n", ns_ino() != first);
    int newns = open("/proc/self/ns/net", O_RDONLY);
    printf("NS_GET_NSTYPE is CLONE_NEWNET %d\n", ioctl(newns, NS_GET_NSTYPE) == CLONE_NEWNET);

    /* Only lo, down, no address. */
    list_links("after unshare");
    printf("lo flags %#x\n", lo_flags());
    printf("tcp rows %d\n", tcp_rows());
    printf("connect with lo down: %s\n", err(tcp_connect(port)));

    /* ip link set lo up. */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    ioctl(s, SIOCGIFFLAGS, &r);
    r.ifr_flags |= IFF_UP;
    printf("SIOCSIFFLAGS up: %s\n", err(ioctl(s, SIOCSIFFLAGS, &r)));
    close(s);
    printf("lo flags %#x\n", lo_flags());

    /* The first namespace's listener is not here; its port is free. */
    printf("connect to the first ns's port: %s\n", err(tcp_connect(port)));
    int p2 = 0;
    int l2 = tcp_listener(port, &p2);
    printf("bind the same port: %s same %d\n", l2 >= 0 ? "ok" : err(-1), p2 == port);
    printf("tcp rows %d\n", tcp_rows());
    printf("connect here: %s\n", err(tcp_connect(port)));
    printf("unix connect to the first ns's name: %s\n", err(unix_connect(name)));
    int u2 = unix_bind(name);
    printf("unix bind the same name: %s\n", u2 >= 0 ? "ok" : err(-1));
    printf("unix connect here: %s\n", err(unix_connect(name)));

    /* Back to the first namespace: its sockets answer again. */
    printf("setns back: %s\n", err(setns(oldns, CLONE_NEWNET)));
    printf("first namespace again %d\n", ns_ino() == first);
    printf("connect there: %s\n", err(tcp_connect(port)));
    printf("unix connect there: %s\n", err(unix_connect(name)));
    /* And into the new one by its fd. */
    printf("setns new: %s\n", err(setns(newns, CLONE_NEWNET)));
    printf("lo flags %#x\n", lo_flags());
    printf("setns to a non-net fd as net: %s\n", err(setns(oldns, CLONE_NEWUTS)));
    /* A socket acts in the namespace it was made in: one made in a third
     * namespace (lo down) and used from the second (lo up). */
    printf("unshare again: %s\n", err(unshare(CLONE_NEWNET)));
    int k3 = socket(AF_INET, SOCK_DGRAM, 0);
    printf("setns second: %s\n", err(setns(newns, CLONE_NEWNET)));
    printf("lo flags through the third ns's socket %#x, here %#x\n", lo_flags_on(k3), lo_flags());
    close(k3);
    close(l1);
    close(l2);
    close(u1);
    close(u2);
    printf("netns done\n");
    return 0;
}
