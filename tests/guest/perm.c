/* Discretionary access control, run as root: builds files and directories
 * of various modes and owners in a fresh directory under /tmp, then forks
 * children that drop privileges (setgroups, setresgid, setresuid) and try
 * opens, creates, unlinks, renames, links, chmod/chown, utimensat,
 * truncate, writes to setuid files, exec (also of setuid and setgid
 * copies of this program), access(), kill and a few root-only calls.
 * It prints only errno names, octal modes and ids, so the output is the
 * same on Linux and ruml. `perm --whoami` prints the ids it runs with
 * (the exec'd copies use it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

static const char *ename(long r)
{
    return r < 0 ? strerrorname_np(errno) : "OK";
}

/* "what: OK" or "what: EACCES". */
static void say(long r, const char *fmt, ...)
{
    va_list ap;
    int e = errno;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    errno = e;
    printf(": %s\n", ename(r));
}

static void try_open(const char *path, int flags, const char *how)
{
    int fd = open(path, flags, 0444);
    say(fd, "open %s %s", path, how);
    if (fd >= 0)
        close(fd);
}

static void show_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        printf("stat %s: %s\n", path, strerrorname_np(errno));
    else
        printf("mode %s %o %u:%u\n", path, st.st_mode & 07777, st.st_uid, st.st_gid);
}

static void die(const char *what)
{
    printf("setup %s: %s\n", what, strerrorname_np(errno));
    exit(1);
}

/* A file with a few bytes, then owner, then mode (chown clears setuid). */
static void mk(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0 || write(fd, "data\n", 5) != 5 || fchown(fd, uid, gid) < 0 ||
        fchmod(fd, mode) < 0)
        die(path);
    close(fd);
}

static void mkd(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    if (mkdir(path, 0700) < 0 || chown(path, uid, gid) < 0 || chmod(path, mode) < 0)
        die(path);
}

/* A copy of this program. */
static void cpexe(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    char buf[65536];
    int in = open("/proc/self/exe", O_RDONLY);
    int out = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    ssize_t n;
    if (in < 0 || out < 0)
        die(path);
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n)
            die(path);
    if (n < 0 || fchown(out, uid, gid) < 0 || fchmod(out, mode) < 0)
        die(path);
    close(in);
    close(out);
}

/* Run fn in a child with these ids; wait for it. */
static void as(uid_t uid, gid_t gid, int ngroups, const gid_t *groups, void (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(ngroups, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
            setresuid(uid, uid, uid) < 0)
            die("dropping privileges");
        printf("-- as %u:%u\n", uid, gid);
        fn();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        printf("child status %#x\n", st);
}

/* exec PATH --whoami in a child; its line or the errno completes ours. */
static void try_exec(const char *path)
{
    printf("exec %s: ", path);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, path, "--whoami", (char *)NULL);
        printf("%s\n", strerrorname_np(errno));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
}

static void whoami(void)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;
    getresuid(&r, &e, &s);
    getresgid(&rg, &eg, &sg);
    printf("uid=%u/%u/%u gid=%u/%u/%u fsuid=%d fsgid=%d secure=%lu\n", r, e, s, rg, eg, sg,
           setfsuid(-1), setfsgid(-1), getauxval(AT_SECURE));
}

static void utimes_checks(void)
{
    struct timespec explicit[2] = {{1000000, 0}, {2000000, 0}};
    struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    struct timespec now_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    say(utimensat(AT_FDCWD, "mine", explicit, 0), "utimensat mine explicit");
    say(utimensat(AT_FDCWD, "r644", explicit, 0), "utimensat r644 explicit");
    say(utimensat(AT_FDCWD, "r644", NULL, 0), "utimensat r644 NULL");
    say(utimensat(AT_FDCWD, "r644", now, 0), "utimensat r644 NOW,NOW");
    say(utime("r644", NULL), "utime r644 NULL");
    say(utimensat(AT_FDCWD, "g1000rw", NULL, 0), "utimensat g1000rw NULL");
    say(utimensat(AT_FDCWD, "g1000rw", now, 0), "utimensat g1000rw NOW,NOW");
    say(utimensat(AT_FDCWD, "g1000rw", now_omit, 0), "utimensat g1000rw NOW,OMIT");
    say(utimensat(AT_FDCWD, "g1000rw", explicit, 0), "utimensat g1000rw explicit");
}

