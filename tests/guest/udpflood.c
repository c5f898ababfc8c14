/* Flood UDP: send 1400-byte datagrams to argv[1]:argv[2] as fast as the
 * stack takes them for argv[3] seconds, then print how it went. Used to
 * check that a flooding guest does not starve the console or grow
 * vmlinux's memory. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
    if (fd < 0 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1)
        return 2;
    static char buf[1400];
    memset(buf, 'f', sizeof buf);
    time_t end = time(NULL) + atoi(argv[3]);
    long sent = 0, failed = 0;
    while (time(NULL) < end) {
        for (int i = 0; i < 256; i++) {
            if (sendto(fd, buf, sizeof buf, 0, (struct sockaddr *)&a, sizeof a) == sizeof buf)
                sent++;
            else
                failed++;
        }
    }
    printf("udpflood sent some %d\n", sent > 0);
    printf("udpflood done\n");
    return 0;
}
