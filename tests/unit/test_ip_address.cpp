#include <catch2/catch.hpp>

#include "common/ip_address.hpp"

using namespace netlof;

TEST_CASE("addresses parse to binary and print back as they were written", "[ip_address]") {
    for (const char* text : {"0.0.0.0", "192.0.2.1", "255.255.255.255", "::", "::1", "2001:db8::1",
                             "fe80::1:2:3:4", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
        INFO(text);
        const auto a = parse_ip(text);
        REQUIRE(a);
        CHECK(ip_text(*a) == text);
    }
    CHECK(parse_ip("192.0.2.1")->family == 4);
    CHECK(parse_ip("2001:db8::1")->family == 6);
    for (const char* bad : {"", "x", "192.0.2", "192.0.2.256", "192.0.2.1 ", "2001:db8:::1", "[::1]", "192.0.2.1/24"}) {
        INFO(bad);
        CHECK_FALSE(parse_ip(bad));
    }
    CHECK_FALSE(parse_ip(std::string(100, '1')));
}

TEST_CASE("an IPv4-mapped IPv6 address is the IPv4 address, from text and from the kernel's bytes", "[ip_address]") {
    const auto mapped = parse_ip("::ffff:192.0.2.7");
    REQUIRE(mapped);
    CHECK(*mapped == *parse_ip("192.0.2.7"));
    CHECK(ip_text(*mapped) == "192.0.2.7");
    const std::uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 2};
    CHECK(ip_from_bytes(true, v6) == *parse_ip("198.51.100.2"));
    const std::uint8_t v4[16] = {10, 0, 0, 1};
    CHECK(ip_from_bytes(false, v4) == *parse_ip("10.0.0.1"));
    const std::uint8_t real6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(ip_text(ip_from_bytes(true, real6)) == "2001:db8::1");
}

TEST_CASE("an address not known prints as nothing and compares below every address", "[ip_address]") {
    const IpAddress none;
    CHECK(ip_text(none).empty());
    CHECK(none < *parse_ip("0.0.0.0"));
}
