#include "model/feature_pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>

#include "model/connection_columns.hpp"
#include "common/diagnostic.hpp"
#include "common/parallel.hpp"
#include "common/yaml_schema.hpp"

namespace netlof {

std::string_view transform_name(Transform t) {
    switch (t) {
        case Transform::Standard: return "standard";
        case Transform::LogStandard: return "log_standard";
        case Transform::OneHot: return "onehot";
        case Transform::Log: return "log";
    }
    return "?";
}

PipelineSpec parse_pipeline_yaml(std::string_view text, const std::string& file) {
    YamlDocument doc(text, file);
    doc.check_map(doc.root(), "pipeline", {"description", "features"});
    const YAML::Node features = doc.require(doc.root(), "features", "pipeline");
    if (!features.IsSequence() || features.size() == 0)
        throw doc.error(features, "features", "expected a non-empty list of {column, transform} entries");

    PipelineSpec spec;
    spec.file = file;
    std::set<std::string> used;
    for (const YAML::Node& f : features) {
        doc.check_map(f, "feature", {"column", "transform", "unit", "weight"});
        const YAML::Node col = doc.require(f, "column", "feature");
        const YAML::Node tr = doc.require(f, "transform", "feature");
        FeatureSpec fs;
        fs.column = doc.scalar(col, "column");
        const ColumnInfo* info = find_connection_column(fs.column);
        if (info == nullptr) {
            std::string known;
            for (const ColumnInfo& c : kConnectionColumns) known += (known.empty() ? "" : ", ") + std::string(c.name);
            throw doc.error(col, "column", "unknown column '" + fs.column + "' (known: " + known + ")");
        }
        if (!used.insert(fs.column).second) throw doc.error(col, "column", "column '" + fs.column + "' is used twice");
        const std::string t = doc.scalar(tr, "transform");
        if (t == "standard") fs.transform = Transform::Standard;
        else if (t == "log_standard") fs.transform = Transform::LogStandard;
        else if (t == "onehot") fs.transform = Transform::OneHot;
        else if (t == "log") fs.transform = Transform::Log;
        else throw doc.error(tr, "transform", "unknown transform '" + t + "' (expected standard, log_standard, log or onehot)");
        if (const YAML::Node unit = f["unit"]) {
            if (fs.transform == Transform::OneHot) throw doc.error(unit, "unit", "onehot takes no unit");
            const std::string text = doc.scalar(unit, "unit");
            char* end = nullptr;
            fs.unit = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || *end != '\0' || !std::isfinite(fs.unit) || !(fs.unit > 0))
                throw doc.error(unit, "unit", "expected a positive number in the column's units, got '" + text + "'");
        }
        if (const YAML::Node weight = f["weight"]) {
            if (fs.transform != Transform::OneHot) throw doc.error(weight, "weight", "only onehot takes a weight");
            const std::string text = doc.scalar(weight, "weight");
            char* end = nullptr;
            fs.weight = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || *end != '\0' || !std::isfinite(fs.weight) || !(fs.weight > 0) || fs.weight > 1000)
                throw doc.error(weight, "weight", "expected a number above 0 and at most 1000, got '" + text + "'");
        }
        if (info->kind == ColumnKind::Time)
            throw doc.error(col, "column", "column '" + fs.column + "' is a timestamp and has no transform yet");
        if (info->kind == ColumnKind::Text && fs.transform != Transform::OneHot)
            throw doc.error(tr, "transform", "column '" + fs.column + "' holds text: only onehot applies");
        spec.features.push_back(std::move(fs));
    }
    return spec;
}

FeaturePipeline::FeaturePipeline(std::vector<NumericFeature> numeric, std::vector<CategoricalFeature> categorical)
    : numeric_(std::move(numeric)), categorical_(std::move(categorical)) {
    lookup_.resize(categorical_.size());
    auto id = [](const std::string& column) { return connection_column_id(column).value_or(std::string::npos); };
    for (const NumericFeature& f : numeric_) numeric_ids_.push_back(id(f.column));
    for (const CategoricalFeature& f : categorical_) categorical_ids_.push_back(id(f.column));
    for (std::size_t j = 0; j < categorical_.size(); ++j)
        for (std::size_t c = 0; c < categorical_[j].categories.size(); ++c)
            lookup_[j].emplace(categorical_[j].categories[c], static_cast<std::uint32_t>(c));
}

