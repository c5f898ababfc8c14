/* Mount namespaces: a mount in a child namespace is not seen by its
 * parent; shared mounts propagate both ways, slaves receive but do not
 * send, private mounts neither; an unbindable mount cannot be bound;
 * setns's errors; mountinfo's optional fields (printed as relations, as
 * group numbers differ between kernels); a less privileged namespace
 * gets shared mounts as locked slaves; pivot_root. Runs as root, in a
 * mount namespace of its own with every mount private, below a tmpfs of
 * its own: the host's mounts never change. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void r(const char *what, long v) {
    if (v < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, v);
}

/* Is PATH (below the test directory) on a mount of its own? */
static int mounted(const char *path) {
    struct stat a, b;
    char up[256];
    snprintf(up, sizeof up, "%s/..", path);
    if (stat(path, &a) < 0 || stat(up, &b) < 0)
        return -1;
    return a.st_dev != b.st_dev;
}

/* The number after KEY ("shared:", "master:") in PID's mountinfo line
 * for DIR/NAME; 0 if the line has no such field, -1 without the line;
 * "unbindable" gives 1 if present. */
static int field(int pid, const char *name, const char *key) {
    char path[64], want[256], line[1024];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/mountinfo", pid);
    else
        snprintf(path, sizeof path, "/proc/self/mountinfo");
    snprintf(want, sizeof want, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -2;
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        char mp[512];
        if (sscanf(line, "%*d %*d %*s %*s %511s", mp) != 1 || strcmp(mp, want))
            continue;
        found = 0;
        char *sep = strstr(line, " - ");
        char *k = strstr(line, key);
        if (k && k < sep)
            found = strcmp(key, "unbindable") ? atoi(k + strlen(key)) : 1;
    }
    fclose(f);
    return found;
}

/* Pipes between parent and child: one byte at a time. */
static int p2c[2], c2p[2];
static void tell(int fd) {
    if (write(fd, "x", 1) != 1)
        _exit(99);
}
static void hear(int fd) {
    char c;
    if (read(fd, &c, 1) != 1)
        _exit(98);
}
static void pipes(void) {
    if (pipe(p2c) < 0 || pipe(c2p) < 0)
        exit(1);
}
static int reap(int pid) {
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int tmpfs(const char *at) {
    return mount("t", at, "tmpfs", 0, "mode=755");
}

static void isolation(void) {
    mkdir("a", 0755);
    pipes();
    fflush(stdout);
    int pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) < 0 || tmpfs("a") < 0)
            _exit(1);
        tell(c2p[1]);
        hear(p2c[0]);
        _exit(mounted("a") == 1 ? 0 : 2);
    }
    hear(c2p[0]);
    printf("parent sees the child's mount: %d\n", mounted("a"));
    printf("child's mountinfo has it: %d\n", field(pid, "a", "shared:") == 0);
    printf("parent's mountinfo has it: %d\n", field(0, "a", "shared:") == 0);
    tell(p2c[1]);
    printf("child saw its mount: status %d\n", reap(pid));
}

static void shared(void) {
    mkdir("s", 0755);
    r("mount s", tmpfs("s"));
    r("make s shared", mount(NULL, "s", NULL, MS_SHARED, NULL));
    mkdir("s/x", 0755);
    mkdir("s/y", 0755);
    printf("s has a peer group: %d\n", field(0, "s", "shared:") > 0);
    pipes();
    fflush(stdout);
    int pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) < 0 || tmpfs("s/x") < 0)
            _exit(1);
        tell(c2p[1]);
        hear(p2c[0]);
        int saw = mounted("s/y");
        tell(c2p[1]);
        hear(p2c[0]);
        int gone = mounted("s/y") == 0;
        _exit(saw == 1 && gone ? 0 : 2);
    }
    hear(c2p[0]);
    printf("child's copy of s is a peer: %d\n",
           field(pid, "s", "shared:") == field(0, "s", "shared:"));
    printf("parent sees the child's mount on s/x: %d\n", mounted("s/x"));
    printf("propagated copy is a peer: %d\n",
           field(0, "s/x", "shared:") > 0 &&
               field(0, "s/x", "shared:") == field(pid, "s/x", "shared:"));
    r("mount s/y", tmpfs("s/y"));
    tell(p2c[1]);
    hear(c2p[0]);
    r("umount s/y", umount("s/y"));
    tell(p2c[1]);
    printf("child saw s/y come and go: status %d\n", reap(pid));
    r("umount s/x", umount("s/x"));

    /* A bind mount of a shared mount is its peer. */
    mkdir("sb", 0755);
    r("bind s on sb", mount("s", "sb", NULL, MS_BIND, NULL));
    printf("sb is a peer of s: %d\n", field(0, "sb", "shared:") == field(0, "s", "shared:"));
    r("umount sb", umount("sb"));
}

