#include "tests/fuzz/fuzz_targets.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "common/text_table.hpp"
#include "common/diagnostic.hpp"
#include "model/feature_pipeline.hpp"
#include "model/model_file.hpp"
#include "rules/allowlist.hpp"
#include "userspace/sensor/record_builder.hpp"
#include "userspace/daemon/daemon_config.hpp"
#include "userspace/sensor/event_decoder.hpp"

namespace netlof::fuzz {

namespace {

std::string text_of(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Bad input must end as an InputError; its diagnostic must format.
template <class F>
void expect_input_error_only(F&& f) {
    try {
        f();
    } catch (const InputError& e) {
        (void)format_diagnostic(e.diagnostic());
    }
}

void config(const std::uint8_t* data, std::size_t size) {
    expect_input_error_only([&] { parse_daemon_config(text_of(data, size), "/etc/netlof/netlof.yaml"); });
}

void allowlist(const std::uint8_t* data, std::size_t size) {
    expect_input_error_only([&] {
        const Allowlist a = Allowlist::parse(text_of(data, size), "allow.yaml");
        for (const char* ip : {"10.1.2.3", "2001:db8::7", "::ffff:192.0.2.1", "127.0.0.1"})
            for (const char* proc : {"curl", "chrome.exe", ""}) {
                const Endpoint e = *parse_endpoint(ip, 443);
                (void)a.check(proc, "/usr/bin/curl", e);
                (void)a.lof_muted(proc, "/usr/bin/curl", e);
            }
    });
}

void pipeline(const std::uint8_t* data, std::size_t size) {
    expect_input_error_only([&] {
        const PipelineSpec spec = parse_pipeline_yaml(text_of(data, size), "pipeline.yaml");
        // Fitted on a small table, so the spec's columns and transforms are used.
        const TextTable t = TextTable::parse(
            "process_name,dst_ip,dst_port,proto,bytes_sent,bytes_received,duration\n"
            "curl,10.0.0.1,443,tcp,100,2000,0.5\nsshd,10.0.0.2,22,tcp,5000,100,30\n"
            "curl,10.0.0.3,443,tcp,0,0,0\n",
            "t.csv");
        FeatureMatrix m;
        (void)FeaturePipeline::fit(spec, t, &m);
    });
}

// A table's cells are read the ways the pipeline reads them.
void read_cells(const TextTable& t) {
    for (std::size_t r = 0; r < t.rows(); ++r)
        for (std::size_t c = 0; c < t.columns().size(); ++c) {
            (void)t.cell(r, c);
            expect_input_error_only([&] { (void)t.number(r, c); });
        }
    expect_input_error_only([&] { (void)t.require_column("bytes_sent", "fuzz"); });
}

void csv(const std::uint8_t* data, std::size_t size) {
    expect_input_error_only([&] { read_cells(TextTable::parse(text_of(data, size), "rows.csv")); });
}

void jsonl(const std::uint8_t* data, std::size_t size) {
    expect_input_error_only([&] { read_cells(TextTable::parse_jsonl(text_of(data, size), "records.jsonl")); });
}

void model(const std::uint8_t* data, std::size_t size) {
    expect_input_error_only([&] {
        const TrainedModel m = deserialize_model(std::string_view(reinterpret_cast<const char*>(data), size), "model.bin");
        // A model that loads must be safe to score with.
        std::vector<LofScore> out(m.lof.training().rows());
        m.lof.score(m.lof.training(), out, 1);
        (void)serialize_model(m);
    });
}

void event(const std::uint8_t* data, std::size_t size) {
    // The ring buffer hands over a pointer and a length; anything may be there.
    static RecordBuilder table(KernelClock(), 64);
    table.batch().clear();
    if (event_type(data, size) == NETLOF_EV_EXEC) {
        if (const auto e = decode_exec_event(data, size)) table.on_exec(*e);
    } else if (const auto e = decode_event(data, size)) {
        table.on_connection(*e);
    }
}

const Target kTargets[] = {
    {"config", config}, {"allowlist", allowlist}, {"pipeline", pipeline}, {"csv", csv},
    {"jsonl", jsonl},   {"model", model},         {"event", event},
};

}  // namespace

std::span<const Target> targets() { return kTargets; }

}  // namespace netlof::fuzz
