#define _GNU_SOURCE
/* Kernel keyrings: add_key, request_key and keyctl on the session, thread,
 * process and user keyrings, with Linux's permission rules and errnos.
 * Serials differ between kernels, so only their relations are printed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREAD -1
#define PROCESS -2
#define SESSION -3
#define USER -4
#define GROUP -6

static long keyctl(long op, long a, long b, long c, long d)
{
    return syscall(SYS_keyctl, op, a, b, c, d);
}

static long add_key(const char *type, const char *desc, const void *p, size_t n, long ring)
{
    return syscall(SYS_add_key, type, desc, p, n, ring);
}

static long request_key(const char *type, const char *desc, long dest)
{
    return syscall(SYS_request_key, type, desc, NULL, dest);
}

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, strerrorname_np(errno));
    else
        printf("%s: ok\n", what);
}

static void describe(const char *what, long id)
{
    char buf[256];
    long n = keyctl(6, id, (long)buf, sizeof buf, 0);
    if (n < 0)
        printf("%s: %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld %s\n", what, n, buf);
}

static void readkey(const char *what, long id, size_t len)
{
    char buf[64] = {0};
    long n = keyctl(11, id, (long)buf, len, 0);
    if (n < 0)
        printf("%s: %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld '%.*s'\n", what, n, (int)(len < (size_t)n ? len : (size_t)n), buf);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "exec")) {
        show("after exec thread keyring", keyctl(0, THREAD, 0, 0, 0));
        show("after exec process keyring", keyctl(0, PROCESS, 0, 0, 0));
        printf("after exec session same: %d\n", keyctl(0, SESSION, 0, 0, 0) == atol(argv[2]));
        return 0;
    }
    long ses = keyctl(1, 0, 0, 0, 0);
    show("join anonymous session", ses);
    printf("session id matches: %d\n", keyctl(0, SESSION, 0, 0, 0) == ses);
    describe("describe session", SESSION);

    long k1 = add_key("user", "k1", "abc", 3, SESSION);
    show("add k1", k1);
    describe("describe k1", k1);
    readkey("read k1 short", k1, 2);
    readkey("read k1", k1, sizeof "abc");
    printf("add again same serial: %d\n", add_key("user", "k1", "xyz12", 5, SESSION) == k1);
    readkey("read k1 replaced", k1, 10);
    show("update k1", keyctl(2, k1, (long)"hello", 5, 0));
    readkey("read k1 updated", k1, 10);
    show("update keyring", keyctl(2, ses, (long)"x", 1, 0));
    show("update empty", keyctl(2, k1, 0, 0, 0));

    printf("search k1: %d\n", keyctl(10, SESSION, (long)"user", (long)"k1", 0) == k1);
    show("search missing", keyctl(10, SESSION, (long)"user", (long)"nope", 0));
    printf("request k1: %d\n", request_key("user", "k1", 0) == k1);
    show("request missing", request_key("user", "nope", 0));
    show("request bad type", request_key("bogus", "k1", 0));

    long r2 = add_key("keyring", "ring2", NULL, 0, SESSION);
    show("add ring2", r2);
    describe("describe ring2", r2);
    show("link k1 ring2", keyctl(8, k1, r2, 0, 0));
    show("link k1 ring2 again", keyctl(8, k1, r2, 0, 0));
    int ids[4] = {0};
    long n = keyctl(11, r2, (long)ids, sizeof ids, 0);
    printf("read ring2: %ld first is k1: %d\n", n, ids[0] == k1);
    show("link ring2 into itself", keyctl(8, r2, r2, 0, 0));
    show("link session into ring2", keyctl(8, ses, r2, 0, 0));
    show("link into user key", keyctl(8, r2, k1, 0, 0));
    printf("search via ring2: %d\n", keyctl(10, r2, (long)"user", (long)"k1", 0) == k1);
    show("unlink k1 ring2", keyctl(9, k1, r2, 0, 0));
    show("unlink k1 ring2 again", keyctl(9, k1, r2, 0, 0));
    show("link k1 ring2", keyctl(8, k1, r2, 0, 0));
    show("clear ring2", keyctl(7, r2, 0, 0, 0));
    printf("read ring2 cleared: %ld\n", keyctl(11, r2, (long)ids, sizeof ids, 0));
    show("clear user key", keyctl(7, k1, 0, 0, 0));

    show("setperm bad bits", keyctl(5, k1, 0x40000000, 0, 0));
    show("setperm possessor only", keyctl(5, k1, 0x3f000000, 0, 0));
    describe("describe k1", k1);
    readkey("read k1 as possessor", k1, 10);

    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        if (setgid(65534) || setuid(65534))
            perror("setuid");
        printf("child session same: %d\n", keyctl(0, SESSION, 0, 0, 0) == ses);
        readkey("child read k1", k1, 10);
        show("child setperm k1", keyctl(5, k1, 0x3f3f0000, 0, 0));
        show("child chown k1", keyctl(4, k1, 65534, -1, 0));
        show("child thread keyring", keyctl(0, THREAD, 0, 0, 0));
        show("child process keyring", keyctl(0, PROCESS, 0, 0, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(p, NULL, 0);

    show("chown k1 1000", keyctl(4, k1, 1000, -1, 0));
    describe("describe k1 chowned", k1);
    show("setperm not owner but root", keyctl(5, k1, 0x3f010000, 0, 0));
    show("chown back", keyctl(4, k1, 0, 0, 0));

    show("thread keyring", keyctl(0, THREAD, 0, 0, 0));
    long th = keyctl(0, THREAD, 1, 0, 0);
    show("thread keyring create", th);
    printf("thread keyring stable: %d\n", keyctl(0, THREAD, 0, 0, 0) == th);
    describe("describe thread keyring", THREAD);
    show("process keyring", keyctl(0, PROCESS, 0, 0, 0));
    show("process keyring create", keyctl(0, PROCESS, 1, 0, 0));
    describe("describe process keyring", PROCESS);
    describe("describe user keyring", USER);
    show("group keyring", keyctl(0, GROUP, 0, 0, 0));
    show("id 0", keyctl(0, 0, 0, 0, 0));
    show("id -9", keyctl(0, -9, 0, 0, 0));

    fflush(stdout);
    if (fork() == 0) {
        char id[32];
        snprintf(id, sizeof id, "%ld", ses);
        keyctl(0, THREAD, 1, 0, 0);
        keyctl(0, PROCESS, 1, 0, 0);
        execl(argv[0], argv[0], "exec", id, (char *)NULL);
        _exit(1);
    }
    wait(NULL);

    long k3 = add_key("user", "k3", "t", 1, THREAD);
    printf("request from thread keyring: %d\n", request_key("user", "k3", 0) == k3);

    show("revoke k1", keyctl(3, k1, 0, 0, 0));
    readkey("read revoked", k1, 10);
    describe("describe revoked", k1);
    show("revoke again", keyctl(3, k1, 0, 0, 0));
    show("search revoked", keyctl(10, SESSION, (long)"user", (long)"k1", 0));
    show("unlink revoked", keyctl(9, k1, SESSION, 0, 0));

    long k2 = add_key("user", "k2", "v", 1, SESSION);
    show("invalidate k2", keyctl(21, k2, 0, 0, 0));

    long lg = add_key("logon", "svc:x", "secret", 6, SESSION);
    show("add logon", lg);
    readkey("read logon", lg, 10);
    show("logon without colon", add_key("logon", "nocolon", "s", 1, SESSION));

    show("type empty", add_key("", "d", "v", 1, SESSION));
    show("type dot", add_key(".x", "d", "v", 1, SESSION));
    show("type unknown", add_key("bogus", "d", "v", 1, SESSION));
    show("desc empty", add_key("user", "", "v", 1, SESSION));
    show("desc null", add_key("user", NULL, "v", 1, SESSION));
    show("payload empty", add_key("user", "d", "", 0, SESSION));
    show("payload huge", add_key("user", "d", "v", 1 << 20, SESSION));
    show("keyring payload", add_key("keyring", "d", "v", 1, SESSION));
    long k4 = add_key("user", "k4", "v", 1, SESSION);
    show("into user key", add_key("user", "d", "v", 1, k4));
    show("bad op", keyctl(9999, 0, 0, 0, 0));

    long named = keyctl(1, (long)"myring", 0, 0, 0);
    show("join named", named);
    describe("describe named", SESSION);
    printf("join named again same: %d\n", keyctl(1, (long)"myring", 0, 0, 0) == named);
    printf("keys done\n");
    return 0;
}
