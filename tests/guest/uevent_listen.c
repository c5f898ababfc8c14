/* Listen on NETLINK_KOBJECT_UEVENT group 1 with SO_PASSCRED and a
 * filter that keeps everything, and print the first N (argv[1]) uevents
 * the kernel sends: sender port and group, credentials, the header and
 * each KEY=VALUE (SEQNUM only as "SEQNUM set"). Used by tests/mconsole.rs
 * around `config ubdN=` / `remove ubdN`; prints "listening" once bound. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = 1};
    int on = 1;
    struct sock_filter keep[] = {BPF_STMT(BPF_RET | BPF_K, 0xffffffff)};
    struct sock_fprog p = {1, keep};
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0 ||
        setsockopt(fd, SOL_NETLINK, NETLINK_PKTINFO, &on, sizeof on) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p) < 0) {
        perror("uevent socket");
        return 1;
    }
    printf("listening\n");
    for (int i = 0; i < n; i++) {
        char buf[4096];
        union {
            char b[CMSG_SPACE(sizeof(struct nl_pktinfo)) + CMSG_SPACE(sizeof(struct ucred))];
            struct cmsghdr align;
        } c;
        struct sockaddr_nl from;
        struct iovec iov = {buf, sizeof buf - 1};
        struct msghdr m = {&from, sizeof from, &iov, 1, c.b, sizeof c.b, 0};
        ssize_t len = recvmsg(fd, &m, 0);
        if (len < 0) {
            perror("recvmsg");
            return 1;
        }
        buf[len] = 0;
        struct ucred u = {-1, -1, -1};
        struct nl_pktinfo pi = {0};
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
            if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS)
                memcpy(&u, CMSG_DATA(h), sizeof u);
            else if (h->cmsg_level == SOL_NETLINK && h->cmsg_type == NETLINK_PKTINFO)
                memcpy(&pi, CMSG_DATA(h), sizeof pi);
        }
        printf("event from port %u group %u pktinfo group %u cred pid %d uid %d\n", from.nl_pid,
               from.nl_groups, pi.group, u.pid, u.uid);
        for (char *s = buf; s < buf + len; s += strlen(s) + 1)
            printf("  %s\n", strncmp(s, "SEQNUM=", 7) ? s : "SEQNUM set");
    }
    printf("uevent_listen done\n");
    return 0;
}
