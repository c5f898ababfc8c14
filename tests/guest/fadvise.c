/* posix_fadvise, readahead, sync_file_range, preadv2/pwritev2 and their
 * RWF_* flags compared with a native run, on a tmpfs file, a pipe, a
 * socket and /dev/null: Linux's EBADF/ESPIPE/EINVAL/EOPNOTSUPP rules and
 * what the flags do to the data and the file position (RWF_APPEND,
 * offset -1). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef RWF_HIPRI
#define RWF_HIPRI 1
#define RWF_DSYNC 2
#define RWF_SYNC 4
#define RWF_NOWAIT 8
#define RWF_APPEND 16
#endif

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESPIPE: return "ESPIPE";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    default: return strerror(e);
    }
}

static const char *R(long r) {
    static char b[64];
    if (r < 0)
        return en(errno);
    snprintf(b, sizeof b, "%ld", r);
    return b;
}

static long fadv(int fd, long off, long len, int adv) {
    /* The raw syscall: glibc's posix_fadvise returns the error instead. */
    return syscall(SYS_fadvise64, fd, off, len, adv);
}

static long prv2(int fd, void *buf, size_t n, long off, int flags) {
    struct iovec v = {buf, n};
    return syscall(SYS_preadv2, fd, &v, 1, off, 0L, flags);
}

static long pwv2(int fd, const void *buf, size_t n, long off, int flags) {
    struct iovec v = {(void *)buf, n};
    return syscall(SYS_pwritev2, fd, &v, 1, off, 0L, flags);
}

