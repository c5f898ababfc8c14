/* fanotify: init and mark errors; inode, directory (FAN_EVENT_ON_CHILD,
 * FAN_ONDIR), mount and filesystem marks; merged events with the file's
 * descriptor and the process's pid; ignore masks and their clearing by a
 * write; quiet event descriptors; FIONREAD; open-for-exec events;
 * permission events answered FAN_ALLOW and FAN_DENY, and allowed when the
 * group closes; unprivileged groups. Events of other host processes (the
 * native run's mount and filesystem marks see them) are skipped by pid. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], file[128], sub[128], inner[128];

static void res(const char *what, int r)
{
    if (r < 0)
        printf("%s: %d errno %s\n", what, r, strerror(errno));
    else
        printf("%s: ok\n", what);
}

static const char *names(unsigned long long m)
{
    static char b[256];
    b[0] = 0;
    struct { unsigned long long bit; const char *n; } t[] = {
        {FAN_ACCESS, "ACCESS"}, {FAN_MODIFY, "MODIFY"}, {FAN_CLOSE_WRITE, "CLOSE_WRITE"},
        {FAN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {FAN_OPEN, "OPEN"}, {FAN_OPEN_EXEC, "OPEN_EXEC"},
        {FAN_Q_OVERFLOW, "OVERFLOW"}, {FAN_OPEN_PERM, "OPEN_PERM"}, {FAN_ACCESS_PERM, "ACCESS_PERM"},
        {FAN_OPEN_EXEC_PERM, "OPEN_EXEC_PERM"}, {FAN_ONDIR, "ONDIR"},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++)
        if (m & t[i].bit) {
            strcat(b, b[0] ? "|" : "");
            strcat(b, t[i].n);
            m &= ~t[i].bit;
        }
    if (m)
        sprintf(b + strlen(b), "|%#llx", m);
    return b;
}

/* Where an event descriptor points, relative to the test directory. */
static const char *where(int fd)
{
    static char b[256];
    char l[64];
    snprintf(l, sizeof l, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(l, b, sizeof b - 1);
    if (n < 0)
        return "?";
    b[n] = 0;
    size_t d = strlen(dir);
    if (strncmp(b, dir, d) == 0)
        return b[d] ? b + d : "/";
    return "outside";
}

/* Print this process's (or `want`'s) queued events; others' are closed
 * unseen. The group must be non-blocking. */
static void drain(int g, const char *what, pid_t want)
{
    char buf[4096];
    int seen = 0;
    for (;;) {
        ssize_t n = read(g, buf, sizeof buf);
        if (n < 0) {
            if (errno != EAGAIN)
                printf("%s: read errno %s\n", what, strerror(errno));
            break;
        }
        struct fanotify_event_metadata *m = (void *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            if (m->pid != want) {
                if (m->fd >= 0)
                    close(m->fd);
                continue;
            }
            seen++;
            printf("%s: %s at %s vers %d len %u\n", what, names(m->mask),
                   m->fd >= 0 ? where(m->fd) : "nofd", m->vers, m->event_len);
            if (m->fd >= 0)
                close(m->fd);
        }
    }
    if (!seen)
        printf("%s: none\n", what);
}

static void touch(const char *p)
{
    int fd = open(p, O_RDONLY);
    if (fd >= 0)
        close(fd);
    else
        printf("open %s: %s\n", p, strerror(errno));
}

/* A child that opens `p` and reports the errno through its status. */
/* A child keeps no fanotify group open: closing the parent's must end
 * the group. */
static void close_groups(void)
{
    for (int i = 3; i < 64; i++)
        close(i);
}

static pid_t opener(const char *p)
{
    pid_t c = fork();
    if (c == 0) {
        close_groups();
        int fd = open(p, O_RDONLY);
        _exit(fd < 0 ? errno : 0);
    }
    return c;
}

static int reap(pid_t c)
{
    int st;
    waitpid(c, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Read one permission event of `c` (blocking group) and answer it. */
static void answer(int g, pid_t c, unsigned resp, const char *what)
{
    struct fanotify_event_metadata m;
    for (;;) {
        ssize_t n = read(g, &m, sizeof m);
        if (n != sizeof m) {
            printf("%s: read %zd errno %s\n", what, n, strerror(errno));
            return;
        }
        if (m.pid == c)
            break;
        /* Another process: let it go. */
        struct fanotify_response r = {m.fd, FAN_ALLOW};
        if (m.mask & (FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM))
            write(g, &r, sizeof r);
        close(m.fd);
    }
    printf("%s: %s at %s\n", what, names(m.mask), where(m.fd));
    struct fanotify_response r = {m.fd, resp};
    res("response", write(g, &r, sizeof r) == sizeof r ? 0 : -1);
    close(m.fd);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--exit") == 0)
        return 0;
    setvbuf(stdout, 0, _IONBF, 0);
    strcpy(dir, "/tmp/fanXXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(file, sizeof file, "%s/f", dir);
    snprintf(sub, sizeof sub, "%s/d", dir);
    snprintf(inner, sizeof inner, "%s/d/g", dir);
    int fd = open(file, O_CREAT | O_WRONLY, 0644);
    write(fd, "hello\n", 6);
    close(fd);
    mkdir(sub, 0755);
    fd = open(inner, O_CREAT | O_WRONLY, 0644);
    write(fd, "inner\n", 6);
    close(fd);

    /* fanotify_init's checks. */
    res("init class bits 0xc", fanotify_init(0xc, O_RDONLY));
    res("init accmode 3", fanotify_init(FAN_CLASS_NOTIF, 3));
    res("init event_f_flags O_CREAT", fanotify_init(FAN_CLASS_NOTIF, O_RDONLY | O_CREAT));
    res("init unknown flag", fanotify_init(0x80000000, O_RDONLY));
    res("init pidfd|tid", fanotify_init(FAN_REPORT_PIDFD | FAN_REPORT_TID, O_RDONLY));

    int g = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE);
    res("init", g);
    printf("cloexec %d\n", (fcntl(g, F_GETFD) & FD_CLOEXEC) != 0);

    /* fanotify_mark's checks. */
    res("mark mask 0", fanotify_mark(g, FAN_MARK_ADD, 0, AT_FDCWD, file));
    res("mark add|remove", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_REMOVE, FAN_OPEN, AT_FDCWD, file));
    res("mark no command", fanotify_mark(g, 0, FAN_OPEN, AT_FDCWD, file));
    res("mark perm on notif", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, file));
    res("mark create without fid", fanotify_mark(g, FAN_MARK_ADD, FAN_CREATE, AT_FDCWD, dir));
    res("mark high bits", fanotify_mark(g, FAN_MARK_ADD, 1ULL << 40, AT_FDCWD, file));
    res("mark bad fd", fanotify_mark(-1, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, file));
    int devnull = open("/dev/null", O_RDONLY);
    res("mark not fanotify", fanotify_mark(devnull, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, file));
    res("mark missing path", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, "/tmp/no/such"));
    res("mark onlydir on file", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_ONLYDIR, FAN_OPEN, AT_FDCWD, file));
    res("mark remove none", fanotify_mark(g, FAN_MARK_REMOVE, FAN_OPEN, AT_FDCWD, file));
    res("mark flush with mask flag", fanotify_mark(g, FAN_MARK_FLUSH | FAN_MARK_ONLYDIR, 0, AT_FDCWD, 0));
    res("mark evictable mount", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_EVICTABLE | FAN_MARK_MOUNT, FAN_OPEN, AT_FDCWD, file));
    res("mark dirfd bad", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN, 999, 0));

    /* An inode mark: opens, reads, writes and closes, merged per process. */
    res("mark file", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN | FAN_ACCESS | FAN_MODIFY | FAN_CLOSE, AT_FDCWD, file));
    drain(g, "nothing yet", getpid());
    touch(file);
    drain(g, "open+close", getpid());
    fd = open(file, O_RDONLY);
    char b[16];
    read(fd, b, sizeof b);
    close(fd);
    drain(g, "read", getpid());
    fd = open(file, O_WRONLY | O_APPEND);
    write(fd, "more\n", 5);
    int ready = -1;
    ioctl(g, FIONREAD, &ready);
    printf("fionread %d\n", ready);
    close(fd);
    drain(g, "write", getpid());
    /* Another process's events carry its pid. */
    pid_t c = opener(file);
    reap(c);
    drain(g, "child", c);
    /* Reading through an event's descriptor makes no events. */
    touch(file);
    {
        char buf[256];
        ssize_t n = read(g, buf, sizeof buf);
        struct fanotify_event_metadata *m = (void *)buf;
        if (n >= (ssize_t)sizeof *m) {
            printf("event fd reads %zd\n", read(m->fd, b, 6));
            close(m->fd);
        }
    }
    drain(g, "after event fd", getpid());
    /* A read buffer shorter than one event. */
    touch(file);
    res("short read", read(g, b, 8));
    drain(g, "still queued", getpid());
    res("unmark file", fanotify_mark(g, FAN_MARK_REMOVE, FAN_OPEN | FAN_ACCESS | FAN_MODIFY | FAN_CLOSE, AT_FDCWD, file));
    touch(file);
    drain(g, "after unmark", getpid());

    /* A directory mark hears its children with FAN_EVENT_ON_CHILD, and
     * itself only with FAN_ONDIR. */
    res("mark dir", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN | FAN_EVENT_ON_CHILD, AT_FDCWD, sub));
    touch(inner);
    drain(g, "child of dir", getpid());
    touch(sub);
    drain(g, "dir without ondir", getpid());
    res("mark dir ondir", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN | FAN_ONDIR, AT_FDCWD, sub));
    touch(sub);
    drain(g, "dir with ondir", getpid());
    /* An ignore mask on the child; a write clears it unless it survives. */
    res("ignore open", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN, AT_FDCWD, inner));
    touch(inner);
    drain(g, "ignored", getpid());
    fd = open(inner, O_WRONLY | O_APPEND);
    drain(g, "ignored write open", getpid());
    write(fd, "x", 1);
    close(fd);
    touch(inner);
    drain(g, "after write", getpid());
    res("ignore surviving", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_OPEN, AT_FDCWD, inner));
    fd = open(inner, O_WRONLY | O_APPEND);
    write(fd, "y", 1);
    close(fd);
    touch(inner);
    drain(g, "survived", getpid());
    res("flush inode marks", fanotify_mark(g, FAN_MARK_FLUSH, 0, AT_FDCWD, 0));
    touch(sub);
    touch(inner);
    drain(g, "after flush", getpid());

    /* Mount and filesystem marks see every file there. */
    res("mark mount", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_CLOSE_NOWRITE, AT_FDCWD, dir));
    touch(inner);
    drain(g, "mount", getpid());
    res("mark mount child flag dropped", fanotify_mark(g, FAN_MARK_REMOVE | FAN_MARK_MOUNT, FAN_CLOSE_NOWRITE | FAN_EVENT_ON_CHILD, AT_FDCWD, dir));
    touch(inner);
    drain(g, "mount removed", getpid());
    res("mark filesystem", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN, AT_FDCWD, dir));
    touch(file);
    drain(g, "filesystem", getpid());
    res("flush filesystem marks", fanotify_mark(g, FAN_MARK_FLUSH | FAN_MARK_FILESYSTEM, 0, AT_FDCWD, 0));

    /* Exec: an open for execution. */
    char exe[128];
    snprintf(exe, sizeof exe, "%s/true", dir);
    {
        int in = open("/proc/self/exe", O_RDONLY), out = open(exe, O_CREAT | O_WRONLY, 0755);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            write(out, buf, n);
        close(in);
        close(out);
    }
    res("mark exe", fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN_EXEC, AT_FDCWD, exe));
    c = fork();
    if (c == 0) {
        execl(exe, exe, "--exit", (char *)0);
        _exit(127);
    }
    printf("exec child status %d\n", reap(c));
    drain(g, "exec", c);
    close(g);

    /* Permission events. */
    int p = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);
    res("init content", p);
    res("mark open_perm", fanotify_mark(p, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, file));
    struct fanotify_response bad = {1000, FAN_ALLOW};
    res("response unknown fd", write(p, &bad, sizeof bad));
    bad.response = 7;
    res("response bad value", write(p, &bad, sizeof bad));
    res("response short", write(p, &bad, 4));
    c = opener(file);
    answer(p, c, FAN_DENY, "deny");
    printf("denied open: %s\n", strerror(reap(c)));
    c = opener(file);
    answer(p, c, FAN_ALLOW, "allow");
    printf("allowed open: %s\n", strerror(reap(c)));
    /* Closing the group lets a waiting open through. */
    c = opener(file);
    struct pollfd pf = {p, POLLIN, 0};
    poll(&pf, 1, 10000);
    close(p);
    printf("open after close: %s\n", strerror(reap(c)));
    /* Access permission on read. */
    p = fanotify_init(FAN_CLASS_PRE_CONTENT | FAN_CLOEXEC, O_RDONLY);
    res("mark access_perm", fanotify_mark(p, FAN_MARK_ADD, FAN_ACCESS_PERM, AT_FDCWD, file));
    c = fork();
    if (c == 0) {
        close_groups();
        int f = open(file, O_RDONLY);
        char x[4];
        _exit(read(f, x, sizeof x) < 0 ? errno : 0);
    }
    answer(p, c, FAN_DENY, "deny read");
    printf("denied read: %s\n", strerror(reap(c)));
    close(p);

    /* Unprivileged: EPERM. */
    c = fork();
    if (c == 0) {
        if (setuid(65534) < 0)
            _exit(99);
        int r = fanotify_init(FAN_CLASS_NOTIF, O_RDONLY);
        _exit(r < 0 ? errno : 0);
    }
    printf("unprivileged init: %s\n", strerror(reap(c)));

    unlink(exe);
    unlink(inner);
    rmdir(sub);
    unlink(file);
    rmdir(dir);
    printf("fanotify done\n");
    return 0;
}
