/* /proc/PID/stat, status and cmdline of an exited child not yet waited
 * for (a zombie), compared with a native run: state Z, its name and
 * parent, no memory, one thread, the exit code; status without memory
 * lines; an empty cmdline. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void slurp(const char *path, char *b, size_t n) {
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(b, 1, n - 1, f) : 0;
    b[k] = 0;
    if (f)
        fclose(f);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t c = fork();
    if (c == 0)
        _exit(3);
    /* Wait until it is a zombie without reaping it. */
    siginfo_t si;
    waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    char path[64], b[8192];
    snprintf(path, sizeof path, "/proc/%d/stat", c);
    slurp(path, b, sizeof b);
    char *close_paren = strrchr(b, ')');
    char *open_paren = strchr(b, '(');
    if (!close_paren || !open_paren) {
        printf("no stat: %s\n", b);
        return 1;
    }
    printf("comm: %.*s\n", (int)(close_paren - open_paren - 1), open_paren + 1);
    /* Fields from 3 on. */
    char *fields[60];
    int n = 0;
    for (char *tok = strtok(close_paren + 2, " \n"); tok && n < 60; tok = strtok(NULL, " \n"))
        fields[n++] = tok;
    printf("fields: %d\n", n + 2);
    printf("state: %s\n", fields[0]);
    printf("ppid is parent: %d\n", atoi(fields[1]) == getpid());
    printf("pgid is parent's: %d\n", atoi(fields[2]) == getpgrp());
    int show[] = {17, 20, 21, 23, 24, 25, 32, 35, 49};
    for (unsigned i = 0; i < sizeof show / sizeof *show; i++)
        printf("field %d: %s\n", show[i] + 3, fields[show[i]]);

    snprintf(path, sizeof path, "/proc/%d/status", c);
    slurp(path, b, sizeof b);
    const char *want[] = {"Name:", "State:", "Threads:", "FDSize:", "VmSize:", "Umask:", "SigPnd:"};
    for (unsigned i = 0; i < sizeof want / sizeof *want; i++) {
        char *l = strstr(b, want[i]);
        if (!l) {
            printf("status %s absent\n", want[i]);
            continue;
        }
        char *e = strchr(l, '\n');
        printf("status %.*s\n", (int)(e - l), l);
    }
    char *pp = strstr(b, "PPid:");
    printf("status PPid is parent: %d\n", pp && atoi(pp + 5) == getpid());

    snprintf(path, sizeof path, "/proc/%d/cmdline", c);
    slurp(path, b, sizeof b);
    printf("cmdline length: %zu\n", strlen(b));
    int st;
    waitpid(c, &st, 0);
    printf("reaped: exit %d\n", WEXITSTATUS(st));
    printf("zombieproc done\n");
    return 0;
}
