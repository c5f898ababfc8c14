/* Extended attributes: xattr DIR (DIR must not exist; run as root).
 * Sets, gets, lists and removes attributes of files in DIR through every
 * syscall variant and prints one line per call ("call -> result"), so the
 * output can be compared with the same program on the host's Linux.
 * Lists are sorted (the order is the filesystem's). Leaves, for checking
 * the disk afterwards: DIR/f with user.big (3000 bytes of 'a'+i%26),
 * user.b "kept", trusted.t "tv", security.s "sv"; DIR/d with user.dir "dv".
 * "xattr get PATH NAME", "xattr list PATH", "xattr rm PATH NAME" and
 * "xattr set PATH NAME VALUE N" (VALUE repeated N times) print one
 * attribute, print the sorted names, remove one, set one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static void res(const char *what, long r)
{
    if (r < 0)
        printf("%s -> %s\n", what, strerrorname_np(errno));
    else
        printf("%s -> %ld\n", what, r);
}

static void get(const char *path, const char *name, size_t size)
{
    char buf[4096], what[512];
    long r = getxattr(path, name, size ? buf : NULL, size);
    snprintf(what, sizeof what, "getxattr %s %s %zu", path, name, size);
    if (r > 0 && size) {
        printf("%s -> %ld \"%.*s\"\n", what, r, (int)(r > 40 ? 40 : r), buf);
        return;
    }
    res(what, r);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Print the names of a list buffer of `n` bytes, sorted. */
static void names(const char *what, char *buf, long n)
{
    char *v[64];
    int k = 0;
    for (long i = 0; i < n && k < 64; i += strlen(buf + i) + 1)
        v[k++] = buf + i;
    qsort(v, k, sizeof *v, cmp);
    printf("%s ->", what);
    for (int i = 0; i < k; i++)
        printf(" %s", v[i]);
    printf("\n");
}

static void list(const char *path)
{
    char buf[4096], what[512];
    long need = listxattr(path, NULL, 0);
    snprintf(what, sizeof what, "listxattr %s size", path);
    res(what, need);
    if (need > 1) {
        snprintf(what, sizeof what, "listxattr %s short", path);
        res(what, listxattr(path, buf, need - 1));
    }
    long n = listxattr(path, buf, sizeof buf);
    snprintf(what, sizeof what, "listxattr %s", path);
    if (n < 0)
        res(what, n);
    else
        names(what, buf, n);
}

#define SET(p, n, v, f) res("setxattr " p " " n " " #f, setxattr(p, n, v, strlen(v), f))