static void slave(void) {
    mkdir("v", 0755);
    r("mount v", tmpfs("v"));
    r("make v shared", mount(NULL, "v", NULL, MS_SHARED, NULL));
    mkdir("v/x", 0755);
    mkdir("v/y", 0755);
    pipes();
    fflush(stdout);
    int pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "v", NULL, MS_SLAVE, NULL) < 0 ||
            tmpfs("v/y") < 0)
            _exit(1);
        tell(c2p[1]);
        hear(p2c[0]);
        _exit(mounted("v/x") == 1 ? 0 : 2);
    }
    hear(c2p[0]);
    printf("child's v: master is v's group: %d, shared: %d\n",
           field(pid, "v", "master:") == field(0, "v", "shared:"), field(pid, "v", "shared:"));
    printf("parent sees the slave's mount on v/y: %d\n", mounted("v/y"));
    r("mount v/x", tmpfs("v/x"));
    printf("slave's copy of v/x: master is its group: %d\n",
           field(pid, "v/x", "master:") == field(0, "v/x", "shared:"));
    tell(p2c[1]);
    printf("slave saw v/x: status %d\n", reap(pid));
    r("umount v/x", umount("v/x"));
}

static void private_(void) {
    mkdir("q", 0755);
    r("mount q", tmpfs("q"));
    mkdir("q/x", 0755);
    mkdir("q/y", 0755);
    printf("q optional fields: shared %d master %d\n", field(0, "q", "shared:"),
           field(0, "q", "master:"));
    r("make q shared then private",
      mount(NULL, "q", NULL, MS_SHARED, NULL) | mount(NULL, "q", NULL, MS_PRIVATE, NULL));
    printf("q shared after private: %d\n", field(0, "q", "shared:"));
    pipes();
    fflush(stdout);
    int pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) < 0 || tmpfs("q/x") < 0)
            _exit(1);
        tell(c2p[1]);
        hear(p2c[0]);
        _exit(mounted("q/y") == 0 ? 0 : 2);
    }
    hear(c2p[0]);
    printf("parent sees the child's mount on private q/x: %d\n", mounted("q/x"));
    r("mount q/y", tmpfs("q/y"));
    tell(p2c[1]);
    printf("child did not see q/y: status %d\n", reap(pid));
    r("umount q/y", umount("q/y"));

    /* clone(CLONE_NEWNS) gives the child a namespace of its own too. */
    fflush(stdout);
    pid = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(tmpfs("q/x") == 0 && mounted("q/x") == 1 ? 0 : 2);
    printf("clone(CLONE_NEWNS) child mounted: status %d\n", reap(pid));
    printf("parent sees it: %d\n", mounted("q/x"));
}

