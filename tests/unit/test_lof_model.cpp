// LOF against scikit-learn 1.2 (fixtures from scripts/make_fixtures.py): every
// lof within 1e-9 relative, every label exact, for fit and novelty scoring.
#include <catch2/catch.hpp>
#include <fstream>
#include <random>

#include "model/feature_pipeline.hpp"
#include "model/lof_model.hpp"
#include "tests/test_support.hpp"

using namespace netlof;

namespace {

struct Case {
    std::string dir;
    LofOptions options;
    std::size_t neighbors_used = 0;
    double offset = 0;
    std::size_t training_anomalies = 0;
};

Case load_case(const std::string& name) {
    Case c;
    c.dir = test::source_path("tests/data/lof/" + name + "/");
    std::ifstream in(c.dir + "params.txt");
    std::string key, value;
    while (in >> key >> value) {
        if (key == "neighbors") c.options.neighbors = std::stoul(value);
        else if (key == "contamination") c.options.contamination = value == "auto" ? std::nullopt : std::optional(std::stod(value));
        else if (key == "neighbors_used") c.neighbors_used = std::stoul(value);
        else if (key == "offset") c.offset = std::stod(value);
        else if (key == "training_anomalies") c.training_anomalies = std::stoul(value);
    }
    REQUIRE(c.neighbors_used > 0);
    return c;
}

// Compares (lof, anomaly) rows with expected_*.csv; returns how many differ.
std::size_t mismatches(const std::vector<double>& lof, const std::vector<std::uint8_t>& anomaly, const TextTable& want) {
    REQUIRE(want.rows() == lof.size());
    std::size_t bad = 0;
    for (std::size_t r = 0; r < lof.size(); ++r) {
        const bool ok = test::close_rel(lof[r], want.number(r, 0)) && anomaly[r] == (want.number(r, 1) == 1.0);
        if (!ok && bad++ < 5) UNSCOPED_INFO("row " << r << ": lof " << lof[r] << " want " << want.cell(r, 0));
    }
    return bad;
}

}  // namespace

TEST_CASE("LOF fit and novelty scores equal scikit-learn's", "[lof_model]") {
    const char* cases[] = {"notebook", "notebook_k5_auto", "notebook_k35", "clusters",
                           "numeric_only", "duplicates", "tiny_k_clipped"};
    for (const char* name : cases) {
        for (unsigned threads : {1u, 2u}) {
            INFO(name << " threads=" << threads);
            Case c = load_case(name);
            c.options.threads = threads;
            const PipelineSpec spec = parse_pipeline_yaml(test::read_text(c.dir + "pipeline.yaml"), c.dir + "pipeline.yaml");
            const TextTable train = test::read_csv(c.dir + "train.csv");
            const FeaturePipeline pipeline = FeaturePipeline::fit(spec, train);
            LofTrainingResult fit;
            const LofModel model = LofModel::fit(pipeline.transform(train), c.options, &fit);
            CHECK(fit.neighbors_used == c.neighbors_used);
            CHECK(fit.warnings.empty() == (c.options.neighbors == c.neighbors_used));
            CHECK(test::close_rel(model.offset(), c.offset, 1e-12));
            std::size_t anomalies = 0;
            for (auto a : fit.anomaly) anomalies += a;
            CHECK(anomalies == c.training_anomalies);
            CHECK(mismatches(fit.lof, fit.anomaly, test::read_csv(c.dir + "expected_train.csv")) == 0);

            const TextTable query = test::read_csv(c.dir + "query.csv");
            std::vector<LofScore> scores(query.rows());
            model.score(pipeline.transform(query), scores, threads);
            std::vector<double> lof;
            std::vector<std::uint8_t> anomaly;
            for (const LofScore& s : scores) {
                lof.push_back(s.lof);
                anomaly.push_back(s.anomaly);
            }
            CHECK(mismatches(lof, anomaly, test::read_csv(c.dir + "expected_query.csv")) == 0);
        }
    }
}

TEST_CASE("the notebook's three examples: anomaly, anomaly, normal", "[lof_model]") {
    const Case c = load_case("notebook");
    const PipelineSpec spec = parse_pipeline_yaml(test::read_text(test::source_path("configs/pipeline-seed.yaml")), "seed");
    const TextTable train = test::read_csv(c.dir + "train.csv");
    const FeaturePipeline pipeline = FeaturePipeline::fit(spec, train);
    const LofModel model = LofModel::fit(pipeline.transform(train), {20, 0.1, 0});
    const TextTable examples = test::read_csv(test::source_path("tests/data/notebook-examples.csv"));
    std::vector<LofScore> s(3);
    model.score(pipeline.transform(examples), s);
    CHECK(s[0].lof == Approx(2.5371372321).epsilon(1e-10));
    CHECK(s[1].lof == Approx(3.4932099283).epsilon(1e-10));
    CHECK(s[2].lof == Approx(1.0140249608).epsilon(1e-10));
    CHECK(s[0].anomaly);
    CHECK(s[1].anomaly);
    CHECK_FALSE(s[2].anomaly);
}

