#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "userspace/sensor/event_decoder.hpp"

using namespace netlof;

namespace {
netlof_conn_event good_event() {
    netlof_conn_event e{};
    e.hdr.type = NETLOF_EV_TCP_CLOSE;
    e.hdr.size = sizeof e;
    e.conn.family = NETLOF_AF_INET;
    e.conn.outcome = NETLOF_OUTCOME_CLOSED;
    e.conn.bytes_sent = 42;
    std::memcpy(e.conn.comm, "curl", 5);
    return e;
}
}  // namespace

TEST_CASE("a well-formed record decodes", "[event_decoder]") {
    const netlof_conn_event e = good_event();
    DecodeError err = DecodeError::TooShort;
    const auto d = decode_event(&e, sizeof e, &err);
    REQUIRE(d);
    CHECK(err == DecodeError::None);
    CHECK(d->conn.bytes_sent == 42);
}

TEST_CASE("malformed records are rejected, never trusted", "[event_decoder]") {
    netlof_conn_event e = good_event();
    DecodeError err = DecodeError::None;
    CHECK_FALSE(decode_event(nullptr, 0, &err));
    CHECK(err == DecodeError::TooShort);
    CHECK_FALSE(decode_event(&e, 8, &err));
    CHECK(err == DecodeError::TooShort);
    CHECK_FALSE(decode_event(&e, sizeof e - 1, &err));
    CHECK(err == DecodeError::SizeMismatch);
    e.hdr.size = 9999;
    CHECK_FALSE(decode_event(&e, sizeof e, &err));
    CHECK(err == DecodeError::SizeMismatch);
    e = good_event();
    e.hdr.type = 77;
    CHECK_FALSE(decode_event(&e, sizeof e, &err));
    CHECK(err == DecodeError::UnknownType);
    // A bigger buffer claiming the right size is still the wrong size.
    std::vector<char> big(sizeof e + 8);
    e = good_event();
    std::memcpy(big.data(), &e, sizeof e);
    CHECK_FALSE(decode_event(big.data(), big.size(), &err));
    // A family or an outcome the kernel never writes.
    e = good_event();
    e.conn.family = 99;
    CHECK_FALSE(decode_event(&e, sizeof e, &err));
    CHECK(err == DecodeError::BadValue);
    e = good_event();
    e.conn.outcome = NETLOF_OUTCOME_FAILED + 1;
    CHECK_FALSE(decode_event(&e, sizeof e, &err));
    CHECK(err == DecodeError::BadValue);
}

TEST_CASE("an unterminated comm is cut at its field", "[event_decoder]") {
    netlof_conn_event e = good_event();
    std::memset(e.conn.comm, 'A', sizeof e.conn.comm);
    const auto d = decode_event(&e, sizeof e);
    REQUIRE(d);
    CHECK(std::strlen(d->conn.comm) == NETLOF_COMM_LEN - 1);
}

TEST_CASE("exec records decode only whole, with a path length inside the path", "[event_decoder]") {
    netlof_exec_event x{};
    x.hdr.type = NETLOF_EV_EXEC;
    x.hdr.size = sizeof x;
    x.path_len = 4;
    std::memcpy(x.path, "/bin", 4);
    DecodeError err = DecodeError::TooShort;
    CHECK(event_type(&x, sizeof x) == NETLOF_EV_EXEC);
    CHECK(event_type(&x, 4) == 0);
    REQUIRE(decode_exec_event(&x, sizeof x, &err));
    CHECK(err == DecodeError::None);
    CHECK_FALSE(decode_event(&x, sizeof x, &err));  // not a connection record
    CHECK_FALSE(decode_exec_event(&x, sizeof x - 1, &err));
    CHECK(err == DecodeError::SizeMismatch);
    x.path_len = NETLOF_EXE_PATH_LEN;
    CHECK_FALSE(decode_exec_event(&x, sizeof x, &err));
    CHECK(err == DecodeError::BadLength);
    netlof_conn_event c{};
    c.hdr.type = NETLOF_EV_TCP_CLOSE;
    c.hdr.size = sizeof c;
    CHECK_FALSE(decode_exec_event(&c, sizeof c, &err));
    CHECK(err == DecodeError::UnknownType);
}
