/* Who owns new inodes: owner DIR (DIR must not exist).
 * As root: a setgid directory DIR/sg of group 2000 and a fifo in it; then
 * as uid/gid 1000 (setresgid/setresuid): a file, directory, symlink, fifo
 * and socket, and a directory and a setgid file in DIR/sg. Prints
 * "name uid:gid mode" (lstat, octal mode) for each, in a fixed order, so
 * the output is the same on Linux and ruml. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fails;

static void check(int r, const char *what)
{
    if (r < 0) {
        printf("FAIL %s: %m\n", what);
        fails++;
    }
}

static void show(const char *name)
{
    struct stat st;
    if (lstat(name, &st) < 0) {
        printf("%s: lstat: %m\n", name);
        fails++;
        return;
    }
    printf("%s %u:%u %o\n", name, st.st_uid, st.st_gid, st.st_mode);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    umask(022);
    check(mkdir(argv[1], 0777), "mkdir DIR");
    check(chdir(argv[1]), "chdir DIR");
    check(chmod(".", 0777), "chmod DIR");
    check(mkdir("sg", 0755), "mkdir sg");
    check(chown("sg", 0, 2000), "chown sg");
    check(chmod("sg", 02777), "chmod sg");
    check(mknod("sg/rootfifo", S_IFIFO | 0644, 0), "mknod sg/rootfifo");
    check(setresgid(1000, 1000, 1000), "setresgid");
    check(setresuid(1000, 1000, 1000), "setresuid");
    int fd = open("file", O_CREAT | O_WRONLY, 0666);
    check(fd, "open file");
    close(fd);
    check(mkdir("dir", 0777), "mkdir dir");
    check(symlink("file", "link"), "symlink");
    check(mknod("fifo", S_IFIFO | 0666, 0), "mknod fifo");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, "sock");
    check(bind(s, (struct sockaddr *)&a, sizeof a), "bind sock");
    close(s);
    check(mkdir("sg/sub", 0755), "mkdir sg/sub");
    fd = open("sg/sgidfile", O_CREAT | O_WRONLY, 02755);
    check(fd, "open sg/sgidfile");
    close(fd);
    const char *names[] = {"sg", "sg/rootfifo", "file", "dir", "link", "fifo",
                           "sock", "sg/sub", "sg/sgidfile"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        show(names[i]);
    printf("owner-done fails=%d\n", fails);
    return fails != 0;
}