namespace {

bool takes_log(Transform t) { return t == Transform::LogStandard || t == Transform::Log; }

// One numeric input value after the transform's fixed part (unit, log1p), checked.
double raw_value(const TextTable& t, std::size_t row, std::size_t col, Transform tr, double unit) {
    double v = t.number(row, col) / unit;
    if (takes_log(tr)) {
        if (v <= -1.0) t.fail(row, col, std::string(transform_name(tr)) + " needs values above -1");
        v = std::log1p(v);
    }
    return v;
}

}  // namespace

namespace {

// Runs task(i) for i in [0, n) on both cores. Bad cells in several columns
// would otherwise race to be reported: the earliest (line, column) wins, so
// the diagnostic is the same on every run.
template <typename Task>
void for_each_column(std::size_t n, Task&& task) {
    std::vector<std::optional<InputError>> errors(n);
    parallel_for(n, 1, default_threads(), [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            try {
                task(i);
            } catch (const InputError& e) {
                errors[i] = e;
            }
        }
    });
    const InputError* first = nullptr;
    for (const auto& e : errors) {
        if (!e) continue;
        const Diagnostic& d = e->diagnostic();
        if (first == nullptr || std::pair(d.line, d.column) < std::pair(first->diagnostic().line, first->diagnostic().column))
            first = &*e;
    }
    if (first != nullptr) throw *first;
}

// StandardScaler as scikit-learn computes it: mean, then the variance of the
// centred values with its correction term; Neumaier sums keep the result
// within an ulp or so of numpy's.
NumericFeature fit_scaler(const FeatureSpec& f, const std::vector<double>& x) {
    auto sum = [&x](auto&& fn) {
        double s = 0, c = 0;
        for (double v0 : x) {
            const double v = fn(v0);
            const double t = s + v;
            c += std::abs(s) >= std::abs(v) ? (s - t) + v : (v - t) + s;
            s = t;
        }
        return s + c;
    };
    const double dn = static_cast<double>(x.size());
    const double mean = sum([](double v) { return v; }) / dn;
    const double correction = sum([&](double v) { return v - mean; });
    const double var = (sum([&](double v) { return (v - mean) * (v - mean); }) - correction * correction / dn) / dn;
    const double eps = std::numeric_limits<double>::epsilon();
    const bool constant = var <= dn * eps * var + (dn * mean * eps) * (dn * mean * eps);
    return {f.column, f.transform, mean, constant ? 1.0 : std::sqrt(var), f.unit};
}

}  // namespace

PipelineFit::PipelineFit(const PipelineSpec& spec) : needed_by_("pipeline " + spec.file) {
    for (const FeatureSpec& f : spec.features) (f.transform == Transform::OneHot ? categorical_ : numeric_).push_back(&f);
    values_.resize(numeric_.size());
    seen_codes_.resize(categorical_.size());
    seen_.resize(categorical_.size());
}