static void open_checks(void)
{
    try_open("r600", O_RDONLY, "r");
    try_open("r644", O_RDONLY, "r");
    try_open("r644", O_WRONLY, "w");
    try_open("r644", O_RDWR, "rw");
    try_open("r644", O_RDONLY | O_TRUNC, "r+trunc");
    try_open("r000", O_RDONLY, "r");
    try_open("u1001", O_RDONLY, "r");
    try_open("g1002", O_RDONLY, "r");
    try_open("g1002", O_WRONLY, "w");
    try_open("own0077", O_RDONLY, "r");
    try_open("noread", O_RDONLY | O_DIRECTORY, "dir");
    try_open("noread/f", O_RDONLY, "r");
    try_open("priv700/f", O_RDONLY, "r");
    try_open("priv700", O_RDONLY | O_PATH, "path");
    struct stat st;
    say(stat("priv700/f", &st), "stat priv700/f");
    say(stat("noread/f", &st), "stat noread/f");
    say(chdir("priv700"), "chdir priv700");
}

static void dir_checks(void)
{
    try_open("ro555/new", O_CREAT | O_WRONLY, "creat");
    try_open("ro555/f", O_CREAT | O_WRONLY, "creat-existing");
    try_open("ro555/f", O_CREAT | O_EXCL | O_WRONLY, "creat-excl-existing");
    say(mkdir("ro555/new", 0755), "mkdir ro555/new");
    say(mkdir("ro555/sub", 0755), "mkdir ro555/sub");
    say(mknod("ro555/p", S_IFIFO | 0644, 0), "mknod ro555/p");
    say(symlink("x", "ro555/l"), "symlink ro555/l");
    say(link("mine", "ro555/l"), "link mine ro555/l");
    say(unlink("ro555/f"), "unlink ro555/f");
    say(unlink("ro555/none"), "unlink ro555/none");
    say(rmdir("ro555/sub"), "rmdir ro555/sub");
    say(rename("ro555/f", "ro555/g"), "rename ro555/f ro555/g");
    say(rename("ro555/f", "pub/g"), "rename ro555/f pub/g");
    say(rename("pub", "ro555/pub"), "rename pub ro555/pub");

    int fd = open("pub/new", O_CREAT | O_EXCL | O_WRONLY, 0444);
    say(fd, "open pub/new creat 0444 for writing");
    say(fd < 0 ? -1 : write(fd, "x", 1), "write pub/new");
    if (fd >= 0)
        close(fd);
    try_open("pub/new", O_WRONLY, "w");
    say(chmod("pub/new", 0644), "chmod pub/new 0644");
    say(mkdir("pub/d", 0755), "mkdir pub/d");
    say(mknod("pub/fifo", S_IFIFO | 0644, 0), "mknod pub/fifo");
    say(mknod("pub/null", S_IFCHR | 0666, makedev(1, 3)), "mknod pub/null");
    say(link("r644", "pub/l1"), "link r644 pub/l1");
    say(link("u1001", "pub/l2"), "link u1001 pub/l2");
    say(link("pub/new", "pub/l3"), "link pub/new pub/l3");
    say(link("g1000rw", "pub/l4"), "link g1000rw pub/l4");
    say(symlink("r644", "pub/s"), "symlink pub/s");

    say(unlink("sticky/o1001"), "unlink sticky/o1001");
    say(rename("sticky/o1001", "sticky/x"), "rename sticky/o1001 sticky/x");
    say(rename("sticky/o1000", "sticky/o1001"), "rename sticky/o1000 over sticky/o1001");
    say(rename("sticky/o1000", "sticky/o1000b"), "rename sticky/o1000 sticky/o1000b");
    say(unlink("sticky/o1000b"), "unlink sticky/o1000b");
    say(unlink("sticky1000/o1001"), "unlink sticky1000/o1001 (dir owner)");
}

static void attr_checks(void)
{
    say(chmod("r644", 0666), "chmod r644");
    int fd = open("r644", O_RDONLY);
    say(fchmod(fd, 0666), "fchmod r644");
    say(fchown(fd, 1000, 1000), "fchown r644");
    close(fd);
    say(chmod("mine", 02755), "chmod mine 02755");
    show_mode("mine");
    say(chown("mine", 1001, -1), "chown mine 1001");
    say(chown("mine", 1000, -1), "chown mine 1000 (self)");
    say(chown("mine", -1, 1002), "chgrp mine 1002");
    say(chown("mine", -1, 1003), "chgrp mine 1003");
    say(chown("r644", -1, 1000), "chgrp r644 1000");
    say(chown("mine4755", -1, 1002), "chgrp mine4755 1002");
    show_mode("mine4755");
    utimes_checks();
    say(truncate("r644", 0), "truncate r644");
    say(truncate("g1000rw", 1), "truncate g1000rw");
    say(truncate("t4777", 1), "truncate t4777");
    show_mode("t4777");
    fd = open("g1000rw", O_RDONLY);
    say(ftruncate(fd, 0), "ftruncate g1000rw read-only fd");
    close(fd);
    say(setxattr("r644", "user.t", "v", 1, 0), "setxattr r644");
    say(getxattr("r600", "user.t", NULL, 0), "getxattr r600");
    say(setxattr("mine", "user.t", "v", 1, 0), "setxattr mine");
    say(getxattr("mine", "user.t", NULL, 0), "getxattr mine");
}

