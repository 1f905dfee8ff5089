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
        const std::string fit =
            b.fitted_ok ? fmt::format("the log training scores' tail above {:.4g}: {} scores, generalized Pareto shape {:.3g}, "
                                      "scale {:.3g}",
                                      std::exp(b.fit.t), b.fit.excesses, b.fit.xi, b.fit.sigma)
                        : fmt::format("fewer than 10 training scores above their 98th percentile {:.4g}", model.tail.initial);
        switch (b.from) {
            case BudgetThreshold::From::Fit:
                t.note = fmt::format("threshold lof > {:.4g} from the alert budget of {:g} a day at the learned {:.3g} "
                                     "connections/s ({}; largest training score {:.4g}; expected {:.2g} a day)",
                                     b.threshold, budget_per_day, model.tail.rate_per_s, fit, b.training_max,
                                     b.expected_per_day);
                break;
            case BudgetThreshold::From::AboveTrainingMax:
                t.note = fmt::format("threshold lof > {:.4g}: {:g} times the largest of {} training scores {:.4g}; the "
                                     "alert budget of {:g} a day at the learned {:.3g} connections/s is at least one of "
                                     "them, so no fit is needed ({}; it would expect {:.2g} a day above the threshold)",
                                     b.threshold, kAboveMax, model.tail.rows, b.training_max, budget_per_day,
                                     model.tail.rate_per_s, fit, b.expected_per_day);
                break;
            case BudgetThreshold::From::FitUntrusted:
                t.note = fmt::format("threshold lof > {:.4g}: {:g} times the largest training score {:.4g}, because the tail "
                                     "fit cannot be trusted (needs at least {} scores and a shape of at most {:g}; {})",
                                     b.threshold, kAboveMax, b.training_max, kTrustedExcesses, kMaxShape, fit);
                break;
        }
    } else if (budget_per_day > 0) {
        t.note = fmt::format("threshold lof > {:.4g} from the model's contamination: it does not hold what an "
                             "alert budget needs (a learned connection rate and its training scores' tail)",
                             t.value);
    } else {
        t.note = fmt::format("threshold lof > {:.4g} from the model's contamination (alerts.budget is off)", t.value);
    }
    return t;
}

ModelFit::ModelFit(const PipelineSpec& spec, std::string pipeline_file)
    : spec_(spec), pipeline_file_(std::move(pipeline_file)), pipeline_(spec_) {}

void ModelFit::add_baselines(const TextTable& part) {
    if (file_.empty()) file_ = part.file();
    identities_.add(part);
    rate_.add(part);
    learn_reach_rows(part, reach_);
    windows_.add(part);
}

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

ModelFit::Learned ModelFit::learned(const PipelineFit& pipeline) const {
    if (pipeline.rows() < 2) {
        Diagnostic d;
        d.file = file_;
        d.message = "needs at least 2 data rows to train, found " + std::to_string(pipeline.rows());
        throw InputError(std::move(d));
    }
    Learned l{pipeline_file_, {}, {}, identities_.finish(), rate_.rate(), reach_, windows_.finish()};
    l.reach.index();
    l.pipeline = pipeline.finish(&l.features);
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
    return fit_lof(learned(pipeline_), options, result, {});
}

TrainedModel ModelFit::fit(const LofOptions& options, LofTrainingResult* result,
                           const std::function<void(const char*)>& phase) && {
    Learned l = learned(pipeline_);
    // The records' values are let go before the LOF fit needs its memory.
    pipeline_ = PipelineFit(spec_);
    windows_ = WindowLearner();
    return fit_lof(std::move(l), options, result, phase);
}

LearnedSpan ModelFit::span() const {
    LearnedSpan s;
    s.identities = identities_.finish();
    s.rows = rate_.rows();
    s.first = rate_.first();
    s.last = rate_.last();
    s.reach = reach_;
    s.reach.index();  // the span keeps what was learned, not learning's working state
    s.windows = windows_.finish();
    return s;
}