static void unbindable(void) {
    mkdir("u", 0755);
    mkdir("ub", 0755);
    r("mount u", tmpfs("u"));
    r("make u unbindable", mount(NULL, "u", NULL, MS_UNBINDABLE, NULL));
    printf("u unbindable in mountinfo: %d\n", field(0, "u", "unbindable"));
    r("bind unbindable u", mount("u", "ub", NULL, MS_BIND, NULL));
    r("rbind unbindable u", mount("u", "ub", NULL, MS_BIND | MS_REC, NULL));
    r("MS_SHARED|MS_PRIVATE", mount(NULL, "u", NULL, MS_SHARED | MS_PRIVATE, NULL));
    r("MS_SHARED|MS_RDONLY", mount(NULL, "u", NULL, MS_SHARED | MS_RDONLY, NULL));
    r("MS_SHARED|MS_NOSUID", mount(NULL, "u", NULL, MS_SHARED | MS_NOSUID, NULL));
    r("MS_SHARED on a plain directory", mount(NULL, "ub", NULL, MS_SHARED, NULL));
    r("make u private", mount(NULL, "u", NULL, MS_PRIVATE, NULL));
    r("bind u now", mount("u", "ub", NULL, MS_BIND, NULL));
    r("umount ub", umount("ub"));
}

static void rbind(void) {
    mkdir("rt", 0755);
    mkdir("rb", 0755);
    r("mount rt", tmpfs("rt"));
    mkdir("rt/sub", 0755);
    mkdir("rt/ub", 0755);
    r("mount rt/sub", tmpfs("rt/sub"));
    r("mount rt/ub", tmpfs("rt/ub"));
    r("make rt/ub unbindable", mount(NULL, "rt/ub", NULL, MS_UNBINDABLE, NULL));
    r("bind rt on rb", mount("rt", "rb", NULL, MS_BIND, NULL));
    printf("bind lists rb/sub: %d\n", field(0, "rb/sub", "shared:") == 0);
    r("umount rb", umount("rb"));
    r("rbind rt on rb", mount("rt", "rb", NULL, MS_BIND | MS_REC, NULL));
    printf("rbind lists rb/sub: %d, rb/ub: %d\n", field(0, "rb/sub", "shared:") == 0,
           field(0, "rb/ub", "shared:") == 0);
    r("umount rb busy", umount("rb"));
    r("umount2 rb MNT_DETACH", umount2("rb", MNT_DETACH));
    printf("rb/sub gone: %d\n", field(0, "rb/sub", "shared:") == -1);
    r("umount2 rt MNT_DETACH", umount2("rt", MNT_DETACH));
}

