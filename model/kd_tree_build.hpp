// Builds a k-d tree over row-major points, the tree nanoflann 1.4.3's
// KDTreeSingleIndexAdaptor builds (its middle split, plane split and leaf
// size rule), node for node and in the same leaf order, but moving the rows
// themselves instead of an index array. nanoflann reads every point through
// its index at every level, a cache miss each once blocks hold millions of
// rows; here every scan of a node's points is sequential. A test builds both
// on the same points and compares them.
#pragma once

#include <cstdint>
#include <vector>

namespace netlof {

struct KdNode {
    // Covers points [begin, end). child1 == 0 marks a leaf (the root, node 0,
    // is nobody's child). An inner node splits column `dim`: its first
    // child's points are at most divlow there, its second's at least divhigh.
    std::uint32_t begin, end, child1, child2, dim;
    double divlow, divhigh;
};

// Reorders rows (count x dims, row-major) and their ids together into the
// tree's leaf order and returns its nodes in pre-order (each node before its
// first child's subtree, then its second's). Leaves hold at most leaf_size
// points. Requires dims > 0 and at least one row.
std::vector<KdNode> build_kd_tree(std::vector<double>& rows, std::vector<std::uint32_t>& ids, std::size_t dims,
                                  std::size_t leaf_size);

}  // namespace netlof
