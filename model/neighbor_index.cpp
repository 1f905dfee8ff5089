#include "model/neighbor_index.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include "common/parallel.hpp"
#include "model/kd_tree_build.hpp"

namespace netlof {

namespace {

// Blocks at most this large are scanned directly: cheaper than a tree walk.
constexpr std::size_t kScanBelow = 48;
constexpr std::size_t kLeafSize = 32;
// A leaf's distances are computed this many points at a time (a scanned block
// is one leaf of any size).
constexpr std::size_t kPiece = 64;

// The k best (smallest dist2) seen so far, sorted, in caller-provided storage.
class KBest {
public:
    KBest(Neighbor* out, std::size_t k) : out_(out), k_(k) {}
    bool full() const { return n_ == k_; }
    std::size_t size() const { return n_; }
    double worst() const { return n_ == k_ ? out_[k_ - 1].dist2 : std::numeric_limits<double>::infinity(); }
    void add(double d2, std::uint32_t index) {
        if (n_ == k_ && !(d2 < out_[k_ - 1].dist2)) return;
        std::size_t i = n_ < k_ ? n_++ : k_ - 1;
        while (i > 0 && out_[i - 1].dist2 > d2) {
            out_[i] = out_[i - 1];
            --i;
        }
        out_[i] = {d2, index};
    }

private:
    Neighbor* out_;
    std::size_t k_;
    std::size_t n_ = 0;
};

}  // namespace

struct BlockedNeighborIndex::Block {
    using Node = KdNode;
    std::vector<std::uint32_t> codes;    // the categorical values every member shares
    std::vector<std::uint32_t> members;  // training rows, in leaf order
    // Members' numeric columns, leaf by leaf, and inside a leaf column by
    // column: a leaf [b, e) holds column j at points[b * dims + j * (e - b)].
    std::vector<double> points;
    std::vector<Node> nodes;     // empty: the block is scanned, one leaf of every member
    std::vector<double> lo, hi;  // the block's bounding box
};

namespace {

using Block = BlockedNeighborIndex::Block;

// Builds a block from its members' row-major numeric rows: large blocks get
// a k-d tree (the members go in its leaf order), and the rows are stored leaf
// by leaf, column by column.
void build_block(Block& b, std::vector<double> rows, std::size_t dims) {
    const std::size_t n = b.members.size();
    if (dims > 0 && n > kScanBelow) b.nodes = build_kd_tree(rows, b.members, dims, kLeafSize);
    b.lo.assign(dims, std::numeric_limits<double>::infinity());
    b.hi.assign(dims, -std::numeric_limits<double>::infinity());
    for (std::size_t p = 0; p < n; ++p)
        for (std::size_t j = 0; j < dims; ++j) {
            b.lo[j] = std::min(b.lo[j], rows[p * dims + j]);
            b.hi[j] = std::max(b.hi[j], rows[p * dims + j]);
        }
    // Each leaf turned column by column in place (through a copy of the leaf),
    // so the block's rows become its points without a second array.
    std::vector<double> leaf_rows;
    auto store_leaf = [&](std::size_t begin, std::size_t end) {
        const std::size_t m = end - begin;
        leaf_rows.assign(rows.begin() + static_cast<std::ptrdiff_t>(begin * dims),
                         rows.begin() + static_cast<std::ptrdiff_t>(end * dims));
        for (std::size_t j = 0; j < dims; ++j)
            for (std::size_t p = 0; p < m; ++p) rows[begin * dims + j * m + p] = leaf_rows[p * dims + j];
    };
    if (b.nodes.empty()) store_leaf(0, n);
    for (const Block::Node& nd : b.nodes)
        if (nd.child1 == 0) store_leaf(nd.begin, nd.end);
    b.points = std::move(rows);
}

// One query's search of one block, as nanoflann's searchLevel walks (the
// same pruning, so the same neighbours), with a leaf's distances computed
// column by column over its points: a loop the compiler vectorises. Each
// point's sum still runs over the columns in order, so a pair's distance has
// the same bits however it is found. Dims is the number of numeric columns
// when small (loops unrolled), else -1.
template <int Dims>
struct BlockSearch {
    const Block& block;
    std::size_t dims;
    double c2;
    const double* x;
    std::uint32_t skip;
    KBest& best;

    std::size_t cols() const { return Dims > 0 ? static_cast<std::size_t>(Dims) : dims; }

