#include "userspace/commands/synth.hpp"

#include <cstdio>
#include <utility>

#include "common/text_table.hpp"
#include "userspace/commands/numpy_random.hpp"

namespace netlof {

namespace {

struct ProcessRule {
    const char* process;
    std::vector<const char*> destinations;
};

// One call of the notebook's generate_connections(); the draw order per row
// is the order of its appends: pid, src_port, dst_ip, dst_port, duration,
// bytes_sent, bytes_received, timestamp.
void generate(NumpyRandomState& rng, const std::vector<ProcessRule>& rules, std::size_t n, bool anomalous,
              std::vector<SynthConnection>& out) {
    for (const ProcessRule& rule : rules) {
        for (std::size_t i = 0; i < n; ++i) {
            SynthConnection c;
            c.pid = rng.randint(1000, 5000);
            c.process_name = rule.process;
            c.src_ip = "192.168.1.100";
            c.src_port = rng.randint(1024, 65535);
            c.dst_ip = rule.destinations[rng.choice_index(rule.destinations.size())];
            c.dst_port = anomalous ? rng.randint(1000, 65535) : rng.randint(80, 443);
            c.duration = rng.exponential(anomalous ? 10.0 : 1.0);
            c.bytes_sent = rng.exponential(anomalous ? 10000.0 : 500.0);
            c.bytes_received = rng.exponential(anomalous ? 10000.0 : 500.0);
            c.minute = rng.randint(0, 1440);
            out.push_back(std::move(c));
        }
    }
}

}  // namespace

std::vector<SynthConnection> generate_notebook_connections(std::uint32_t seed, const SynthSizes& sizes) {
    NumpyRandomState rng(seed);
    std::vector<SynthConnection> rows;
    rows.reserve(4 * sizes.normal + sizes.anomalous_legit + sizes.anomalous_unknown);
    generate(rng,
             {{"chrome.exe", {"151.101.1.69", "172.217.16.195"}},
              {"firefox.exe", {"151.101.1.69", "172.217.16.195"}},
              {"svchost.exe", {"93.184.216.34"}},
              {"explorer.exe", {"172.217.16.195"}}},
             sizes.normal, false, rows);
    generate(rng, {{"svchost.exe", {"198.51.100.2"}}}, sizes.anomalous_legit, true, rows);
    generate(rng, {{"unknown_process.exe", {"203.0.113.1"}}}, sizes.anomalous_unknown, true, rows);
    return rows;
}

std::string connections_to_csv(const std::vector<SynthConnection>& rows) {
    std::string out = "pid,process_name,src_ip,src_port,dst_ip,dst_port,duration,bytes_sent,bytes_received,timestamp\n";
    out.reserve(rows.size() * 110);
    for (const SynthConnection& c : rows) {
        out += std::to_string(c.pid);
        out += ',';
        append_csv_field(out, c.process_name);
        out += ',';
        append_csv_field(out, c.src_ip);
        out += ',';
        out += std::to_string(c.src_port);
        out += ',';
        append_csv_field(out, c.dst_ip);
        out += ',';
        out += std::to_string(c.dst_port);
        out += ',';
        append_double(out, c.duration);
        out += ',';
        append_double(out, c.bytes_sent);
        out += ',';
        append_double(out, c.bytes_received);
        char ts[24];
        std::snprintf(ts, sizeof ts, ",2023-01-01 %02d:%02d:00\n", static_cast<int>(c.minute / 60),
                      static_cast<int>(c.minute % 60));
        out += ts;
    }
    return out;
}

}  // namespace netlof