TEST_CASE("the blocked index finds the same neighbours as brute force", "[lof_model]") {
    // 3 numeric columns (a search unrolled for its width) and 10 (the general one).
    const int dims = GENERATE(3, 10);
    std::mt19937 gen(3);
    std::normal_distribution<double> normal;
    std::uniform_int_distribution<std::uint32_t> cat(0, 3);
    const std::size_t n = 3000, k = 15;
    FeatureMatrix train;
    train.numeric.resize(n, dims);
    train.category_counts = {4, 4};
    for (std::size_t i = 0; i < n; ++i) {
        for (int j = 0; j < dims; ++j) train.numeric(static_cast<Eigen::Index>(i), j) = normal(gen) * (1 + j);
        // Uneven blocks: most rows in a few, some blocks tiny (scanned, not treed).
        train.codes.push_back(i % 10 == 0 ? cat(gen) : 0);
        train.codes.push_back(i % 50 == 0 ? cat(gen) : 1);
    }
    const Eigen::MatrixXd dense = train.to_dense();
    BlockedNeighborIndex index(train);
    std::vector<std::uint32_t> q_codes = {0, 1, 3, 2, kUnknownCategory, 1, 2, kUnknownCategory};
    std::vector<Neighbor> got(k);
    std::vector<double> num(static_cast<std::size_t>(dims));
    for (std::size_t q = 0; q < 200; ++q) {
        const std::uint32_t codes[2] = {q_codes[(2 * q) % 8], q_codes[(2 * q + 1) % 8]};
        Eigen::VectorXd x = Eigen::VectorXd::Zero(dense.cols());
        for (int j = 0; j < dims; ++j) x(j) = num[static_cast<std::size_t>(j)] = normal(gen) * 2;
        if (codes[0] != kUnknownCategory) x(dims + codes[0]) = 1;
        if (codes[1] != kUnknownCategory) x(dims + 4 + codes[1]) = 1;
        const std::uint32_t skip = q % 2 ? static_cast<std::uint32_t>(q) : BlockedNeighborIndex::kNoSkip;
        std::vector<std::pair<double, std::uint32_t>> want;
        for (std::size_t i = 0; i < n; ++i)
            if (i != skip)
                want.emplace_back((dense.row(static_cast<Eigen::Index>(i)).transpose() - x).squaredNorm(),
                                  static_cast<std::uint32_t>(i));
        std::sort(want.begin(), want.end());
        REQUIRE(index.knn(num.data(), index.order_for(codes), k, skip, got.data()) == k);
        for (std::size_t j = 0; j < k; ++j) {
            CHECK(got[j].dist2 == Approx(want[j].first).epsilon(1e-12));
            CHECK(got[j].index != skip);
        }
    }
}

TEST_CASE("numpy_percentile interpolates as numpy's linear method", "[lof_model]") {
    // np.percentile([4, 1, 3, 2], q) for these q.
    CHECK(numpy_percentile({4, 1, 3, 2}, 10) == Approx(1.3));
    CHECK(numpy_percentile({4, 1, 3, 2}, 50) == 2.5);
    CHECK(numpy_percentile({4, 1, 3, 2}, 100) == 4);
    CHECK(numpy_percentile({4, 1, 3, 2}, 0) == 1);
    CHECK(numpy_percentile({7}, 30) == 7);
}

TEST_CASE("LOF refuses what scikit-learn refuses", "[lof_model]") {
    FeatureMatrix one;
    one.numeric.resize(1, 1);
    one.numeric(0, 0) = 1;
    CHECK_THROWS_AS(LofModel::fit(one, {}), std::invalid_argument);
    FeatureMatrix two;
    two.numeric.resize(2, 1);
    two.numeric << 1, 2;
    CHECK_THROWS_AS(LofModel::fit(two, {20, 0.6, 1}), std::invalid_argument);
    CHECK_THROWS_AS(LofModel::fit(two, {20, 0.0, 1}), std::invalid_argument);
    CHECK_NOTHROW(LofModel::fit(two, {20, 0.5, 1}));
}

TEST_CASE("a reachability floor: a tight cluster cannot make a small step an outlier, a large one still is",
          "[lof_model]") {
    // 200 points within 0.001 of the origin, in one dimension.
    FeatureMatrix train;
    train.numeric.resize(200, 1);
    for (Eigen::Index i = 0; i < 200; ++i) train.numeric(i, 0) = 0.001 * static_cast<double>(i) / 200.0;
    FeatureMatrix q;
    q.numeric.resize(2, 1);
    q.numeric(0, 0) = 0.05;  // a small step: a scheduler hiccup
    q.numeric(1, 0) = 5.0;   // ten times the floor away
    std::vector<LofScore> plain(2), floored(2);
    LofModel::fit(train, {20, std::nullopt, 1, 0}).score(q, plain, 1);
    LofModel::fit(train, {20, std::nullopt, 1, 0.5}).score(q, floored, 1);
    CHECK(plain[0].lof > 50);             // scikit-learn's LOF: a hiccup is a huge outlier
    CHECK(floored[0].lof == Approx(1.0).epsilon(0.11));  // within the floor: the same place
    CHECK(floored[1].lof > 9);            // still an outlier by about distance / floor
    // A floor of 0 is scikit-learn's LOF exactly (the fixtures above hold it to 1e-9).
    LofModel zero = LofModel::fit(train, {20, std::nullopt, 1, 0});
    CHECK(zero.reach_floor() == 0);
}
