/* Write a file through a MAP_SHARED mapping: mmap_write PATH SIZE.
 * Byte i of the file becomes 'a' + i % 26. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    size_t size = strtoul(argv[2], NULL, 0);
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, size) < 0) {
        perror("open/ftruncate");
        return 1;
    }
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t i = 0; i < size; i++)
        p[i] = 'a' + i % 26;
    if (msync(p, size, MS_SYNC) < 0)
        perror("msync");
    munmap(p, size);
    close(fd);
    puts("mapped-ok");
    return 0;
}
