#include "userspace/daemon/daemon_config.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fmt/core.h>

#include "common/file_io.hpp"
#include "common/json_line.hpp"
#include "common/yaml_schema.hpp"
#include "userspace/outputs/syslog_output.hpp"

namespace netlof {

std::optional<double> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    double unit = 1;
    switch (text.back()) {
        case 's': unit = 1; text.remove_suffix(1); break;
        case 'm': unit = 60; text.remove_suffix(1); break;
        case 'h': unit = 3600; text.remove_suffix(1); break;
        case 'd': unit = 86400; text.remove_suffix(1); break;
        default: break;
    }
    double v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(v) || v < 0)
        return std::nullopt;
    return v * unit;
}

namespace {

std::string resolve(const std::string& config_file, const std::string& path) {
    if (path.empty() || path.front() == '/') return path;
    return (std::filesystem::path(config_file).parent_path() / path).lexically_normal().string();
}

class Reader {
public:
    explicit Reader(const YamlDocument& doc) : doc_(doc) {}

    std::string path(const YAML::Node& map, const char* key, bool required) const {
        const YAML::Node n = map[key];
        if (!n.IsDefined() || n.IsNull()) {
            if (required) throw doc_.error(map, key, "missing required key");
            return {};
        }
        const std::string v = doc_.scalar(n, key);
        if (v.empty()) throw doc_.error(n, key, "path is empty");
        return resolve(doc_.file(), v);
    }
    double duration(const YAML::Node& map, const char* key, double fallback, double min) const {
        const YAML::Node n = map[key];
        if (!n.IsDefined() || n.IsNull()) return fallback;
        const auto d = parse_duration(doc_.scalar(n, key));
        if (!d) throw doc_.error(n, key, "'" + n.Scalar() + "' is not a duration (e.g. 30s, 5m, 24h, 7d)");
        if (*d < min) throw doc_.error(n, key, "must be at least " + std::to_string(min) + " s");
        return *d;
    }
    std::uint64_t integer(const YAML::Node& map, const char* key, std::uint64_t fallback, std::uint64_t min,
                          std::uint64_t max) const {
        const YAML::Node n = map[key];
        if (!n.IsDefined() || n.IsNull()) return fallback;
        const std::string s = doc_.scalar(n, key);
        std::uint64_t v = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < min || v > max)
            throw doc_.error(n, key, "'" + s + "' is not a whole number from " + std::to_string(min) + " to " +
                                         std::to_string(max));
        return v;
    }

private:
    const YamlDocument& doc_;
};

}  // namespace