TrainedModel fit_spans(const std::vector<const LearnedSpan*>& spans, const PipelineSpec& spec,
                       const std::string& pipeline_file, const LofOptions& options, LofTrainingResult* result) {
    LearnedIdentities identities;
    ReachBaseline reach;
    WindowBaseline windows;
    std::uint64_t rows = 0;
    double seconds = 0;
    std::string csv;
    for (const LearnedSpan* s : spans) {
        for (const auto& [name, exes] : s->identities) {
            std::vector<std::string>& mine = identities[name];
            for (const std::string& e : exes)
                if (!std::binary_search(mine.begin(), mine.end(), e)) mine.insert(std::lower_bound(mine.begin(), mine.end(), e), e);
        }
        reach.merge(s->reach);
        merge_windows(windows, s->windows);
        rows += s->rows;
        if (s->last > s->first) seconds += s->last - s->first;
        // One table of every span's sample: the first span's header, the others' rows.
        const std::size_t body = csv.empty() ? 0 : s->sample_csv.find('\n') + 1;
        csv.append(s->sample_csv, body, std::string::npos);
    }
    reach.index();
    PipelineFit pipeline(spec);
    pipeline.add(TextTable::parse(std::move(csv), "<the records sampled for the LOF>"));
    if (pipeline.rows() < 2) {
        Diagnostic d;
        d.file = "<the records sampled for the LOF>";
        d.message = "needs at least 2 data rows to train, found " + std::to_string(pipeline.rows());
        throw InputError(std::move(d));
    }
    FeatureMatrix features;
    FeaturePipeline fitted = pipeline.finish(&features);
    LofModel lof = LofModel::fit(std::move(features), options, result);
    const double rate = rows >= 2 && seconds > 0 ? static_cast<double>(rows - spans.size()) / seconds : 0;
    return TrainedModel{{pipeline_file, std::move(fitted), std::move(lof), std::move(identities), score_tail(result->lof, rate)},
                        std::move(reach),
                        std::move(windows)};
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
        w.put<std::uint64_t>(p.longest_on_port.size());
        for (const auto& [port, longest] : p.longest_on_port) {
            w.put(port.first);
            w.put(port.second);
            w.put(longest);
        }
        w.put(p.first_learned);
        w.put(p.last_learned);
        w.put(p.late_networks);
        w.put<std::uint64_t>(p.cadences.size());
        for (const auto& [interval, bytes] : p.cadences) {
            w.put(interval);
            w.put(bytes);
        }
    }
    w.put<std::uint64_t>(model.windows.size());
    for (const auto& [subject, learned] : model.windows) {
        w.str(subject);
        for (std::size_t s = 0; s < kScales; ++s) {
            for (std::uint32_t whole : learned.whole[s]) w.put(whole);
            for (const auto& metric : learned.sums[s])
                for (const WindowSums& h : metric) {
                    w.put(h.sum);
                    w.put(h.squares);
                    w.put(h.max);
                    w.put(h.active);
                }
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
            if (version >= 5) {
                const std::size_t ports = r.count("reach.longest_on_port", max_items);
                for (std::size_t j = 0; j < ports; ++j) {
                    const auto proto = r.get<std::uint8_t>("reach.longest_on_port.proto");
                    const auto port = r.get<std::uint16_t>("reach.longest_on_port.port");
                    const auto longest = r.get<double>("reach.longest_on_port.longest");
                    if (!(longest >= 0)) r.fail("reach.longest_on_port", "a longest connection of '" + subject + "' is not a duration");
                    if (!p.longest_on_port.emplace(std::pair{proto, port}, longest).second)
                        r.fail("reach.longest_on_port", "a port of '" + subject + "' is listed twice");
                }
                p.first_learned = r.get<double>("reach.first_learned");
                p.last_learned = r.get<double>("reach.last_learned");
                p.late_networks = r.get<std::uint32_t>("reach.late_networks");
                if (!(std::isfinite(p.first_learned) && std::isfinite(p.last_learned) && p.first_learned <= p.last_learned))
                    r.fail("reach.first_learned", "the learned span of '" + subject + "' is not a span of time");
                const std::size_t cadences = r.count("reach.cadences", max_items);
                if (cadences > kMaxCadences) r.fail("reach.cadences", "more than 8 check-ins for '" + subject + "'");
                for (std::size_t j = 0; j < cadences; ++j) {
                    const double interval = r.get<double>("reach.cadences.interval"), bytes = r.get<double>("reach.cadences.bytes");
                    if (!(interval > 0 && bytes >= 0 && std::isfinite(interval + bytes)))
                        r.fail("reach.cadences", "a check-in of '" + subject + "' is not an interval and a size");
                    p.cadences.emplace_back(interval, bytes);
                }
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
            const auto check = [&](double v) {
                if (!(v >= 0 && std::isfinite(v)))
                    r.fail("windows", "a learned window of '" + subject + "' is not finite and 0 or more");
            };
            for (std::size_t s = 0; s < kScales; ++s) {
                if (version < 5) {
                    // Older models kept one mean, sd and largest per length, over
                    // every hour: kept as sums in hour 0, which every hour pools.
                    for (std::size_t m = 0; m < kWindowMetrics; ++m) {
                        const double mean = r.get<double>("windows.mean"), sd = r.get<double>("windows.sd"),
                                     max = r.get<double>("windows.max");
                        const auto whole = r.get<std::uint32_t>("windows.whole");
                        check(mean), check(sd), check(max);
                        learned.whole[s][0] = whole;
                        // Their windows' activity was not kept: all count as active.
                        learned.sums[s][m][0] = {mean * whole, (sd * sd + mean * mean) * whole, max, double(whole)};
                    }
                    continue;
                }
                for (std::uint32_t& whole : learned.whole[s]) whole = r.get<std::uint32_t>("windows.whole");
                for (auto& metric : learned.sums[s])
                    for (WindowSums& h : metric) {
                        h.sum = r.get<double>("windows.sum");
                        h.squares = r.get<double>("windows.squares");
                        h.max = r.get<double>("windows.max");
                        h.active = r.get<double>("windows.active");
                        check(h.sum), check(h.squares), check(h.max), check(h.active);
                    }
            }
            if (!windows.emplace(std::move(subject), learned).second) r.fail("windows.subject", "a subject is listed twice");
        }
    }
    if (!r.done()) r.fail("payload", "unexpected bytes after the last field");
    return TrainedModel{std::move(scoring), std::move(reach), std::move(windows), version >= 5};
}

}  // namespace netlof