int main(int argc, char **argv)
{
    /* xattr get PATH NAME / xattr list PATH: look at existing files. */
    if (argc == 4 && !strcmp(argv[1], "get")) {
        get(argv[2], argv[3], 4096);
        return 0;
    }
    if (argc == 6 && !strcmp(argv[1], "set")) {
        int times = atoi(argv[5]), len = strlen(argv[4]);
        char *v = malloc(len * times + 1);
        for (int i = 0; i < times; i++)
            memcpy(v + i * len, argv[4], len);
        res("setxattr", setxattr(argv[2], argv[3], v, len * times, 0));
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "rm")) {
        res("removexattr", removexattr(argv[2], argv[3]));
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "list")) {
        char buf[4096];
        long n = listxattr(argv[2], buf, sizeof buf);
        names(argv[2], buf, n < 0 ? 0 : n);
        return 0;
    }
    if (argc != 2 || mkdir(argv[1], 0755) < 0 || chdir(argv[1]) < 0) {
        perror("setup");
        return 2;
    }
    close(open("f", O_CREAT | O_WRONLY, 0644));
    mkdir("d", 0755);
    symlink("f", "l");
    mknod("p", S_IFIFO | 0644, 0);

    SET("f", "user.a", "hello", 0);
    SET("f", "user.a", "x", XATTR_CREATE);
    SET("f", "user.nope", "x", XATTR_REPLACE);
    res("setxattr f user.bad flags 4", setxattr("f", "user.bad", "x", 1, 4));
    get("f", "user.a", 0);
    get("f", "user.a", 2);
    get("f", "user.a", 64);
    SET("f", "user.a", "world!", XATTR_REPLACE);
    get("f", "user.a", 64);
    get("f", "user.missing", 64);
    SET("f", "user.empty", "", 0);
    get("f", "user.empty", 0);
    SET("f", "trusted.t", "tv", 0);
    SET("f", "security.s", "sv", 0);
    SET("f", "user.b", "kept", 0);
    char big[3000];
    for (int i = 0; i < 3000; i++)
        big[i] = 'a' + i % 26;
    res("setxattr f user.big 3000", setxattr("f", "user.big", big, sizeof big, 0));
    char back[4000];
    long n = getxattr("f", "user.big", back, sizeof back);
    res("getxattr f user.big", n);
    printf("user.big intact: %d\n", n == 3000 && !memcmp(back, big, 3000));
    list("f");

    /* Names. */
    SET("f", "", "x", 0);
    SET("f", "foo.bar", "x", 0);
    SET("f", "user.", "x", 0);
    SET("f", "system.unknown", "x", 0);
    char longname[300];
    memset(longname, 'n', sizeof longname);
    memcpy(longname, "user.", 5);
    longname[256] = 0;
    res("setxattr f user.<251> ", setxattr("f", longname, "x", 1, 0));
    longname[255] = 0;
    res("setxattr f user.<250> ", setxattr("f", longname, "x", 1, 0));
    res("removexattr f user.<250>", removexattr("f", longname));
    static char huge[65537];
    res("setxattr f user.huge 65537", setxattr("f", "user.huge", huge, sizeof huge, 0));

    /* Symlinks, fifos, directories. */
    res("lsetxattr l user.x", lsetxattr("l", "user.x", "1", 1, 0));
    res("lgetxattr l user.x", lgetxattr("l", "user.x", back, sizeof back));
    res("lsetxattr l trusted.x", lsetxattr("l", "trusted.x", "sym", 3, 0));
    res("lgetxattr l trusted.x", lgetxattr("l", "trusted.x", back, sizeof back));
    res("llistxattr l", llistxattr("l", back, sizeof back));
    res("getxattr l user.b (follows)", getxattr("l", "user.b", back, sizeof back));
    res("setxattr p user.x", setxattr("p", "user.x", "1", 1, 0));
    res("setxattr p trusted.x", setxattr("p", "trusted.x", "1", 1, 0));
    SET("d", "user.dir", "dv", 0);
    get("d", "user.dir", 64);

    /* Through a file descriptor. */
    int fd = open("f", O_RDONLY);
    res("fsetxattr f user.fd", fsetxattr(fd, "user.fd", "viafd", 5, 0));
    n = fgetxattr(fd, "user.fd", back, sizeof back);
    printf("fgetxattr f user.fd -> %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), back);
    n = flistxattr(fd, back, sizeof back);
    names("flistxattr f", back, n);
    res("fremovexattr f user.fd", fremovexattr(fd, "user.fd"));
    res("fremovexattr f user.fd again", fremovexattr(fd, "user.fd"));
    close(fd);
    fd = open("f", O_PATH);
    res("fgetxattr O_PATH", fgetxattr(fd, "user.b", back, sizeof back));
    close(fd);

    /* Removing. */
    res("removexattr f user.a", removexattr("f", "user.a"));
    res("removexattr f user.a again", removexattr("f", "user.a"));
    res("removexattr f user.empty", removexattr("f", "user.empty"));
    list("f");

    /* Without privileges trusted.* is invisible and cannot be set. */
    if (seteuid(1000) < 0)
        perror("seteuid");
    get("f", "trusted.t", 64);
    res("setxattr f trusted.u (uid 1000)", setxattr("f", "trusted.u", "1", 1, 0));
    res("removexattr f trusted.t (uid 1000)", removexattr("f", "trusted.t"));
    n = listxattr("f", back, sizeof back);
    names("listxattr f (uid 1000)", back, n);
    if (seteuid(0) < 0)
        perror("seteuid");
    get("f", "trusted.t", 64);
    printf("xattr-done\n");
    return 0;
}
