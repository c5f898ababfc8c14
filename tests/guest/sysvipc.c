/* System V IPC, run as root and compared with the host: shared memory
 * (keys, IPC_EXCL, sizes, attach at chosen/rounded addresses, read-only
 * attaches, fork/exec inheritance, IPC_RMID while attached), semaphores
 * (limits, IPC_NOWAIT, timeouts, blocking waits woken by another process,
 * EIDRM, EINTR, SEM_UNDO at exit) and message queues (type selection,
 * MSG_EXCEPT, MSG_NOERROR, E2BIG, full queues blocking senders), plus
 * EACCES/EPERM for another user and /proc/sysvipc. Keys come from the pid
 * so a busy host does not collide; only relative facts are printed.
 * `sysvipc --nattch ID` prints a segment's attach count (after exec);
 * `sysvipc --leave KEY` creates one object of each kind and exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static const char *en(long r)
{
    return r < 0 ? strerrorname_np(errno) : "OK";
}
#define SAY(what, r) printf("%s: %s\n", what, en((long)(r)))

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

static key_t base;

static void nap(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static int shm_nattch(int id)
{
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) < 0)
        return -1;
    return (int)ds.shm_nattch;
}

/* Wait (generously) until `n` tasks sleep on semaphore 0 of `id`. */
static int wait_ncnt(int id, int cmd, int n)
{
    for (int i = 0; i < 6000; i++) {
        if (semctl(id, 0, cmd) == n)
            return 1;
        nap();
    }
    return 0;
}

/* Wait (generously) until process `pid` sleeps in a system call. */
static int wait_sleeping(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    for (int i = 0; i < 6000; i++) {
        FILE *f = fopen(path, "r");
        int n = f ? (int)fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n > 0 ? n : 0] = 0;
        char *e = strrchr(buf, ')');
        if (e && e[1] == ' ' && e[2] == 'S')
            return 1;
        nap();
    }
    return 0;
}

static void on_usr1(int s)
{
    (void)s;
}

