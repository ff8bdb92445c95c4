#define _GNU_SOURCE
#include "CVigilSystem.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int cvigil_notify_socket(const char *name) {
    struct sockaddr_un address;
    size_t length = strlen(name);
    if (length == 0 || length + 1 > sizeof(address.sun_path)) { errno = ENAMETOOLONG; return -1; }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0) { int e = errno; close(fd); errno = e; return -1; }
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    // Abstract namespace: a leading NUL, no file, no writable directory needed.
    memcpy(address.sun_path + 1, name, length);
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length);
    if (bind(fd, (struct sockaddr *)&address, size) != 0) { int e = errno; close(fd); errno = e; return -1; }
    return fd;
}

ssize_t cvigil_notify_receive(int fd, void *buffer, size_t capacity, pid_t *sender, pid_t *sender_group) {
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 8)];
    } control;
    struct iovec iov = { .iov_base = buffer, .iov_len = capacity };
    struct msghdr message = { 0 };
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof(control.bytes);
    *sender = 0;
    *sender_group = -1;
    ssize_t received = recvmsg(fd, &message, MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (received < 0) return -1;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET) continue;
        if (header->cmsg_type == SCM_CREDENTIALS) {
            struct ucred credentials;
            memcpy(&credentials, CMSG_DATA(header), sizeof(credentials));
            *sender = credentials.pid;
        } else if (header->cmsg_type == SCM_RIGHTS) {
            // Descriptors passed along (FDSTORE=1) are not kept.
            size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int *fds = (int *)CMSG_DATA(header);
            for (size_t index = 0; index < count; index++) close(fds[index]);
        }
    }
    // The group right away, while the sender most likely still lives: only the app's may speak.
    if (*sender > 0) *sender_group = getpgid(*sender);
    return received > (ssize_t)capacity ? (ssize_t)capacity : received;
}
