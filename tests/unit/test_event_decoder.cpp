#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "userspace/event_decoder.hpp"

using namespace netlof;

namespace {
netlof_conn_event good_event() {
    netlof_conn_event e{};
    e.hdr.type = NETLOF_EV_TCP_CLOSE;
    e.hdr.size = sizeof e;
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
}

TEST_CASE("an unterminated comm is cut at its field", "[event_decoder]") {
    netlof_conn_event e = good_event();
    std::memset(e.conn.comm, 'A', sizeof e.conn.comm);
    const auto d = decode_event(&e, sizeof e);
    REQUIRE(d);
    CHECK(std::strlen(d->conn.comm) == NETLOF_COMM_LEN - 1);
}

namespace {
netlof_batch good_batch(std::uint32_t count) {
    netlof_batch b{};
    b.hdr.type = NETLOF_EV_BATCH;
    b.hdr.size = sizeof b;
    b.count = count;
    for (std::uint32_t i = 0; i < NETLOF_BATCH_MAX; ++i) {
        b.events[i] = good_event();
        b.events[i].conn.bytes_sent = 100 + i;
    }
    return b;
}

std::vector<std::uint64_t> delivered(const void* data, std::size_t size, std::uint32_t* rejected,
                                     DecodeError* err = nullptr) {
    std::vector<std::uint64_t> out;
    *rejected = decode_record(data, size, [&](const netlof_conn_event& e) { out.push_back(e.conn.bytes_sent); }, err);
    return out;
}
}  // namespace

TEST_CASE("a batch delivers exactly its first `count` events, in order", "[event_decoder]") {
    std::uint32_t rejected = 99;
    const netlof_batch full = good_batch(NETLOF_BATCH_MAX);
    CHECK(delivered(&full, sizeof full, &rejected) == std::vector<std::uint64_t>{100, 101, 102, 103, 104, 105, 106, 107});
    CHECK(rejected == 0);
    const netlof_batch three = good_batch(3);
    CHECK(delivered(&three, sizeof three, &rejected) == std::vector<std::uint64_t>{100, 101, 102});
    CHECK(rejected == 0);
    // A single event goes through the same entry point.
    const netlof_conn_event e = good_event();
    CHECK(delivered(&e, sizeof e, &rejected) == std::vector<std::uint64_t>{42});
    CHECK(rejected == 0);
}

TEST_CASE("a malformed batch is rejected; a bad event in a good batch is rejected alone", "[event_decoder]") {
    std::uint32_t rejected = 0;
    DecodeError err = DecodeError::None;
    netlof_batch b = good_batch(0);
    CHECK(delivered(&b, sizeof b, &rejected, &err).empty());
    CHECK(rejected == 1);
    CHECK(err == DecodeError::BadCount);
    b = good_batch(NETLOF_BATCH_MAX + 1);  // would read past the record
    CHECK(delivered(&b, sizeof b, &rejected, &err).empty());
    CHECK(err == DecodeError::BadCount);
    b = good_batch(2);
    CHECK(delivered(&b, sizeof b - 1, &rejected, &err).empty());
    CHECK(err == DecodeError::SizeMismatch);
    b.hdr.size = 9999;
    CHECK(delivered(&b, sizeof b, &rejected, &err).empty());
    CHECK(err == DecodeError::SizeMismatch);
    CHECK(delivered(&b, 20, &rejected, &err).empty());
    CHECK(err == DecodeError::TooShort);
    // Batches do not nest, and each event is checked like a single one.
    b = good_batch(3);
    b.events[0].hdr.type = NETLOF_EV_BATCH;
    b.events[2].hdr.size = 12;
    CHECK(delivered(&b, sizeof b, &rejected, &err) == std::vector<std::uint64_t>{101});
    CHECK(rejected == 2);
}
