/* What systemd's service sandboxes (logind's ProtectSystem= etc.) and
 * dbus-daemon's drop to its user need: /proc/self/mountinfo read again
 * after a rewind shows the mounts made since the open; `mount --rbind`
 * of a tree into itself copies the tree as it was, not the new mount; a
 * file bound onto a file in such a copy leaves the original place
 * alone; a mount made where a copy's submount was unmounted lands in
 * the copy; capget's version probe and PR_GET/SET_KEEPCAPS. Runs as
 * root in a mount namespace of its own with every mount private, below
 * a tmpfs of its own: the host's mounts never change. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char dir[64];

static void r(const char *what, long v) {
    if (v < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, v);
}

/* Lines of the open mountinfo `fd`, read from offset 0, whose mount
 * point is below (or is) DIR/SUB. */
static int count(int fd, const char *sub) {
    static char buf[1 << 16];
    char want[256];
    snprintf(want, sizeof want, "%s/%s", dir, sub);
    size_t wl = strlen(want);
    if (lseek(fd, 0, SEEK_SET) != 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += n;
    buf[len] = 0;
    int c = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char mp[512];
        if (sscanf(line, "%*d %*d %*s %*s %511s", mp) == 1 && !strncmp(mp, want, wl) &&
            (mp[wl] == 0 || mp[wl] == '/'))
            c++;
    }
    return c;
}

static long ino(const char *path) {
    struct stat st;
    return stat(path, &st) < 0 ? -1 : (long)st.st_ino;
}

static void caps(void) {
    struct __user_cap_header_struct h = {0, 0};
    struct __user_cap_data_struct d[2];
    r("capget probe", syscall(SYS_capget, &h, NULL));
    printf("kernel's version: %#x\n", h.version);
    h.version = 0;
    r("capget bad version with data", syscall(SYS_capget, &h, d));
    printf("version written back: %#x\n", h.version);
    h.pid = -1;
    r("capget pid -1", syscall(SYS_capget, &h, d));
    h.pid = 0;
    r("capget v3", syscall(SYS_capget, &h, d));
    printf("root's effective words set: %d %d\n", d[0].effective != 0, d[1].effective != 0);
    h.version = _LINUX_CAPABILITY_VERSION_1;
    d[1].effective = 0x5a5a;
    r("capget v1", syscall(SYS_capget, &h, d));
    printf("v1 leaves the second word: %d\n", d[1].effective == 0x5a5a);

    r("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    r("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    r("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    r("PR_SET_KEEPCAPS 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
    r("PR_SET_KEEPCAPS 0", prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0));
    r("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
}

static void mounts(void) {
    char p[256], q[256];
    int fd = open("/proc/self/mountinfo", O_RDONLY);
    r("open mountinfo", fd < 0 ? -1 : 0);
    printf("mounts below a at open: %d\n", count(fd, "a"));
    mkdir("a", 0755);
    mkdir("a/sub", 0755);
    mkdir("a/x", 0755);
    close(open("a/f", O_CREAT | O_WRONLY, 0644));
    close(open("g", O_CREAT | O_WRONLY, 0600));
    snprintf(p, sizeof p, "%s/a/sub", dir);
    r("tmpfs on a/sub", mount("t", p, "tmpfs", 0, "mode=755"));
    printf("after a rewind: %d\n", count(fd, "a"));

    /* The tree into a directory of itself, as systemd binds / onto
     * /run/systemd/unit-root. */
    snprintf(p, sizeof p, "%s/a", dir);
    snprintf(q, sizeof q, "%s/a/x", dir);
    r("rbind a a/x", mount(p, q, NULL, MS_BIND | MS_REC, NULL));
    printf("mounts below a/x: %d\n", count(fd, "a/x"));
    printf("a/x/x is empty: %d\n", ino("a/x/x/sub") < 0);

    /* A file onto a file of the copy (ProtectKernelLogs= on
     * /run/systemd/unit-root/dev/kmsg). */
    long orig = ino("a/f");
    snprintf(p, sizeof p, "%s/g", dir);
    snprintf(q, sizeof q, "%s/a/x/f", dir);
    r("bind g a/x/f", mount(p, q, NULL, MS_BIND, NULL));
    printf("a/x/f is g: %d\n", ino("a/x/f") == ino("g"));
    printf("a/f is itself: %d\n", ino("a/f") == orig);
    printf("mounts below a/x: %d\n", count(fd, "a/x"));

    /* The copy's submount replaced (systemd's /proc in the unit root). */
    snprintf(p, sizeof p, "%s/a/x/sub", dir);
    r("umount a/x/sub", umount2(p, MNT_DETACH));
    r("tmpfs on a/x/sub", mount("t2", p, "tmpfs", 0, "mode=755"));
    close(open("a/x/sub/marker", O_CREAT | O_WRONLY, 0644));
    printf("a/sub has the marker: %d\n", ino("a/sub/marker") >= 0);
    printf("a/x/sub has the marker: %d\n", ino("a/x/sub/marker") >= 0);
    printf("mounts below a/x: %d\n", count(fd, "a/x"));
    printf("mounts below a: %d\n", count(fd, "a"));
    close(fd);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    caps();
    r("unshare mount namespace", unshare(CLONE_NEWNS));
    r("make / private (rec)", mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL));
    strcpy(dir, "/tmp/sandbox_mounts.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    r("mount the test tmpfs", mount("t", dir, "tmpfs", 0, "mode=755"));
    if (chdir(dir) < 0)
        return 1;
    mounts();
    if (chdir("/") < 0 || umount2(dir, MNT_DETACH) < 0 || rmdir(dir) < 0)
        return 1;
    printf("sandbox_mounts done\n");
    return 0;
}
