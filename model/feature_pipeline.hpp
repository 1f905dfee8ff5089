// The feature pipeline: scikit-learn's ColumnTransformer of StandardScaler and
// OneHotEncoder(handle_unknown='ignore'), configured in YAML.
//
// Its output is a FeatureMatrix that keeps the one-hot block as category codes
// instead of 0/1 columns: the Euclidean distance is the same, and the codes let
// the neighbour search treat points of one category combination as a block.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/connection_columns.hpp"
#include "common/text_table.hpp"

namespace netlof {

// log: log1p(value / unit), not scaled, so one feature unit is a factor of
// e whatever the training mix (a floor on distances then means the same on
// every server); log_standard and standard are scikit-learn's scalers.
enum class Transform : std::uint8_t { Standard = 1, LogStandard = 2, OneHot = 3, Log = 4 };
std::string_view transform_name(Transform t);

struct FeatureSpec {
    std::string column;
    Transform transform = Transform::Standard;
    double unit = 1;  // values are divided by it first (1 leaves them bit-exact)
    // onehot: the one-hot vector is this value instead of 1, so rows that
    // differ in this column are this much farther apart (1: scikit-learn's).
    double weight = 1;
};

struct PipelineSpec {
    std::string file;
    std::vector<FeatureSpec> features;
};

// Parses and checks pipeline YAML: unknown or duplicate keys, unknown columns
// and transforms, and transforms that do not fit a column all throw InputError
// with the YAML line and column.
PipelineSpec parse_pipeline_yaml(std::string_view text, const std::string& file);

inline constexpr std::uint32_t kUnknownCategory = std::numeric_limits<std::uint32_t>::max();

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows in feature space. The dense equivalent of a row is its numeric values
// followed, for each categorical column, by a one-hot vector of length
// category_counts[j] (all zeros for kUnknownCategory), its one value
// category_weight(j).
struct FeatureMatrix {
    RowMatrix numeric;                        // rows x numeric dims
    std::vector<std::uint32_t> codes;         // rows x categorical dims, row-major
    std::vector<std::uint32_t> category_counts;
    std::vector<double> category_weights;     // per categorical dim (FeatureSpec::weight); empty: all 1
    double category_weight(std::size_t j) const { return category_weights.empty() ? 1.0 : category_weights[j]; }

    std::size_t rows() const { return static_cast<std::size_t>(numeric.rows()); }
    std::size_t numeric_dims() const { return static_cast<std::size_t>(numeric.cols()); }
    std::size_t categorical_dims() const { return category_counts.size(); }
    const double* numeric_row(std::size_t i) const { return numeric.data() + i * numeric_dims(); }
    const std::uint32_t* codes_row(std::size_t i) const { return codes.data() + i * categorical_dims(); }
    Eigen::MatrixXd to_dense() const;  // for tests and the reference path
};

struct NumericFeature {
    std::string column;
    Transform transform;
    double mean = 0, scale = 1;
    double unit = 1;
};

struct CategoricalFeature {
    std::string column;
    std::vector<std::string> categories;  // sorted, as OneHotEncoder's categories_
    double weight = 1;                     // FeatureSpec::weight
};

class FeaturePipeline;

// Fits a pipeline on records that come a part at a time (a file read in
// bounded memory): it keeps each numeric column's values and each row's
// category as a number, nothing of the text. Adding every part, then
// finish(), gives what FeaturePipeline::fit gives on them as one table.
class PipelineFit {
public:
    explicit PipelineFit(const PipelineSpec& spec);
    // Reads the pipeline's columns of one part (on both cores); throws
    // InputError naming the first bad cell's line and column, after which
    // the fit holds some of the part and is not to be used further.
    void add(const TextTable& part);
    std::size_t rows() const { return rows_; }
    // The fitted pipeline; `transformed` receives every row added, through
    // it. More parts may be added after (and finish() called again).
    FeaturePipeline finish(FeatureMatrix* transformed = nullptr) const;

private:
    std::string needed_by_;
    std::vector<const FeatureSpec*> numeric_, categorical_;  // into the spec, which outlives this
    std::vector<std::vector<double>> values_;          // per numeric column: its values after unit and log
    std::vector<std::vector<std::uint32_t>> seen_codes_; // per categorical column: each row's value, by first sight
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::vector<std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>>> seen_;
    std::size_t rows_ = 0;
    bool first_part_ = true;
};

class FeaturePipeline {
public:
    FeaturePipeline() = default;
    FeaturePipeline(std::vector<NumericFeature> numeric, std::vector<CategoricalFeature> categorical);

    // Fits scalers (population std; a constant column gets scale 1) and
    // category lists on the table (a PipelineFit of one part). Throws
    // InputError for bad cells. When `transformed` is given it receives
    // transform(table), from the same parse.
    static FeaturePipeline fit(const PipelineSpec& spec, const TextTable& table, FeatureMatrix* transformed = nullptr);
    FeatureMatrix transform(const TextTable& table) const;
    // One record into row `row` of m (already sized: rows, numeric_dims and
    // category_counts as transform() makes them), without allocating. Returns
    // the name of a column whose value the transform cannot take (a count
    // below -1 under log_standard, a non-finite number), or an empty view.
    std::string_view transform_record(const RecordCells& cells, FeatureMatrix& m, std::size_t row) const;
    // Sizes m for `rows` records of this pipeline.
    void shape(FeatureMatrix& m, std::size_t rows) const;
    // True when every column the pipeline reads is a connection column, so
    // transform_record() can feed it (a model file could name anything).
    bool reads_connection_columns() const;

    const std::vector<NumericFeature>& numeric() const { return numeric_; }
    const std::vector<CategoricalFeature>& categorical() const { return categorical_; }
    std::uint32_t category_code(std::size_t feature, std::string_view value) const;

private:
    // Fills m.codes and m.category_counts for the table's rows.
    void encode_categories(const TextTable& table, FeatureMatrix& m) const;

    std::vector<NumericFeature> numeric_;
    std::vector<CategoricalFeature> categorical_;
    std::vector<std::size_t> numeric_ids_, categorical_ids_;  // connection column ids; npos if none
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::vector<std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>>> lookup_;
};

}  // namespace netlof
