/* fallocate(2) on ext4 (4 KiB blocks) compared with a native run:
 * mode 0 and KEEP_SIZE preallocating unwritten blocks, PUNCH_HOLE
 * freeing whole blocks and zeroing partial ones, ZERO_RANGE with and
 * without KEEP_SIZE, COLLAPSE_RANGE and INSERT_RANGE moving the data
 * after them, and each mode's errors. In the guest the file lies on a
 * fresh ext4 disk (ubd1, unmounted at the end so the host's e2fsck can
 * check it), natively in a directory of its own under the host's /tmp. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BS 4096

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EFBIG: return "EFBIG";
    case EISDIR: return "EISDIR";
    case ENOSPC: return "ENOSPC";
    default: return strerror(e);
    }
}

static const char *fa(int fd, int mode, long off, long len) {
    return syscall(SYS_fallocate, fd, mode, off, len) < 0 ? en(errno) : "ok";
}

static void show(int fd, const char *what) {
    struct stat st;
    fstat(fd, &st);
    printf("%s: size %ld blocks %ld\n", what, (long)st.st_size, (long)st.st_blocks);
}

/* The file's bytes as runs: "a*4096 0*100 ..." (letters and zeros). */
static void runs(int fd, const char *what) {
    struct stat st;
    fstat(fd, &st);
    char *b = malloc(st.st_size + 1);
    long n = pread(fd, b, st.st_size, 0);
    printf("%s:", what);
    long i = 0;
    while (i < n) {
        long j = i;
        while (j < n && b[j] == b[i])
            j++;
        printf(" %c*%ld", b[i] ? b[i] : '0', j - i);
        i = j;
    }
    printf(" (read %ld)\n", n);
    free(b);
}

/* A fresh file of `blocks` blocks, block k filled with 'a' + k. */
static char dir[64] = "/tmp/falloc.XXXXXX";
static const char *names[] = {"punch", "prealloc", "zero", "shift", "errors"};