    // Squared distances from x to points [base, base + count) of the leaf
    // [begin, end) (count at most kPiece).
    void distances(std::size_t begin, std::size_t end, std::size_t base, std::size_t count, double* d2) const {
        const std::size_t m = end - begin;
        const double* leaf = block.points.data() + begin * cols();
        if (cols() == 0) std::fill_n(d2, count, 0.0);
        for (std::size_t j = 0; j < cols(); ++j) {
            const double* col = leaf + j * m + base;
            const double xj = x[j];
            if (j == 0) {  // a sum started at 0: 0 + t is t, the same bits
                for (std::size_t p = 0; p < count; ++p) d2[p] = (xj - col[p]) * (xj - col[p]);
                continue;
            }
            for (std::size_t p = 0; p < count; ++p) {
                const double diff = xj - col[p];
                d2[p] += diff * diff;
            }
        }
    }

    // A scanned block: every member offered.
    void scan() const {
        const std::size_t n = block.members.size();
        double d2[kPiece];
        for (std::size_t base = 0; base < n; base += kPiece) {
            const std::size_t count = std::min(kPiece, n - base);
            distances(0, n, base, count, d2);
            for (std::size_t p = 0; p < count; ++p)
                if (block.members[base + p] != skip) best.add(d2[p] + c2, block.members[base + p]);
        }
    }

    void search() const {
        double dists[Dims > 0 ? Dims : 64];
        std::vector<double> wide;
        double* d = dists;
        if (Dims <= 0 && dims > 64) {
            wide.resize(dims);
            d = wide.data();
        }
        double mindist = 0;
        for (std::size_t j = 0; j < cols(); ++j) {
            d[j] = 0;
            if (x[j] < block.lo[j]) {
                d[j] = (x[j] - block.lo[j]) * (x[j] - block.lo[j]);
                mindist += d[j];
            }
            if (x[j] > block.hi[j]) {
                d[j] = (x[j] - block.hi[j]) * (x[j] - block.hi[j]);
                mindist += d[j];
            }
        }
        level(0, mindist, d);
    }

    void level(std::uint32_t node, double mindist, double* dists) const {
        const Block::Node& nd = block.nodes[node];
        if (nd.child1 == 0) {
            leaf(nd);
            return;
        }
        const double val = x[nd.dim];
        const double diff1 = val - nd.divlow, diff2 = val - nd.divhigh;
        std::uint32_t first, other;
        double cut;
        if (diff1 + diff2 < 0) {
            first = nd.child1;
            other = nd.child2;
            cut = (val - nd.divhigh) * (val - nd.divhigh);
        } else {
            first = nd.child2;
            other = nd.child1;
            cut = (val - nd.divlow) * (val - nd.divlow);
        }
        level(first, mindist, dists);
        const double saved = dists[nd.dim];
        mindist = mindist + cut - saved;
        dists[nd.dim] = cut;
        if (mindist <= best.worst() - c2) level(other, mindist, dists);
        dists[nd.dim] = saved;
    }

    void leaf(const Block::Node& nd) const {
        const double worst = best.worst() - c2;  // read once per leaf, as nanoflann does
        const std::size_t m = nd.end - nd.begin;
        double d2[kPiece];
        for (std::size_t base = 0; base < m; base += kPiece) {
            const std::size_t count = std::min(kPiece, m - base);
            distances(nd.begin, nd.end, base, count, d2);
            // The points below the k-th distance as bits, set without branches.
            std::uint64_t below = 0;
            for (std::size_t p = 0; p < count; ++p) below |= std::uint64_t{d2[p] < worst} << p;
            for (; below != 0; below &= below - 1) {
                const auto p = static_cast<std::size_t>(__builtin_ctzll(below));
                const std::uint32_t row = block.members[nd.begin + base + p];
                if (row != skip) best.add(d2[p] + c2, row);
            }
        }
    }
};

template <int Dims>
void search_blocks(const std::vector<std::unique_ptr<Block>>& blocks, std::size_t dims, const double* numeric,
                   const BlockedNeighborIndex::BlockOrder& order, std::uint32_t skip, KBest& best) {
    for (const auto& [c2, b] : order) {
        if (best.full() && !(c2 < best.worst())) break;  // nothing in this or later blocks can enter
        const BlockSearch<Dims> search{*blocks[b], dims, c2, numeric, skip, best};
        if (blocks[b]->nodes.empty()) search.scan();
        else search.search();
    }
}

}  // namespace

BlockedNeighborIndex::BlockedNeighborIndex(const FeatureMatrix& train, unsigned threads)
    : dims_(train.numeric_dims()), categorical_dims_(train.categorical_dims()) {
    for (std::size_t j = 0; j < categorical_dims_; ++j) squared_weights_.push_back(train.category_weight(j) * train.category_weight(j));
    // Each row's block first, then each block's rows, sized once.
    std::map<std::vector<std::uint32_t>, std::uint32_t> by_codes;
    std::vector<std::uint32_t> block_of(train.rows());
    std::vector<std::size_t> sizes;
    std::vector<std::uint32_t> key;  // one buffer: a new block copies it
    for (std::size_t i = 0; i < train.rows(); ++i) {
        key.assign(train.codes_row(i), train.codes_row(i) + categorical_dims_);
        auto it = by_codes.find(key);
        if (it == by_codes.end()) {
            it = by_codes.emplace(key, static_cast<std::uint32_t>(blocks_.size())).first;
            blocks_.push_back(std::make_unique<Block>());
            blocks_.back()->codes = key;
            sizes.push_back(0);
        }
        block_of[i] = it->second;
        ++sizes[it->second];
    }
    std::vector<std::vector<double>> rows(blocks_.size());
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        blocks_[b]->members.reserve(sizes[b]);
        rows[b].reserve(sizes[b] * dims_);
    }
    for (std::size_t i = 0; i < train.rows(); ++i) {
        blocks_[block_of[i]]->members.push_back(static_cast<std::uint32_t>(i));
        rows[block_of[i]].insert(rows[block_of[i]].end(), train.numeric_row(i), train.numeric_row(i) + dims_);
    }
    parallel_for(blocks_.size(), 1, threads ? threads : default_threads(), [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) build_block(*blocks_[i], std::move(rows[i]), dims_);
    });
}