DaemonConfig parse_daemon_config(std::string_view text, const std::string& file) {
    YamlDocument doc(text, file);
    const Reader in(doc);
    const YAML::Node& root = doc.root();
    doc.check_map(root, "config", {"model", "allowlist", "alerts", "records", "metrics", "sensor", "stats_interval"});
    DaemonConfig c;
    c.file = file;

    const YAML::Node model = doc.require(root, "model", "config");
    doc.check_map(model, "model", {"path", "pipeline", "neighbors", "contamination", "reach_floor", "learn"});
    c.model.path = in.path(model, "path", true);
    c.model.pipeline = in.path(model, "pipeline", false);
    c.model.neighbors = in.integer(model, "neighbors", c.model.neighbors, 1, 1000);
    if (const YAML::Node n = model["contamination"]; n.IsDefined() && !n.IsNull()) {
        const std::string s = doc.scalar(n, "contamination");
        if (s == "auto") {
            c.model.contamination = std::nullopt;
        } else {
            const double v = doc.number(n, "contamination");
            if (!(v > 0 && v <= 0.5)) throw doc.error(n, "contamination", "must be a fraction in (0, 0.5] or auto");
            c.model.contamination = v;
        }
    }
    if (const YAML::Node n = model["reach_floor"]; n.IsDefined() && !n.IsNull()) {
        const double v = doc.number(n, "reach_floor");
        if (!(v >= 0 && v <= 100)) throw doc.error(n, "reach_floor", "must be a distance from 0 to 100 (feature units)");
        c.model.reach_floor = v;
    }
    // learn: says when learning ends; what it leaves out does not end it.
    if (const YAML::Node learn = model["learn"]; learn.IsDefined() && !learn.IsNull()) {
        doc.check_map(learn, "model.learn", {"records", "duration", "keep"});
        c.model.learn_records = in.integer(learn, "records", 0, 2, 100000000);
        c.model.learn_duration_s = in.duration(learn, "duration", 0, 1);
        c.model.learn_keep = in.integer(learn, "keep", c.model.learn_keep, 0, 365);
        if (c.model.learn_records == 0 && c.model.learn_duration_s == 0)
            throw doc.error(learn, "learn", "give records, duration or both: when learning ends");
    }

    const YAML::Node allow = root["allowlist"];
    if (allow.IsDefined() && !allow.IsNull()) {
        if (!allow.IsSequence()) throw doc.error(allow, "allowlist", "expected a list of allowlist files");
        for (const YAML::Node& f : allow) {
            const std::string p = doc.scalar(f, "allowlist");
            if (p.empty()) throw doc.error(f, "allowlist", "path is empty");
            c.allowlists.push_back(resolve(file, p));
        }
    }

    const YAML::Node alerts = root["alerts"].IsDefined() && !root["alerts"].IsNull() ? root["alerts"] : YAML::Node(YAML::NodeType::Map);
    doc.check_map(alerts, "alerts", {"path", "fold_window", "budget", "syslog"});
    if (const YAML::Node syslog = alerts["syslog"]; syslog.IsDefined() && !syslog.IsNull()) {
        doc.check_map(syslog, "alerts.syslog", {"socket", "facility"});
        c.alerts.syslog.enabled = true;
        if (const std::string p = in.path(syslog, "socket", false); !p.empty()) c.alerts.syslog.socket = p;
        if (const YAML::Node f = syslog["facility"]; f.IsDefined() && !f.IsNull()) {
            const std::optional<int> facility = syslog_facility(doc.scalar(f, "facility"));
            if (!facility) throw doc.error(f, "facility", "expected a syslog facility: local0 .. local7, daemon, auth, user, ...");
            c.alerts.syslog.facility = *facility;
        }
    }
    if (const std::string p = in.path(alerts, "path", false); !p.empty()) c.alerts.path = p;
    c.alerts.fold_window_s = in.duration(alerts, "fold_window", c.alerts.fold_window_s, 0);
    if (const YAML::Node n = alerts["budget"]; n.IsDefined() && !n.IsNull()) {
        // "5/day", "1/hour", or off
        const std::string s = doc.scalar(n, "budget");
        const auto slash = s.find('/');
        double count = 0;
        const auto parsed = std::from_chars(s.data(), s.data() + (slash == std::string::npos ? 0 : slash), count);
        const std::string per = slash == std::string::npos ? "" : s.substr(slash + 1);
        if (s == "off") {
            c.alerts.budget_per_day = 0;
        } else if (parsed.ec != std::errc{} || parsed.ptr != s.data() + slash || !(count > 0) || !std::isfinite(count) ||
                   (per != "day" && per != "hour")) {
            throw doc.error(n, "budget", "expected false alerts a day or an hour, e.g. 5/day or 1/hour, or off");
        } else {
            c.alerts.budget_per_day = per == "day" ? count : count * 24;
        }
    }

    if (const YAML::Node records = root["records"]; records.IsDefined() && !records.IsNull()) {
        doc.check_map(records, "records", {"path"});
        c.records_path = in.path(records, "path", true);
    }

    if (const YAML::Node metrics = root["metrics"]; metrics.IsDefined() && !metrics.IsNull()) {
        doc.check_map(metrics, "metrics", {"path"});
        c.metrics_path = in.path(metrics, "path", true);
    }

    if (const YAML::Node s = root["sensor"]; s.IsDefined() && !s.IsNull()) {
        doc.check_map(s, "sensor", {"max_sockets", "max_udp_flows", "ringbuf_kib", "udp_idle", "flush_interval"});
        c.sensor.max_sockets = static_cast<std::uint32_t>(in.integer(s, "max_sockets", c.sensor.max_sockets, 64, 1u << 24));
        c.sensor.max_udp_flows = static_cast<std::uint32_t>(in.integer(s, "max_udp_flows", c.sensor.max_udp_flows, 64, 1u << 24));
        c.sensor.ringbuf_kib = static_cast<std::uint32_t>(in.integer(s, "ringbuf_kib", c.sensor.ringbuf_kib, 4, 1u << 20));
        if ((c.sensor.ringbuf_kib & (c.sensor.ringbuf_kib - 1)) != 0)
            throw doc.error(s["ringbuf_kib"], "ringbuf_kib", "must be a power of two");
        c.sensor.udp_idle_s = in.duration(s, "udp_idle", c.sensor.udp_idle_s, 1);
        c.sensor.flush_interval_s = in.duration(s, "flush_interval", c.sensor.flush_interval_s, 1);
    }
    c.stats_interval_s = in.duration(root, "stats_interval", c.stats_interval_s, 1);
    return c;
}