void PipelineFit::add(const TextTable& part) {
    const std::size_t n = part.rows();
    // The columns the first part lacks are missing from the file (a CSV
    // header, a JSON key no record has); a later JSON-lines part without one
    // has records that lack it, refused as the first of them.
    std::vector<std::optional<std::size_t>> cols;
    for (const FeatureSpec* f : numeric_) cols.push_back(part.column_index(f->column));
    for (const FeatureSpec* f : categorical_) cols.push_back(part.column_index(f->column));
    for (std::size_t i = 0; i < cols.size(); ++i) {
        const std::string& column = (i < numeric_.size() ? numeric_[i] : categorical_[i - numeric_.size()])->column;
        if (first_part_) part.require_column(column, needed_by_);
        else if (!cols[i] && n > 0) part.fail_absent(0, column, "missing key (needed by " + needed_by_ + ")");
    }
    first_part_ = false;
    if (n == 0) return;
    for_each_column(cols.size(), [&](std::size_t i) {
        const std::size_t col = *cols[i];
        if (i < numeric_.size()) {
            const FeatureSpec& f = *numeric_[i];
            std::vector<double>& values = values_[i];
            for (std::size_t r = 0; r < n; ++r) values.push_back(raw_value(part, r, col, f.transform, f.unit));
            return;
        }
        // A category's code by first sight now, its place in the sorted
        // list at the end. Rows repeat a few values, often the row before's.
        const std::size_t j = i - numeric_.size();
        auto& seen = seen_[j];
        std::vector<std::uint32_t>& codes = seen_codes_[j];
        std::string_view previous;
        std::uint32_t previous_code = 0;
        for (std::size_t r = 0; r < n; ++r) {
            const std::string_view v = part.cell(r, col);
            if (v.empty()) part.fail(r, col, "empty value");
            if (r == 0 || v != previous) {
                auto it = seen.find(v);
                if (it == seen.end()) it = seen.emplace(std::string(v), static_cast<std::uint32_t>(seen.size())).first;
                previous = v;
                previous_code = it->second;
            }
            codes.push_back(previous_code);
        }
    });
    rows_ += n;
}

FeaturePipeline PipelineFit::finish(FeatureMatrix* transformed) const {
    std::vector<NumericFeature> numeric;
    for (std::size_t i = 0; i < numeric_.size(); ++i) {
        const FeatureSpec& f = *numeric_[i];
        numeric.push_back(f.transform == Transform::Log ? NumericFeature{f.column, f.transform, 0, 1, f.unit}
                                                        : fit_scaler(f, values_[i]));
    }
    // Categories sorted, as OneHotEncoder's categories_; each first-sight
    // code mapped to its place among them.
    std::vector<CategoricalFeature> categorical;
    std::vector<std::vector<std::uint32_t>> place(categorical_.size());
    for (std::size_t j = 0; j < categorical_.size(); ++j) {
        std::vector<std::pair<std::string_view, std::uint32_t>> sorted(seen_[j].begin(), seen_[j].end());
        std::sort(sorted.begin(), sorted.end());
        CategoricalFeature c{categorical_[j]->column, {}, categorical_[j]->weight};
        place[j].resize(sorted.size());
        for (const auto& [value, code] : sorted) {
            place[j][code] = static_cast<std::uint32_t>(c.categories.size());
            c.categories.emplace_back(value);
        }
        categorical.push_back(std::move(c));
    }
    FeaturePipeline p(std::move(numeric), std::move(categorical));
    if (transformed != nullptr) {
        FeatureMatrix& m = *transformed;
        p.shape(m, rows_);
        const std::size_t c = categorical_.size();
        for (std::size_t j = 0; j < p.numeric().size(); ++j) {
            const NumericFeature& f = p.numeric()[j];
            for (std::size_t r = 0; r < rows_; ++r)
                m.numeric(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j)) = (values_[j][r] - f.mean) / f.scale;
        }
        for (std::size_t j = 0; j < c; ++j)
            for (std::size_t r = 0; r < rows_; ++r) m.codes[r * c + j] = place[j][seen_codes_[j][r]];
    }
    return p;
}

FeaturePipeline FeaturePipeline::fit(const PipelineSpec& spec, const TextTable& table, FeatureMatrix* transformed) {
    PipelineFit fit(spec);
    fit.add(table);
    return fit.finish(transformed);
}

void FeaturePipeline::encode_categories(const TextTable& table, FeatureMatrix& m) const {
    const std::size_t n = table.rows(), c = categorical_.size();
    m.codes.resize(n * c);
    m.category_counts.clear();
    m.category_weights.clear();
    for (const CategoricalFeature& f : categorical_) {
        m.category_counts.push_back(static_cast<std::uint32_t>(f.categories.size()));
        m.category_weights.push_back(f.weight);
    }
    for_each_column(c, [&](std::size_t j) {
        const std::size_t col = table.require_column(categorical_[j].column, "the model's pipeline");
        for (std::size_t r = 0; r < n; ++r) {
            std::string_view v = table.cell(r, col);
            if (v.empty()) table.fail(r, col, "empty value");
            m.codes[r * c + j] = category_code(j, v);
        }
    });
}

