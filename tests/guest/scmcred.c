/* SCM_CREDENTIALS and SO_PASSCRED on AF_UNIX sockets: what a receiver
 * gets with and without SO_PASSCRED, credentials a sender gives (checked
 * as Linux's scm_check_creds), their order before SCM_RIGHTS, and
 * MSG_CTRUNC when the control buffer is short. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

static int fcntl_ok(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static int sendc(int fd, const char *msg, const struct ucred *cr, int passfd)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {(void *)msg, strlen(msg)};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    size_t len = 0;
    memset(u.buf, 0, sizeof u.buf);
    if (cr || passfd >= 0) {
        m.msg_control = u.buf;
        m.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        if (cr) {
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_CREDENTIALS;
            c->cmsg_len = CMSG_LEN(sizeof *cr);
            memcpy(CMSG_DATA(c), cr, sizeof *cr);
            len += CMSG_SPACE(sizeof *cr);
            c = CMSG_NXTHDR(&m, c);
        }
        if (passfd >= 0) {
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &passfd, sizeof(int));
            len += CMSG_SPACE(sizeof(int));
        }
        m.msg_controllen = len;
    }
    int r = sendmsg(fd, &m, 0);
    return r < 0 ? -errno : r;
}

/* Receive one message with `room` bytes of control buffer; print what
 * came, with pids relative to `self` (own pid: "self"). */
static void recvc(int fd, size_t room, pid_t self, const char *what)
{
    char data[64];
    union {
        char buf[256];
        struct cmsghdr align;
    } u;
    struct iovec iov = {data, sizeof data - 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = room ? u.buf : NULL;
    m.msg_controllen = room;
    int n = recvmsg(fd, &m, 0);
    if (n < 0) {
        printf("%s: recvmsg errno %d\n", what, errno);
        return;
    }
    data[n] = 0;
    printf("%s: \"%s\" flags%s controllen %zu\n", what, data,
           (m.msg_flags & MSG_CTRUNC) ? " CTRUNC" : "", (size_t)m.msg_controllen);
    if (!room)
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred cr;
            memcpy(&cr, CMSG_DATA(c), sizeof cr);
            printf("  creds pid %s uid %u gid %u\n", cr.pid == self ? "self" : "other",
                   cr.uid, cr.gid);
        } else if (c->cmsg_type == SCM_RIGHTS) {
            int f;
            memcpy(&f, CMSG_DATA(c), sizeof f);
            printf("  rights len %zu fd valid %d\n", (size_t)c->cmsg_len, fcntl_ok(f));
            close(f);
        } else {
            printf("  cmsg level %d type %d len %zu\n", c->cmsg_level, c->cmsg_type,
                   (size_t)c->cmsg_len);
        }
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t self = getpid();
    int sv[2], on = 1;
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) {
        perror("socketpair");
        return 1;
    }
    /* Without SO_PASSCRED: no credentials. */
    printf("plain send %d\n", sendc(sv[0], "a", NULL, -1));
    recvc(sv[1], 256, self, "no passcred");
    printf("passcred %d\n", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    int v = 0;
    socklen_t vl = sizeof v;
    getsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, &vl);
    printf("SO_PASSCRED reads %d\n", v);
    /* The sender's own, implicitly. */
    printf("send %d\n", sendc(sv[0], "b", NULL, -1));
    recvc(sv[1], 256, self, "implicit");
    /* Given explicitly: own pid and ids. */
    struct ucred own = {self, getuid(), getgid()};
    printf("send own %d\n", sendc(sv[0], "c", &own, -1));
    recvc(sv[1], 256, self, "explicit");
    /* Checked: ids of -1, a pid nobody has. */
    struct ucred bad = own;
    bad.uid = (uid_t)-1;
    printf("uid -1: %d\n", sendc(sv[0], "x", &bad, -1));
    bad = own;
    bad.gid = (gid_t)-1;
    printf("gid -1: %d\n", sendc(sv[0], "x", &bad, -1));
    /* Credentials then a passed file, both fitting. */
    int p[2];
    pipe(p);
    printf("send both %d\n", sendc(sv[0], "d", &own, p[0]));
    recvc(sv[1], 256, self, "both");
    /* Room for the credentials only: the file is dropped (CTRUNC). */
    printf("send both %d\n", sendc(sv[0], "e", NULL, p[0]));
    recvc(sv[1], CMSG_SPACE(sizeof(struct ucred)), self, "room for creds");
    /* Too little room even for the credentials. */
    printf("send %d\n", sendc(sv[0], "f", NULL, -1));
    recvc(sv[1], 16, self, "short");
    /* A child's message names the child. */
    pid_t c = fork();
    if (c == 0) {
        sendc(sv[0], "g", NULL, -1);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    recvc(sv[1], 256, self, "from child");
    /* As another user: someone else's pid or uid is EPERM. */
    c = fork();
    if (c == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(2);
        struct ucred o = {getpid(), 0, 65534};
        int r1 = sendc(sv[0], "h", &o, -1);
        struct ucred q = {getppid(), 65534, 65534};
        int r2 = sendc(sv[0], "h", &q, -1);
        struct ucred mine = {getpid(), 65534, 65534};
        int r3 = sendc(sv[0], "i", &mine, -1);
        _exit((r1 == -EPERM) | (r2 == -EPERM) << 1 | (r3 == 1) << 2);
    }
    int st;
    waitpid(c, &st, 0);
    printf("unprivileged checks %d\n", WEXITSTATUS(st));
    recvc(sv[1], 256, self, "unprivileged own");
    printf("scmcred done\n");
    return 0;
}