static void shm_tests(const char *self)
{
    key_t k = base + 1;
    int id = shmget(k, 10000, IPC_CREAT | IPC_EXCL | 0640);
    SAY("shmget create", id);
    SAY("shmget excl again", shmget(k, 10000, IPC_CREAT | IPC_EXCL | 0640));
    printf("shmget same key same id: %d\n", shmget(k, 5000, 0) == id);
    SAY("shmget bigger than segment", shmget(k, 20000, 0));
    SAY("shmget missing key", shmget(base + 99, 100, 0));
    SAY("shmget size 0", shmget(IPC_PRIVATE, 0, 0600));
    SAY("shmget huge", shmget(IPC_PRIVATE, (size_t)1 << 62, 0600));

    struct shmid_ds ds;
    SAY("IPC_STAT", shmctl(id, IPC_STAT, &ds));
    printf("segsz %zu mode %o nattch %lu cpid-is-me %d atime %d\n", ds.shm_segsz,
           ds.shm_perm.mode, ds.shm_nattch, ds.shm_cpid == getpid(), ds.shm_atime != 0);

    char *p = shmat(id, NULL, 0);
    SAY("shmat", p == (void *)-1 ? -1 : 0);
    strcpy(p, "hello shm");
    shmctl(id, IPC_STAT, &ds);
    printf("after attach nattch %lu lpid-is-me %d atime %d\n", ds.shm_nattch,
           ds.shm_lpid == getpid(), ds.shm_atime != 0);
    /* The whole last page is there. */
    p[12287] = 1;

    char *q = shmat(id, NULL, SHM_RDONLY);
    printf("second attach sees: %s, nattch %d\n", q, shm_nattch(id));
    SAY("shmdt mid-attach", shmdt(q + 4096));
    SAY("shmdt", shmdt(q));
    SAY("shmdt again", shmdt(q));
    printf("nattch %d\n", shm_nattch(id));

    /* Fixed addresses: unaligned, rounded, taken. */
    char *r = shmat(id, q + 5, 0);
    SAY("shmat unaligned", r == (void *)-1 ? -1 : 0);
    r = shmat(id, q + 5, SHM_RND);
    printf("shmat SHM_RND rounds down: %d\n", r == q);
    SAY("shmat over a mapping", shmat(id, r, 0) == (void *)-1 ? -1 : 0);
    r[100] = 'x';
    printf("writes through one attach show in the other: %d\n", p[100] == 'x');
    shmdt(r);

    /* Read-only attaches fault on write. */
    pid_t c = fork();
    if (c == 0) {
        char *ro = shmat(id, NULL, SHM_RDONLY);
        ro[0] = 'X';
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("write to SHM_RDONLY: signal %s\n", WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "none");

    /* fork shares the attach; exit drops it. */
    c = fork();
    if (c == 0) {
        printf("child nattch %d sees %s\n", shm_nattch(id), p);
        strcpy(p, "from child");
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("parent sees %s, nattch %d\n", p, shm_nattch(id));

    /* exec drops it too. */
    c = fork();
    if (c == 0) {
        char arg[32];
        snprintf(arg, sizeof arg, "%d", id);
        execl(self, self, "--nattch", arg, (char *)NULL);
        _exit(127);
    }
    waitpid(c, &st, 0);

    /* IPC_SET changes owner bits; SHM_LOCK is accepted. */
    ds.shm_perm.mode = 0600;
    SAY("IPC_SET", shmctl(id, IPC_SET, &ds));
    SAY("SHM_LOCK", shmctl(id, SHM_LOCK, NULL));
    shmctl(id, IPC_STAT, &ds);
    printf("mode now %o\n", ds.shm_perm.mode);
    SAY("SHM_UNLOCK", shmctl(id, SHM_UNLOCK, NULL));
    SAY("bad cmd", shmctl(id, 77, &ds));

    /* /proc/sysvipc/shm has it. */
    FILE *f = fopen("/proc/sysvipc/shm", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        int key, sid, nat;
        unsigned perms;
        unsigned long size;
        if (sscanf(line, "%d %d %o %lu %*d %*d %d", &key, &sid, &perms, &size, &nat) == 5 &&
            sid == id) {
            printf("proc: key-ok %d perms %o size %lu nattch %d\n", key == k, perms, size, nat);
            found = 1;
        }
    }
    if (f)
        fclose(f);
    printf("proc line found %d\n", found);

    /* Removed while attached: key gone at once, segment at the last detach. */
    SAY("IPC_RMID attached", shmctl(id, IPC_RMID, NULL));
    SAY("shmget removed key", shmget(k, 100, 0));
    SAY("IPC_STAT removed", shmctl(id, IPC_STAT, &ds));
    printf("dest flag %d key %d nattch %lu still %s\n", !!(ds.shm_perm.mode & 01000),
           ds.shm_perm.__key, ds.shm_nattch, p);
    SAY("shmdt last", shmdt(p));
    SAY("IPC_STAT after last detach", shmctl(id, IPC_STAT, &ds));
    SAY("shmat after last detach", shmat(id, NULL, 0) == (void *)-1 ? -1 : 0);
}

static void sem_tests(void)
{
    key_t k = base + 2;
    SAY("semget nsems 0", semget(k, 0, IPC_CREAT | 0600));
    SAY("semget too many", semget(k, 40000, IPC_CREAT | 0600));
    int id = semget(k, 3, IPC_CREAT | IPC_EXCL | 0600);
    SAY("semget", id);
    SAY("semget more than there are", semget(k, 4, 0));
    printf("semget fewer same id %d\n", semget(k, 2, 0) == id);

    union semun a;
    unsigned short vals[3] = {1, 2, 3};
    a.array = vals;
    SAY("SETALL", semctl(id, 0, SETALL, a));
    memset(vals, 0, sizeof vals);
    SAY("GETALL", semctl(id, 0, GETALL, a));
    printf("vals %d %d %d getval1 %d pid-is-me %d\n", vals[0], vals[1], vals[2],
           semctl(id, 1, GETVAL), semctl(id, 1, GETPID) == getpid());
    a.val = 40000;
    SAY("SETVAL too big", semctl(id, 0, SETVAL, a));
    a.val = -1;
    SAY("SETVAL negative", semctl(id, 0, SETVAL, a));
    SAY("GETVAL bad semnum", semctl(id, 5, GETVAL));
    SAY("bad id", semctl(id + 1000000, 0, GETVAL));

    struct sembuf op = {0, -2, IPC_NOWAIT};
    SAY("semop would block", semop(id, &op, 1));
    op = (struct sembuf){7, 1, 0};
    SAY("semop bad semnum", semop(id, &op, 1));
    op = (struct sembuf){0, 32767, 0};
    SAY("semop over SEMVMX", semop(id, &op, 1));
    static struct sembuf many[600];
    SAY("semop too many ops", semop(id, many, 600));
    SAY("semop no ops", semop(id, many, 0));
    /* All or nothing: the second op fails, the first is not applied. */
    struct sembuf two[2] = {{0, 5, 0}, {2, -4, IPC_NOWAIT}};
    SAY("semop all-or-nothing", semop(id, two, 2));
    printf("sem0 still %d\n", semctl(id, 0, GETVAL));
    struct sembuf zero = {1, 0, IPC_NOWAIT};
    SAY("wait-for-zero nonzero", semop(id, &zero, 1));
    struct timespec ts = {0, 50 * 1000 * 1000};
    op = (struct sembuf){0, -5, 0};
    SAY("semtimedop times out", semtimedop(id, &op, 1, &ts));
    ts.tv_nsec = 2000000000;
    SAY("semtimedop bad timeout", semtimedop(id, &op, 1, &ts));

    /* A blocked semop woken by another process. */
    a.val = 0;
    semctl(id, 0, SETVAL, a);
    pid_t c = fork();
    if (c == 0) {
        struct sembuf d = {0, -1, 0};
        int r = semop(id, &d, 1);
        printf("child semop: %s\n", en(r));
        _exit(0);
    }
    printf("waiter seen by GETNCNT %d\n", wait_ncnt(id, GETNCNT, 1));
    op = (struct sembuf){0, 1, 0};
    int r = semop(id, &op, 1);
    int st;
    waitpid(c, &st, 0);
    SAY("post", r);
    printf("after wake val %d ncnt %d\n", semctl(id, 0, GETVAL), semctl(id, 0, GETNCNT));

    /* Waiting for zero, and a signal ending a wait (never restarted). */
    a.val = 1;
    semctl(id, 0, SETVAL, a);
    c = fork();
    if (c == 0) {
        struct sigaction sa = {0};
        sa.sa_handler = on_usr1;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGUSR1, &sa, NULL);
        struct sembuf z = {0, 0, 0};
        int r = semop(id, &z, 1);
        printf("child zero-wait: %s\n", en(r));
        _exit(0);
    }
    printf("zero waiter seen by GETZCNT %d\n", wait_ncnt(id, GETZCNT, 1));
    kill(c, SIGUSR1);
    waitpid(c, &st, 0);
    printf("zcnt after signal %d\n", semctl(id, 0, GETZCNT));

    /* Stopped and continued (no handler runs): semop still ends with
     * EINTR (signal(7)); the value is cleared in case it waits on. */
    c = fork();
    if (c == 0) {
        struct sembuf z = {0, 0, 0};
        printf("child zero-wait after stop and continue: %s\n", en(semop(id, &z, 1)));
        _exit(0);
    }
    wait_ncnt(id, GETZCNT, 1);
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    kill(c, SIGCONT);
    for (int i = 0; i < 10; i++)
        nap();
    a.val = 0;
    semctl(id, 0, SETVAL, a);
    waitpid(c, &st, 0);
    a.val = 1;
    semctl(id, 0, SETVAL, a);

    /* SEM_UNDO is given back at exit. */
    c = fork();
    if (c == 0) {
        struct sembuf u[2] = {{0, 3, SEM_UNDO}, {1, -2, SEM_UNDO}};
        printf("child undo ops: %s\n", en(semop(id, u, 2)));
        printf("child sees %d %d\n", semctl(id, 0, GETVAL), semctl(id, 1, GETVAL));
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("after undo %d %d\n", semctl(id, 0, GETVAL), semctl(id, 1, GETVAL));

    struct semid_ds ds;
    a.buf = &ds;
    SAY("IPC_STAT", semctl(id, 0, IPC_STAT, a));
    printf("nsems %lu mode %o otime %d\n", ds.sem_nsems, ds.sem_perm.mode, ds.sem_otime != 0);

    /* Removed while someone waits: EIDRM. */
    a.val = 0;
    semctl(id, 0, SETVAL, a);
    c = fork();
    if (c == 0) {
        struct sembuf d = {0, -1, 0};
        int r = semop(id, &d, 1);
        printf("child after removal: %s\n", en(r));
        _exit(0);
    }
    wait_ncnt(id, GETNCNT, 1);
    r = semctl(id, 0, IPC_RMID);
    waitpid(c, &st, 0);
    SAY("IPC_RMID", r);
    SAY("semop on removed", semop(id, &op, 1));
}

static void msg_tests(void)
{
    key_t k = base + 3;
    int id = msgget(k, IPC_CREAT | 0600);
    SAY("msgget", id);
    SAY("msgget excl", msgget(k, IPC_CREAT | IPC_EXCL | 0600));
    SAY("msgget missing", msgget(base + 98, 0));
    struct {
        long type;
        char text[64];
    } m;
    const char *texts[] = {"c", "a1", "b", "a2"};
    long types[] = {3, 1, 2, 1};
    for (int i = 0; i < 4; i++) {
        m.type = types[i];
        strcpy(m.text, texts[i]);
        msgsnd(id, &m, strlen(texts[i]) + 1, 0);
    }
    m.type = 0;
    SAY("msgsnd type 0", msgsnd(id, &m, 1, 0));
    SAY("msgsnd too big", msgsnd(id, &m, 100000, 0));
    struct msqid_ds ds;
    long n;
    msgctl(id, IPC_STAT, &ds);
    printf("qnum %lu cbytes %lu qbytes %lu lspid-is-me %d\n", ds.msg_qnum, ds.__msg_cbytes,
           ds.msg_qbytes, ds.msg_lspid == getpid());

    long sel[][2] = {{-2, 0}, {2, MSG_EXCEPT}, {2, 0}, {0, 0}};
    for (int i = 0; i < 4; i++) {
        long n = msgrcv(id, &m, sizeof m.text, sel[i][0], sel[i][1] | IPC_NOWAIT);
        printf("msgrcv %ld%s: %ld type %ld %s\n", sel[i][0], sel[i][1] ? " except" : "", n,
               m.type, n > 0 ? m.text : en(n));
    }
    SAY("msgrcv empty", msgrcv(id, &m, sizeof m.text, 0, IPC_NOWAIT));
    m.type = 5;
    strcpy(m.text, "0123456789");
    msgsnd(id, &m, 11, 0);
    SAY("msgrcv too small", msgrcv(id, &m, 4, 0, IPC_NOWAIT));
    SAY("MSG_COPY without IPC_NOWAIT", msgrcv(id, &m, sizeof m.text, 0, MSG_COPY));
    SAY("MSG_COPY past the end", msgrcv(id, &m, sizeof m.text, 1, MSG_COPY | IPC_NOWAIT));
    n = msgrcv(id, &m, sizeof m.text, 0, MSG_COPY | IPC_NOWAIT);
    msgctl(id, IPC_STAT, &ds);
    printf("MSG_COPY got %ld type %ld, qnum still %lu\n", n, m.type, ds.msg_qnum);
    n = msgrcv(id, &m, 4, 0, IPC_NOWAIT | MSG_NOERROR);
    printf("MSG_NOERROR got %ld: %.4s\n", n, m.text);

    /* A full queue blocks the sender until a receive makes room. */
    msgctl(id, IPC_STAT, &ds);
    ds.msg_qbytes = 10;
    SAY("IPC_SET qbytes", msgctl(id, IPC_SET, &ds));
    m.type = 1;
    SAY("msgsnd fits", msgsnd(id, &m, 8, 0));
    SAY("msgsnd full nowait", msgsnd(id, &m, 8, IPC_NOWAIT));
    int pfd[2];
    pipe(pfd);
    pid_t c = fork();
    if (c == 0) {
        int r = msgsnd(id, &m, 8, 0);
        dprintf(pfd[1], "child msgsnd %s\n", en(r));
        _exit(0);
    }
    nap();
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    char buf[64] = {0};
    SAY("sender still waiting", read(pfd[0], buf, sizeof buf));
    n = msgrcv(id, &m, sizeof m.text, 0, 0);
    printf("received %ld\n", n);
    fcntl(pfd[0], F_SETFL, 0);
    n = read(pfd[0], buf, sizeof buf - 1);
    printf("%s", n > 0 ? buf : "nothing\n");
    int st;
    waitpid(c, &st, 0);
    msgctl(id, IPC_STAT, &ds);
    printf("qnum %lu lrpid-is-me %d\n", ds.msg_qnum, ds.msg_lrpid == getpid());

    /* A signal ends a blocked msgsnd or msgrcv with EINTR, even with
     * SA_RESTART (the queue is full, then empty). */
    for (int rcv = 0; rcv < 2; rcv++) {
        if (rcv)
            msgrcv(id, &m, sizeof m.text, 0, IPC_NOWAIT);
        c = fork();
        if (c == 0) {
            struct sigaction sa = {0};
            sa.sa_handler = on_usr1;
            sa.sa_flags = SA_RESTART;
            sigaction(SIGUSR1, &sa, NULL);
            long r = rcv ? msgrcv(id, &m, sizeof m.text, 0, 0) : msgsnd(id, &m, 8, 0);
            printf("child %s, signalled: %s\n", rcv ? "msgrcv" : "msgsnd", en(r));
            _exit(0);
        }
        printf("sleeping %d\n", wait_sleeping(c));
        kill(c, SIGUSR1);
        waitpid(c, &st, 0);
    }
    msgctl(id, IPC_STAT, &ds);
    printf("qnum %lu\n", ds.msg_qnum);

    /* Stopped and continued (no handler runs): a blocked msgrcv goes on
     * waiting (Linux's ERESTARTNOHAND) and gets the message sent later. */
    c = fork();
    if (c == 0) {
        long r = msgrcv(id, &m, sizeof m.text, 0, 0);
        printf("child msgrcv after stop and continue: %s %ld\n", en(r), r);
        _exit(0);
    }
    printf("sleeping %d\n", wait_sleeping(c));
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    printf("stopped %d\n", WIFSTOPPED(st));
    kill(c, SIGCONT);
    for (int i = 0; i < 10; i++)
        nap();
    m.type = 1;
    msgsnd(id, &m, 2, 0);
    waitpid(c, &st, 0);
    msgrcv(id, &m, sizeof m.text, 0, IPC_NOWAIT);

    /* A blocked receiver sees the queue go. */
    c = fork();
    if (c == 0) {
        long r = msgrcv(id, &m, sizeof m.text, 0, 0);
        printf("child msgrcv after removal: %s\n", en(r));
        _exit(0);
    }
    printf("receiver sleeping %d\n", wait_sleeping(c));
    int r = msgctl(id, IPC_RMID, NULL);
    waitpid(c, &st, 0);
    SAY("msgctl IPC_RMID", r);
    SAY("msgsnd removed", msgsnd(id, &m, 1, 0));
}

/* Another user: permissions by mode, owner-only control. */
static void perm_tests(void)
{
    int shm = shmget(base + 4, 4096, IPC_CREAT | 0644);
    int sem = semget(base + 5, 1, IPC_CREAT | 0600);
    int msq = msgget(base + 6, IPC_CREAT | 0604);
    pid_t c = fork();
    if (c == 0) {
        if (setuid(65534) < 0)
            _exit(1);
        struct shmid_ds ds;
        SAY("nobody shmget 0644 for read", shmget(base + 4, 0, 0444));
        SAY("nobody shmget 0644 for write", shmget(base + 4, 0, 0666));
        void *p = shmat(shm, NULL, 0);
        SAY("nobody shmat rw", p == (void *)-1 ? -1 : 0);
        p = shmat(shm, NULL, SHM_RDONLY);
        SAY("nobody shmat ro", p == (void *)-1 ? -1 : 0);
        SAY("nobody IPC_STAT shm", shmctl(shm, IPC_STAT, &ds));
        SAY("nobody IPC_RMID shm", shmctl(shm, IPC_RMID, NULL));
        SAY("nobody SHM_LOCK", shmctl(shm, SHM_LOCK, NULL));
        struct sembuf op = {0, 1, 0};
        SAY("nobody semop", semop(sem, &op, 1));
        SAY("nobody GETVAL", semctl(sem, 0, GETVAL));
        SAY("nobody semctl IPC_RMID", semctl(sem, 0, IPC_RMID));
        struct {
            long type;
            char t[4];
        } m = {1, "x"};
        SAY("nobody msgsnd 0604", msgsnd(msq, &m, 2, IPC_NOWAIT));
        SAY("nobody msgrcv 0604", msgrcv(msq, &m, 4, 0, IPC_NOWAIT));
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    SAY("root IPC_RMID shm", shmctl(shm, IPC_RMID, NULL));
    SAY("root IPC_RMID sem", semctl(sem, 0, IPC_RMID));
    SAY("root IPC_RMID msg", msgctl(msq, IPC_RMID, NULL));
}

static void sysctls(void)
{
    const char *names[] = {"sem", "msgmax", "msgmnb", "msgmni", "shmmax", "shmall", "shmmni"};
    for (int i = 0; i < 7; i++) {
        char path[64], buf[128] = {0};
        snprintf(path, sizeof path, "/proc/sys/kernel/%s", names[i]);
        FILE *f = fopen(path, "r");
        if (!f || !fgets(buf, sizeof buf, f))
            strcpy(buf, "missing\n");
        if (f)
            fclose(f);
        printf("%s: %s", names[i], buf);
    }
    FILE *f = fopen("/proc/sysvipc/sem", "r");
    char line[256] = {0};
    fgets(line, sizeof line, f);
    printf("sem header: %s", line);
    fclose(f);
    f = fopen("/proc/sysvipc/msg", "r");
    fgets(line, sizeof line, f);
    printf("msg header: %s", line);
    fclose(f);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 3 && !strcmp(argv[1], "--nattch")) {
        printf("after exec nattch %d\n", shm_nattch(atoi(argv[2])));
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--leave")) {
        key_t k = strtol(argv[2], NULL, 0);
        printf("shm %d\n", shmget(k, 8192, IPC_CREAT | 0640) >= 0);
        printf("sem %d\n", semget(k + 1, 4, IPC_CREAT | 0600) >= 0);
        printf("msg %d\n", msgget(k + 2, IPC_CREAT | 0666) >= 0);
        return 0;
    }
    base = 0x52000000 + (getpid() & 0xffff) * 16;
    shm_tests(argv[0]);
    sem_tests();
    msg_tests();
    perm_tests();
    sysctls();
    printf("sysvipc done\n");
    return 0;
}