LoadedConfig load_daemon_config(const std::string& path, FileTrust trust) {
    auto read = [&](const std::string& f) { return read_trusted_file(f, trust, kMaxConfigBytes); };
    LoadedConfig l{parse_daemon_config(read(path), path), {}, {}};
    for (const std::string& f : l.config.allowlists) l.allowlist.merge(Allowlist::parse(read(f), f));
    l.pipeline = l.config.model.pipeline.empty()
                     ? parse_pipeline_yaml(builtin_pipeline_yaml(), kBuiltinPipelineName)
                     : parse_pipeline_yaml(read(l.config.model.pipeline), l.config.model.pipeline);
    return l;
}

LearnSettings learn_settings(const LoadedConfig& l) {
    LearnSettings s;
    s.pipeline_file = l.config.model.pipeline.empty() ? kBuiltinPipelineName : l.config.model.pipeline;
    s.pipeline = l.pipeline;
    s.neighbors = l.config.model.neighbors;
    s.contamination = l.config.model.contamination;
    s.reach_floor = l.config.model.reach_floor;
    s.budget_per_day = l.config.alerts.budget_per_day;
    s.records = l.config.model.learn_records;
    s.duration_s = l.config.model.learn_duration_s;
    s.keep_spans = l.config.model.learn_keep;
    return s;
}

std::string_view builtin_pipeline_yaml() {
    static constexpr const char kText[] =
#include "default_pipeline.inc"
        ;
    return kText;
}

namespace {

// 300 -> "5m", 86400 -> "24h", 0.5 -> "0.5s": what parse_duration reads back.
std::string duration_text(double s) {
    if (s > 0 && std::fmod(s, 3600) == 0) return fmt::format("{}h", s / 3600);
    if (s > 0 && std::fmod(s, 60) == 0) return fmt::format("{}m", s / 60);
    return fmt::format("{}s", s);
}

// A YAML scalar for a path: quoted (JSON-style escapes are YAML's too).
std::string quoted(const std::string& s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

}  // namespace

std::string effective_config_yaml(const DaemonConfig& c) {
    std::string learn;
    if (c.model.learn_records > 0) learn = fmt::format("records: {}", c.model.learn_records);
    if (c.model.learn_duration_s > 0)
        learn += fmt::format("{}duration: {}", learn.empty() ? "" : ", ", duration_text(c.model.learn_duration_s));
    learn += fmt::format(", keep: {}", c.model.learn_keep);
    std::string allow;
    for (const std::string& f : c.allowlists) allow += (allow.empty() ? "" : ", ") + quoted(f);
    const double budget = c.alerts.budget_per_day;
    return fmt::format(
        "model:\n"
        "  path: {}\n"
        "  pipeline: {}\n"
        "  neighbors: {}\n"
        "  contamination: {}\n"
        "  reach_floor: {}\n"
        "  learn: {{{}}}\n"
        "allowlist: [{}]\n"
        "alerts:\n"
        "  path: {}\n"
        "  fold_window: {}\n"
        "  budget: {}\n"
        "{}"
        "{}"
        "{}"
        "sensor:\n"
        "  max_sockets: {}\n"
        "  max_udp_flows: {}\n"
        "  ringbuf_kib: {}\n"
        "  udp_idle: {}\n"
        "  flush_interval: {}\n"
        "stats_interval: {}\n",
        quoted(c.model.path), c.model.pipeline.empty() ? "null  # " + std::string(kBuiltinPipelineName) : quoted(c.model.pipeline),
        c.model.neighbors, c.model.contamination ? fmt::format("{}", *c.model.contamination) : "auto",
        c.model.reach_floor, learn, allow, quoted(c.alerts.path), duration_text(c.alerts.fold_window_s),
        budget == 0 ? std::string("off") : fmt::format("{}/day", budget),
        c.alerts.syslog.enabled ? fmt::format("  syslog: {{socket: {}, facility: {}}}\n", quoted(c.alerts.syslog.socket),
                                              syslog_facility_name(c.alerts.syslog.facility))
                                : std::string("  syslog: null  # not sent\n"),
        c.records_path.empty() ? std::string("records: null  # none kept\n")
                               : fmt::format("records: {{path: {}}}\n", quoted(c.records_path)),
        c.metrics_path.empty() ? std::string("metrics: null  # none written\n")
                               : fmt::format("metrics: {{path: {}}}\n", quoted(c.metrics_path)),
        c.sensor.max_sockets, c.sensor.max_udp_flows, c.sensor.ringbuf_kib, duration_text(c.sensor.udp_idle_s),
        duration_text(c.sensor.flush_interval_s), duration_text(c.stats_interval_s));
}

}  // namespace netlof
