/* Namespaces: /proc/PID/ns links, UTS isolation, user namespaces' id
 * maps and their errnos, setns through /proc/PID/ns fds, NS_GET_*
 * ioctls. Runs as root; the user-namespace part as uid/gid 1000. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS_GET_USERNS 0xb701
#define NS_GET_PARENT 0xb702
#define NS_GET_NSTYPE 0xb703
#define NS_GET_OWNER_UID 0xb704

static void r(const char *what, long v) {
    if (v < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, v);
}

static long wr(const char *path, const char *s) {
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    long n = write(fd, s, strlen(s));
    int e = errno;
    close(fd);
    errno = e;
    return n < 0 ? -1 : 0;
}

static void cat(const char *path) {
    char b[256];
    int fd = open(path, O_RDONLY);
    int n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
    if (n < 0) {
        printf("%s: -1 %s\n", path, strerrorname_np(errno));
    } else {
        b[n] = 0;
        printf("%s: [%s]\n", path, b);
    }
    if (fd >= 0)
        close(fd);
}

static ino_t ino_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

static void host(const char *who) {
    struct utsname u;
    uname(&u);
    printf("%s hostname %s\n", who, u.nodename);
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_ns(void) {
    DIR *d = opendir("/proc/self/ns");
    struct dirent *e;
    char *names[32];
    int n = 0;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (int i = 0; i < n; i++) {
        char p[64], l[64];
        snprintf(p, sizeof p, "/proc/self/ns/%s", names[i]);
        int k = readlink(p, l, sizeof l - 1);
        l[k < 0 ? 0 : k] = 0;
        char kind[32];
        unsigned long ino = 0;
        int ok = sscanf(l, "%31[a-z]:[%lu]", kind, &ino) == 2 && ino == ino_of(p);
        printf("ns %s -> %s:[N] %s\n", names[i], kind, ok ? "ino matches" : l);
    }
}

/* A child that made a new UTS namespace and waits on a pipe. */
static pid_t uts_child(int *done_w) {
    int go[2], done[2];
    pipe(go);
    pipe(done);
    pid_t c = fork();
    if (c == 0) {
        close(go[0]);
        close(done[1]);
        unshare(CLONE_NEWUTS);
        sethostname("inner", 5);
        write(go[1], "x", 1);
        char b;
        read(done[0], &b, 1);
        _exit(0);
    }
    close(go[1]);
    close(done[0]);
    char b;
    read(go[0], &b, 1);
    close(go[0]);
    *done_w = done[1];
    return c;
}

static void uts_and_setns(void) {
    host("start");
    int done;
    pid_t c = uts_child(&done);
    host("parent after child's sethostname");
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/ns/uts", c);
    printf("child's uts differs %d\n", ino_of(p) != ino_of("/proc/self/ns/uts"));
    snprintf(p, sizeof p, "/proc/%d/ns/user", c);
    printf("child's user same %d\n", ino_of(p) == ino_of("/proc/self/ns/user"));
    int mine = open("/proc/self/ns/uts", O_RDONLY);
    snprintf(p, sizeof p, "/proc/%d/ns/uts", c);
    int theirs = open(p, O_RDONLY);
    r("setns wrong type", setns(theirs, CLONE_NEWIPC));
    r("setns uts", setns(theirs, CLONE_NEWUTS));
    host("after setns");
    r("setns back (type 0)", setns(mine, 0));
    host("back");
    int f = open("/proc/self/status", O_RDONLY);
    r("setns on a regular file", setns(f, 0));
    r("setns bad fd", setns(99, 0));
    r("NS_GET_NSTYPE uts", ioctl(theirs, NS_GET_NSTYPE));
    r("NS_GET_PARENT uts", ioctl(theirs, NS_GET_PARENT));
    uid_t u;
    r("NS_GET_OWNER_UID uts", ioctl(theirs, NS_GET_OWNER_UID, &u));
    r("unknown ns ioctl", ioctl(theirs, 0xb7ff));
    int owner = ioctl(theirs, NS_GET_USERNS);
    struct stat st;
    fstat(owner, &st);
    printf("uts owner is our user ns %d\n", st.st_ino == ino_of("/proc/self/ns/user"));
    int myuser = open("/proc/self/ns/user", O_RDONLY);
    r("NS_GET_PARENT initial user", ioctl(myuser, NS_GET_PARENT));
    r("NS_GET_USERNS initial user", ioctl(myuser, NS_GET_USERNS));
    r("setns own user ns", setns(myuser, CLONE_NEWUSER));
    int pfd = syscall(SYS_pidfd_open, c, 0);
    r("setns pidfd no flags", setns(pfd, 0));
    r("setns pidfd bad flag", setns(pfd, CLONE_NEWUTS | CLONE_VM));
    r("setns pidfd uts", setns(pfd, CLONE_NEWUTS));
    host("after setns pidfd");
    r("setns pidfd uts+ipc (ipc already ours)", setns(pfd, CLONE_NEWUTS | CLONE_NEWIPC));
    setns(mine, 0);
    host("back again");
    close(pfd);
    close(f);
    close(owner);
    close(mine);
    close(theirs);
    close(myuser);
    write(done, "x", 1);
    waitpid(c, 0, 0);
}

