/* fanotify with file handles: fanotify_init's FAN_REPORT_FID/DIR_FID/NAME/
 * TARGET_FID checks, the marks that need them (directory-entry, attribute
 * and self events; not on mounts), events with FAN_NOFD and their info
 * records (FID, DFID, DFID_NAME, OLD_/NEW_DFID_NAME) on inode, mount and
 * filesystem marks, merging; name_to_handle_at and open_by_handle_at.
 * Everything happens on a tmpfs mounted in a private mount namespace, so
 * the native run watches nothing of the host. Handles and fsids differ
 * between runs, so only their agreement is printed: every record's handle
 * is named by the test object whose name_to_handle_at handle it equals. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FAN_REPORT_TARGET_FID
#define FAN_REPORT_TARGET_FID 0x1000
#define FAN_REPORT_DFID_NAME_TARGET (FAN_REPORT_DFID_NAME | FAN_REPORT_FID | FAN_REPORT_TARGET_FID)
#endif
#ifndef FAN_RENAME
#define FAN_RENAME 0x10000000
#endif
#ifndef FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
#define FAN_EVENT_INFO_TYPE_OLD_DFID_NAME 10
#define FAN_EVENT_INFO_TYPE_NEW_DFID_NAME 12
#endif

static char dir[64];

/* Known objects: a label and the handle name_to_handle_at gave. */
struct obj {
    char label[32];
    unsigned char fh[sizeof(struct file_handle) + MAX_HANDLE_SZ];
};
static struct obj objs[32];
static int nobjs;
static fsid_t fsid;

static void res(const char *what, int r)
{
    if (r < 0)
        printf("%s: errno %s\n", what, strerrorname_np(errno));
    else
        printf("%s: ok\n", what);
}

