// The pipeline against scikit-learn's ColumnTransformer output
// (expected_features.csv from scripts/make_fixtures.py) and its YAML checks.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "common/diagnostic.hpp"
#include "model/feature_pipeline.hpp"
#include "tests/test_support.hpp"

using namespace netlof;

namespace {
Diagnostic yaml_diag(const std::string& text) {
    INFO(text);
    return test::diagnostic_of([&] { parse_pipeline_yaml(text, "p.yaml"); });
}
}  // namespace

TEST_CASE("the seed pipeline reads as the notebook's ColumnTransformer", "[feature_pipeline]") {
    const PipelineSpec spec =
        parse_pipeline_yaml(test::read_text(test::source_path("configs/pipeline-seed.yaml")), "pipeline-seed.yaml");
    REQUIRE(spec.features.size() == 7);
    CHECK(spec.features[0].column == "src_port");
    CHECK(spec.features[6].transform == Transform::OneHot);
}

TEST_CASE("features equal scikit-learn's for every fixture case", "[feature_pipeline]") {
    for (const char* name : {"notebook", "clusters", "numeric_only", "duplicates"}) {
        const std::string dir = test::source_path(std::string("tests/data/lof/") + name + "/");
        INFO(name);
        const PipelineSpec spec = parse_pipeline_yaml(test::read_text(dir + "pipeline.yaml"), dir + "pipeline.yaml");
        const TextTable train = test::read_csv(dir + "train.csv");
        FeatureMatrix fitted;
        const FeaturePipeline p = FeaturePipeline::fit(spec, train, &fitted);
        CHECK(fitted.numeric == p.transform(train).numeric);
        CHECK(fitted.codes == p.transform(train).codes);
        // scikit-learn orders the dense columns by transformer, as the YAML does;
        // to_dense() puts numeric columns first, so compare column by column.
        const Eigen::MatrixXd got = p.transform(train).to_dense();
        const TextTable want = test::read_csv(dir + "expected_features.csv");
        REQUIRE(want.rows() == train.rows());
        REQUIRE(static_cast<std::size_t>(got.cols()) == want.columns().size());
        std::vector<std::size_t> order;  // dense column of netlof for each sklearn column
        std::size_t num = 0, cat = p.numeric().size();
        for (const FeatureSpec& f : spec.features) {
            if (f.transform != Transform::OneHot) {
                order.push_back(num++);
                continue;
            }
            std::size_t j = 0;
            while (p.categorical()[j].column != f.column) ++j;
            for (std::size_t c = 0; c < p.categorical()[j].categories.size(); ++c) order.push_back(cat + c);
            cat += p.categorical()[j].categories.size();
        }
        REQUIRE(order.size() == want.columns().size());
        double worst = 0;
        for (std::size_t r = 0; r < train.rows(); ++r)
            for (std::size_t c = 0; c < order.size(); ++c)
                worst = std::max(worst, std::abs(got(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(order[c])) -
                                                 want.number(r, c)));
        CHECK(worst < 1e-12);
    }
}

TEST_CASE("unseen categories encode as all zeros; constant columns get scale 1", "[feature_pipeline]") {
    const PipelineSpec spec =
        parse_pipeline_yaml("features:\n  - {column: duration, transform: standard}\n"
                            "  - {column: bytes_sent, transform: log_standard}\n"
                            "  - {column: process_name, transform: onehot}\n", "p.yaml");
    const TextTable train = TextTable::parse("duration,bytes_sent,process_name\n5,0,b\n5,99,a\n", "t.csv");
    const FeaturePipeline p = FeaturePipeline::fit(spec, train);
    CHECK(p.numeric()[0].scale == 1.0);
    CHECK(p.numeric()[1].mean == Approx(std::log1p(99.0) / 2));
    CHECK(p.categorical()[0].categories == std::vector<std::string>{"a", "b"});
    const TextTable q = TextTable::parse("duration,bytes_sent,process_name\n7,99,zzz\n", "q.csv");
    const FeatureMatrix m = p.transform(q);
    CHECK(m.codes_row(0)[0] == kUnknownCategory);
    CHECK(m.to_dense().row(0).tail(2).isZero());
    CHECK(m.numeric(0, 0) == 2.0);
}

