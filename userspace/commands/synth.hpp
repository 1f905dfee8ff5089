// The notebook's synthetic outbound connections, draw for draw: the same rows
// its generate_connections() produces after np.random.seed(seed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netlof {

struct SynthSizes {
    std::size_t normal = 500;            // per normal process (4 processes)
    std::size_t anomalous_legit = 20;    // svchost.exe to an unusual destination
    std::size_t anomalous_unknown = 30;  // unknown_process.exe
};

struct SynthConnection {
    std::int64_t pid;
    std::string process_name;
    std::string src_ip;
    std::int64_t src_port;
    std::string dst_ip;
    std::int64_t dst_port;
    double duration;
    double bytes_sent;
    double bytes_received;
    std::int64_t minute;  // minutes after 2023-01-01 00:00:00
};

std::vector<SynthConnection> generate_notebook_connections(std::uint32_t seed, const SynthSizes& sizes);

// CSV with the header `pid,process_name,src_ip,src_port,dst_ip,dst_port,
// duration,bytes_sent,bytes_received,timestamp`; doubles in shortest
// round-trip form, timestamps as YYYY-MM-DD HH:MM:SS.
std::string connections_to_csv(const std::vector<SynthConnection>& rows);

}  // namespace netlof