static char *at(const char *rel)
{
    static char b[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(b[i], sizeof b[i], "%s%s%s", dir, *rel ? "/" : "", rel);
    return b[i];
}

static int handle_of(const char *path, struct file_handle *fh)
{
    int mnt;
    fh->handle_bytes = MAX_HANDLE_SZ;
    return name_to_handle_at(AT_FDCWD, path, fh, &mnt, AT_SYMLINK_FOLLOW);
}

static void reg(const char *label, const char *rel)
{
    struct obj *o = &objs[nobjs++];
    snprintf(o->label, sizeof o->label, "%s", label);
    if (handle_of(at(rel), (struct file_handle *)o->fh) < 0)
        printf("reg %s: errno %s\n", label, strerrorname_np(errno));
}

static const char *who(struct file_handle *fh)
{
    for (int i = 0; i < nobjs; i++) {
        struct file_handle *k = (struct file_handle *)objs[i].fh;
        if (k->handle_bytes == fh->handle_bytes && k->handle_type == fh->handle_type &&
            memcmp(k->f_handle, fh->f_handle, fh->handle_bytes) == 0)
            return objs[i].label;
    }
    return "unknown";
}

static const char *names(unsigned long long m)
{
    static char b[256];
    b[0] = 0;
    struct { unsigned long long bit; const char *n; } t[] = {
        {FAN_ACCESS, "ACCESS"}, {FAN_MODIFY, "MODIFY"}, {FAN_ATTRIB, "ATTRIB"},
        {FAN_CLOSE_WRITE, "CLOSE_WRITE"}, {FAN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
        {FAN_OPEN, "OPEN"}, {FAN_MOVED_FROM, "MOVED_FROM"}, {FAN_MOVED_TO, "MOVED_TO"},
        {FAN_CREATE, "CREATE"}, {FAN_DELETE, "DELETE"}, {FAN_DELETE_SELF, "DELETE_SELF"},
        {FAN_MOVE_SELF, "MOVE_SELF"}, {FAN_RENAME, "RENAME"}, {FAN_Q_OVERFLOW, "OVERFLOW"},
        {FAN_ONDIR, "ONDIR"},
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

static const char *info_name(int t)
{
    switch (t) {
    case FAN_EVENT_INFO_TYPE_FID: return "FID";
    case FAN_EVENT_INFO_TYPE_DFID: return "DFID";
    case FAN_EVENT_INFO_TYPE_DFID_NAME: return "DFID_NAME";
    case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME: return "OLD_DFID_NAME";
    case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME: return "NEW_DFID_NAME";
    }
    return "other";
}

/* Print every queued event of group g (non-blocking). */
static void drain(int g, const char *what)
{
    char buf[8192] __attribute__((aligned(8)));
    int seen = 0;
    for (;;) {
        ssize_t n = read(g, buf, sizeof buf);
        if (n < 0) {
            if (errno != EAGAIN)
                printf("%s: read errno %s\n", what, strerrorname_np(errno));
            break;
        }
        struct fanotify_event_metadata *m = (void *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            seen++;
            printf("%s: %s fd %s pid %s:", what, names(m->mask),
                   m->fd == FAN_NOFD ? "NOFD" : "open", m->pid == getpid() ? "self" : "other");
            if (m->fd >= 0)
                close(m->fd);
            char *p = (char *)(m + 1), *end = (char *)m + m->event_len;
            while (p < end) {
                struct fanotify_event_info_fid *f = (void *)p;
                struct file_handle *fh = (void *)f->handle;
                printf(" %s(%s", info_name(f->hdr.info_type), who(fh));
                if (f->hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
                    f->hdr.info_type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME ||
                    f->hdr.info_type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME)
                    printf(" \"%s\"", (char *)fh->f_handle + fh->handle_bytes);
                if (memcmp(&f->fsid, &fsid, sizeof fsid) != 0)
                    printf(" fsid-differs");
                if (f->hdr.len % 4 != 0)
                    printf(" unaligned");
                printf(")");
                if (f->hdr.len == 0)
                    break;
                p += f->hdr.len;
            }
            printf("\n");
        }
    }
    if (!seen)
        printf("%s: none\n", what);
}

static void touch(const char *rel)
{
    int fd = open(at(rel), O_CREAT | O_WRONLY, 0644);
    if (fd < 0)
        printf("create %s: errno %s\n", rel, strerrorname_np(errno));
    close(fd);
}

static void writefile(const char *rel)
{
    int fd = open(at(rel), O_WRONLY | O_APPEND);
    write(fd, "ab", 2);
    write(fd, "cd", 2);
    close(fd);
}

static int group(unsigned flags)
{
    int g = fanotify_init(flags | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY);
    if (g < 0)
        printf("init %#x: errno %s\n", flags, strerrorname_np(errno));
    return g;
}

static void init_errors(void)
{
    struct { unsigned flags; const char *what; } t[] = {
        {FAN_REPORT_NAME, "init NAME alone"},
        {FAN_REPORT_NAME | FAN_REPORT_FID, "init NAME|FID"},
        {FAN_REPORT_FID | FAN_CLASS_CONTENT, "init FID|CLASS_CONTENT"},
        {FAN_REPORT_DIR_FID | FAN_CLASS_PRE_CONTENT, "init DIR_FID|CLASS_PRE_CONTENT"},
        {FAN_REPORT_TARGET_FID | FAN_REPORT_DFID_NAME, "init TARGET without FID"},
        {FAN_REPORT_TARGET_FID | FAN_REPORT_FID, "init TARGET without NAME"},
        {FAN_REPORT_FID, "init FID"},
        {FAN_REPORT_DIR_FID, "init DIR_FID"},
        {FAN_REPORT_DFID_NAME, "init DFID_NAME"},
        {FAN_REPORT_DFID_NAME_TARGET, "init DFID_NAME_TARGET"},
        {FAN_REPORT_FID | FAN_REPORT_TID, "init FID|TID"},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        int g = fanotify_init(t[i].flags, O_RDONLY);
        res(t[i].what, g);
        if (g >= 0)
            close(g);
    }
}

static void mark_errors(void)
{
    int fdg = group(FAN_CLASS_NOTIF);
    res("fd group: CREATE on inode",
        fanotify_mark(fdg, FAN_MARK_ADD, FAN_CREATE, AT_FDCWD, at("")));
    res("fd group: ATTRIB on filesystem",
        fanotify_mark(fdg, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_ATTRIB, AT_FDCWD, at("")));
    close(fdg);
    int g = group(FAN_REPORT_FID);
    res("fid group: CREATE on mount",
        fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_CREATE, AT_FDCWD, at("")));
    res("fid group: DELETE_SELF on mount",
        fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_DELETE_SELF, AT_FDCWD, at("")));
    res("fid group: MODIFY on mount",
        fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_MODIFY, AT_FDCWD, at("")));
    res("fid group: RENAME without names",
        fanotify_mark(g, FAN_MARK_ADD, FAN_RENAME, AT_FDCWD, at("")));
    res("fid group: CREATE on a file (lenient)",
        fanotify_mark(g, FAN_MARK_ADD, FAN_CREATE, AT_FDCWD, at("keep")));
    close(g);
    g = group(FAN_REPORT_DFID_NAME_TARGET);
    res("target group: CREATE on a file",
        fanotify_mark(g, FAN_MARK_ADD, FAN_CREATE, AT_FDCWD, at("keep")));
    res("target group: RENAME on the directory",
        fanotify_mark(g, FAN_MARK_ADD, FAN_RENAME, AT_FDCWD, at("")));
    close(g);
}

static void handles(void)
{
    unsigned char b[sizeof(struct file_handle) + MAX_HANDLE_SZ];
    struct file_handle *fh = (void *)b;
    int mnt;
    touch("h");
    fh->handle_bytes = 0;
    res("name_to_handle_at with no room", name_to_handle_at(AT_FDCWD, at("h"), fh, &mnt, 0));
    unsigned need = fh->handle_bytes;
    fh->handle_bytes = MAX_HANDLE_SZ + 1;
    res("name_to_handle_at with too much room", name_to_handle_at(AT_FDCWD, at("h"), fh, &mnt, 0));
    res("name_to_handle_at bad flag", name_to_handle_at(AT_FDCWD, at("h"), fh, &mnt, 0x8000));
    fh->handle_bytes = MAX_HANDLE_SZ;
    res("name_to_handle_at", name_to_handle_at(AT_FDCWD, at("h"), fh, &mnt, 0));
    printf("handle type %d bytes %u, size asked for first: %s\n", fh->handle_type,
           fh->handle_bytes, need == fh->handle_bytes ? "same" : "differs");
    struct statfs sf;
    statfs(at(""), &sf);
    fsid = sf.f_fsid;
    printf("fsid is set: %s\n", (fsid.__val[0] || fsid.__val[1]) ? "yes" : "no");
    int mfd = open(at(""), O_RDONLY | O_DIRECTORY);
    int fd = open_by_handle_at(mfd, fh, O_RDONLY);
    res("open_by_handle_at", fd);
    struct stat a, c;
    stat(at("h"), &a);
    fstat(fd, &c);
    printf("open_by_handle_at opens the same inode: %s\n",
           a.st_ino == c.st_ino && a.st_dev == c.st_dev ? "yes" : "no");
    close(fd);
    /* A directory's handle from AT_EMPTY_PATH, opened through another fd. */
    unsigned char b2[sizeof(struct file_handle) + MAX_HANDLE_SZ];
    struct file_handle *dh = (void *)b2;
    dh->handle_bytes = MAX_HANDLE_SZ;
    res("name_to_handle_at AT_EMPTY_PATH", name_to_handle_at(mfd, "", dh, &mnt, AT_EMPTY_PATH));
    fd = open_by_handle_at(mfd, dh, O_RDONLY | O_DIRECTORY);
    fstat(fd, &c);
    stat(at(""), &a);
    printf("directory handle opens it: %s\n", fd >= 0 && a.st_ino == c.st_ino ? "yes" : "no");
    close(fd);
    /* The handle is decoded in the filesystem of the descriptor given. */
    chdir(dir);
    fd = open_by_handle_at(AT_FDCWD, fh, O_RDONLY);
    fstat(fd, &c);
    stat(at("h"), &a);
    printf("open_by_handle_at from the working directory: %s\n",
           fd >= 0 && c.st_ino == a.st_ino ? "same inode" : "other");
    close(fd);
    chdir("/");
    unsigned bytes = fh->handle_bytes;
    fh->handle_bytes = 0;
    res("open_by_handle_at with no bytes", open_by_handle_at(mfd, fh, O_RDONLY));
    fh->handle_bytes = bytes;
    int t = fh->handle_type;
    fh->handle_type = -1;
    res("open_by_handle_at with a negative type", open_by_handle_at(mfd, fh, O_RDONLY));
    fh->handle_type = t;
    res("open_by_handle_at bad fd", open_by_handle_at(-5, fh, O_RDONLY));
    pid_t pid = fork();
    if (pid == 0) {
        setuid(65534);
        int r = open_by_handle_at(mfd, fh, O_RDONLY);
        _exit(r < 0 ? errno : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("open_by_handle_at unprivileged: %s\n",
           WEXITSTATUS(st) == EPERM ? "EPERM" : WEXITSTATUS(st) == 0 ? "ok" : "other");
    unlink(at("h"));
    res("open_by_handle_at after unlink", open_by_handle_at(mfd, fh, O_RDONLY));
    close(mfd);
}

/* Group A: names, on an inode mark on the directory. */
static void dfid_name_on_dir(void)
{
    int g = group(FAN_REPORT_DFID_NAME);
    res("A mark", fanotify_mark(g, FAN_MARK_ADD,
                                FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO |
                                    FAN_ATTRIB | FAN_CLOSE_WRITE | FAN_ONDIR | FAN_EVENT_ON_CHILD,
                                AT_FDCWD, at("")));
    touch("a");
    reg("a", "a");
    drain(g, "A create a");
    writefile("a");
    drain(g, "A write a");
    mkdir(at("sub"), 0755);
    reg("sub", "sub");
    drain(g, "A mkdir sub");
    rename(at("a"), at("b"));
    drain(g, "A rename a b");
    chmod(at(""), 0755);
    drain(g, "A chmod dir");
    chmod(at("b"), 0600);
    drain(g, "A chmod b");
    rmdir(at("sub"));
    unlink(at("b"));
    drain(g, "A rmdir sub, unlink b");
    close(g);
}

/* Group B: object handles only, on an inode mark on a file. */
static void fid_on_file(void)
{
    touch("f");
    reg("f", "f");
    int g = group(FAN_REPORT_FID);
    res("B mark", fanotify_mark(g, FAN_MARK_ADD,
                                FAN_MODIFY | FAN_ATTRIB | FAN_CLOSE_WRITE | FAN_DELETE_SELF |
                                    FAN_MOVE_SELF,
                                AT_FDCWD, at("f")));
    writefile("f");
    drain(g, "B write f");
    chmod(at("f"), 0600);
    drain(g, "B chmod f");
    rename(at("f"), at("f2"));
    drain(g, "B rename f f2");
    unlink(at("f2"));
    drain(g, "B unlink f2");
    close(g);
}

/* Group C: targets and renames, on a filesystem mark. */
static void target_on_fs(void)
{
    int g = group(FAN_REPORT_DFID_NAME_TARGET);
    res("C mark", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
                                FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_ONDIR | FAN_DELETE_SELF,
                                AT_FDCWD, at("")));
    mkdir(at("d1"), 0755);
    reg("d1", "d1");
    mkdir(at("d2"), 0755);
    reg("d2", "d2");
    drain(g, "C mkdir d1 d2");
    touch("d1/x");
    reg("x", "d1/x");
    drain(g, "C create d1/x");
    rename(at("d1/x"), at("d2/y"));
    drain(g, "C rename d1/x d2/y");
    unlink(at("d2/y"));
    drain(g, "C unlink d2/y");
    rmdir(at("d1"));
    drain(g, "C rmdir d1");
    close(g);
}

/* Group D: directory and object handles without names, on a mount mark;
 * then on an inode mark on the directory, only directory handles. */
static void dfid_fid_on_mount(void)
{
    touch("w");
    reg("w", "w");
    int g = group(FAN_REPORT_DIR_FID | FAN_REPORT_FID);
    res("D mark", fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_MODIFY | FAN_CLOSE_WRITE,
                                AT_FDCWD, at("")));
    writefile("w");
    drain(g, "D write w");
    close(g);
    g = group(FAN_REPORT_DIR_FID);
    res("E mark", fanotify_mark(g, FAN_MARK_ADD, FAN_CREATE | FAN_DELETE | FAN_ONDIR, AT_FDCWD,
                                at("")));
    touch("e1");
    touch("e2");
    mkdir(at("e3"), 0755);
    drain(g, "E create e1 e2, mkdir e3");
    unlink(at("e1"));
    unlink(at("e2"));
    rmdir(at("e3"));
    drain(g, "E unlink e1 e2, rmdir e3");
    close(g);
}

int main(void)
{
    setvbuf(stdout, 0, _IONBF, 0);
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        perror("unshare");
        return 1;
    }
    strcpy(dir, "/tmp/fanfidXXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (mount("fanfid", dir, "tmpfs", 0, "mode=755") < 0) {
        perror("mount");
        return 1;
    }
    reg("dir", "");
    touch("keep");
    init_errors();
    mark_errors();
    handles();
    dfid_name_on_dir();
    fid_on_file();
    target_on_fs();
    dfid_fid_on_mount();
    umount(dir);
    rmdir(dir);
    printf("fanfid done\n");
    return 0;
}
