/* AF_PACKET in the guest (guest-only: it needs eth0 and a host on the
 * other side of the TAP): usage `packet IFNAME OWN_IP HOST_IP`.
 * ARP request to the host through a SOCK_RAW and a SOCK_DGRAM socket,
 * the replies read back with their sockaddr_ll, the ETH_P_ALL copy of the
 * sent frame (PACKET_OUTGOING), SIGIO (POLL_IN) for the reply on an
 * O_ASYNC socket, a BPF filter that drops everything, and
 * EPERM for an unprivileged caller. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned char mac[6];
static int ifindex;
static struct in_addr own, host;

/* Print a call's result and, when it failed, its errno (taken after the
 * call: C leaves the order of arguments' evaluation open). */
static void show(const char *what, long r) {
    if (r < 0)
        printf("%s: %ld %s\n", what, r, strerror(errno));
    else
        printf("%s: %ld\n", what, r);
}

static void die(const char *what) {
    printf("%s: %s\n", what, strerror(errno));
    exit(1);
}

/* An ARP request for HOST from OWN (28 bytes) at p. */
static void arp_request(unsigned char *p) {
    memset(p, 0, 28);
    p[1] = 1;                 /* htype Ethernet */
    p[2] = 8;                 /* ptype IPv4 */
    p[4] = 6;
    p[5] = 4;
    p[7] = 1;                 /* request */
    memcpy(p + 8, mac, 6);
    memcpy(p + 14, &own, 4);
    memcpy(p + 24, &host, 4);
}

/* Wait up to 10 s for a frame on fd; -1 on timeout. */
static int wait_in(int fd) {
    struct pollfd pfd = {fd, POLLIN, 0};
    return poll(&pfd, 1, 10000) == 1 ? 0 : -1;
}

/* Read until an ARP reply from HOST (arp at offset off); print it. */
static void expect_reply(int fd, int off, const char *name) {
    unsigned char buf[2048];
    for (int i = 0; i < 20; i++) {
        if (wait_in(fd) < 0) {
            printf("%s: no reply\n", name);
            exit(1);
        }
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < off + 28)
            continue;
        unsigned char *a = buf + off;
        if (a[7] != 2 || memcmp(a + 14, &host, 4) != 0)
            continue;
        printf("%s: reply from %s, len %d, addrlen %d, family %d, proto 0x%04x, "
               "ifindex ok %d, hatype %d, pkttype %d, halen %d, sender mac matches %d, to us %d\n",
               name, inet_ntoa(host), (int)n, (int)fl, from.sll_family, ntohs(from.sll_protocol),
               from.sll_ifindex == ifindex, from.sll_hatype, from.sll_pkttype, from.sll_halen,
               memcmp(from.sll_addr, a + 8, 6) == 0, memcmp(a + 18, mac, 6) == 0);
        return;
    }
    printf("%s: no reply among 20 frames\n", name);
    exit(1);
}

/* RTM_NEWADDR of 10.99.0.1/24 on ifindex with NLM_F_ACK: the errno of
 * the kernel's answer (0: added), or -1 without one. */