static void write_clears(const char *path)
{
    int fd = open(path, O_WRONLY);
    say(fd, "open %s w", path);
    say(fd < 0 ? -1 : write(fd, "x", 1), "write %s", path);
    if (fd >= 0)
        close(fd);
    show_mode(path);
}

static void exec_checks(void)
{
    try_exec("./x644");
    try_exec("./x700");
    try_exec("./x755");
    try_exec("./x111");
    try_exec("./priv700/x");
    try_exec("./x4755");
    try_exec("./x2755");
    try_exec("./pub");
}

static void access_checks(void)
{
    say(access("r644", R_OK), "access r644 R_OK");
    say(access("r644", W_OK), "access r644 W_OK");
    say(access("r644", X_OK), "access r644 X_OK");
    say(access("x755", X_OK), "access x755 X_OK");
    say(access("r600", F_OK), "access r600 F_OK");
    say(access("r600", R_OK), "access r600 R_OK");
    say(access("priv700/f", F_OK), "access priv700/f F_OK");
    say(access("g1002", R_OK), "access g1002 R_OK");
    say(access("g1002", R_OK | W_OK), "access g1002 R_OK|W_OK");
    say(access("ro555", W_OK), "access ro555 W_OK");
    say(access("pub", R_OK | W_OK | X_OK), "access pub RWX");
}

static pid_t root_pid, half_root;

static void id_checks(void)
{
    say(kill(root_pid, 0), "kill root 0");
    say(kill(root_pid, SIGTERM), "kill root SIGTERM");
    say(kill(root_pid, SIGCONT), "kill root SIGCONT (same session)");
    say(kill(getpid(), 0), "kill self 0");
    say(kill(half_root, 0), "kill uid 1000 euid 0 process");
    say(setuid(0), "setuid 0");
    say(setresuid(-1, 0, -1), "setresuid -1 0 -1");
    say(setgid(0), "setgid 0");
    say(setregid(-1, 1000), "setregid -1 1000");
    gid_t g = 0;
    say(setgroups(1, &g), "setgroups");
    int old = setfsuid(0);
    printf("setfsuid 0 -> %d, now %d\n", old, setfsuid(-1));
    say(mount("none", "pub", "tmpfs", 0, NULL), "mount");
    say(chroot("pub"), "chroot");
    say(sethostname("x", 1), "sethostname");
    say(syscall(SYS_reboot, 0, 0, 0, NULL), "reboot");
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_max += 1;
    say(setrlimit(RLIMIT_NOFILE, &rl), "raise hard RLIMIT_NOFILE");
    say(setresuid(1000, 1000, 1000), "setresuid 1000 1000 1000 (same)");
}

static void user1000(void)
{
    open_checks();
    dir_checks();
    attr_checks();
    write_clears("w6775");
    write_clears("w2664");
    exec_checks();
    access_checks();
    id_checks();
}

static void user1001(void)
{
    write_clears("w2666");
    try_open("g1002", O_RDONLY, "r");
    say(unlink("sticky/o1001"), "unlink sticky/o1001 (own)");
    say(unlink("sticky1000/o1001b"), "unlink sticky1000/o1001b (own)");
}

