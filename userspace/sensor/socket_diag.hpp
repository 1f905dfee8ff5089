// Which UDP sockets are open now, from the kernel's sock_diag netlink
// interface (what `ss -u -a` reads). A UDP socket has no tracepoint at its
// close: a flow whose socket is no longer listed here has ended.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace netlof {

// Inode numbers of every UDP socket, IPv4 and IPv6, open in this process's
// network namespace, sorted; nullopt when the kernel could not be asked.
std::optional<std::vector<std::uint32_t>> open_udp_socket_inodes();

// The inode number of this process's network namespace (as the kernel's
// net->ns.inum): sockets of other namespaces are not listed above.
std::uint32_t own_netns_inode();

}  // namespace netlof