static void setns_errors(void) {
    int mnt = open("/proc/self/ns/mnt", O_RDONLY);
    int uts = open("/proc/self/ns/uts", O_RDONLY);
    r("setns mnt fd as CLONE_NEWUTS", setns(mnt, CLONE_NEWUTS));
    r("setns uts fd as CLONE_NEWNS", setns(uts, CLONE_NEWNS));
    r("setns not an ns fd", setns(0, CLONE_NEWNS));
    fflush(stdout);
    int pid = syscall(SYS_clone, CLONE_FS | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(setns(mnt, CLONE_NEWNS) < 0 ? errno : 0);
    printf("setns mnt sharing fs: %s\n", strerrorname_np(reap(pid)));
    pid = fork();
    if (pid == 0) {
        if (setuid(1000) < 0)
            _exit(1);
        _exit(setns(mnt, CLONE_NEWNS) < 0 ? errno : 0);
    }
    printf("setns mnt as uid 1000: %s\n", strerrorname_np(reap(pid)));

    /* Joining another process's namespace: its mounts, root and cwd at
     * its root. */
    mkdir("q/z", 0755);
    pipes();
    fflush(stdout);
    int holder = fork();
    if (holder == 0) {
        if (unshare(CLONE_NEWNS) < 0 || tmpfs("q/z") < 0)
            _exit(1);
        tell(c2p[1]);
        hear(p2c[0]);
        _exit(0);
    }
    hear(c2p[0]);
    pid = fork();
    if (pid == 0) {
        char p[64], z[128], cwd[256];
        snprintf(p, sizeof p, "/proc/%d/ns/mnt", holder);
        int fd = open(p, O_RDONLY);
        if (setns(fd, CLONE_NEWNS) < 0)
            _exit(1);
        if (!getcwd(cwd, sizeof cwd) || strcmp(cwd, "/"))
            _exit(2);
        snprintf(z, sizeof z, "%s/q/z", dir);
        _exit(mounted(z) == 1 ? 0 : 3);
    }
    printf("setns into another's mnt ns (sees its mount, cwd /): status %d\n", reap(pid));
    tell(p2c[1]);
    reap(holder);
    r("setns own mnt ns", setns(mnt, 0));
    char cwd[256];
    printf("cwd after setns: %s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    if (chdir(dir) < 0)
        exit(1);
    close(mnt);
    close(uts);
}

static void less_privileged(void) {
    pipes();
    fflush(stdout);
    int pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
            _exit(1);
        tell(c2p[1]);
        hear(p2c[0]);
        _exit(umount("s") < 0 ? errno : 0);
    }
    hear(c2p[0]);
    printf("userns copy of s: slave of s's group %d, shared %d\n",
           field(pid, "s", "master:") == field(0, "s", "shared:"), field(pid, "s", "shared:"));
    tell(p2c[1]);
    printf("umount of a locked mount: %s\n", strerrorname_np(reap(pid)));
}

static void pivot(void) {
    mkdir("pr", 0755);
    fflush(stdout);
    int pid = fork();
    if (pid == 0) {
        /* The test directory's tmpfs as root: a mount with a parent, as
         * pivot_root wants (an initramfs root has none). */
        if (unshare(CLONE_NEWNS) < 0 || chroot(".") < 0 || chdir("/") < 0)
            _exit(1);
        r("pivot_root on a plain directory", syscall(SYS_pivot_root, "pr", "pr"));
        if (tmpfs("pr") < 0 || mkdir("pr/old", 0755) < 0)
            _exit(2);
        close(open("pr/file", O_CREAT | O_WRONLY, 0644));
        r("pivot_root to a file", syscall(SYS_pivot_root, "pr/file", "pr/old"));
        r("pivot_root put_old outside", syscall(SYS_pivot_root, "pr", "q"));
        r("pivot_root into the root's mount", syscall(SYS_pivot_root, "/", "pr/old"));
        if (chdir("pr") < 0)
            _exit(3);
        r("pivot_root", syscall(SYS_pivot_root, ".", "old"));
        char cwd[256];
        printf("cwd after: %s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
        struct stat st;
        printf("old root at /old: %d\n", stat("/old/q", &st) == 0);
        r("umount2 /old MNT_DETACH", umount2("/old", MNT_DETACH));
        printf("/old empty: %d\n", stat("/old/q", &st) < 0);
        mkdir("/proc", 0755);
        r("mount proc", mount("proc", "/proc", "proc", 0, NULL));
        FILE *f = fopen("/proc/self/mountinfo", "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            char mp[256], type[64];
            char *sep = strstr(line, " - ");
            if (sep && sscanf(line, "%*d %*d %*s %*s %255s", mp) == 1 &&
                sscanf(sep, " - %63s", type) == 1)
                printf("mountinfo: %s %s\n", mp, type);
        }
        fflush(stdout);
        _exit(0);
    }
    printf("pivot child: status %d\n", reap(pid));
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char before[64] = "", after[64] = "";
    readlink("/proc/self/ns/mnt", before, sizeof before - 1);
    r("unshare(CLONE_NEWNS)", unshare(CLONE_NEWNS));
    readlink("/proc/self/ns/mnt", after, sizeof after - 1);
    printf("mnt ns changed: %d\n", strcmp(before, after) != 0);
    r("make / private (rec)", mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL));
    strcpy(dir, "/tmp/mntns.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    r("mount the test tmpfs", tmpfs(dir));
    if (chdir(dir) < 0)
        return 1;
    isolation();
    shared();
    slave();
    private_();
    unbindable();
    rbind();
    setns_errors();
    less_privileged();
    pivot();
    if (chdir("/") < 0 || umount2(dir, MNT_DETACH) < 0 || rmdir(dir) < 0)
        perror("cleanup");
    printf("mntns done\n");
    return 0;
}
