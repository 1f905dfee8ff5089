// Explanations checked against an independent computation: the k nearest
// training rows by brute force on the dense matrix, and the median of their
// raw values read straight from the training CSV.
#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>

#include "model/explanation.hpp"
#include "tests/test_support.hpp"

using namespace netlof;

TEST_CASE("explanations name the features that set a record apart, with the neighbours' medians", "[explanation]") {
    const std::string dir = test::source_path("tests/data/lof/notebook/");
    const PipelineSpec spec = parse_pipeline_yaml(test::read_text(test::source_path("configs/pipeline-seed.yaml")), "seed");
    const TextTable train = test::read_csv(dir + "train.csv");
    FeatureMatrix x;
    const FeaturePipeline pipeline = FeaturePipeline::fit(spec, train, &x);
    const Eigen::MatrixXd dense = x.to_dense();
    const LofModel lof = LofModel::fit(std::move(x), {20, 0.1, 0});
    // The notebook's examples, plus one from a process training never saw.
    const TextTable q = TextTable::parse(
        test::read_text(test::source_path("tests/data/notebook-examples.csv")) +
            "4242,curl,192.168.1.100,40000,151.101.1.69,443,0.4,350,900,2023-01-01 12:00:00\n",
        "examples.csv");
    const FeatureMatrix qx = pipeline.transform(q);
    const Eigen::MatrixXd qd = qx.to_dense();

    for (std::size_t row = 0; row < q.rows(); ++row) {
        INFO("row " << row);
        const auto reasons = explain_row(pipeline, lof, qx, row, csv_row_text(q, row), 10, 0.0);
        REQUIRE(reasons.size() == 7);  // every feature, with top=10 and no floor
        double total = 0;
        for (std::size_t i = 0; i < reasons.size(); ++i) {
            total += reasons[i].share;
            if (i > 0) CHECK(reasons[i - 1].share >= reasons[i].share);
        }
        CHECK(total == Approx(1.0));

        // Brute-force neighbours and their raw medians.
        std::vector<std::size_t> idx(train.rows());
        std::iota(idx.begin(), idx.end(), 0);
        std::vector<double> d2(train.rows());
        for (std::size_t i = 0; i < train.rows(); ++i)
            d2[i] = (dense.row(static_cast<Eigen::Index>(i)) - qd.row(static_cast<Eigen::Index>(row))).squaredNorm();
        std::partial_sort(idx.begin(), idx.begin() + 20, idx.end(), [&](auto a, auto b) { return d2[a] < d2[b]; });
        for (const FeatureReason& r : reasons) {
            INFO(r.text);
            const std::size_t col = *train.column_index(r.column);
            if (r.numeric) {
                std::vector<double> v;
                for (std::size_t i = 0; i < 20; ++i) v.push_back(train.number(idx[i], col));
                std::sort(v.begin(), v.end());
                CHECK(r.neighbour_median == Approx((v[9] + v[10]) / 2).epsilon(1e-9));
                CHECK(r.value == q.cell(row, *q.column_index(r.column)));
            } else {
                std::size_t same = 0;
                for (std::size_t i = 0; i < 20; ++i) same += train.cell(idx[i], col) == q.cell(row, *q.column_index(r.column));
                CHECK(r.neighbours_sharing == same);
            }
        }
    }
    // The unknown process: its name is the top categorical reason, and said as never seen.
    const auto curl = explain_row(pipeline, lof, qx, 3, csv_row_text(q, 3));
    REQUIRE_FALSE(curl.empty());
    CHECK(curl[0].column == "process_name");
    CHECK(curl[0].unseen);
    CHECK(curl[0].text == "process_name 'curl' never seen in training");
    // The notebook's exfiltration-like example: bytes_sent is among the reasons given.
    const auto exfil = explain_row(pipeline, lof, qx, 0, csv_row_text(q, 0));
    CHECK(std::any_of(exfil.begin(), exfil.end(), [](const FeatureReason& r) { return r.column == "bytes_sent"; }));
}
