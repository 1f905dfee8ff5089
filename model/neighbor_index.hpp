// Exact k-nearest-neighbour search in feature space, shaped by the data.
//
// Points are split into blocks that share every categorical value. Between two
// blocks the one-hot part of the distance is a constant c2 (2 w^2 per differing
// column, w^2 per column where the query's value is unknown; w the column's
// one-hot weight, 1 as scikit-learn encodes), and within a block
// only the numeric columns differ. So each block gets a small k-d tree over the
// numeric columns, and a query visits blocks in increasing c2, stopping once
// c2 alone is no better than its current k-th distance. With a dozen blocks and
// 5 numeric columns this searches a 5-D tree instead of a 15-D one.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "model/feature_pipeline.hpp"

namespace netlof {

struct Neighbor {
    double dist2;         // squared Euclidean distance in feature space
    std::uint32_t index;  // training row
};

class BlockedNeighborIndex {
public:
    // Builds one tree per block, on up to `threads` threads (0: every core).
    explicit BlockedNeighborIndex(const FeatureMatrix& train, unsigned threads = 0);
    ~BlockedNeighborIndex();
    BlockedNeighborIndex(const BlockedNeighborIndex&) = delete;
    BlockedNeighborIndex& operator=(const BlockedNeighborIndex&) = delete;

    // (c2, block) for every block, sorted by c2: the visiting order for a query
    // with these category codes. Queries that share codes share an order.
    using BlockOrder = std::vector<std::pair<double, std::uint32_t>>;
    BlockOrder order_for(const std::uint32_t* codes) const;

    static constexpr std::uint32_t kNoSkip = 0xFFFFFFFFu;
    // The k nearest training rows to the query, nearest first, written to out
    // (room for k). Row `skip` is left out (a training point's own row).
    // Returns how many were found (k unless the index holds fewer points).
    std::size_t knn(const double* numeric, const BlockOrder& order, std::size_t k, std::uint32_t skip,
                    Neighbor* out) const;

    // Where the query falls in the first block of its order (the leaf its
    // descent reaches): queries sorted by codes and then by this key come in
    // space order, each near the last, so their searches share cached nodes.
    std::uint64_t leaf_key(const double* numeric, const BlockOrder& order) const;

    // Every training row once, block by block, each block in its tree's leaf
    // order: neighbouring rows in this order are neighbours in space.
    std::vector<std::uint32_t> rows_in_block_order() const;

    std::size_t block_count() const { return blocks_.size(); }

    struct Block;  // one block's members, tree and points (in the .cpp)

private:
    std::size_t dims_;
    std::size_t categorical_dims_;
    std::vector<double> squared_weights_;  // per categorical column: its one-hot value, squared
    std::vector<std::unique_ptr<Block>> blocks_;
};

}  // namespace netlof
