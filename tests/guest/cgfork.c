/* Fork children that sleep until fork fails; report how many and errno. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    pid_t kids[4096];
    int n = 0, err = 0;
    while (n < 4096) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p < 0) {
            err = errno;
            break;
        }
        kids[n++] = p;
    }
    printf("cgfork forked %d then %s\n", n, err ? strerror(err) : "no error");
    fflush(stdout);
    for (int i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < n; i++)
        waitpid(kids[i], 0, 0);
    return 0;
}