TEST_CASE("log is log1p(value / unit), unscaled; unit 1 leaves log_standard as scikit-learn's", "[feature_pipeline]") {
    const PipelineSpec spec =
        parse_pipeline_yaml("features:\n  - {column: duration, transform: log, unit: 0.001}\n"
                            "  - {column: bytes_sent, transform: log}\n"
                            "  - {column: bytes_received, transform: log_standard, unit: 1}\n", "p.yaml");
    REQUIRE(spec.features.size() == 3);
    CHECK(spec.features[0].unit == 0.001);
    CHECK(spec.features[1].unit == 1.0);
    const TextTable train = TextTable::parse("duration,bytes_sent,bytes_received\n0.004,100,10\n2.5,1000000,99\n", "t.csv");
    FeatureMatrix fitted;
    const FeaturePipeline p = FeaturePipeline::fit(spec, train, &fitted);
    // Not scaled by the training spread: one unit is a factor of e anywhere.
    CHECK(p.numeric()[0].mean == 0);
    CHECK(p.numeric()[0].scale == 1);
    CHECK(fitted.numeric(0, 0) == std::log1p(0.004 / 0.001));
    CHECK(fitted.numeric(1, 0) == std::log1p(2.5 / 0.001));
    CHECK(fitted.numeric(1, 1) == std::log1p(1000000.0));
    CHECK(p.numeric()[2].mean == (std::log1p(10.0) + std::log1p(99.0)) / 2);
    CHECK(p.transform(train).numeric == fitted.numeric);
    // The explanation reads values back in the column's own units.
    CHECK(std::abs(std::expm1(fitted.numeric(0, 0)) * p.numeric()[0].unit - 0.004) < 1e-15);
}

TEST_CASE("bad pipeline YAML names line, column and field", "[feature_pipeline]") {
    SECTION("a unit that is not a positive number, or on a one-hot column") {
        for (const char* unit : {"0", "-1", "ms", "nan", "inf", "1e999"}) {
            const Diagnostic d = yaml_diag(std::string("features:\n  - {column: duration, transform: log, unit: ") + unit + "}\n");
            CHECK(d.field == "unit");
            CHECK(d.line == 2);
        }
        CHECK(yaml_diag("features:\n  - {column: proto, transform: onehot, unit: 2}\n").field == "unit");
    }
    SECTION("unknown transform") {
        const Diagnostic d = yaml_diag("features:\n  - column: duration\n    transform: robust\n");
        CHECK(d.line == 3);
        CHECK(d.column == 16);
        CHECK(d.field == "transform");
    }
    SECTION("unknown column") {
        const Diagnostic d = yaml_diag("features:\n  - {column: dst_prot, transform: standard}\n");
        CHECK(d.line == 2);
        CHECK(d.field == "column");
        CHECK(d.message.find("dst_prot") != std::string::npos);
    }
    SECTION("unknown key, duplicate key, missing key") {
        CHECK(yaml_diag("features:\n  - {column: duration, transform: standard, weight: 2}\n").field == "weight");
        CHECK(yaml_diag("features: []\nfeatures: []\n").field == "features");
        CHECK(yaml_diag("features:\n  - {column: duration}\n").field == "transform");
        CHECK(yaml_diag("featurez:\n  - {column: duration}\n").line == 1);
    }
    SECTION("text column scaled, column used twice, timestamp") {
        CHECK(yaml_diag("features:\n  - {column: process_name, transform: standard}\n").field == "transform");
        CHECK(yaml_diag("features:\n  - {column: pid, transform: standard}\n  - {column: pid, transform: onehot}\n").line == 3);
        CHECK(yaml_diag("features:\n  - {column: timestamp, transform: standard}\n").field == "column");
    }
    SECTION("syntax error, empty file, binary") {
        CHECK(yaml_diag("features: [\n").line >= 1);
        CHECK(yaml_diag("").message.find("empty") != std::string::npos);
        CHECK(yaml_diag(std::string("a\0b", 3)).message.find("NUL") != std::string::npos);
    }
}

