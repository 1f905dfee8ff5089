// Validates a raw ring-buffer record before anything reads it: a record that
// is too short, claims another size or has an unknown type is rejected (and
// counted by the caller), never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "bpf/events.h"

namespace netlof {

enum class DecodeError { None, TooShort, SizeMismatch, UnknownType, BadCount };

// One connection event (any type but a batch).
std::optional<netlof_conn_event> decode_event(const void* data, std::size_t size, DecodeError* error = nullptr);

// The number of events a batch record claims, once its header and count are
// checked (1..NETLOF_BATCH_MAX); 0 if it is not a valid batch.
std::uint32_t decode_batch_count(const void* data, std::size_t size, DecodeError* error = nullptr);

// Any ring-buffer record: calls deliver(const netlof_conn_event&) for each
// valid event it carries (one, or a batch's) and returns how many were
// rejected: a bad batch header counts as one, each bad event in a batch as one.
template <class Deliver>
std::uint32_t decode_record(const void* data, std::size_t size, Deliver&& deliver, DecodeError* error = nullptr) {
    netlof_event_header hdr{};
    if (data != nullptr && size >= sizeof hdr) __builtin_memcpy(&hdr, data, sizeof hdr);
    if (hdr.type != NETLOF_EV_BATCH) {
        if (auto e = decode_event(data, size, error)) {
            deliver(*e);
            return 0;
        }
        return 1;
    }
    const std::uint32_t n = decode_batch_count(data, size, error);
    if (n == 0) return 1;
    std::uint32_t rejected = 0;
    const auto* first = static_cast<const unsigned char*>(data) + offsetof(netlof_batch, events);
    for (std::uint32_t i = 0; i < n; ++i) {
        if (auto e = decode_event(first + i * sizeof(netlof_conn_event), sizeof(netlof_conn_event), error)) deliver(*e);
        else ++rejected;
    }
    return rejected;
}

}  // namespace netlof
