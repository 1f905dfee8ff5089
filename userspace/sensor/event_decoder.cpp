#include "userspace/sensor/event_decoder.hpp"

#include <cstring>

namespace netlof {

namespace {

// The record's header, copied out (a sample need not be aligned for us);
// nullopt when the record is too short to have one.
std::optional<netlof_event_header> header_of(const void* data, std::size_t size) {
    if (data == nullptr || size < sizeof(netlof_event_header)) return std::nullopt;
    netlof_event_header hdr;
    std::memcpy(&hdr, data, sizeof hdr);
    return hdr;
}

}  // namespace

std::uint32_t event_type(const void* data, std::size_t size) {
    const auto hdr = header_of(data, size);
    return hdr ? hdr->type : 0;
}

std::optional<netlof_exec_event> decode_exec_event(const void* data, std::size_t size, DecodeError* error) {
    auto fail = [&](DecodeError e) -> std::optional<netlof_exec_event> {
        if (error != nullptr) *error = e;
        return std::nullopt;
    };
    const auto hdr = header_of(data, size);
    if (!hdr) return fail(DecodeError::TooShort);
    if (hdr->type != NETLOF_EV_EXEC) return fail(DecodeError::UnknownType);
    if (hdr->size != size || size != sizeof(netlof_exec_event)) return fail(DecodeError::SizeMismatch);
    netlof_exec_event e;
    std::memcpy(&e, data, sizeof e);
    if (e.path_len >= NETLOF_EXE_PATH_LEN) return fail(DecodeError::BadLength);
    if (error != nullptr) *error = DecodeError::None;
    return e;
}

std::optional<netlof_conn_event> decode_event(const void* data, std::size_t size, DecodeError* error) {
    auto fail = [&](DecodeError e) -> std::optional<netlof_conn_event> {
        if (error != nullptr) *error = e;
        return std::nullopt;
    };
    const auto hdr = header_of(data, size);
    if (!hdr) return fail(DecodeError::TooShort);
    switch (hdr->type) {
        case NETLOF_EV_TCP_CLOSE:
        case NETLOF_EV_TCP_FLUSH:
        case NETLOF_EV_CONNECT_FAILED: break;
        default: return fail(DecodeError::UnknownType);
    }
    if (hdr->size != size || size != sizeof(netlof_conn_event)) return fail(DecodeError::SizeMismatch);
    netlof_conn_event e;
    std::memcpy(&e, data, sizeof e);
    e.conn.comm[NETLOF_COMM_LEN - 1] = '\0';  // the kernel copies a terminated string; do not rely on it
    if ((e.conn.family != NETLOF_AF_INET && e.conn.family != NETLOF_AF_INET6) || e.conn.outcome > NETLOF_OUTCOME_FAILED)
        return fail(DecodeError::BadValue);
    if (error != nullptr) *error = DecodeError::None;
    return e;
}

}  // namespace netlof