std::uint32_t FeaturePipeline::category_code(std::size_t feature, std::string_view value) const {
    auto it = lookup_[feature].find(value);
    return it == lookup_[feature].end() ? kUnknownCategory : it->second;
}

FeatureMatrix FeaturePipeline::transform(const TextTable& table) const {
    const std::size_t n = table.rows();
    FeatureMatrix m;
    m.numeric.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(numeric_.size()));
    for (const NumericFeature& f : numeric_) table.require_column(f.column, "the model's pipeline");
    for_each_column(numeric_.size(), [&](std::size_t j) {
        const NumericFeature& f = numeric_[j];
        const std::size_t col = *table.column_index(f.column);
        for (std::size_t r = 0; r < n; ++r)
            m.numeric(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j)) =
                (raw_value(table, r, col, f.transform, f.unit) - f.mean) / f.scale;
    });
    encode_categories(table, m);
    return m;
}

bool FeaturePipeline::reads_connection_columns() const {
    auto readable = [](std::size_t id, ColumnKind want) {
        return id != std::string::npos && kConnectionColumns[id].kind == want;
    };
    for (std::size_t id : numeric_ids_)
        if (!readable(id, ColumnKind::Number)) return false;
    for (std::size_t id : categorical_ids_)
        if (id == std::string::npos || kConnectionColumns[id].kind == ColumnKind::Time) return false;
    return true;
}

void FeaturePipeline::shape(FeatureMatrix& m, std::size_t rows) const {
    m.numeric.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(numeric_.size()));
    m.codes.resize(rows * categorical_.size());
    m.category_counts.resize(categorical_.size());
    m.category_weights.resize(categorical_.size());
    for (std::size_t j = 0; j < categorical_.size(); ++j) {
        m.category_counts[j] = static_cast<std::uint32_t>(categorical_[j].categories.size());
        m.category_weights[j] = categorical_[j].weight;
    }
}

std::string_view FeaturePipeline::transform_record(const RecordCells& cells, FeatureMatrix& m, std::size_t row) const {
    double* out = m.numeric.data() + row * numeric_.size();
    for (std::size_t j = 0; j < numeric_.size(); ++j) {
        const NumericFeature& f = numeric_[j];
        double v = cells.number[numeric_ids_[j]] / f.unit;
        if (takes_log(f.transform)) {
            if (v <= -1.0) return f.column;
            v = std::log1p(v);
        }
        if (!std::isfinite(v)) return f.column;
        out[j] = (v - f.mean) / f.scale;
    }
    std::uint32_t* codes = m.codes.data() + row * categorical_.size();
    for (std::size_t j = 0; j < categorical_.size(); ++j) {
        const std::size_t id = categorical_ids_[j];
        // A number column one-hot encoded (dst_port, say) is keyed by its text,
        // as the CSV path reads it; the caller fills text for those too.
        codes[j] = category_code(j, cells.text[id]);
    }
    return {};
}

Eigen::MatrixXd FeatureMatrix::to_dense() const {
    std::size_t width = numeric_dims();
    for (std::uint32_t k : category_counts) width += k;
    Eigen::MatrixXd d = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows()), static_cast<Eigen::Index>(width));
    for (std::size_t r = 0; r < rows(); ++r) {
        const auto ri = static_cast<Eigen::Index>(r);
        for (std::size_t j = 0; j < numeric_dims(); ++j) d(ri, static_cast<Eigen::Index>(j)) = numeric_row(r)[j];
        std::size_t base = numeric_dims();
        for (std::size_t j = 0; j < categorical_dims(); ++j) {
            const std::uint32_t code = codes_row(r)[j];
            if (code != kUnknownCategory) d(ri, static_cast<Eigen::Index>(base + code)) = category_weight(j);
            base += category_counts[j];
        }
    }
    return d;
}

}  // namespace netlof