static void user_ns(void) {
    pid_t c = fork();
    if (c == 0) {
        int init_uts = open("/proc/self/ns/uts", O_RDONLY);
        setresgid(1000, 1000, 1000);
        setgroups(0, NULL);
        setresuid(1000, 1000, 1000);
        /* Changing ids cleared it: /proc/self would be root's. */
        prctl(PR_SET_DUMPABLE, 1);
        r("sethostname as uid 1000", sethostname("x", 1));
        r("unshare(CLONE_NEWUTS) as uid 1000", unshare(CLONE_NEWUTS));
        r("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
        printf("unmapped ids %d %d\n", getuid(), getgid());
        cat("/proc/self/uid_map");
        cat("/proc/self/setgroups");
        r("uid_map malformed", wr("/proc/self/uid_map", "0 1000\n"));
        r("uid_map zero count", wr("/proc/self/uid_map", "0 1000 0\n"));
        r("uid_map overlapping", wr("/proc/self/uid_map", "0 1000 1\n0 1001 1\n"));
        r("uid_map two ids unprivileged", wr("/proc/self/uid_map", "0 1000 2\n"));
        r("uid_map someone else's id", wr("/proc/self/uid_map", "0 0 1\n"));
        int fd = open("/proc/self/uid_map", O_WRONLY);
        r("uid_map pwrite", pwrite(fd, "0 1000 1\n", 9, 1));
        r("lseek uid_map", lseek(fd, 1, SEEK_SET));
        r("uid_map at offset 1", write(fd, "0 1000 1\n", 9));
        close(fd);
        r("uid_map own id", wr("/proc/self/uid_map", "0 1000 1\n"));
        r("uid_map again", wr("/proc/self/uid_map", "0 1000 1\n"));
        r("gid_map before setgroups deny", wr("/proc/self/gid_map", "0 1000 1\n"));
        r("setgroups bad word", wr("/proc/self/setgroups", "maybe"));
        r("setgroups deny", wr("/proc/self/setgroups", "deny"));
        r("gid_map own id", wr("/proc/self/gid_map", "0 1000 1\n"));
        r("setgroups allow after deny", wr("/proc/self/setgroups", "allow"));
        cat("/proc/self/uid_map");
        cat("/proc/self/gid_map");
        cat("/proc/self/setgroups");
        printf("mapped ids %d %d %d\n", getuid(), geteuid(), getgid());
        r("setgroups(2) denied", setgroups(0, NULL));
        r("sethostname in the initial uts ns", sethostname("x", 1));
        r("unshare(CLONE_NEWUTS) in the user ns", unshare(CLONE_NEWUTS));
        r("sethostname in its own uts ns", sethostname("userns", 6));
        host("user ns child");
        int me = open("/proc/self/ns/user", O_RDONLY);
        r("NS_GET_NSTYPE user", ioctl(me, NS_GET_NSTYPE));
        uid_t o = 77;
        r("NS_GET_OWNER_UID", ioctl(me, NS_GET_OWNER_UID, &o));
        printf("owner uid seen inside %u\n", o);
        r("NS_GET_PARENT out of reach", ioctl(me, NS_GET_PARENT));
        int uts = open("/proc/self/ns/uts", O_RDONLY);
        int owner = ioctl(uts, NS_GET_USERNS);
        struct stat st;
        fstat(owner, &st);
        printf("new uts owned by the new user ns %d\n", st.st_ino == ino_of("/proc/self/ns/user"));
        r("setns to the initial uts", setns(init_uts, 0));
        r("unshare(CLONE_NEWUSER) again", unshare(CLONE_NEWUSER));
        printf("nested unmapped ids %d %d\n", getuid(), getgid());
        r("unshare(CLONE_NEWUSER) with unmapped uid", unshare(CLONE_NEWUSER));
        _exit(0);
    }
    waitpid(c, 0, 0);
    host("parent after user ns child");
}

/* SysV objects live in their IPC namespace: a key made outside is not
 * found inside, the same key can be made again inside, and ids from
 * outside do not reach in. */
static void ipc_ns(void) {
    int q = msgget(0x5151, IPC_CREAT | 0600);
    int m = shmget(0x5152, 4096, IPC_CREAT | 0600);
    int s = semget(0x5153, 1, IPC_CREAT | 0600);
    printf("made outside %d %d %d\n", q >= 0, m >= 0, s >= 0);
    int ipcfd = open("/proc/self/ns/ipc", O_RDONLY);
    pid_t c = fork();
    if (c == 0) {
        r("unshare(CLONE_NEWIPC)", unshare(CLONE_NEWIPC));
        r("msgget outside key", msgget(0x5151, 0));
        r("shmget outside key", shmget(0x5152, 0, 0));
        r("semget outside key", semget(0x5153, 0, 0));
        struct msqid_ds ds;
        r("msgctl outside id", msgctl(q, IPC_STAT, &ds));
        r("shmat outside id", shmat(m, 0, 0) == (void *)-1 ? -1 : 0);
        int q2 = msgget(0x5151, IPC_CREAT | IPC_EXCL | 0600);
        printf("same key made inside %d\n", q2 >= 0);
        struct { long t; char b[8]; } msg = {1, "inside"};
        r("msgsnd inside", msgsnd(q2, &msg, 7, 0));
        r("setns back to the parent's ipc ns", setns(ipcfd, CLONE_NEWIPC));
        struct msqid_ds st;
        r("outside queue empty", msgctl(q, IPC_STAT, &st) == 0 ? (long)st.msg_qnum : -1);
        _exit(0);
    }
    waitpid(c, 0, 0);
    struct msqid_ds st;
    msgctl(q, IPC_STAT, &st);
    printf("outside queue messages %lu\n", (unsigned long)st.msg_qnum);
    msgctl(q, IPC_RMID, 0);
    shmctl(m, IPC_RMID, 0);
    semctl(s, 0, IPC_RMID);
    close(ipcfd);
}

static void flags(void) {
    r("unshare(0)", unshare(0));
    r("unshare(CLONE_VFORK)", unshare(CLONE_VFORK));
    r("clone NEWUSER|FS", syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS | SIGCHLD, 0, 0, 0, 0));
    r("clone NEWNS|FS", syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0));
    /* clone with new UTS and user namespaces. */
    pid_t c = syscall(SYS_clone, CLONE_NEWUTS | CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (c == 0) {
        r("cloned child sethostname", sethostname("cloned", 6));
        host("cloned child");
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("cloned child exit %d\n", WEXITSTATUS(st));
    host("parent after clone");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* A UTS namespace of its own first: natively the test runs as root
     * on the host, whose name it must not change. */
    r("unshare(CLONE_NEWUTS)", unshare(CLONE_NEWUTS));
    sethostname("ruml-ns", 7);
    list_ns();
    uts_and_setns();
    user_ns();
    ipc_ns();
    flags();
    printf("ns done\n");
    return 0;
}
