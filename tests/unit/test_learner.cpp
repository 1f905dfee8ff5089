#include <catch2/catch.hpp>
#include <string>

#include "tests/test_support.hpp"
#include "userspace/engine/learner.hpp"

using namespace netlof;

namespace {

ConnectionRecord connection(const std::string& name, const std::string& unit, double ts, std::uint64_t sent) {
    ConnectionRecord r;
    r.process_name = name;
    r.exe = "/usr/bin/python3.11";
    r.unit = unit;
    r.proto = "tcp";
    r.src_ip = test::ip("10.0.0.1");
    r.dst_ip = test::ip("10.0.2.5");
    r.dst_port = 5432;
    r.bytes_sent = sent;
    r.bytes_received = 100;
    r.duration = 0.01;
    r.ts_start = ts;
    r.ts_end = ts + 0.01;
    return r;
}

LearnSettings settings(std::size_t sample_rows, std::size_t per_program) {
    LearnSettings s;
    s.pipeline_file = "p.yaml";
    s.pipeline = parse_pipeline_yaml("features:\n  - {column: process_name, transform: onehot}\n"
                                     "  - {column: bytes_sent, transform: log}\n", "p.yaml");
    s.neighbors = 5;
    s.duration_s = 3600;
    s.sample_rows = sample_rows;
    s.per_program = per_program;
    return s;
}

}  // namespace

TEST_CASE("learner: a busy program is sampled, a rare one kept whole, the baselines see everything", "[learner]") {
    Learner l(settings(1000, 400));
    l.begin(0);
    // A busy web app (unit app.service) and, under the same interpreter, a rare job.
    for (int i = 0; i < 20000; ++i) l.add(connection("gunicorn", "app.service", i * 0.1, 100 + i % 50));
    for (int i = 0; i < 30; ++i) l.add(connection("certbot", "certbot.service", i * 60.0, 2000));
    CHECK(l.records() == 20030);
    CHECK(l.sampled() == 430);  // 400 of the app's, every one of the job's
    CHECK(l.done(3600));
    const LearnedSpan span = l.finish_span();
    CHECK(span.rows == 20030);  // the baselines learned every record
    CHECK(std::count(span.sample_csv.begin(), span.sample_csv.end(), '\n') == 431);
    CHECK(span.sample_csv.find("certbot") != std::string::npos);
    // The same records give the same sample: replay is deterministic.
    Learner again(settings(1000, 400));
    again.begin(0);
    for (int i = 0; i < 20000; ++i) again.add(connection("gunicorn", "app.service", i * 0.1, 100 + i % 50));
    for (int i = 0; i < 30; ++i) again.add(connection("certbot", "certbot.service", i * 60.0, 2000));
    CHECK(again.finish_span().sample_csv == span.sample_csv);
}

TEST_CASE("learner: the sample is shared out as programs come, and bounded", "[learner]") {
    Learner l(settings(120, 100));
    l.begin(0);
    // Each program needs room for k + 1 = 6 rows: 20 fit in 120, the other 5's records are counted.
    for (int p = 0; p < 25; ++p)
        for (int i = 0; i < 50; ++i) l.add(connection("job" + std::to_string(p), "", p * 100 + i, 100));
    CHECK(l.sampled() <= 120);
    CHECK(l.records_unsampled() == 5 * 50);
    CHECK(l.records() == 1250);
}
