#include "model/neighbor_index.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <nanoflann.hpp>

#include "common/parallel.hpp"

namespace netlof {

namespace {

// nanoflann's dataset interface over one block's row-major numeric rows.
struct BlockPoints {
    const double* data = nullptr;
    std::size_t count = 0;
    std::size_t dims = 0;
    std::size_t kdtree_get_point_count() const { return count; }
    double kdtree_get_pt(std::size_t i, std::size_t d) const { return data[i * dims + d]; }
    template <class BBox>
    bool kdtree_get_bbox(BBox&) const { return false; }
};

// Blocks at most this large are scanned directly: cheaper than a tree walk.
constexpr std::size_t kScanBelow = 48;
constexpr std::size_t kLeafSize = 32;

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

// nanoflann result set for one block: distances found inside the block are
// offset by the block's categorical c2 and merged into the shared KBest, and
// the tree prunes against the shared k-th distance minus c2.
struct BlockResultSet {
    KBest& best;
    double c2;
    const std::uint32_t* members;
    std::uint32_t skip;
    bool full() const { return best.full(); }
    double worstDist() const { return best.worst() - c2; }
    bool addPoint(double d2, std::uint32_t local) {
        const std::uint32_t global = members[local];
        if (global != skip) best.add(d2 + c2, global);
        return true;
    }
};

// A k-d tree over one block's numeric columns. The dimension is a template
// argument for the common small cases, so nanoflann's distance loops unroll.
class BlockTree {
public:
    virtual ~BlockTree() = default;
    virtual void search(BlockResultSet& rs, const double* query) const = 0;
};

template <int Dim>
class BlockTreeImpl final : public BlockTree {
public:
    // Builds the tree, then reorders the block's points and members into the
    // tree's leaf order and makes its index map the identity: a leaf is then a
    // contiguous run of memory, and walking members in order walks space.
    BlockTreeImpl(std::size_t dims, BlockPoints& points, std::vector<double>& data, std::vector<std::uint32_t>& members)
        : tree_(dims, points, nanoflann::KDTreeSingleIndexAdaptorParams(kLeafSize)) {
        auto& order = tree_.vAcc;
        std::vector<double> sorted(data.size());
        std::vector<std::uint32_t> sorted_members(members.size());
        for (std::size_t i = 0; i < order.size(); ++i) {
            std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(order[i] * dims), dims,
                        sorted.begin() + static_cast<std::ptrdiff_t>(i * dims));
            sorted_members[i] = members[order[i]];
            order[i] = static_cast<std::uint32_t>(i);
        }
        data.swap(sorted);  // same size: the adaptor's pointer is refreshed below
        members.swap(sorted_members);
        points.data = data.data();
    }
    void search(BlockResultSet& rs, const double* query) const override {
        tree_.findNeighbors(rs, query, nanoflann::SearchParams(0, 0.0f, false));
    }

private:
    using Tree = nanoflann::KDTreeSingleIndexAdaptor<
        nanoflann::L2_Simple_Adaptor<double, BlockPoints, double, std::uint32_t>, BlockPoints, Dim, std::uint32_t>;
    Tree tree_;
};

std::unique_ptr<BlockTree> make_tree(std::size_t dims, BlockPoints& points, std::vector<double>& data,
                                     std::vector<std::uint32_t>& members) {
    switch (dims) {
        case 1: return std::make_unique<BlockTreeImpl<1>>(dims, points, data, members);
        case 2: return std::make_unique<BlockTreeImpl<2>>(dims, points, data, members);
        case 3: return std::make_unique<BlockTreeImpl<3>>(dims, points, data, members);
        case 4: return std::make_unique<BlockTreeImpl<4>>(dims, points, data, members);
        case 5: return std::make_unique<BlockTreeImpl<5>>(dims, points, data, members);
        case 6: return std::make_unique<BlockTreeImpl<6>>(dims, points, data, members);
        case 7: return std::make_unique<BlockTreeImpl<7>>(dims, points, data, members);
        case 8: return std::make_unique<BlockTreeImpl<8>>(dims, points, data, members);
        default: return std::make_unique<BlockTreeImpl<-1>>(dims, points, data, members);
    }
}

}  // namespace

struct BlockedNeighborIndex::Block {
    std::vector<std::uint32_t> codes;    // the categorical values every member shares
    std::vector<std::uint32_t> members;  // training rows, in block order
    std::vector<double> points;          // members' numeric rows, row-major
    BlockPoints adaptor;
    std::unique_ptr<BlockTree> tree;     // null for small blocks or no numeric columns
};

BlockedNeighborIndex::BlockedNeighborIndex(const FeatureMatrix& train, unsigned threads)
    : dims_(train.numeric_dims()), categorical_dims_(train.categorical_dims()) {
    std::map<std::vector<std::uint32_t>, std::size_t> by_codes;
    for (std::size_t i = 0; i < train.rows(); ++i) {
        std::vector<std::uint32_t> key(train.codes_row(i), train.codes_row(i) + categorical_dims_);
        auto [it, inserted] = by_codes.emplace(std::move(key), blocks_.size());
        if (inserted) {
            blocks_.push_back(std::make_unique<Block>());
            blocks_.back()->codes = it->first;
        }
        Block& b = *blocks_[it->second];
        b.members.push_back(static_cast<std::uint32_t>(i));
        b.points.insert(b.points.end(), train.numeric_row(i), train.numeric_row(i) + dims_);
    }
    parallel_for(blocks_.size(), 1, threads ? threads : default_threads(), [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            Block& b = *blocks_[i];
            b.adaptor = BlockPoints{b.points.data(), b.members.size(), dims_};
            if (dims_ > 0 && b.members.size() > kScanBelow) b.tree = make_tree(dims_, b.adaptor, b.points, b.members);
        }
    });
}

std::vector<std::uint32_t> BlockedNeighborIndex::rows_in_block_order() const {
    std::vector<std::uint32_t> rows;
    for (const auto& b : blocks_) rows.insert(rows.end(), b->members.begin(), b->members.end());
    return rows;
}

BlockedNeighborIndex::~BlockedNeighborIndex() = default;


BlockedNeighborIndex::BlockOrder BlockedNeighborIndex::order_for(const std::uint32_t* codes) const {
    BlockOrder order;
    order.reserve(blocks_.size());
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
        double c2 = 0;
        for (std::size_t j = 0; j < categorical_dims_; ++j) {
            // Training codes are always known; an unknown query value is an
            // all-zero one-hot vector, 1 away (squared) from any known one.
            if (codes[j] == blocks_[b]->codes[j]) continue;
            c2 += codes[j] == kUnknownCategory ? 1.0 : 2.0;
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
    for (const auto& [c2, b] : order) {
        if (best.full() && !(c2 < best.worst())) break;  // nothing in this or later blocks can enter
        const Block& block = *blocks_[b];
        if (block.tree) {
            BlockResultSet rs{best, c2, block.members.data(), skip};
            block.tree->search(rs, numeric);
            continue;
        }
        const double* p = block.points.data();
        for (std::size_t m = 0; m < block.members.size(); ++m, p += dims_) {
            if (block.members[m] == skip) continue;
            double d2 = 0;
            for (std::size_t j = 0; j < dims_; ++j) {
                const double diff = numeric[j] - p[j];
                d2 += diff * diff;
            }
            best.add(d2 + c2, block.members[m]);
        }
    }
    return best.size();
}

}  // namespace netlof
