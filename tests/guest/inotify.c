/* inotify: the events a sequence of file operations produces on a watched
 * directory and file, printed in order (cookies only as "paired"), the
 * same on Linux and ruml. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int fd;
static char dir[64];
static unsigned last_cookie;

static const char *names[] = {"ACCESS", "MODIFY", "ATTRIB", "CLOSE_WRITE", "CLOSE_NOWRITE",
                              "OPEN", "MOVED_FROM", "MOVED_TO", "CREATE", "DELETE",
                              "DELETE_SELF", "MOVE_SELF"};

static void drain(const char *what)
{
    char buf[4096] __attribute__((aligned(8)));
    printf("-- %s\n", what);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno != EAGAIN)
                printf("read: %s\n", strerrorname_np(errno));
            return;
        }
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            printf("wd=%d", e->wd);
            for (int i = 0; i < 12; i++)
                if (e->mask & (1u << i))
                    printf(" %s", names[i]);
            if (e->mask & IN_ISDIR)
                printf(" ISDIR");
            if (e->mask & IN_IGNORED)
                printf(" IGNORED");
            if (e->mask & IN_MOVED_FROM)
                last_cookie = e->cookie;
            if (e->mask & IN_MOVED_TO)
                printf(" paired=%d", e->cookie != 0 && e->cookie == last_cookie);
            printf(" len=%u name=%s\n", e->len, e->len ? e->name : "");
            p += sizeof *e + e->len;
        }
    }
}

static char *at(const char *name)
{
    static char b[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%s/%s", dir, name);
    return b[k];
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    strcpy(dir, "/tmp/inoXXXXXX");
    if (!mkdtemp(dir))
        return 1;
    fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    printf("init %s\n", fd >= 0 ? "ok" : strerrorname_np(errno));
    int wd = inotify_add_watch(fd, dir, IN_ALL_EVENTS);
    printf("wd %d again %d\n", wd, inotify_add_watch(fd, dir, IN_ALL_EVENTS));
    printf("bad mask %s\n", inotify_add_watch(fd, dir, 0) < 0 ? strerrorname_np(errno) : "ok");
    printf("onlydir %s\n",
           inotify_add_watch(fd, "/etc/passwd", IN_ONLYDIR | IN_ALL_EVENTS) < 0 ? strerrorname_np(errno) : "ok");
    printf("missing %s\n", inotify_add_watch(fd, at("nope"), IN_ALL_EVENTS) < 0 ? strerrorname_np(errno) : "ok");
    struct pollfd p = {fd, POLLIN, 0};
    printf("poll empty %d\n", poll(&p, 1, 0));
    drain("nothing yet");

    int f = open(at("a"), O_CREAT | O_WRONLY, 0644);
    write(f, "hello", 5);
    write(f, "world", 5);
    int avail = 0;
    ioctl(fd, FIONREAD, &avail);
    printf("poll %d fionread %d\n", poll(&p, 1, 0), avail);
    close(f);
    drain("create, write, close");

    char c[16];
    f = open(at("a"), O_RDONLY);
    read(f, c, sizeof c);
    close(f);
    drain("read");

    chmod(at("a"), 0600);
    truncate(at("a"), 2);
    drain("chmod, truncate");

    rename(at("a"), at("b"));
    drain("rename");

    link(at("b"), at("c"));
    unlink(at("c"));
    drain("link, unlink");

    mkdir(at("sub"), 0755);
    rmdir(at("sub"));
    symlink("target", at("s"));
    unlink(at("s"));
    drain("mkdir, rmdir, symlink, unlink");

    DIR *d = opendir(dir);
    while (readdir(d))
        ;
    closedir(d);
    drain("list");

    int wb = inotify_add_watch(fd, at("b"), IN_ALL_EVENTS);
    printf("file wd %d\n", wb);
    f = open(at("b"), O_WRONLY | O_APPEND);
    write(f, "!", 1);
    close(f);
    drain("write to a watched file");
    unlink(at("b"));
    drain("unlink a watched file");

    printf("rm %d\n", inotify_rm_watch(fd, wd));
    printf("rm again %s\n", inotify_rm_watch(fd, wd) < 0 ? strerrorname_np(errno) : "ok");
    drain("rm_watch");

    int w1 = inotify_add_watch(fd, dir, IN_CREATE | IN_ONESHOT);
    close(open(at("x"), O_CREAT | O_WRONLY, 0644));
    close(open(at("y"), O_CREAT | O_WRONLY, 0644));
    printf("oneshot wd is new %d\n", w1 > wd);
    drain("oneshot");

    char small[8];
    inotify_add_watch(fd, dir, IN_DELETE);
    unlink(at("x"));
    printf("small buffer %s\n", read(fd, small, sizeof small) < 0 ? strerrorname_np(errno) : "ok");
    drain("after small read");
    unlink(at("y"));
    rmdir(dir);
    drain("rmdir the watched dir");
    printf("inotify done\n");
    return 0;
}
