// make bench: learning a whole day of a busy server in bounded memory.
//
// Generates a day of connection records at --rate connections a second on
// average (by default 300: about 26 million) from a server's mix of programs (a web
// server's upstreams, an app with its database, cache and API, a resolver
// with a socket per query, a backup to hundreds of networks at night, an
// NTP pool, rare jobs), with the day's rhythm, and learns them with the
// shipped config's learning (netlof run --config configs/netlof.yaml), as
// the daemon does, then fits the model. Prints what it learned, how long
// that took and the process's peak resident memory (getrusage), the
// figure the baseline's bound is about.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/core.h>
#include <random>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "common/diagnostic.hpp"
#include "userspace/daemon/daemon_config.hpp"
#include "userspace/engine/detector.hpp"

using namespace netlof;

namespace {

struct Program {
    const char* name;
    const char* exe;
    const char* unit;
    std::uint16_t port;
    double share;      // of the connections
    double sent;       // median bytes sent
    int networks;      // distinct /24 networks it reaches
};

constexpr Program kPrograms[] = {
    {"nginx", "/usr/sbin/nginx", "nginx.service", 8080, 0.30, 900, 1},
    {"gunicorn", "/usr/bin/python3.11", "app.service", 6379, 0.20, 120, 1},
    {"gunicorn", "/usr/bin/python3.11", "app.service", 5432, 0.05, 20000, 1},
    {"gunicorn", "/usr/bin/python3.11", "app.service", 443, 0.02, 2600, 2},
    {"python3", "/usr/bin/python3.11", "worker.service", 6379, 0.05, 300, 1},
    {"systemd-resolve", "/usr/lib/systemd/systemd-resolved", "systemd-resolved.service", 53, 0.35, 60, 1},
    {"telegraf", "/usr/bin/telegraf", "telegraf.service", 8086, 0.02, 2500, 1},
    {"restic", "/usr/bin/restic", "restic-backup.service", 443, 0.005, 8000000, 4000},
    {"chronyd", "/usr/sbin/chronyd", "chrony.service", 123, 0.005, 48, 3000},
    {"certbot", "/usr/bin/python3.11", "certbot.service", 443, 0.0001, 2000, 1},
};

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
    double rate = 300;
    std::string config = "configs/netlof.yaml";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--rate") rate = std::atof(argv[i + 1]);
        else if (a == "--config") config = argv[i + 1];
        else {
            std::fprintf(stderr, "usage: %s [--rate N] [--config FILE]\n", argv[0]);
            return 2;
        }
    }
    try {
        const LoadedConfig loaded = load_daemon_config(config, FileTrust::Relaxed);
        LearnSettings s = learn_settings(loaded);
        Detector detector(Allowlist{}, loaded.config.alerts.fold_window_s, s);
        // The day's rhythm: the night at 15% of the afternoon's rate, the
        // rate over the whole day averaging `rate`.
        const auto rhythm = [](double hour) { return 0.15 + 0.85 * std::exp(-std::pow((hour - 15) / 4.5, 2)); };
        double mean = 0;
        for (int i = 0; i < 1440; ++i) mean += rhythm(i / 60.0) / 1440;
        std::mt19937_64 rng(7);
        std::exponential_distribution<double> gap(rate / mean);
        std::lognormal_distribution<double> spread(0, 0.5);
        std::uniform_real_distribution<double> u(0, 1);
        std::vector<double> shares;
        for (const Program& p : kPrograms) shares.push_back(p.share);
        std::discrete_distribution<std::size_t> pick(shares.begin(), shares.end());
        const double t0 = 1764547200;  // midnight UTC
        double t = t0;
        std::vector<ConnectionRecord> batch;
        std::uint64_t records = 0;
        const auto start = std::chrono::steady_clock::now();
        while (!detector.learning_done(t)) {
            batch.clear();
            const double until = t + 0.01;  // the daemon's 10 ms poll
            for (; t < until; t += gap(rng)) {
                if (u(rng) > rhythm(std::fmod(t - t0, 86400) / 3600)) continue;
                const Program& p = kPrograms[pick(rng)];
                ConnectionRecord r;
                r.pid = 1000 + static_cast<std::uint32_t>(records % 30000);
                r.process_name = p.name;
                r.exe = p.exe;
                r.unit = p.unit;
                r.proto = p.port == 53 || p.port == 123 ? "udp" : "tcp";
                r.src_ip = *parse_ip("10.0.0.2");
                const int net = static_cast<int>(u(rng) * p.networks);
                r.dst_ip = *parse_ip(fmt::format("{}.{}.{}.{}", 20 + net / 65536 % 200, net / 256 % 256, net % 256,
                                                 1 + static_cast<int>(u(rng) * 200)));
                r.src_port = static_cast<std::uint16_t>(30000 + records % 30000);
                r.dst_port = p.port;
                r.bytes_sent = static_cast<std::uint64_t>(p.sent * spread(rng));
                r.bytes_received = static_cast<std::uint64_t>(4 * p.sent * spread(rng));
                r.duration = 0.002 * spread(rng);
                r.ts_start = t - r.duration;
                r.ts_end = t;
                r.outcome = Outcome::Closed;
                batch.push_back(std::move(r));
                ++records;
            }
            detector.judge(batch, t);
        }
        const double learn_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const long rss_learning = peak_rss_kib();
        const auto fit_start = std::chrono::steady_clock::now();
        std::optional<TrainedModel> m = detector.model_due(t);
        const double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
        if (!m) {
            std::fprintf(stderr, "learn_day: no model after a day\n");
            return 1;
        }
        std::printf("learn_day: %.0f connections/s for %.1f h: %llu records learned (%s), %zu LOF training rows, "
                    "%zu window keys, %zu reach destinations\n",
                    rate, (t - t0) / 3600, static_cast<unsigned long long>(records), detector.due_note().c_str(),
                    m->lof.training().rows(), m->windows.size(), m->reach.destinations());
        std::printf("learn_day: learning took %.1f s (%.0f records/s), the fit %.1f s\n", learn_s,
                    static_cast<double>(records) / learn_s, fit_s);
        std::printf("learn_day: peak resident memory %.1f MiB after learning, %.1f MiB after the fit (bound: 256 MiB)\n",
                    static_cast<double>(rss_learning) / 1024, static_cast<double>(peak_rss_kib()) / 1024);
        return peak_rss_kib() <= 256 * 1024 ? 0 : 1;
    } catch (const InputError& e) {
        std::fprintf(stderr, "%s\n", format_diagnostic(e.diagnostic()).c_str());
        return 2;
    }
}
