/* POSIX message queues: mq_open, mq_unlink, mq_timedsend,
 * mq_timedreceive, mq_notify, mq_getsetattr, compared with a native run.
 * Prints only deterministic things (no pids, no times). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *en(long r)
{
    return r < 0 ? strerrorname_np(errno) : "OK";
}
#define SAY(what, r) printf("%s: %s\n", what, en((long)(r)))

#define Q1 "/ruml_mqt_one"
#define Q2 "/ruml_mqt_two"
#define Q3 "/ruml_mqt_perm"

static void nap(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
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

static long sysctl(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", name);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static struct timespec in_ms(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000;
    ts.tv_sec += ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

static volatile sig_atomic_t got_sig, got_code, got_val, got_pid_ok;

static void on_notify(int s, siginfo_t *si, void *u)
{
    (void)u;
    got_sig = s;
    got_code = si->si_code;
    got_val = si->si_value.sival_int;
    got_pid_ok = si->si_pid == getpid();
}

static void on_usr2(int s)
{
    (void)s;
}

static void print_attr(const char *what, mqd_t q)
{
    struct mq_attr a;
    if (mq_getattr(q, &a) < 0) {
        SAY(what, -1);
        return;
    }
    printf("%s: flags %s maxmsg %ld msgsize %ld curmsgs %ld\n", what,
           a.mq_flags & O_NONBLOCK ? "nonblock" : "block", a.mq_maxmsg,
           a.mq_msgsize, a.mq_curmsgs);
}

static void open_tests(void)
{
    struct mq_attr a = {0};
    SAY("open second slash", mq_open("/a/b", O_CREAT | O_RDWR, 0600, NULL));
    SAY("open missing", mq_open("/ruml_mqt_none", O_RDWR));
    SAY("unlink missing", mq_unlink("/ruml_mqt_none"));
    a.mq_maxmsg = 0;
    a.mq_msgsize = 16;
    SAY("open maxmsg 0", mq_open(Q1, O_CREAT | O_RDWR, 0600, &a));
    a.mq_maxmsg = 4;
    a.mq_msgsize = 0;
    SAY("open msgsize 0", mq_open(Q1, O_CREAT | O_RDWR, 0600, &a));
    mqd_t d = mq_open(Q2, O_CREAT | O_RDWR, 0600, NULL);
    SAY("open default attrs", d);
    print_attr("default attrs", d);
    SAY("close", close(d));
    SAY("send closed", mq_send(d, "x", 1, 0));
    SAY("open existing", d = mq_open(Q2, O_RDONLY));
    SAY("open O_EXCL existing", mq_open(Q2, O_CREAT | O_EXCL | O_RDWR, 0600, NULL));
    SAY("open O_ACCMODE 3", mq_open(Q2, 3));
    SAY("send on O_RDONLY", mq_send(d, "x", 1, 0));
    SAY("send on stdout", mq_send(1, "x", 1, 0));
    close(d);
    d = mq_open(Q2, O_WRONLY);
    char buf[8192];
    SAY("receive on O_WRONLY", mq_receive(d, buf, sizeof buf, NULL));
    close(d);
    SAY("unlink", mq_unlink(Q2));
    SAY("unlink again", mq_unlink(Q2));
}

static void order_tests(void)
{
    struct mq_attr a = {0, 4, 64, 0};
    mqd_t q = mq_open(Q1, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
    SAY("open 4x64", q);
    print_attr("attrs", q);
    const char *msgs[] = {"a1", "b5", "c1", "d5"};
    unsigned prios[] = {1, 5, 1, 5};
    for (int i = 0; i < 4; i++)
        mq_send(q, msgs[i], 3, prios[i]);
    print_attr("four queued", q);

    char line[128];
    ssize_t n = read(q, line, sizeof line - 1);
    /* The console drops trailing blanks: compare without them. */
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\n'))
        n--;
    line[n > 0 ? n : 0] = 0;
    printf("read: %s\n", line);

    char link[64], path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", (int)q);
    n = readlink(path, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("fd link: %s\n", link);

    struct timespec ts = in_ms(100);
    SAY("timedsend full", mq_timedsend(q, "e", 2, 0, &ts));
    struct mq_attr na = {O_NONBLOCK, 0, 0, 0}, old;
    SAY("setattr nonblock", mq_setattr(q, &na, &old));
    printf("old flags %s\n", old.mq_flags & O_NONBLOCK ? "nonblock" : "block");
    SAY("send full nonblock", mq_send(q, "e", 2, 0));
    na.mq_flags = O_NONBLOCK | O_APPEND;
    SAY("setattr other flag", mq_setattr(q, &na, NULL));
    print_attr("after bad setattr", q);
    na.mq_flags = 0;
    mq_setattr(q, &na, NULL);

    char big[65];
    memset(big, 'x', sizeof big);
    SAY("send 65 bytes", mq_send(q, big, 65, 0));
    SAY("send prio 32768", mq_send(q, "x", 1, 32768));
    char buf[64];
    SAY("receive small buffer", mq_receive(q, buf, 63, NULL));
    for (int i = 0; i < 4; i++) {
        unsigned p = 99;
        n = mq_receive(q, buf, sizeof buf, &p);
        printf("received %zd %s prio %u\n", n, n > 0 ? buf : "-", p);
    }
    ts = in_ms(100);
    SAY("timedreceive empty", mq_timedreceive(q, buf, sizeof buf, NULL, &ts));
    ts.tv_nsec = 1000000000;
    SAY("timedreceive bad timespec", mq_timedreceive(q, buf, sizeof buf, NULL, &ts));
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
    SAY("timedreceive past", mq_timedreceive(q, buf, sizeof buf, NULL, &ts));
    mq_setattr(q, &(struct mq_attr){O_NONBLOCK, 0, 0, 0}, NULL);
    SAY("receive empty nonblock", mq_receive(q, buf, sizeof buf, NULL));
    close(q);
}

