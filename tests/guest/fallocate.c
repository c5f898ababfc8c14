/* fallocate(2) on tmpfs compared with a native run: mode 0 and
 * FALLOC_FL_KEEP_SIZE reserving pages (st_blocks, size), PUNCH_HOLE
 * zeroing and freeing, the modes tmpfs lacks (EOPNOTSUPP), and the order
 * of vfs_fallocate's checks (EBADF for the fd, EINVAL, EOPNOTSUPP, EBADF
 * for access, ESPIPE, ENODEV, EFBIG). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESPIPE: return "ESPIPE";
    case ENODEV: return "ENODEV";
    case EFBIG: return "EFBIG";
    case EISDIR: return "EISDIR";
    case ENOSPC: return "ENOSPC";
    default: return strerror(e);
    }
}

/* The raw syscall: glibc's wrapper is the same, but spelled out. */
static const char *fa(int fd, int mode, long off, long len) {
    return syscall(SYS_fallocate, fd, mode, off, len) < 0 ? en(errno) : "ok";
}

static void show(int fd, const char *what) {
    struct stat st;
    fstat(fd, &st);
    printf("%s: size %ld blocks %ld\n", what, (long)st.st_size, (long)st.st_blocks);
}

static const char *P = "/dev/shm/fallocate.tmp";

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct statfs sfs;
    if (statfs("/dev/shm", &sfs) < 0 || sfs.f_type != 0x01021994) {
        mkdir("/dev/shm", 01777);
        mount("tmpfs", "/dev/shm", "tmpfs", 0, NULL);
    }
    int fd = open(P, O_RDWR | O_CREAT | O_TRUNC, 0600);
    printf("mode 0: %s\n", fa(fd, 0, 0, 100000));
    show(fd, "after mode 0");
    printf("keep size past EOF: %s\n", fa(fd, FALLOC_FL_KEEP_SIZE, 100000, 50000));
    show(fd, "after keep size");
    char buf[100000];
    memset(buf, 'a', sizeof buf);
    pwrite(fd, buf, sizeof buf, 0);
    printf("punch 5000..20000: %s\n",
           fa(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5000, 15000));
    show(fd, "after punch");
    long at[] = {4999, 5000, 8192, 19999, 20000};
    for (int i = 0; i < 5; i++) {
        char c = 'x';
        pread(fd, &c, 1, at[i]);
        printf("byte %ld: %s\n", at[i], c == 'a' ? "a" : c == 0 ? "zero" : "other");
    }
    printf("punch past EOF: %s\n",
           fa(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 90000, 100000));
    show(fd, "after punch past EOF");
    printf("mode 0 inside: %s\n", fa(fd, 0, 4096, 8192));
    show(fd, "after refill");
    printf("mode 0 growing: %s\n", fa(fd, 0, 200000, 1));
    show(fd, "after growing");

    printf("punch without keep: %s\n", fa(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
    printf("zero range: %s\n", fa(fd, FALLOC_FL_ZERO_RANGE, 0, 4096));
    printf("zero range keep: %s\n", fa(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    printf("collapse: %s\n", fa(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096));
    printf("insert: %s\n", fa(fd, FALLOC_FL_INSERT_RANGE, 0, 4096));
    printf("collapse keep: %s\n", fa(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    printf("punch|zero: %s\n",
           fa(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    printf("no hide stale: %s\n", fa(fd, 0x4, 0, 4096));
    printf("unknown bit: %s\n", fa(fd, 0x100, 0, 4096));
    printf("len 0: %s\n", fa(fd, 0, 0, 0));
    printf("len -1: %s\n", fa(fd, 0, 0, -1));
    printf("off -1: %s\n", fa(fd, 0, -1, 10));
    printf("bad fd: %s\n", fa(999, 0, 0, 10));
    printf("bad fd, len 0: %s\n", fa(999, 0, 0, 0));
    printf("bad fd, bad mode: %s\n", fa(999, 0x100, 0, 10));
    printf("overflow: %s\n", fa(fd, 0, INT64_MAX - 10, 100));
    int ro = open(P, O_RDONLY);
    printf("read-only: %s\n", fa(ro, 0, 0, 10));
    printf("read-only, bad mode: %s\n", fa(ro, 0x100, 0, 10));
    printf("read-only, len 0: %s\n", fa(ro, 0, 0, 0));
    close(ro);
    int p[2];
    pipe(p);
    printf("pipe write end: %s\n", fa(p[1], 0, 0, 10));
    printf("pipe read end: %s\n", fa(p[0], 0, 0, 10));
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    printf("socket: %s\n", fa(sv[0], 0, 0, 10));
    int nul = open("/dev/null", O_WRONLY);
    printf("/dev/null: %s\n", fa(nul, 0, 0, 10));
    close(fd);
    unlink(P);
    printf("fallocate done\n");
    return 0;
}
