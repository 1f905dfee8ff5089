#include "model/lof_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "model/huge_page_allocator.hpp"
#include "common/parallel.hpp"

namespace netlof {

namespace {

constexpr std::size_t kChunk = 512;

// Row indices of m grouped so that rows with equal category codes are
// adjacent (each worker then computes a block order once per run of rows),
// and inside a run in the order of the leaves they fall in, so that each
// row's search walks nodes the one before brought into the cache.
std::vector<std::uint32_t> rows_in_space_order(const FeatureMatrix& m, const BlockedNeighborIndex& index) {
    std::vector<std::uint32_t> rows(m.rows());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::uint32_t>(i);
    const std::size_t c = m.categorical_dims();
    if (c > 0)
        std::stable_sort(rows.begin(), rows.end(), [&](std::uint32_t a, std::uint32_t b) {
            return std::lexicographical_compare(m.codes_row(a), m.codes_row(a) + c, m.codes_row(b), m.codes_row(b) + c);
        });
    std::vector<std::uint64_t> key(rows.size());
    for (std::size_t begin = 0, end; begin < rows.size(); begin = end) {
        const std::uint32_t* codes = m.codes_row(rows[begin]);
        for (end = begin + 1; end < rows.size() && std::equal(codes, codes + c, m.codes_row(rows[end]));) ++end;
        const BlockedNeighborIndex::BlockOrder order = index.order_for(codes);
        for (std::size_t i = begin; i < end; ++i) key[rows[i]] = index.leaf_key(m.numeric_row(rows[i]), order);
        std::stable_sort(rows.begin() + static_cast<std::ptrdiff_t>(begin), rows.begin() + static_cast<std::ptrdiff_t>(end),
                         [&](std::uint32_t a, std::uint32_t b) { return key[a] < key[b]; });
    }
    return rows;
}

// Calls fn(position, row, order) for every row of m = rows[position], in
// parallel, with the block order for that row's codes (recomputed only when
// the codes change, so rows should come grouped by codes). Results indexed by
// position are written sequentially by each chunk.
template <typename Fn>
void for_each_row(const FeatureMatrix& m, const std::vector<std::uint32_t>& rows, const BlockedNeighborIndex& index,
                  unsigned threads, Fn&& fn) {
    const std::size_t c = m.categorical_dims();
    parallel_for(rows.size(), kChunk, threads ? threads : default_threads(), [&](std::size_t begin, std::size_t end) {
        BlockedNeighborIndex::BlockOrder order;
        const std::uint32_t* order_codes = nullptr;
        for (std::size_t i = begin; i < end; ++i) {
            const std::uint32_t r = rows[i];
            if (order_codes == nullptr || !std::equal(order_codes, order_codes + c, m.codes_row(r))) {
                order = index.order_for(m.codes_row(r));
                order_codes = m.codes_row(r);
            }
            fn(i, r, order);
        }
    });
}

// lrd = 1 / (mean reach-dist + 1e-10), reach-dist(p, o) = max(d(p, o), k-dist(o)),
// over p's k neighbours o = index(j) at distance dist(j).
template <typename Index, typename Dist>
double local_reachability(std::size_t k, const std::vector<double>& kdist, Index&& index, Dist&& dist) {
    double sum = 0;
    for (std::size_t j = 0; j < k; ++j) sum += std::max(dist(j), kdist[index(j)]);
    return 1.0 / (sum / static_cast<double>(k) + 1e-10);
}

// -mean(lrd(o) / lrd(p)) over p's neighbours o = index(j): scikit-learn's score.
template <typename Index>
double negative_outlier_factor(std::size_t k, const std::vector<double>& lrd, double own_lrd, Index&& index) {
    double sum = 0;
    for (std::size_t j = 0; j < k; ++j) sum += lrd[index(j)] / own_lrd;
    return -(sum / static_cast<double>(k));
}

// The squared distance between two training rows, summed as the neighbour
// search sums it (numeric columns in order, then the categorical part), so it
// is bit for bit the value the search found.
double training_dist2(const FeatureMatrix& m, std::uint32_t a, std::uint32_t b) {
    const double* x = m.numeric_row(a);
    const double* y = m.numeric_row(b);
    double d2 = 0;
    for (std::size_t j = 0; j < m.numeric_dims(); ++j) {
        const double diff = x[j] - y[j];
        d2 += diff * diff;
    }
    double c2 = 0;
    const std::uint32_t *ca = m.codes_row(a), *cb = m.codes_row(b);
    for (std::size_t j = 0; j < m.categorical_dims(); ++j)
        if (ca[j] != cb[j]) c2 += 2.0;
    return d2 + c2;
}

}  // namespace

double numpy_percentile(std::vector<double> values, double q) {
    if (values.empty()) throw std::invalid_argument("percentile of no values");
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    const double quantile = q / 100.0;
    const double virtual_index = static_cast<double>(n - 1) * quantile;
    if (virtual_index >= static_cast<double>(n - 1)) return values[n - 1];
    if (virtual_index < 0) return values[0];
    const double previous = std::floor(virtual_index);
    const auto lo = static_cast<std::size_t>(previous);
    const double a = values[lo], b = values[lo + 1];
    const double t = virtual_index - previous;
    const double diff = b - a;
    // numpy's _lerp: a + diff*t, but b - diff*(1-t) for t >= 0.5.
    return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

LofModel LofModel::fit(FeatureMatrix train, const LofOptions& options, LofTrainingResult* result) {
    const std::size_t n = train.rows();
    if (n < 2) throw std::invalid_argument("LOF needs at least 2 training rows, got " + std::to_string(n));
    if (options.neighbors < 1) throw std::invalid_argument("n_neighbors must be at least 1");
    if (options.contamination && !(*options.contamination > 0.0 && *options.contamination <= 0.5))
        throw std::invalid_argument("contamination must be in (0, 0.5] or auto");
    if (!(options.reach_floor >= 0 && std::isfinite(options.reach_floor)))
        throw std::invalid_argument("the reachability floor must be a finite number, 0 or more");

    LofModel m;
    m.k_ = std::max<std::size_t>(1, std::min(options.neighbors, n - 1));
    m.contamination_ = options.contamination;
    m.reach_floor_ = options.reach_floor;
    m.index_ = std::make_unique<BlockedNeighborIndex>(train, options.threads);
    const std::size_t k = m.k_;

    // Each training row's k nearest other rows (its own row excluded, which is
    // what scikit-learn's kneighbors() without X returns, duplicates included).
    // Only their row numbers are kept (4 bytes each: the lists are most of a
    // fit's memory), by position in the walk (leaf order) so the writes stay
    // sequential; distances are summed again where needed, to the same bits.
    const std::vector<std::uint32_t> rows = m.index_->rows_in_block_order();
    const unsigned threads = options.threads ? options.threads : default_threads();
    std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> nbrs(n * k);
    m.kdist_.resize(n);
    // reach-dist(p, o) = max(d(p, o), k-dist(o)): a floor on k-dist is one on every reach-dist.
    for_each_row(train, rows, *m.index_, threads, [&](std::size_t pos, std::uint32_t r, const auto& order) {
        thread_local std::vector<Neighbor> found;
        found.resize(k);
        m.index_->knn(train.numeric_row(r), order, k, r, found.data());
        for (std::size_t j = 0; j < k; ++j) nbrs[pos * k + j] = found[j].index;
        m.kdist_[r] = std::max(std::sqrt(found[k - 1].dist2), m.reach_floor_);
        if (options.progress) options.progress->fetch_add(1, std::memory_order_relaxed);
    });
    m.lrd_.resize(n);
    parallel_for(n, kChunk, threads, [&](std::size_t begin, std::size_t end) {
        for (std::size_t p = begin; p < end; ++p) {
            const std::uint32_t* nb = &nbrs[p * k];
            m.lrd_[rows[p]] = local_reachability(
                k, m.kdist_, [&](std::size_t j) { return nb[j]; },
                [&](std::size_t j) { return std::sqrt(training_dist2(train, rows[p], nb[j])); });
        }
    });
    std::vector<double> nof(n);
    parallel_for(n, kChunk, threads, [&](std::size_t begin, std::size_t end) {
        for (std::size_t p = begin; p < end; ++p) {
            const std::uint32_t* nb = &nbrs[p * k];
            nof[rows[p]] = negative_outlier_factor(k, m.lrd_, m.lrd_[rows[p]], [&](std::size_t j) { return nb[j]; });
        }
    });
    m.offset_ = options.contamination ? numpy_percentile(nof, 100.0 * *options.contamination) : -1.5;

    if (result != nullptr) {
        result->neighbors_used = k;
        result->lof.resize(n);
        result->anomaly.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            result->lof[i] = -nof[i];
            result->anomaly[i] = nof[i] < m.offset_;
        }
        if (options.neighbors > n - 1)
            result->warnings.push_back("n_neighbors (" + std::to_string(options.neighbors) +
                                       ") is not below the number of training rows (" + std::to_string(n) +
                                       "); using " + std::to_string(k));
    }
    m.train_ = std::move(train);
    return m;
}

LofModel LofModel::from_parts(FeatureMatrix train, std::size_t neighbors, std::optional<double> contamination,
                              double offset, std::vector<double> k_distance, std::vector<double> lrd,
                              double reach_floor) {
    const std::size_t n = train.rows();
    if (n < 2 || neighbors < 1 || neighbors > n - 1) throw std::invalid_argument("neighbour count does not fit the rows");
    if (k_distance.size() != n || lrd.size() != n) throw std::invalid_argument("per-row state does not match the rows");
    if (train.codes.size() != n * train.categorical_dims()) throw std::invalid_argument("category codes do not match the rows");
    for (std::size_t i = 0; i < train.codes.size(); ++i)
        if (train.codes[i] >= train.category_counts[i % train.categorical_dims()])
            throw std::invalid_argument("a training category code is out of range");
    for (std::size_t i = 0; i < n; ++i)
        if (!(k_distance[i] >= 0 && std::isfinite(k_distance[i]) && lrd[i] > 0 && std::isfinite(lrd[i])))
            throw std::invalid_argument("a k-distance or density is not a positive finite number");
    if (!train.numeric.allFinite()) throw std::invalid_argument("a training feature is not finite");
    if (!std::isfinite(offset)) throw std::invalid_argument("the offset is not finite");
    if (!(reach_floor >= 0 && std::isfinite(reach_floor))) throw std::invalid_argument("the reachability floor is not 0 or more");
    for (double d : k_distance)
        if (d < reach_floor) throw std::invalid_argument("a k-distance is below the reachability floor");
    LofModel m;
    m.k_ = neighbors;
    m.contamination_ = contamination;
    m.offset_ = offset;
    m.reach_floor_ = reach_floor;
    m.kdist_ = std::move(k_distance);
    m.lrd_ = std::move(lrd);
    m.index_ = std::make_unique<BlockedNeighborIndex>(train);
    m.train_ = std::move(train);
    return m;
}

void LofModel::score(const FeatureMatrix& queries, std::span<LofScore> out, unsigned threads) const {
    if (queries.numeric_dims() != train_.numeric_dims() || queries.category_counts != train_.category_counts)
        throw std::invalid_argument("query features do not match the model's");
    if (out.size() < queries.rows()) throw std::invalid_argument("score output too small");
    for_each_row(queries, rows_in_space_order(queries, *index_), *index_, threads, [&](std::size_t, std::uint32_t r, const auto& order) {
        thread_local std::vector<Neighbor> nb;
        nb.resize(k_);
        index_->knn(queries.numeric_row(r), order, k_, BlockedNeighborIndex::kNoSkip, nb.data());
        auto index = [&](std::size_t j) { return nb[j].index; };
        const double own = local_reachability(k_, kdist_, index, [&](std::size_t j) { return std::sqrt(nb[j].dist2); });
        const double score = negative_outlier_factor(k_, lrd_, own, index);
        out[r] = {-score, score < offset_};
    });
}

std::vector<Neighbor> LofModel::neighbors_of(const FeatureMatrix& queries, std::size_t row) const {
    std::vector<Neighbor> nb(k_);
    index_->knn(queries.numeric_row(row), index_->order_for(queries.codes_row(row)), k_, BlockedNeighborIndex::kNoSkip,
                nb.data());
    return nb;
}

}  // namespace netlof