static void notify_tests(void)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = on_notify;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    mqd_t q = mq_open(Q1, O_RDWR);
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 42;
    SAY("notify", mq_notify(q, &ev));
    SAY("notify again", mq_notify(q, &ev));

    char line[128];
    int qs, nt, sg, np;
    ssize_t n = pread(q, line, sizeof line - 1, 0);
    if (n < 0)
        n = read(q, line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    if (sscanf(line, "QSIZE:%d NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &qs, &nt, &sg, &np) == 4)
        printf("status: qsize %d notify %d signo %d pid %s\n", qs, nt, sg,
               np == getpid() ? "self" : "other");
    else
        printf("status unparsed\n");

    pid_t c = fork();
    if (c == 0) {
        SAY("child notify", mq_notify(q, &ev));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    mq_send(q, "m1", 3, 0);
    for (int i = 0; i < 6000 && !got_sig; i++)
        nap();
    printf("signal %d code %s value %d pid %s\n", got_sig,
           got_code == SI_MESGQ ? "SI_MESGQ" : "other", got_val,
           got_pid_ok ? "self" : "other");
    got_sig = 0;
    SAY("notify after delivery", mq_notify(q, &ev));
    mq_send(q, "m2", 3, 0);
    nap();
    printf("signal on non-empty %d\n", got_sig);
    char buf[64];
    mq_receive(q, buf, sizeof buf, NULL);
    mq_receive(q, buf, sizeof buf, NULL);

    /* A receiver is waiting: the message goes to it, no notification. */
    c = fork();
    if (c == 0) {
        mqd_t r = mq_open(Q1, O_RDONLY);
        ssize_t m = mq_receive(r, buf, sizeof buf, NULL);
        printf("child received %zd %s\n", m, m > 0 ? buf : "-");
        fflush(stdout);
        _exit(0);
    }
    printf("receiver sleeping %d\n", wait_sleeping(c));
    mq_send(q, "m3", 3, 0);
    waitpid(c, NULL, 0);
    nap();
    printf("signal with receiver %d\n", got_sig);
    SAY("notify still registered", mq_notify(q, &ev));
    SAY("notify remove", mq_notify(q, NULL));
    ev.sigev_notify = SIGEV_NONE;
    SAY("notify SIGEV_NONE", mq_notify(q, &ev));
    mq_send(q, "m4", 3, 0);
    nap();
    printf("signal with SIGEV_NONE %d\n", got_sig);
    SAY("notify after SIGEV_NONE", mq_notify(q, &ev));
    mq_notify(q, NULL);
    ev.sigev_notify = 99;
    SAY("notify bad sigev_notify", mq_notify(q, &ev));
    mq_receive(q, buf, sizeof buf, NULL);
    close(q);
}

static void two_process_tests(void)
{
    mqd_t q = mq_open(Q1, O_RDWR);
    mq_setattr(q, &(struct mq_attr){0, 0, 0, 0}, NULL);
    /* Blocking receive in a child, messages from the parent. */
    pid_t c = fork();
    if (c == 0) {
        char buf[64];
        for (int i = 0; i < 3; i++) {
            unsigned p;
            ssize_t n = mq_receive(q, buf, sizeof buf, &p);
            printf("child got %zd %s prio %u\n", n, n > 0 ? buf : "-", p);
            fflush(stdout);
        }
        mq_send(q, "done", 5, 7);
        _exit(0);
    }
    for (int i = 0; i < 3; i++) {
        /* Taken the last message (and so no longer asleep on it)? */
        struct mq_attr a;
        for (int j = 0; j < 6000 && mq_getattr(q, &a) == 0 && a.mq_curmsgs; j++)
            nap();
        printf("child sleeping %d\n", wait_sleeping(c));
        fflush(stdout);
        char m[8];
        snprintf(m, sizeof m, "p%d", i);
        mq_send(q, m, 3, i);
    }
    int st;
    waitpid(c, &st, 0);
    char buf[64];
    unsigned p;
    ssize_t n = mq_receive(q, buf, sizeof buf, &p);
    printf("parent got %zd %s prio %u\n", n, n > 0 ? buf : "-", p);

    /* Blocking send in a child on a full queue. */
    for (int i = 0; i < 4; i++)
        mq_send(q, "f", 2, 0);
    c = fork();
    if (c == 0) {
        SAY("child blocking send", mq_send(q, "last", 5, 3));
        _exit(0);
    }
    printf("sender sleeping %d\n", wait_sleeping(c));
    n = mq_receive(q, buf, sizeof buf, &p);
    waitpid(c, &st, 0);
    fflush(stdout);
    n = mq_receive(q, buf, sizeof buf, &p);
    printf("after blocked send got %s prio %u\n", n > 0 ? buf : "-", p);
    while (mq_timedreceive(q, buf, sizeof buf, NULL, &(struct timespec){0, 0}) > 0)
        ;

    /* A signal without SA_RESTART interrupts a blocked receive. */
    c = fork();
    if (c == 0) {
        struct sigaction sa = {0};
        sa.sa_handler = on_usr2;
        sigaction(SIGUSR2, &sa, NULL);
        SAY("child receive interrupted", mq_receive(q, buf, sizeof buf, NULL));
        _exit(0);
    }
    printf("receiver sleeping %d\n", wait_sleeping(c));
    fflush(stdout);
    kill(c, SIGUSR2);
    waitpid(c, &st, 0);

    /* With SA_RESTART the receive goes on after the handler: it gets the
     * message sent later, and a timed one keeps its absolute deadline. */
    for (int timed = 0; timed < 2; timed++) {
        c = fork();
        if (c == 0) {
            struct sigaction sa = {0};
            sa.sa_handler = on_usr2;
            sa.sa_flags = SA_RESTART;
            sigaction(SIGUSR2, &sa, NULL);
            struct timespec dl, now;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_nsec += 500000000;
            if (dl.tv_nsec >= 1000000000) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000;
            }
            ssize_t r = timed ? mq_timedreceive(q, buf, sizeof buf, NULL, &dl)
                              : mq_receive(q, buf, sizeof buf, NULL);
            clock_gettime(CLOCK_REALTIME, &now);
            int late = now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec);
            printf("child %sreceive with SA_RESTART: %s %s, after the deadline %d\n",
                   timed ? "timed " : "", en(r), r > 0 ? buf : "-", timed ? late : -1);
            _exit(0);
        }
        printf("receiver sleeping %d\n", wait_sleeping(c));
        fflush(stdout);
        kill(c, SIGUSR2);
        if (!timed) {
            nap();
            printf("receiver sleeping again %d\n", wait_sleeping(c));
            fflush(stdout);
            mq_send(q, "late", 5, 0);
        }
        waitpid(c, &st, 0);
    }

    /* Unlinked: the name is gone, the open queue works on. */
    SAY("unlink open queue", mq_unlink(Q1));
    SAY("open unlinked", mq_open(Q1, O_RDWR));
    SAY("send after unlink", mq_send(q, "z", 2, 0));
    SAY("receive after unlink", mq_receive(q, buf, sizeof buf, NULL));
    close(q);
}

static void perm_tests(void)
{
    long msg_max = sysctl("msg_max"), msgsize_max = sysctl("msgsize_max");
    printf("sysctls readable %d\n", msg_max > 0 && msgsize_max > 0 && sysctl("queues_max") > 0);
    mqd_t q = mq_open(Q3, O_CREAT | O_EXCL | O_RDWR, 0644, NULL);
    SAY("open 0644", q);
    pid_t c = fork();
    if (c == 0) {
        if (setuid(65534) < 0)
            _exit(1);
        SAY("nobody open 0644 read", mq_open(Q3, O_RDONLY));
        SAY("nobody open 0644 write", mq_open(Q3, O_WRONLY));
        SAY("nobody open 0644 rdwr", mq_open(Q3, O_RDWR));
        SAY("nobody unlink", mq_unlink(Q3));
        struct mq_attr b = {0, msg_max + 1, 16, 0};
        SAY("nobody maxmsg beyond msg_max", mq_open("/ruml_mqt_nb", O_CREAT | O_RDWR, 0600, &b));
        b.mq_maxmsg = msg_max;
        b.mq_msgsize = msgsize_max + 1;
        SAY("nobody msgsize beyond msgsize_max", mq_open("/ruml_mqt_nb", O_CREAT | O_RDWR, 0600, &b));
        b.mq_msgsize = msgsize_max;
        mqd_t d = mq_open("/ruml_mqt_nb", O_CREAT | O_RDWR, 0600, &b);
        SAY("nobody at the limits", d);
        print_attr("nobody attrs", d);
        SAY("nobody unlink own", mq_unlink("/ruml_mqt_nb"));
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("child status %d\n", WEXITSTATUS(st));
    close(q);
    SAY("unlink perm queue", mq_unlink(Q3));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(0);
    mq_unlink(Q1);
    mq_unlink(Q2);
    mq_unlink(Q3);
    mq_unlink("/ruml_mqt_nb");
    open_tests();
    order_tests();
    notify_tests();
    two_process_tests();
    perm_tests();
    printf("mqueue done\n");
    return 0;
}
