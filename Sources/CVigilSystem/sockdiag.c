#define _GNU_SOURCE
#include "CVigilSystem.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

// VigilCore's SockDiagReply reads the reply as bytes at these offsets (the kernel's ABI, which only
// ever grows at the end): the build fails here, not the parse at run time, if a header disagrees.
_Static_assert(sizeof(struct nlmsghdr) == 16, "nlmsghdr");
_Static_assert(sizeof(struct inet_diag_msg) == 72, "inet_diag_msg");
_Static_assert(offsetof(struct inet_diag_msg, idiag_state) == 1, "idiag_state");
_Static_assert(offsetof(struct inet_diag_msg, id.idiag_sport) == 4, "idiag_sport");
_Static_assert(offsetof(struct inet_diag_msg, idiag_rqueue) == 56, "idiag_rqueue");
_Static_assert(offsetof(struct inet_diag_msg, idiag_wqueue) == 60, "idiag_wqueue");
_Static_assert(offsetof(struct tcp_info, tcpi_unacked) == 24, "tcpi_unacked");
_Static_assert(offsetof(struct tcp_info, tcpi_last_data_sent) == 44, "tcpi_last_data_sent");
_Static_assert(offsetof(struct tcp_info, tcpi_last_data_recv) == 52, "tcpi_last_data_recv");
_Static_assert(offsetof(struct tcp_info, tcpi_last_ack_recv) == 56, "tcpi_last_ack_recv");
_Static_assert(offsetof(struct tcp_info, tcpi_bytes_acked) == 120, "tcpi_bytes_acked");
_Static_assert(offsetof(struct tcp_info, tcpi_bytes_received) == 128, "tcpi_bytes_received");
_Static_assert(offsetof(struct tcp_info, tcpi_notsent_bytes) == 144, "tcpi_notsent_bytes");
_Static_assert(SOCK_DIAG_BY_FAMILY == 20 && INET_DIAG_INFO == 2 && INET_DIAG_REQ_BYTECODE == 1, "constants");
_Static_assert(NLMSG_DONE == 3 && NLMSG_ERROR == 2, "netlink message types");

int cvigil_sock_diag_open(void) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;
    // The kernel answers a dump at once (during send and each receive); the bound only keeps a
    // kernel that does not from stalling vigil's event loop.
    struct timeval bound = { .tv_sec = 0, .tv_usec = 500 * 1000 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int cvigil_sock_diag_request(int fd, int family, unsigned states, const void *bytecode, size_t bytecode_length,
                             unsigned sequence) {
    if (bytecode_length > 4096 || bytecode_length % 4 != 0) { errno = EINVAL; return -1; }
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
        struct nlattr filter;
        unsigned char bytecode[4096];
    } message;
    memset(&message, 0, sizeof(message));
    size_t length = sizeof(message.header) + sizeof(message.request);
    if (bytecode_length > 0) length += sizeof(message.filter) + bytecode_length;
    message.header.nlmsg_len = (unsigned)length;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.header.nlmsg_seq = sequence;
    message.request.sdiag_family = (unsigned char)family;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = states;
    message.request.idiag_ext = 1 << (INET_DIAG_INFO - 1);
    if (bytecode_length > 0) {
        message.filter.nla_len = (unsigned short)(sizeof(message.filter) + bytecode_length);
        message.filter.nla_type = INET_DIAG_REQ_BYTECODE;
        memcpy(message.bytecode, bytecode, bytecode_length);
    }
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    ssize_t sent = sendto(fd, &message, length, 0, (struct sockaddr *)&kernel, sizeof(kernel));
    if (sent < 0) return -1;
    if ((size_t)sent != length) { errno = EMSGSIZE; return -1; }
    return 0;
}

ssize_t cvigil_sock_diag_receive(int fd, void *buffer, size_t capacity) {
    // MSG_TRUNC: the datagram's full length, so a reply cut by a small buffer is seen as such.
    return recv(fd, buffer, capacity, MSG_TRUNC);
}
