// An IP address as netlof keeps it: binary, with IPv4-mapped IPv6
// addresses turned into the IPv4 addresses they are, so a connection through
// a dual-stack socket matches rules and baselines written for IPv4.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netlof {

struct IpAddress {
    std::uint8_t family = 0;               // 4, 6, or 0: not known (no address was given)
    std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 in the first 4 bytes
    auto operator<=>(const IpAddress&) const = default;
};

// Longest text ip_to_chars writes ("ffff:...:255.255.255.255" is 45).
inline constexpr std::size_t kIpTextMax = 46;

// "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (IPv4); nullopt when text
// is not an address.
std::optional<IpAddress> parse_ip(std::string_view text);
// The 16 bytes the kernel gives for an address of either family (IPv4 in
// the first 4 bytes when ipv6 is false).
IpAddress ip_from_bytes(bool ipv6, const std::uint8_t* bytes);
// Writes the text of a at p (room for kIpTextMax) and returns its end;
// nothing for an address not known. No allocation: the record path runs
// once per connection, and inet_ntop formats IPv4 through sprintf.
char* ip_to_chars(char* p, const IpAddress& a);
std::string ip_text(const IpAddress& a);

}  // namespace netlof
