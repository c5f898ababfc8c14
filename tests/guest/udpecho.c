/* A UDP echo server for the user-network tests: binds address argv[2]
 * (default the wildcard) and port argv[1], prints "udpecho ready", then sends every
 * datagram back to its sender prefixed with "echo:". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_port = htons(argc > 1 ? atoi(argv[1]) : 7);
    if (argc > 2 && inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
        return 2;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("udpecho");
        return 1;
    }
    printf("udpecho ready\n");
    fflush(stdout);
    for (;;) {
        char in[1024], out[1100];
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&from, &len);
        if (n < 0)
            return 1;
        memcpy(out, "echo:", 5);
        memcpy(out + 5, in, n);
        sendto(fd, out, n + 5, 0, (struct sockaddr *)&from, len);
    }
}