TEST_CASE("bad cells while fitting name the CSV line and column", "[feature_pipeline]") {
    const PipelineSpec spec = parse_pipeline_yaml("features:\n  - {column: bytes_sent, transform: log_standard}\n", "p.yaml");
    try {
        FeaturePipeline::fit(spec, TextTable::parse("x,bytes_sent\n1,5\n1,-3\n", "t.csv"));
        FAIL("no error");
    } catch (const InputError& e) {
        CHECK(e.diagnostic().line == 3);
        CHECK(e.diagnostic().field == "bytes_sent");
    }
    try {
        FeaturePipeline::fit(spec, TextTable::parse("x,y\n1,5\n", "t.csv"));
        FAIL("no error");
    } catch (const InputError& e) {
        CHECK(e.diagnostic().field == "bytes_sent");
        CHECK(e.diagnostic().line == 1);
    }
}

TEST_CASE("a pipeline fitted a part at a time equals the one fitted on the whole table", "[feature_pipeline]") {
    const PipelineSpec spec = parse_pipeline_yaml("features:\n"
                                                  "  - {column: duration, transform: standard}\n"
                                                  "  - {column: process_name, transform: onehot}\n"
                                                  "  - {column: bytes_sent, transform: log_standard}\n"
                                                  "  - {column: dst_port, transform: onehot}\n", "p.yaml");
    const std::string header = "dst_port,process_name,duration,bytes_sent\n";
    std::vector<std::string> parts = {"443,curl,0.5,100\n443,curl,0.25,3000\n80,nginx,7,12\n",
                                      "22,zz,1,1\n",
                                      "53,a,0.125,64\n443,nginx,2,0\n443,a,3,5\n"};
    std::string all = header;
    for (const std::string& p : parts) all += p;
    FeatureMatrix whole;
    const FeaturePipeline want = FeaturePipeline::fit(spec, TextTable::parse(all, "t.csv"), &whole);
    PipelineFit fit(spec);
    std::size_t line = 2;
    for (const std::string& p : parts) {
        fit.add(TextTable::parse(header + p, "t.csv", line));
        line += static_cast<std::size_t>(std::count(p.begin(), p.end(), '\n'));
    }
    CHECK(fit.rows() == 7);
    FeatureMatrix got;
    const FeaturePipeline p = fit.finish(&got);
    // Categories sorted whatever part they were first seen in.
    CHECK(p.categorical()[0].categories == std::vector<std::string>{"a", "curl", "nginx", "zz"});
    CHECK(p.categorical()[1].categories == std::vector<std::string>{"22", "443", "53", "80"});
    for (std::size_t j = 0; j < 2; ++j) CHECK(p.categorical()[j].categories == want.categorical()[j].categories);
    for (std::size_t j = 0; j < 2; ++j) {
        CHECK(p.numeric()[j].mean == want.numeric()[j].mean);
        CHECK(p.numeric()[j].scale == want.numeric()[j].scale);
    }
    CHECK(got.numeric == whole.numeric);
    CHECK(got.codes == whole.codes);
    CHECK(got.category_counts == whole.category_counts);
    CHECK(got.codes == p.transform(TextTable::parse(all, "t.csv")).codes);

    // A bad cell in a later part is named at its line in the file.
    PipelineFit bad(spec);
    bad.add(TextTable::parse(header + parts[0], "t.csv", 2));
    const Diagnostic d = test::diagnostic_of([&] { bad.add(TextTable::parse(header + "22,,1,1\n", "t.csv", 5)); });
    CHECK(d.line == 5);
    CHECK(d.field == "process_name");
}