static int fresh(const char *name, int blocks) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    /* One write: the blocks come in one run, as a native ext4's
     * delayed allocation gives them. */
    char *b = malloc((size_t)blocks * BS);
    for (int k = 0; k < blocks; k++)
        memset(b + (long)k * BS, 'a' + k, BS);
    pwrite(fd, b, (size_t)blocks * BS, 0);
    free(b);
    fsync(fd);
    return fd;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int guest = 0;
    mkdir("/mnt", 0755);
    mkdir("/mnt/fa", 0755);
    if (access("/dev/ubdb", F_OK) == 0)
        klogctl(8, 0, 1);
    if (mount("/dev/ubdb", "/mnt/fa", "ext4", 0, 0) == 0) {
        strcpy(dir, "/mnt/fa");
        guest = 1;
    } else if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }

    /* Punch: whole blocks go, partial ones are zeroed, size stays. */
    int fd = fresh("punch", 8);
    show(fd, "written");
    printf("punch without keep: %s\n", fa(fd, FALLOC_FL_PUNCH_HOLE, 0, BS));
    printf("punch 4196+12288: %s\n",
           fa(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, BS + 100, 3 * BS));
    show(fd, "punched");
    runs(fd, "punched");
    printf("punch in the hole: %s\n",
           fa(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * BS, BS));
    printf("punch past EOF: %s\n",
           fa(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 7 * BS, 10 * BS));
    show(fd, "punched to EOF");
    runs(fd, "punched to EOF");
    printf("punch within a block: %s\n",
           fa(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10, 20));
    show(fd, "punched a block's middle");
    runs(fd, "punched a block's middle");
    /* Writing into the hole allocates again. */
    pwrite(fd, "XY", 2, 2 * BS + 5);
    show(fd, "rewritten");
    runs(fd, "rewritten");
    close(fd);

    /* Mode 0 and KEEP_SIZE: unwritten blocks that read as zeros. */
    fd = fresh("prealloc", 2);
    printf("mode 0 past EOF: %s\n", fa(fd, 0, 4 * BS, 2 * BS));
    show(fd, "mode 0");
    runs(fd, "mode 0");
    printf("keep size past EOF: %s\n", fa(fd, FALLOC_FL_KEEP_SIZE, 6 * BS, 4 * BS));
    show(fd, "keep size");
    printf("mode 0 over data: %s\n", fa(fd, 0, 0, 3 * BS));
    show(fd, "mode 0 over data");
    runs(fd, "mode 0 over data");
    pwrite(fd, "Z", 1, 4 * BS + 7);
    show(fd, "written into unwritten");
    runs(fd, "written into unwritten");
    printf("truncate: %d\n", ftruncate(fd, 5 * BS));
    show(fd, "truncated");
    close(fd);

    /* Zero range: data reads as zeros, blocks stay allocated. */
    fd = fresh("zero", 6);
    printf("zero 100+8192: %s\n", fa(fd, FALLOC_FL_ZERO_RANGE, 100, 2 * BS));
    show(fd, "zeroed");
    runs(fd, "zeroed");
    printf("zero keep past EOF: %s\n",
           fa(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 5 * BS + 10, 3 * BS));
    show(fd, "zeroed keep");
    runs(fd, "zeroed keep");
    printf("zero growing: %s\n", fa(fd, FALLOC_FL_ZERO_RANGE, 9 * BS, BS + 50));
    show(fd, "zeroed growing");
    runs(fd, "zeroed growing");
    printf("zero within a block: %s\n", fa(fd, FALLOC_FL_ZERO_RANGE, 4 * BS + 1, 2));
    runs(fd, "zeroed within a block");
    close(fd);

    /* Collapse: block-aligned, not reaching EOF. */
    fd = fresh("shift", 8);
    printf("collapse unaligned off: %s\n", fa(fd, FALLOC_FL_COLLAPSE_RANGE, 100, BS));
    printf("collapse unaligned len: %s\n", fa(fd, FALLOC_FL_COLLAPSE_RANGE, BS, 100));
    printf("collapse to EOF: %s\n", fa(fd, FALLOC_FL_COLLAPSE_RANGE, 6 * BS, 2 * BS));
    printf("collapse past EOF: %s\n", fa(fd, FALLOC_FL_COLLAPSE_RANGE, 6 * BS, 4 * BS));
    printf("collapse keep: %s\n",
           fa(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, BS, BS));
    printf("collapse 4096+8192: %s\n", fa(fd, FALLOC_FL_COLLAPSE_RANGE, BS, 2 * BS));
    show(fd, "collapsed");
    runs(fd, "collapsed");

    /* Insert: block-aligned, starting before EOF. */
    printf("insert unaligned: %s\n", fa(fd, FALLOC_FL_INSERT_RANGE, 100, BS));
    printf("insert at EOF: %s\n", fa(fd, FALLOC_FL_INSERT_RANGE, 6 * BS, BS));
    printf("insert keep: %s\n", fa(fd, FALLOC_FL_INSERT_RANGE | FALLOC_FL_KEEP_SIZE, BS, BS));
    printf("insert before the last block: %s\n", fa(fd, FALLOC_FL_INSERT_RANGE, 5 * BS, BS));
    printf("insert past EOF: %s\n", fa(fd, FALLOC_FL_INSERT_RANGE, 9 * BS, BS));
    printf("insert 4096+8192: %s\n", fa(fd, FALLOC_FL_INSERT_RANGE, BS, 2 * BS));
    show(fd, "inserted");
    runs(fd, "inserted");
    printf("insert at 0: %s\n", fa(fd, FALLOC_FL_INSERT_RANGE, 0, BS));
    show(fd, "inserted at 0");
    runs(fd, "inserted at 0");
    close(fd);

    /* Errors before and after the filesystem's own checks. */
    fd = fresh("errors", 1);
    printf("len 0: %s\n", fa(fd, 0, 0, 0));
    printf("off -1: %s\n", fa(fd, FALLOC_FL_ZERO_RANGE, -1, 10));
    printf("unknown bit: %s\n", fa(fd, 0x100, 0, BS));
    printf("punch|zero: %s\n",
           fa(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, BS));
    printf("unshare: %s\n", fa(fd, FALLOC_FL_UNSHARE_RANGE, 0, BS));
    printf("overflow: %s\n", fa(fd, 0, INT64_MAX - 10, 100));
    printf("past maxbytes: %s\n", fa(fd, 0, 1L << 50, BS));
    printf("punch past maxbytes: %s\n",
           fa(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1L << 50, BS));
    printf("zero keep past maxbytes: %s\n",
           fa(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 1L << 50, BS));
    char p[128];
    snprintf(p, sizeof p, "%s/errors", dir);
    int ro = open(p, O_RDONLY);
    printf("read-only punch: %s\n", fa(ro, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, BS));
    close(ro);
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    printf("directory: %s\n", fa(d, 0, 0, BS));
    close(d);
    show(fd, "untouched");
    close(fd);

    /* The guest keeps its files for e2fsck. */
    if (guest) {
        sync();
        printf("umount: %d\n", umount("/mnt/fa"));
    } else {
        for (int i = 0; i < 5; i++) {
            snprintf(p, sizeof p, "%s/%s", dir, names[i]);
            unlink(p);
        }
        rmdir(dir);
        printf("umount: 0\n");
    }
    printf("falloc_ext4 done\n");
    return 0;
}
