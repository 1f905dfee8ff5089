#include "userspace/records/connection_record.hpp"

#include <ctime>

namespace netlof {

std::string_view outcome_name(Outcome o) {
    switch (o) {
        case Outcome::Closed: return "closed";
        case Outcome::Refused: return "refused";
        case Outcome::Failed: return "failed";
        case Outcome::Active: return "active";
    }
    return "closed";
}

std::optional<Outcome> parse_outcome(std::string_view text) {
    for (Outcome o : {Outcome::Closed, Outcome::Refused, Outcome::Failed, Outcome::Active})
        if (outcome_name(o) == text) return o;
    return std::nullopt;
}

std::string format_timestamp(double unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

}  // namespace netlof