/* Real uid 1000, effective 0: access() checks the real ids. */
static void real_vs_effective(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setresuid(1000, 0, 0) < 0)
            die("setresuid 1000 0 0");
        printf("-- as uid 1000 euid 0\n");
        say(access("r600", R_OK), "access r600 R_OK");
        say(faccessat(AT_FDCWD, "r600", R_OK, AT_EACCESS), "faccessat r600 R_OK AT_EACCESS");
        try_open("r600", O_RDONLY, "r");
        say(access("x644", X_OK), "access x644 X_OK");
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static void root_checks(void)
{
    printf("-- as root\n");
    try_open("r000", O_RDWR, "rw");
    try_open("noread", O_RDONLY | O_DIRECTORY, "dir");
    try_exec("./x644");
    try_exec("./x111");
    say(access("x644", X_OK), "access x644 X_OK");
    say(access("priv700", X_OK), "access priv700 X_OK");
    say(access("ro555", W_OK), "access ro555 W_OK");
    say(access("r000", R_OK | W_OK), "access r000 R_OK|W_OK");
    write_clears("root4755");
    say(chown("rootchown", 0, 0), "chown rootchown 0 0");
    show_mode("rootchown");
    say(chown("rootchgrp", -1, 1002), "chgrp rootchgrp 1002");
    show_mode("rootchgrp");
    say(rmdir("ro555/sub"), "rmdir ro555/sub");
}

static int rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--whoami") == 0) {
        whoami();
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(0);
    /* A host /tmp mounted nosuid would make the setuid copies plain. */
    const char *base = "/tmp";
    struct statvfs sv;
    if (statvfs(base, &sv) == 0 && (sv.f_flag & ST_NOSUID))
        base = "/var/tmp";
    char dir[64];
    snprintf(dir, sizeof dir, "%s/perm.XXXXXX", base);
    if (!mkdtemp(dir) || chmod(dir, 0755) < 0 || chdir(dir) < 0)
        die("mkdtemp");

    mk("r600", 0600, 0, 0);
    mk("r644", 0644, 0, 0);
    mk("r000", 0000, 0, 0);
    mk("u1001", 0600, 1001, 1001);
    mk("g1002", 0640, 0, 1002);
    mk("own0077", 0077, 1000, 1000);
    mk("g1000rw", 0664, 0, 1000);
    mk("w6775", 06775, 0, 1000);
    mk("w2664", 02664, 0, 1000);
    mk("w2666", 02666, 0, 1000);
    mk("t4777", 04777, 0, 0);
    mk("root4755", 04755, 0, 0);
    mk("rootchown", 06755, 0, 0);
    mk("rootchgrp", 02644, 0, 0);
    mk("mine", 0644, 1000, 0);
    mk("mine4755", 04755, 1000, 1000);
    mkd("ro555", 0777, 0, 0);
    mk("ro555/f", 0666, 1000, 1000);
    mkd("ro555/sub", 0777, 0, 0);
    chmod("ro555", 0555);
    mkd("sticky", 01777, 0, 0);
    mk("sticky/o1000", 0644, 1000, 1000);
    mk("sticky/o1001", 0666, 1001, 1001);
    mkd("sticky1000", 01777, 1000, 1000);
    mk("sticky1000/o1001", 0644, 1001, 1001);
    mk("sticky1000/o1001b", 0644, 1001, 1001);
    mkd("priv700", 0755, 0, 0);
    mk("priv700/f", 0644, 0, 0);
    cpexe("priv700/x", 0755, 0, 0);
    chmod("priv700", 0700);
    mkd("noread", 0755, 0, 0);
    mk("noread/f", 0644, 0, 0);
    chmod("noread", 0311);
    mkd("pub", 0777, 0, 0);
    cpexe("x644", 0644, 0, 0);
    cpexe("x700", 0700, 0, 0);
    cpexe("x755", 0755, 0, 0);
    cpexe("x111", 0111, 0, 0);
    cpexe("x4755", 04755, 0, 0);
    cpexe("x2755", 02755, 0, 1003);

    root_pid = getpid();
    /* A process with real uid 1000 and effective uid 0, for kill(). */
    int p[2];
    char c;
    if (pipe(p) < 0)
        die("pipe");
    fflush(stdout);
    half_root = fork();
    if (half_root == 0) {
        if (setresuid(1000, 0, 0) < 0)
            die("setresuid");
        if (write(p[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    if (read(p[0], &c, 1) != 1)
        die("sync");

    const gid_t g1000[] = {1000, 1002};
    const gid_t g1001[] = {1001};
    as(1000, 1000, 2, g1000, user1000);
    kill(half_root, SIGKILL);
    waitpid(half_root, NULL, 0);
    as(1001, 1001, 1, g1001, user1001);
    real_vs_effective();
    root_checks();

    if (chdir("/") < 0 || nftw(dir, rm, 16, FTW_DEPTH | FTW_PHYS) < 0)
        printf("cleanup: %s\n", strerrorname_np(errno));
    printf("perm done\n");
    return 0;
}
