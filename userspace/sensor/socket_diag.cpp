#include "userspace/sensor/socket_diag.hpp"

#include <algorithm>
#include <cerrno>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace netlof {

namespace {

// One dump of family's UDP sockets into out; false on any failure.
bool dump_udp(int fd, std::uint8_t family, std::vector<std::uint32_t>& out) {
    struct {
        nlmsghdr nlh;
        inet_diag_req_v2 req;
    } msg{};
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = family;
    msg.req.sdiag_protocol = IPPROTO_UDP;
    msg.req.idiag_states = ~0u;  // every state: an unconnected UDP socket is "CLOSE"
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd, &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return false;
    alignas(nlmsghdr) char buf[32768];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        int len = static_cast<int>(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE) return true;
            if (h->nlmsg_type == NLMSG_ERROR) return false;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return false;
            out.push_back(static_cast<const inet_diag_msg*>(NLMSG_DATA(h))->idiag_inode);
        }
        if (n == 0) return false;
    }
}

}  // namespace

std::optional<std::vector<std::uint32_t>> open_udp_socket_inodes() {
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return std::nullopt;
    std::vector<std::uint32_t> inodes;
    const bool ok = dump_udp(fd, AF_INET, inodes) && dump_udp(fd, AF_INET6, inodes);
    ::close(fd);
    if (!ok) return std::nullopt;
    std::sort(inodes.begin(), inodes.end());
    return inodes;
}

std::uint32_t own_netns_inode() {
    struct stat st {};
    if (::stat("/proc/self/ns/net", &st) != 0) return 0;
    return static_cast<std::uint32_t>(st.st_ino);
}

}  // namespace netlof
