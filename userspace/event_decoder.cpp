#include "userspace/event_decoder.hpp"

#include <cstring>

namespace netlof {

std::optional<netlof_conn_event> decode_event(const void* data, std::size_t size, DecodeError* error) {
    auto fail = [&](DecodeError e) -> std::optional<netlof_conn_event> {
        if (error != nullptr) *error = e;
        return std::nullopt;
    };
    if (data == nullptr || size < sizeof(netlof_event_header)) return fail(DecodeError::TooShort);
    netlof_event_header hdr;
    std::memcpy(&hdr, data, sizeof hdr);  // the sample need not be aligned for us
    switch (hdr.type) {
        case NETLOF_EV_PROCESS_SEEN:
        case NETLOF_EV_TCP_CLOSE:
        case NETLOF_EV_TCP_FLUSH:
        case NETLOF_EV_CONNECT_FAILED: break;
        default: return fail(DecodeError::UnknownType);
    }
    if (hdr.size != size || size != sizeof(netlof_conn_event)) return fail(DecodeError::SizeMismatch);
    netlof_conn_event e;
    std::memcpy(&e, data, sizeof e);
    e.conn.comm[NETLOF_COMM_LEN - 1] = '\0';  // the kernel copies a terminated string; do not rely on it
    if (error != nullptr) *error = DecodeError::None;
    return e;
}

}  // namespace netlof
