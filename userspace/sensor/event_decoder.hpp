// Validates a raw ring-buffer record before anything reads it: a record that
// is too short, claims another size or has an unknown type is rejected (and
// counted by the caller), never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "bpf/events.h"

namespace netlof {

enum class DecodeError { None, TooShort, SizeMismatch, UnknownType, BadLength, BadValue };

// The record's type (NETLOF_EV_*), or 0 when it is too short to have one.
std::uint32_t event_type(const void* data, std::size_t size);
// A connection record (every type but NETLOF_EV_EXEC).
std::optional<netlof_conn_event> decode_event(const void* data, std::size_t size, DecodeError* error = nullptr);
// An exec record; its path_len is checked against the path's room.
std::optional<netlof_exec_event> decode_exec_event(const void* data, std::size_t size, DecodeError* error = nullptr);

}  // namespace netlof