static const char *P = "/dev/shm/fadvise.tmp";

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct statfs sfs;
    if (statfs("/dev/shm", &sfs) < 0 || sfs.f_type != 0x01021994) {
        mkdir("/dev/shm", 01777);
        mount("tmpfs", "/dev/shm", "tmpfs", 0, NULL);
    }
    int fd = open(P, O_RDWR | O_CREAT | O_TRUNC, 0600);
    write(fd, "0123456789", 10);
    int ro = open(P, O_RDONLY);
    int wo = open(P, O_WRONLY);
    int p[2];
    pipe(p);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int nul = open("/dev/null", O_RDWR);

    /* posix_fadvise */
    for (int adv = 0; adv <= 6; adv++)
        printf("fadvise file advice %d: %s\n", adv, R(fadv(fd, 0, 0, adv)));
    printf("fadvise len -1: %s\n", R(fadv(fd, 0, -1, 0)));
    printf("fadvise off -1: %s\n", R(fadv(fd, -1, 10, 0)));
    printf("fadvise write-only: %s\n", R(fadv(wo, 0, 0, 3)));
    printf("fadvise bad fd: %s\n", R(fadv(999, 0, 0, 99)));
    printf("fadvise pipe: %s\n", R(fadv(p[0], 0, 0, 0)));
    printf("fadvise pipe bad advice: %s\n", R(fadv(p[0], 0, 0, 99)));
    printf("fadvise pipe len -1: %s\n", R(fadv(p[0], 0, -1, 0)));
    printf("fadvise socket: %s\n", R(fadv(sv[0], 0, 0, 4)));
    printf("fadvise socket bad advice: %s\n", R(fadv(sv[0], 0, 0, 9)));
    printf("fadvise /dev/null: %s\n", R(fadv(nul, 0, 0, 1)));

    /* readahead */
    printf("readahead file: %s\n", R(readahead(fd, 0, 4096)));
    printf("readahead write-only: %s\n", R(readahead(wo, 0, 4096)));
    printf("readahead bad fd: %s\n", R(readahead(999, 0, 4096)));
    printf("readahead pipe: %s\n", R(readahead(p[0], 0, 4096)));
    printf("readahead socket: %s\n", R(readahead(sv[0], 0, 4096)));
    printf("readahead /dev/null: %s\n", R(readahead(nul, 0, 4096)));
    printf("readahead off -1: %s\n", R(readahead(fd, -1, 4096)));

    /* sync_file_range */
    printf("sfr file: %s\n", R(sync_file_range(fd, 0, 0, 7)));
    printf("sfr read-only: %s\n", R(sync_file_range(ro, 0, 10, 2)));
    printf("sfr bad flags: %s\n", R(sync_file_range(fd, 0, 0, 8)));
    printf("sfr off -1: %s\n", R(sync_file_range(fd, -1, 0, 0)));
    printf("sfr overflow: %s\n", R(sync_file_range(fd, 0x7fffffffffffff00L, 0x200, 0)));
    printf("sfr bad fd: %s\n", R(sync_file_range(999, 0, 0, 99)));
    printf("sfr pipe: %s\n", R(sync_file_range(p[0], 0, 0, 0)));
    printf("sfr pipe bad flags: %s\n", R(sync_file_range(p[0], 0, 0, 8)));
    printf("sfr socket: %s\n", R(sync_file_range(sv[0], 0, 0, 0)));
    printf("sfr /dev/null: %s\n", R(sync_file_range(nul, 0, 0, 0)));

    /* preadv2 / pwritev2 */
    char b[32] = {0};
    lseek(fd, 2, SEEK_SET);
    printf("preadv2 off 5: %s", R(prv2(fd, b, 3, 5, 0)));
    printf(" '%.3s' pos %ld\n", b, (long)lseek(fd, 0, SEEK_CUR));
    printf("preadv2 off -1: %s", R(prv2(fd, b, 3, -1, 0)));
    printf(" '%.3s' pos %ld\n", b, (long)lseek(fd, 0, SEEK_CUR));
    printf("preadv2 off -2: %s\n", R(prv2(fd, b, 3, -2, 0)));
    printf("preadv2 off -2 bad fd: %s\n", R(prv2(999, b, 3, -2, 0)));
    printf("preadv2 bad fd: %s\n", R(prv2(999, b, 3, 0, 0)));
    for (int fl = 1; fl <= 0x200; fl <<= 1)
        printf("preadv2 file flag %#x: %s\n", fl, R(prv2(fd, b, 3, 0, fl)));
    printf("preadv2 write-only: %s\n", R(prv2(wo, b, 3, 0, 0)));
    printf("preadv2 write-only bad flag: %s\n", R(prv2(wo, b, 3, 0, 0x200)));
    printf("preadv2 pipe off 0: %s\n", R(prv2(p[0], b, 3, 0, 0)));
    printf("preadv2 pipe nowait empty: %s\n", R(prv2(p[0], b, 3, -1, RWF_NOWAIT)));
    write(p[1], "abc", 3);
    printf("preadv2 pipe nowait: %s\n", R(prv2(p[0], b, 3, -1, RWF_NOWAIT)));
    printf("preadv2 pipe bad flag: %s\n", R(prv2(p[0], b, 3, -1, 0x200)));
    write(sv[1], "xyz", 3);
    printf("preadv2 socket: %s\n", R(prv2(sv[0], b, 3, -1, RWF_HIPRI)));
    printf("preadv2 /dev/null hipri: %s\n", R(prv2(nul, b, 3, 0, RWF_HIPRI)));
    printf("preadv2 bad iov: %s\n", R(syscall(SYS_preadv2, fd, (void *)8, 1, 0L, 0L, 0)));

    lseek(fd, 1, SEEK_SET);
    printf("pwritev2 append at 0: %s", R(pwv2(fd, "AB", 2, 0, RWF_APPEND)));
    printf(" pos %ld size %ld\n", (long)lseek(fd, 0, SEEK_CUR), (long)lseek(ro, 0, SEEK_END));
    lseek(fd, 1, SEEK_SET);
    printf("pwritev2 append at -1: %s", R(pwv2(fd, "CD", 2, -1, RWF_APPEND)));
    printf(" pos %ld size %ld\n", (long)lseek(fd, 0, SEEK_CUR), (long)lseek(ro, 0, SEEK_END));
    printf("pwritev2 -1: %s", R(pwv2(fd, "EF", 2, -1, 0)));
    printf(" pos %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("pwritev2 dsync: %s\n", R(pwv2(fd, "G", 1, 0, RWF_DSYNC)));
    printf("pwritev2 sync: %s\n", R(pwv2(fd, "H", 1, 1, RWF_SYNC)));
    printf("pwritev2 hipri: %s\n", R(pwv2(fd, "I", 1, 2, RWF_HIPRI)));
    printf("pwritev2 nowait: %s\n", R(pwv2(fd, "J", 1, 3, RWF_NOWAIT)));
    printf("pwritev2 append|noappend: %s\n", R(pwv2(fd, "K", 1, 3, RWF_APPEND | 0x20)));
    printf("pwritev2 atomic: %s\n", R(pwv2(fd, "K", 1, 3, 0x40)));
    printf("pwritev2 dontcache: %s\n", R(pwv2(fd, "K", 1, 3, 0x80)));
    printf("pwritev2 bad flag: %s\n", R(pwv2(fd, "K", 1, 3, 0x200)));
    printf("pwritev2 read-only: %s\n", R(pwv2(ro, "K", 1, 3, 0)));
    printf("pwritev2 pipe off 0: %s\n", R(pwv2(p[1], "K", 1, 0, 0)));
    printf("pwritev2 pipe -1 nowait: %s\n", R(pwv2(p[1], "K", 1, -1, RWF_NOWAIT)));
    int afd = open(P, O_WRONLY | O_APPEND);
    printf("pwritev2 O_APPEND noappend at 0: %s\n", R(pwv2(afd, "Z", 1, 0, 0x20)));
    char all[64] = {0};
    long n = pread(ro, all, sizeof all - 1, 0);
    printf("file now (%ld): %s\n", n, all);
    unlink(P);
    printf("fadvise done\n");
    return 0;
}
