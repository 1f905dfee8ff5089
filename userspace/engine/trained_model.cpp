#include "userspace/engine/trained_model.hpp"

#include <cmath>
#include <fmt/core.h>
#include <future>
#include <limits>
#include <optional>
#include <utility>

#include "common/diagnostic.hpp"
#include "common/file_io.hpp"

namespace netlof {

LofThreshold lof_threshold(const ScoringModel& model, double budget_per_day) {
    LofThreshold t;
    t.value = model.lof.threshold();
    BudgetThreshold b;
    if (budget_per_day > 0 && budget_threshold(model.tail, budget_per_day, &b)) {
        t.value = b.threshold;
        t.note = fmt::format(
            "threshold lof > {:.4g} from the alert budget of {:g} a day at the learned {:.3g} connections/s (the "
            "training scores' tail above {:.4g}: generalized Pareto shape {:.3g}, scale {:.3g}; expected {:.2g} a day)",
            b.threshold, budget_per_day, model.tail.rate_per_s, b.fit.t, b.fit.xi, b.fit.sigma, b.expected_per_day);
    } else if (budget_per_day > 0) {
        t.note = fmt::format("threshold lof > {:.4g} from the model's contamination: it does not hold what an "
                             "alert budget needs (a learned connection rate and a tail of at least 10 scores)",
                             t.value);
    } else {
        t.note = fmt::format("threshold lof > {:.4g} from the model's contamination (alerts.budget is off)", t.value);
    }
    return t;
}

ModelFit::ModelFit(const PipelineSpec& spec, std::string pipeline_file)
    : spec_(spec), pipeline_file_(std::move(pipeline_file)), pipeline_(spec_) {}

void ModelFit::add(const TextTable& part) {
    if (file_.empty()) file_ = part.file();
    // The daemon's baselines are learned beside the pipeline's columns: each
    // is one pass on one thread, and the columns leave a core idle.
    auto baselines = std::async(std::launch::async, [&] {
        identities_.add(part);
        rate_.add(part);
        learn_reach_rows(part, reach_);
        windows_.add(part);
    });
    try {
        pipeline_.add(part);
    } catch (...) {
        baselines.wait();
        throw;
    }
    baselines.get();
}

struct ModelFit::Learned {
    std::string pipeline_file;
    FeaturePipeline pipeline;
    FeatureMatrix features;
    LearnedIdentities identities;
    double rate = 0;
    ReachBaseline reach;
    WindowBaseline windows;
};

ModelFit::Learned ModelFit::learned() const {
    if (rows() < 2) {
        Diagnostic d;
        d.file = file_;
        d.message = "needs at least 2 data rows to train, found " + std::to_string(rows());
        throw InputError(std::move(d));
    }
    Learned l{pipeline_file_, {}, {}, identities_.finish(), rate_.rate(), reach_, windows_.finish()};
    l.reach.index();
    l.pipeline = pipeline_.finish(&l.features);
    return l;
}

TrainedModel ModelFit::fit_lof(Learned l, const LofOptions& options, LofTrainingResult* result,
                               const std::function<void(const char*)>& phase) {
    if (phase) phase("features");
    LofModel lof = LofModel::fit(std::move(l.features), options, result);
    if (phase) phase("fit");
    return TrainedModel{{std::move(l.pipeline_file), std::move(l.pipeline), std::move(lof), std::move(l.identities),
                         score_tail(result->lof, l.rate)},
                        std::move(l.reach),
                        std::move(l.windows)};
}

TrainedModel ModelFit::fit(const LofOptions& options, LofTrainingResult* result) const {
    return fit_lof(learned(), options, result, {});
}

TrainedModel ModelFit::fit(const LofOptions& options, LofTrainingResult* result,
                           const std::function<void(const char*)>& phase) && {
    Learned l = learned();
    // The records' values are let go before the LOF fit needs its memory.
    pipeline_ = PipelineFit(spec_);
    windows_ = WindowLearner();
    return fit_lof(std::move(l), options, result, phase);
}

TrainedModel fit_model(const RecordParts& parts, const PipelineSpec& spec, const std::string& pipeline_file,
                       const LofOptions& options, LofTrainingResult* result, const std::function<void(const char*)>& phase) {
    ModelFit fit(spec, pipeline_file);
    while (std::optional<TextTable> part = parts()) {
        fit.add(*part);
        if (phase) phase("features");
    }
    return std::move(fit).fit(options, result, phase);
}

TrainedModel fit_model(TextTable table, const PipelineSpec& spec, const std::string& pipeline_file,
                       const LofOptions& options, LofTrainingResult* result, const std::function<void(const char*)>& phase) {
    std::optional<TextTable> part(std::move(table));
    return fit_model([&] { return std::exchange(part, std::nullopt); }, spec, pipeline_file, options, result, phase);
}

std::string serialize_model(const TrainedModel& model) {
    // Most of a model is its training rows: their features, k-distance and density.
    const FeatureMatrix& t = model.lof.training();
    ByteWriter w = start_model_file(t.rows() * (t.numeric_dims() * 8 + t.categorical_dims() * 4 + 16) + (1u << 20));
    write_scoring_model(w, model);
    w.put<std::uint64_t>(model.reach.profiles().size());
    for (const auto& [subject, p] : model.reach.profiles()) {
        w.str(subject);
        w.put<std::uint64_t>(p.learned_connections);
        w.put(p.longest);
        w.put(p.names_once);
        w.put<std::uint64_t>(p.names.size());
        for (const std::string& n : p.names) w.str(n);
        w.put<std::uint64_t>(p.destinations.size());
        for (const auto& [k, count] : p.destinations) {
            w.array(k.addr.data(), k.addr.size());
            w.put(k.family);
            w.put(k.proto);
            w.put(k.port);
            w.put(count);
        }
    }
    w.put<std::uint64_t>(model.windows.size());
    for (const auto& [subject, learned] : model.windows) {
        w.str(subject);
        for (const auto& scale : learned)
            for (const WindowLimit& l : scale) {
                w.put(l.mean);
                w.put(l.sd);
                w.put(l.max);
                w.put(l.whole);
            }
    }

    return finish_model_file(std::move(w));
}

std::string model_size_warning(std::size_t bytes, std::size_t rows) {
    if (bytes <= kMaxModelBytes) return {};
    const auto fit = static_cast<std::uint64_t>(static_cast<double>(rows) * static_cast<double>(kMaxModelBytes) / static_cast<double>(bytes));
    return fmt::format("the model file is {} MiB: `netlof run`, replay and report load models of at most {} MiB "
                       "(about {} training rows of these); `netlof score` reads it",
                       (bytes + (1u << 20) - 1) >> 20, kMaxModelBytes >> 20, fit);
}

TrainedModel deserialize_model(std::string_view bytes, const std::string& file) {
    const ModelPayload payload = open_model_file(bytes, file);
    const std::uint32_t version = payload.version;
    ByteReader r = payload.reader();
    const std::size_t max_items = payload.bytes.size();
    ScoringModel scoring = read_scoring_model(r, version, max_items);
    ReachBaseline reach;
    if (version >= 3) {
        const std::size_t subjects = r.count("reach", max_items);
        std::string previous;
        for (std::size_t i = 0; i < subjects; ++i) {
            std::string subject = r.str("reach.subject");
            if (i > 0 && !(previous < subject)) r.fail("reach.subject", "subjects are not sorted and unique");
            ReachProfile p;
            p.learned_connections = r.get<std::uint64_t>("reach.learned_connections");
            // Older models did not learn durations: no hold is judged against them.
            p.longest = version >= 4 ? r.get<double>("reach.longest") : std::numeric_limits<double>::infinity();
            if (!(p.longest >= 0)) r.fail("reach.longest", "longest connection of '" + subject + "' is not a duration");
            // Older models did not count names: all their names count as met often.
            p.names_once = version >= 4 ? r.get<std::uint32_t>("reach.names_once") : 0;
            p.names.resize(r.count("reach.names", max_items));
            for (std::string& n : p.names) n = r.str("reach.names");
            for (std::size_t j = 1; j < p.names.size(); ++j)
                if (!(p.names[j - 1] < p.names[j])) r.fail("reach.names", "names of '" + subject + "' are not sorted and unique");
            const std::size_t n = r.count("reach.destinations", max_items);
            for (std::size_t j = 0; j < n; ++j) {
                ReachKey k;
                r.array(k.addr.data(), k.addr.size(), "reach.destinations.addr");
                k.family = r.get<std::uint8_t>("reach.destinations.family");
                k.proto = r.get<std::uint8_t>("reach.destinations.proto");
                k.port = r.get<std::uint16_t>("reach.destinations.port");
                const auto count = r.get<std::uint32_t>("reach.destinations.count");
                if (k.family != 4 && k.family != 6) r.fail("reach.destinations.family", "address family is not 4 or 6");
                if (!p.destinations.empty() && !(p.destinations.rbegin()->first < k))
                    r.fail("reach.destinations", "destinations of '" + subject + "' are not sorted and unique");
                p.destinations.emplace_hint(p.destinations.end(), k, count);
            }
            previous = subject;
            reach.restore(std::move(subject), std::move(p));
        }
        reach.index();
    }
    WindowBaseline windows;
    if (version >= 3) {
        const std::size_t subjects = r.count("windows", max_items);
        for (std::size_t i = 0; i < subjects; ++i) {
            std::string subject = r.str("windows.subject");
            LearnedWindows learned;
            for (auto& scale : learned)
                for (WindowLimit& l : scale) {
                    l.mean = r.get<double>("windows.mean");
                    l.sd = r.get<double>("windows.sd");
                    l.max = r.get<double>("windows.max");
                    l.whole = r.get<std::uint32_t>("windows.whole");
                    if (!(l.mean >= 0 && l.sd >= 0 && l.max >= 0 && std::isfinite(l.mean + l.sd + l.max)))
                        r.fail("windows", "a learned window of '" + subject + "' is not finite and 0 or more");
                }
            if (!windows.emplace(std::move(subject), learned).second) r.fail("windows.subject", "a subject is listed twice");
        }
    }
    if (!r.done()) r.fail("payload", "unexpected bytes after the last field");
    return TrainedModel{std::move(scoring), std::move(reach), std::move(windows)};
}

}  // namespace netlof
