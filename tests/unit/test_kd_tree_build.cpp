#include <catch2/catch.hpp>
#include <nanoflann.hpp>
#include <random>

#include "model/kd_tree_build.hpp"

using namespace netlof;

namespace {

struct Points {
    const std::vector<double>* rows;
    std::size_t dims;
    std::size_t kdtree_get_point_count() const { return rows->size() / dims; }
    double kdtree_get_pt(std::size_t i, std::size_t d) const { return (*rows)[i * dims + d]; }
    template <class BBox>
    bool kdtree_get_bbox(BBox&) const { return false; }
};
using Reference = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, Points, double, std::uint32_t>,
                                                      Points, -1, std::uint32_t>;

// nanoflann's nodes in pre-order, as build_kd_tree lists its own.
std::uint32_t flatten(const Reference::Node* n, std::vector<KdNode>& out) {
    const auto at = static_cast<std::uint32_t>(out.size());
    out.push_back({});
    if (n->child1 == nullptr) {
        out[at] = {static_cast<std::uint32_t>(n->node_type.lr.left), static_cast<std::uint32_t>(n->node_type.lr.right),
                   0, 0, 0, 0, 0};
        return at;
    }
    const std::uint32_t c1 = flatten(n->child1, out);
    const std::uint32_t c2 = flatten(n->child2, out);
    out[at] = {out[c1].begin, out[c2].end, c1, c2, static_cast<std::uint32_t>(n->node_type.sub.divfeat),
               n->node_type.sub.divlow, n->node_type.sub.divhigh};
    return at;
}

}  // namespace

TEST_CASE("build_kd_tree builds nanoflann's tree, node for node, in its leaf order", "[kd_tree_build]") {
    const std::size_t dims = GENERATE(1, 3, 5, 10);
    const std::size_t count = GENERATE(33, 700, 20000);
    const std::size_t leaf = GENERATE(1, 10, 32);
    // Coarse values: many points share a coordinate, so cuts fall on ties and
    // the plane split's handling of equal points decides where they go.
    std::mt19937 gen(static_cast<unsigned>(dims * 1000003 + count * 31 + leaf));
    std::uniform_int_distribution<int> coarse(0, 12);
    std::normal_distribution<double> fine;
    std::vector<double> rows(count * dims);
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i % 3 == 0 ? fine(gen) : coarse(gen);
    if (count > 100)  // a run of identical rows
        for (std::size_t i = 50; i < 90; ++i) std::copy_n(rows.begin(), dims, rows.begin() + static_cast<std::ptrdiff_t>(i * dims));

    const Points points{&rows, dims};
    const Reference reference(static_cast<int>(dims), points, nanoflann::KDTreeSingleIndexAdaptorParams(leaf));
    std::vector<KdNode> want;
    flatten(reference.root_node, want);

    std::vector<double> moved = rows;
    std::vector<std::uint32_t> ids(count);
    for (std::size_t i = 0; i < count; ++i) ids[i] = static_cast<std::uint32_t>(i);
    const std::vector<KdNode> got = build_kd_tree(moved, ids, dims, leaf);

    REQUIRE(ids == std::vector<std::uint32_t>(reference.vAcc.begin(), reference.vAcc.end()));
    for (std::size_t i = 0; i < count; ++i)  // every row moved with its id
        REQUIRE(std::equal(moved.begin() + static_cast<std::ptrdiff_t>(i * dims),
                           moved.begin() + static_cast<std::ptrdiff_t>((i + 1) * dims),
                           rows.begin() + static_cast<std::ptrdiff_t>(ids[i] * dims)));
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("node " << i);
        CHECK(got[i].begin == want[i].begin);
        CHECK(got[i].end == want[i].end);
        CHECK(got[i].child1 == want[i].child1);
        CHECK(got[i].child2 == want[i].child2);
        if (got[i].child1 == 0) continue;
        CHECK(got[i].dim == want[i].dim);
        CHECK(got[i].divlow == want[i].divlow);
        CHECK(got[i].divhigh == want[i].divhigh);
    }
}

TEST_CASE("build_kd_tree refuses what it cannot build", "[kd_tree_build]") {
    std::vector<double> rows{1, 2, 3};
    std::vector<std::uint32_t> ids{0, 1, 2};
    CHECK_THROWS_AS(build_kd_tree(rows, ids, 0, 32), std::invalid_argument);
    CHECK_THROWS_AS(build_kd_tree(rows, ids, 2, 32), std::invalid_argument);
    std::vector<std::uint32_t> none;
    std::vector<double> empty;
    CHECK_THROWS_AS(build_kd_tree(empty, none, 1, 32), std::invalid_argument);
    const std::vector<KdNode> one = build_kd_tree(rows, ids, 1, 32);
    REQUIRE(one.size() == 1);
    CHECK(one[0].begin == 0);
    CHECK(one[0].end == 3);
    CHECK(one[0].child1 == 0);
}