std::vector<std::uint32_t> BlockedNeighborIndex::rows_in_block_order() const {
    std::vector<std::uint32_t> rows;
    for (const auto& b : blocks_) rows.insert(rows.end(), b->members.begin(), b->members.end());
    return rows;
}

BlockedNeighborIndex::~BlockedNeighborIndex() = default;


std::uint64_t BlockedNeighborIndex::leaf_key(const double* numeric, const BlockOrder& order) const {
    if (order.empty()) return 0;
    const std::uint32_t b = order.front().second;
    const Block& block = *blocks_[b];
    std::uint32_t node = 0;
    if (!block.nodes.empty())
        while (block.nodes[node].child1 != 0) {
            const Block::Node& nd = block.nodes[node];
            // The first child the search would enter.
            node = numeric[nd.dim] - nd.divlow + (numeric[nd.dim] - nd.divhigh) < 0 ? nd.child1 : nd.child2;
        }
    return (std::uint64_t{b} << 32) | (block.nodes.empty() ? 0 : block.nodes[node].begin);
}

BlockedNeighborIndex::BlockOrder BlockedNeighborIndex::order_for(const std::uint32_t* codes) const {
    BlockOrder order;
    order.reserve(blocks_.size());
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        double c2 = 0;
        for (std::size_t j = 0; j < categorical_dims_; ++j) {
            // Training codes are always known; an unknown query value is an
            // all-zero one-hot vector, 1 away (squared) from any known one.
            if (codes[j] == blocks_[b]->codes[j]) continue;
            c2 += (codes[j] == kUnknownCategory ? 1.0 : 2.0) * squared_weights_[j];
        }
        order.emplace_back(c2, static_cast<std::uint32_t>(b));
    }
    std::sort(order.begin(), order.end());
    return order;
}

std::size_t BlockedNeighborIndex::knn(const double* numeric, const BlockOrder& order, std::size_t k,
                                      std::uint32_t skip, Neighbor* out) const {
    if (k == 0) return 0;
    KBest best(out, k);
    switch (dims_) {
        case 1: search_blocks<1>(blocks_, dims_, numeric, order, skip, best); break;
        case 2: search_blocks<2>(blocks_, dims_, numeric, order, skip, best); break;
        case 3: search_blocks<3>(blocks_, dims_, numeric, order, skip, best); break;
        case 4: search_blocks<4>(blocks_, dims_, numeric, order, skip, best); break;
        case 5: search_blocks<5>(blocks_, dims_, numeric, order, skip, best); break;
        case 6: search_blocks<6>(blocks_, dims_, numeric, order, skip, best); break;
        case 7: search_blocks<7>(blocks_, dims_, numeric, order, skip, best); break;
        case 8: search_blocks<8>(blocks_, dims_, numeric, order, skip, best); break;
        default: search_blocks<-1>(blocks_, dims_, numeric, order, skip, best); break;
    }
    return best.size();
}

}  // namespace netlof
