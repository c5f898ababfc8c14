/* Write a line to a file opened with O_SYNC (or O_DSYNC), say so, then
 * wait to be killed: the test kills the whole kernel and looks for the
 * line on the disk image. Usage: osync FILE sync|dsync TEXT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    int flag = strcmp(argv[2], "dsync") == 0 ? O_DSYNC : O_SYNC;
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | flag, 0644);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    size_t n = strlen(argv[3]);
    if (write(fd, argv[3], n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
        perror("write");
        return 1;
    }
    int fl = fcntl(fd, F_GETFL);
    printf("written %s %s\n", argv[2], (fl & O_DSYNC) ? "dsync-flag" : "no-flag");
    fflush(stdout);
    pause();
    return 0;
}
