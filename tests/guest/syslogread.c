/* syslog(2) SYSLOG_ACTION_READ: it sleeps until the log has something
 * unread; a signal ends the sleep with EINTR, or restarts it with
 * SA_RESTART. Checked against fixed text, not a native run: the host's
 * log is not ours to consume. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/time.h>
#include <unistd.h>

static void on_alrm(int s) { (void)s; }

static void kmsg(const char *text)
{
    int fd = open("/dev/kmsg", O_WRONLY);
    write(fd, text, strlen(text));
    close(fd);
}

/* SIGALRM in 100 ms, handled with `flags`; with `msg`, a child writes it
 * to the log 300 ms in. Then a blocking read. */
static void try_read(const char *what, int flags, const char *msg)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_alrm;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
    if (msg && fork() == 0) {
        usleep(300000);
        kmsg(msg);
        _exit(0);
    }
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    char buf[4096];
    int n = klogctl(2, buf, sizeof buf - 1);
    if (n < 0) {
        printf("%s: %s\n", what, strerror(errno));
        return;
    }
    buf[n] = 0;
    printf("%s: got user-note %d\n", what, strstr(buf, "user-note") != NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char buf[8192];
    /* Take what is there already. */
    while (klogctl(9, NULL, 0) > 0)
        klogctl(2, buf, sizeof buf);
    printf("unread %d\n", klogctl(9, NULL, 0));
    try_read("read, signal without SA_RESTART", 0, NULL);
    try_read("read, signal with SA_RESTART", SA_RESTART, "user-note\n");
    printf("syslogread done\n");
    return 0;
}
