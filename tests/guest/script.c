/* script -c CMD FILE: run CMD on a new pseudo-terminal and copy what it
 * prints to FILE and stdout, like util-linux/busybox script (Debian's
 * busybox-static has no script applet). Input from stdin goes to the
 * pty. Exercises /dev/ptmx, devpts, TIOCSCTTY via forkpty/login_tty,
 * poll on the master, and the master's EIO once the slave side is gone. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *cmd = NULL, *file = "typescript";
    int opt;
    while ((opt = getopt(argc, argv, "c:q")) != -1) {
        if (opt == 'c')
            cmd = optarg;
    }
    if (optind < argc)
        file = argv[optind];
    int out = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        perror(file);
        return 1;
    }
    struct winsize ws;
    struct winsize *wsp = ioctl(0, TIOCGWINSZ, &ws) == 0 ? &ws : NULL;
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, wsp);
    if (pid < 0) {
        perror("forkpty");
        return 1;
    }
    if (pid == 0) {
        const char *sh = getenv("SHELL") ? getenv("SHELL") : "/bin/sh";
        if (cmd)
            execl(sh, sh, "-c", cmd, (char *)NULL);
        else
            execl(sh, sh, "-i", (char *)NULL);
        _exit(127);
    }
    int in_open = 1;
    char buf[4096];
    for (;;) {
        struct pollfd p[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
        if (poll(p, in_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0)
                break; /* EIO: the slave side is gone */
            write(1, buf, n);
            write(out, buf, n);
        }
        if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n <= 0)
                in_open = 0;
            else
                write(master, buf, n);
        }
    }
    int st;
    waitpid(pid, &st, 0);
    close(out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