static int rtm_newaddr(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    struct {
        struct nlmsghdr h;
        struct ifaddrmsg a;
        struct rtattr ra;
        unsigned char addr[4];
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_NEWADDR;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    req.h.nlmsg_seq = 7;
    req.a.ifa_family = AF_INET;
    req.a.ifa_prefixlen = 24;
    req.a.ifa_index = ifindex;
    req.ra.rta_len = RTA_LENGTH(4);
    req.ra.rta_type = IFA_LOCAL;
    memcpy(req.addr, (unsigned char[]){10, 99, 0, 1}, 4);
    if (send(fd, &req, sizeof req, 0) < 0)
        return -1;
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    close(fd);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR ||
        h->nlmsg_seq != 7)
        return -1;
    return -((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        printf("usage: packet IFNAME OWN_IP HOST_IP\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    inet_aton(argv[2], &own);
    inet_aton(argv[3], &host);

    int raw = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));
    if (raw < 0)
        die("socket raw");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
    if (ioctl(raw, SIOCGIFINDEX, &ifr) < 0)
        die("SIOCGIFINDEX");
    ifindex = ifr.ifr_ifindex;
    if (ioctl(raw, SIOCGIFHWADDR, &ifr) < 0)
        die("SIOCGIFHWADDR");
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);

    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ARP);
    sll.sll_ifindex = ifindex;
    printf("bind raw: %d\n", bind(raw, (struct sockaddr *)&sll, sizeof sll));
    struct sockaddr_ll name;
    socklen_t nl = sizeof name;
    getsockname(raw, (struct sockaddr *)&name, &nl);
    printf("getsockname: len %d, proto 0x%04x, ifindex ok %d, halen %d, mac ok %d\n", (int)nl,
           ntohs(name.sll_protocol), name.sll_ifindex == ifindex, name.sll_halen,
           memcmp(name.sll_addr, mac, 6) == 0);

    struct sockaddr_ll bad = sll;
    bad.sll_family = AF_INET;
    show("bind AF_INET family", bind(raw, (struct sockaddr *)&bad, sizeof bad));
    bad = sll;
    bad.sll_ifindex = 999;
    show("bind ifindex 999", bind(raw, (struct sockaddr *)&bad, sizeof bad));

    /* Every frame of the interface, ours included. */
    int all = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    struct sockaddr_ll asll = sll;
    asll.sll_protocol = htons(ETH_P_ALL);
    printf("bind all: %d\n", bind(all, (struct sockaddr *)&asll, sizeof asll));

    /* A whole frame through SOCK_RAW. */
    unsigned char frame[60];
    memset(frame, 0, sizeof frame);
    memset(frame, 0xff, 6);
    memcpy(frame + 6, mac, 6);
    frame[12] = 0x08;
    frame[13] = 0x06;
    arp_request(frame + 14);
    struct sockaddr_ll to = sll;
    to.sll_halen = 6;
    memset(to.sll_addr, 0xff, 6);
    printf("sendto raw: %d\n",
           (int)sendto(raw, frame, 42, 0, (struct sockaddr *)&to, sizeof to));
    expect_reply(raw, 14, "raw");

    /* The copy of our request on the ETH_P_ALL socket. */
    for (int i = 0; i < 20; i++) {
        unsigned char buf[2048];
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        if (wait_in(all) < 0)
            break;
        ssize_t n = recvfrom(all, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n == 42 && from.sll_pkttype == PACKET_OUTGOING && memcmp(buf, frame, 42) == 0) {
            printf("all: outgoing copy of the request, proto 0x%04x\n", ntohs(from.sll_protocol));
            break;
        }
    }

    /* The payload only through SOCK_DGRAM: the kernel adds the header. */
    int dg = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ARP));
    printf("bind dgram: %d\n", bind(dg, (struct sockaddr *)&sll, sizeof sll));
    unsigned char arp[28];
    arp_request(arp);
    /* O_ASYNC: the reply brings SIGIO (F_SETSIG: with its si_code). */
    sigset_t io;
    sigemptyset(&io);
    sigaddset(&io, SIGIO);
    sigprocmask(SIG_BLOCK, &io, NULL);
    fcntl(dg, F_SETOWN, getpid());
    fcntl(dg, F_SETSIG, SIGIO);
    fcntl(dg, F_SETFL, fcntl(dg, F_GETFL) | O_ASYNC);
    printf("sendto dgram: %d\n", (int)sendto(dg, arp, 28, 0, (struct sockaddr *)&to, sizeof to));
    siginfo_t si;
    struct timespec ten = {10, 0};
    int sig = sigtimedwait(&io, &si, &ten);
    printf("SIGIO: %d, POLL_IN %d, fd ok %d\n", sig == SIGIO, sig == SIGIO && si.si_code == POLL_IN,
           sig == SIGIO && si.si_fd == dg);
    expect_reply(dg, 0, "dgram");
    fcntl(dg, F_SETFL, fcntl(dg, F_GETFL) & ~O_ASYNC);

    /* A filter that keeps nothing: nothing arrives any more. */
    struct sock_filter drop[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
    struct sock_fprog prog = {1, drop};
    printf("attach drop-all filter: %d\n",
           setsockopt(dg, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog));
    int one = 1;
    printf("PACKET_AUXDATA: %d\n", setsockopt(dg, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one));
    sendto(dg, arp, 28, 0, (struct sockaddr *)&to, sizeof to);
    struct pollfd pfd = {dg, POLLIN, 0};
    printf("filtered socket readable within 2 s: %d\n", poll(&pfd, 1, 2000));
    show("detach", setsockopt(dg, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof one));
    show("detach again", setsockopt(dg, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof one));

    show("SOCK_STREAM", socket(AF_PACKET, SOCK_STREAM, 0));

    /* SO_BINDTODEVICE on a UDP socket: stored, shown, sends leave by it. */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    char dev[IFNAMSIZ] = "";
    socklen_t dl = sizeof dev;
    getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, dev, &dl);
    printf("unbound: len %d\n", (int)dl);
    show("SO_BINDTODEVICE eth9", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "eth9", 5));
    show("SO_BINDTODEVICE", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, argv[1], strlen(argv[1])));
    dl = sizeof dev;
    getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, dev, &dl);
    printf("bound to %s, len %d\n", dev, (int)dl);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr = host};
    show("udp sendto through it", sendto(u, "x", 1, 0, (struct sockaddr *)&dst, sizeof dst));

    printf("RTM_NEWADDR as root: errno %d\n", rtm_newaddr());
    printf("RTM_NEWADDR again: errno %d (EEXIST %d)\n", rtm_newaddr(), EEXIST);
    if (setuid(65534) < 0)
        die("setuid");
    printf("RTM_NEWADDR as nobody: errno %d (EPERM %d)\n", rtm_newaddr(), EPERM);
    show("as nobody", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
    show("SO_BINDTODEVICE as nobody",
         setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, argv[1], strlen(argv[1])));
    printf("packet done\n");
    return 0;
}
