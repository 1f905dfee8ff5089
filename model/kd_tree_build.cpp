#include "model/kd_tree_build.hpp"

#include <algorithm>
#include <stdexcept>

namespace netlof {

namespace {

// The steps keep nanoflann's names (divideTree, middleSplit_, planeSplit,
// computeMinMax) and its arithmetic, types and comparisons, so that every
// choice falls the same way.
class KdTreeBuilder {
public:
    KdTreeBuilder(std::vector<double>& rows, std::vector<std::uint32_t>& ids, std::size_t dims, std::size_t leaf_size)
        : rows_(rows), ids_(ids), dims_(dims), leaf_size_(leaf_size) {}

    std::vector<KdNode> build() {
        // computeBoundingBox: the root's box from every point.
        std::vector<double> lo(dims_), hi(dims_);
        for (std::size_t d = 0; d < dims_; ++d) lo[d] = hi[d] = at(0, d);
        for (std::size_t i = 1; i < ids_.size(); ++i)
            for (std::size_t d = 0; d < dims_; ++d) {
                const double v = at(i, d);
                if (v < lo[d]) lo[d] = v;
                if (v > hi[d]) hi[d] = v;
            }
        divide_tree(0, ids_.size(), lo, hi);
        return std::move(nodes_);
    }

private:
    double at(std::size_t i, std::size_t d) const { return rows_[i * dims_ + d]; }
    void swap_points(std::size_t a, std::size_t b) {
        std::swap(ids_[a], ids_[b]);
        std::swap_ranges(rows_.begin() + static_cast<std::ptrdiff_t>(a * dims_),
                         rows_.begin() + static_cast<std::ptrdiff_t>((a + 1) * dims_),
                         rows_.begin() + static_cast<std::ptrdiff_t>(b * dims_));
    }

    void compute_min_max(std::size_t ind, std::size_t count, std::size_t d, double& min_elem, double& max_elem) const {
        min_elem = max_elem = at(ind, d);
        for (std::size_t i = 1; i < count; ++i) {
            const double v = at(ind + i, d);
            if (v < min_elem) min_elem = v;
            if (v > max_elem) max_elem = v;
        }
    }

    // Builds the node for points [left, right) inside box (lo, hi); on return
    // the box is the points' own (the union of the children's).
    std::uint32_t divide_tree(std::size_t left, std::size_t right, std::vector<double>& lo, std::vector<double>& hi) {
        const auto node = static_cast<std::uint32_t>(nodes_.size());
        nodes_.push_back({static_cast<std::uint32_t>(left), static_cast<std::uint32_t>(right), 0, 0, 0, 0, 0});
        if (right - left <= leaf_size_) {
            for (std::size_t d = 0; d < dims_; ++d) lo[d] = hi[d] = at(left, d);
            for (std::size_t k = left + 1; k < right; ++k)
                for (std::size_t d = 0; d < dims_; ++d) {
                    if (lo[d] > at(k, d)) lo[d] = at(k, d);
                    if (hi[d] < at(k, d)) hi[d] = at(k, d);
                }
            return node;
        }
        std::size_t idx = 0, cutfeat = 0;
        double cutval = 0;
        middle_split(left, right - left, idx, cutfeat, cutval, lo, hi);
        std::vector<double> left_lo(lo), left_hi(hi);
        left_hi[cutfeat] = cutval;
        const std::uint32_t child1 = divide_tree(left, left + idx, left_lo, left_hi);
        std::vector<double> right_lo(lo), right_hi(hi);
        right_lo[cutfeat] = cutval;
        const std::uint32_t child2 = divide_tree(left + idx, right, right_lo, right_hi);
        nodes_[node] = {static_cast<std::uint32_t>(left), static_cast<std::uint32_t>(right), child1, child2,
                        static_cast<std::uint32_t>(cutfeat), left_hi[cutfeat], right_lo[cutfeat]};
        for (std::size_t d = 0; d < dims_; ++d) {
            lo[d] = std::min(left_lo[d], right_lo[d]);
            hi[d] = std::max(left_hi[d], right_hi[d]);
        }
        return node;
    }

    void middle_split(std::size_t ind, std::size_t count, std::size_t& index, std::size_t& cutfeat, double& cutval,
                      const std::vector<double>& lo, const std::vector<double>& hi) {
        const auto eps = static_cast<double>(0.00001);
        double max_span = hi[0] - lo[0];
        for (std::size_t d = 1; d < dims_; ++d) {
            const double span = hi[d] - lo[d];
            if (span > max_span) max_span = span;
        }
        double max_spread = -1;
        cutfeat = 0;
        for (std::size_t d = 0; d < dims_; ++d) {
            const double span = hi[d] - lo[d];
            if (span > (1 - eps) * max_span) {
                double min_elem, max_elem;
                compute_min_max(ind, count, d, min_elem, max_elem);
                const double spread = max_elem - min_elem;
                if (spread > max_spread) {
                    cutfeat = d;
                    max_spread = spread;
                }
            }
        }
        const double split_val = (lo[cutfeat] + hi[cutfeat]) / 2;
        double min_elem, max_elem;
        compute_min_max(ind, count, cutfeat, min_elem, max_elem);
        if (split_val < min_elem) cutval = min_elem;
        else if (split_val > max_elem) cutval = max_elem;
        else cutval = split_val;
        std::size_t lim1, lim2;
        plane_split(ind, count, cutfeat, cutval, lim1, lim2);
        if (lim1 > count / 2) index = lim1;
        else if (lim2 < count / 2) index = lim2;
        else index = count / 2;
    }

    // Points below cutval first, then equal, then above, by nanoflann's two
    // passes of swaps (so equal points land where nanoflann puts them).
    void plane_split(std::size_t ind, std::size_t count, std::size_t cutfeat, double cutval, std::size_t& lim1,
                     std::size_t& lim2) {
        std::size_t left = 0, right = count - 1;
        for (;;) {
            while (left <= right && at(ind + left, cutfeat) < cutval) ++left;
            while (right && left <= right && at(ind + right, cutfeat) >= cutval) --right;
            if (left > right || !right) break;
            swap_points(ind + left, ind + right);
            ++left;
            --right;
        }
        lim1 = left;
        right = count - 1;
        for (;;) {
            while (left <= right && at(ind + left, cutfeat) <= cutval) ++left;
            while (right && left <= right && at(ind + right, cutfeat) > cutval) --right;
            if (left > right || !right) break;
            swap_points(ind + left, ind + right);
            ++left;
            --right;
        }
        lim2 = left;
    }

    std::vector<double>& rows_;
    std::vector<std::uint32_t>& ids_;
    std::size_t dims_;
    std::size_t leaf_size_;
    std::vector<KdNode> nodes_;
};

}  // namespace

std::vector<KdNode> build_kd_tree(std::vector<double>& rows, std::vector<std::uint32_t>& ids, std::size_t dims,
                                  std::size_t leaf_size) {
    if (dims == 0 || ids.empty() || rows.size() != ids.size() * dims || leaf_size == 0)
        throw std::invalid_argument("a k-d tree needs columns, rows, and rows x columns values");
    return KdTreeBuilder(rows, ids, dims, leaf_size).build();
}

}  // namespace netlof
