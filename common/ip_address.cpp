#include "common/ip_address.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>

namespace netlof {

namespace {

constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// An IPv4-mapped IPv6 address becomes the IPv4 address it carries.
void unmap(IpAddress& a) {
    if (a.family != 6 || std::memcmp(a.bytes.data(), kMapped, sizeof kMapped) != 0) return;
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::memset(a.bytes.data() + 4, 0, 12);
    a.family = 4;
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
    char buf[kIpTextMax + 1];
    if (text.empty() || text.size() > kIpTextMax) return std::nullopt;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.family = 4;
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
    a.family = 6;
    unmap(a);
    return a;
}

IpAddress ip_from_bytes(bool ipv6, const std::uint8_t* bytes) {
    IpAddress a;
    a.family = ipv6 ? 6 : 4;
    std::memcpy(a.bytes.data(), bytes, ipv6 ? 16 : 4);
    unmap(a);
    return a;
}

char* ip_to_chars(char* p, const IpAddress& a) {
    if (a.family == 4) {
        for (int i = 0; i < 4; ++i) {
            if (i > 0) *p++ = '.';
            p = std::to_chars(p, p + 3, a.bytes[static_cast<std::size_t>(i)]).ptr;
        }
        return p;
    }
    if (a.family != 6) return p;
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf);
    const std::size_t n = std::strlen(buf);
    std::memcpy(p, buf, n);
    return p + n;
}

std::string ip_text(const IpAddress& a) {
    char buf[kIpTextMax];
    return std::string(buf, ip_to_chars(buf, a));
}

}  // namespace netlof
