/* The mqueue filesystem: queues made by mq_open appear as files whose
 * contents are their QSIZE/NOTIFY/SIGNO/NOTIFY_PID line; files made there
 * are queues with the default attributes; rm is mq_unlink; chmod decides
 * who may open; nothing but queues can be made. Natively the program runs
 * in new mount and IPC namespaces so that the host sees nothing of it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(long r)
{
    return r < 0 ? strerrorname_np(errno) : "OK";
}
#define SAY(what, r) printf("%s: %s\n", what, en((long)(r)))

#define DIR_ "/tmp/ruml_mqfs"
#define A DIR_ "/ruml_mqfs_a"
#define B DIR_ "/ruml_mqfs_b"

static void show_file(const char *path)
{
    char buf[200];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("open %s: %s\n", path + sizeof DIR_, strerrorname_np(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    ssize_t again = read(fd, buf + 150, 10);
    /* The line ends in padding: show it up to the last field. */
    int end = n > 0 ? (int)n : 0;
    while (end > 0 && (buf[end - 1] == ' ' || buf[end - 1] == '\n'))
        buf[--end] = 0;
    printf("%s [%zd then %zd, newline %d]: %s|\n", path + sizeof DIR_, n, again,
           n > 0 && buf[n - 1] == 0, buf);
    close(fd);
}

static void list(void)
{
    DIR *d = opendir(DIR_);
    struct dirent *e;
    char names[8][300];
    int n = 0;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "ruml_mqfs_", 10) && n < 8)
            snprintf(names[n++], 300, "%s(%s)", e->d_name, e->d_type == DT_REG ? "reg" : "?");
    if (d)
        closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[300];
            strcpy(t, names[j]);
            strcpy(names[j], names[j - 1]);
            strcpy(names[j - 1], t);
        }
    printf("listing:");
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
}

/* Run `what` as uid 65534 in a child; print its result. */
static void as_nobody(const char *label, int what)
{
    pid_t p = fork();
    if (p == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(99);
        long r = -1;
        if (what == 0)
            r = mq_open("/ruml_mqfs_b", O_RDONLY);
        else if (what == 1)
            r = unlink(B);
        else if (what == 2)
            r = open(DIR_ "/ruml_mqfs_c", O_CREAT | O_RDWR, 0600);
        SAY(label, r);
        fflush(stdout);
        _exit(0);
    }
    waitpid(p, NULL, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    /* Natively: keep the mount and the queues away from the host. */
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC) == 0)
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    umask(022);
    mkdir(DIR_, 0755);
    SAY("mount", mount("none", DIR_, "mqueue", 0, NULL));

    struct statfs sf;
    statfs(DIR_, &sf);
    printf("magic %#lx\n", (unsigned long)sf.f_type);
    struct stat st;
    stat(DIR_, &st);
    printf("root: dir %d mode %04o uid %u nlink %lu\n", S_ISDIR(st.st_mode),
           st.st_mode & 07777, st.st_uid, (unsigned long)st.st_nlink);

    struct mq_attr at = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t q = mq_open("/ruml_mqfs_a", O_CREAT | O_RDWR, 0666, &at);
    SAY("mq_open a", q);
    SAY("send", mq_send(q, "hello", 5, 1));
    SAY("send", mq_send(q, "world!", 6, 2));
    show_file(A);
    stat(A, &st);
    printf("a: reg %d mode %04o size %lld nlink %lu blocks %lld\n", S_ISREG(st.st_mode),
           st.st_mode & 07777, (long long)st.st_size, (unsigned long)st.st_nlink,
           (long long)st.st_blocks);
    char buf[8192];
    unsigned prio;
    ssize_t got = mq_receive(q, buf, sizeof buf, &prio);
    printf("receive %zd prio %u\n", got, prio);
    show_file(A);

    /* A registered notification shows in the line. */
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    mq_receive(q, buf, sizeof buf, &prio);
    SAY("notify", mq_notify(q, &sev));
    int fd = open(A, O_RDONLY);
    int n = read(fd, buf, 100);
    buf[n > 0 ? n : 0] = 0;
    int qs, nt, sg, np;
    if (sscanf(buf, "QSIZE:%d NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &qs, &nt, &sg, &np) == 4)
        printf("with notify: QSIZE %d NOTIFY %d SIGNO %d pid is mine %d\n", qs, nt, sg, np == getpid());
    close(fd);

    /* A file made in the filesystem is a queue with the defaults. */
    int b = open(B, O_CREAT | O_EXCL | O_RDWR, 0777);
    SAY("creat b", b);
    struct mq_attr ga;
    SAY("getattr on its fd", mq_getattr(b, &ga));
    printf("b: maxmsg %ld msgsize %ld curmsgs %ld\n", ga.mq_maxmsg, ga.mq_msgsize, ga.mq_curmsgs);
    SAY("send on its fd", mq_send(b, "xyz", 3, 0));
    SAY("write on its fd", write(b, "x", 1));
    stat(B, &st);
    printf("b: mode %04o\n", st.st_mode & 07777);
    mqd_t b2 = mq_open("/ruml_mqfs_b", O_RDONLY);
    SAY("mq_open b", b2);
    got = mq_receive(b2, buf, sizeof buf, NULL);
    printf("receive %zd\n", got);
    SAY("creat b again (O_EXCL)", open(B, O_CREAT | O_EXCL | O_RDWR, 0600));
    list();

    /* Who may open and remove. */
    SAY("chmod b 600", chmod(B, 0600));
    as_nobody("nobody opens b", 0);
    SAY("chmod b 644", chmod(B, 0644));
    as_nobody("nobody opens b", 0);
    as_nobody("nobody removes b (sticky)", 1);
    as_nobody("nobody makes c", 2);
    stat(DIR_ "/ruml_mqfs_c", &st);
    printf("c: owner %u mode %04o\n", st.st_uid, st.st_mode & 07777);
    SAY("rm c", unlink(DIR_ "/ruml_mqfs_c"));

    /* Only queues live here. */
    SAY("mkdir", mkdir(DIR_ "/ruml_mqfs_d", 0755));
    SAY("mkfifo", mkfifo(DIR_ "/ruml_mqfs_f", 0644));
    SAY("symlink", symlink("x", DIR_ "/ruml_mqfs_s"));
    SAY("link", link(A, DIR_ "/ruml_mqfs_l"));
    SAY("rename", rename(A, DIR_ "/ruml_mqfs_r"));
    SAY("rmdir a", rmdir(A));

    /* rm is mq_unlink; the open descriptor keeps working. */
    SAY("rm a", unlink(A));
    SAY("mq_open a", mq_open("/ruml_mqfs_a", O_RDONLY));
    SAY("send after rm", mq_send(q, "still", 5, 0));
    SAY("mq_unlink b", mq_unlink("/ruml_mqfs_b"));
    show_file(B);
    list();
    mq_close(q);
    close(b);
    mq_close(b2);
    SAY("umount", umount(DIR_));
    rmdir(DIR_);
    printf("mqueue_fs done\n");
    return 0;
}
