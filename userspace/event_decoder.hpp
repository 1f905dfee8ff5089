// Validates a raw ring-buffer record before anything reads it: a record that
// is too short, claims another size or has an unknown type is rejected (and
// counted by the caller), never trusted.
#pragma once

#include <cstddef>
#include <optional>

#include "bpf/events.h"

namespace netlof {

enum class DecodeError { None, TooShort, SizeMismatch, UnknownType };

std::optional<netlof_conn_event> decode_event(const void* data, std::size_t size, DecodeError* error = nullptr);

}  // namespace netlof
