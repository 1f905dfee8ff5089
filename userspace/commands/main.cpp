// netlof: one binary, subcommands. Bad input anywhere is thrown once as an
// InputError, printed here through the one diagnostic emitter, and turned
// into exit status 2.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <iostream>

#include "common/diagnostic.hpp"
#include "common/log.hpp"
#include "userspace/daemon/daemon_config.hpp"
#include "userspace/commands/model_commands.hpp"
#include "userspace/commands/record_command.hpp"
#include "userspace/commands/replay_command.hpp"
#include "userspace/commands/report_command.hpp"
#include "userspace/daemon/daemon.hpp"

int main(int argc, char** argv) {
    using namespace netlof;
    CLI::App app{"netlof: which process just talked to somewhere it shouldn't, and why we think so"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show help for every subcommand");
    app.set_version_flag("--version", std::string("netlof ") + NETLOF_VERSION);

    SynthCommand synth;
    CLI::App* synth_cmd = app.add_subcommand("synth", "Write the notebook's synthetic connections as CSV");
    synth_cmd->add_option("--seed", synth.seed, "np.random.seed value")->required();
    synth_cmd->add_option("--out", synth.out, "Output CSV ('-' for stdout)")->required();
    synth_cmd->add_option("--normal", synth.sizes.normal, "Rows per normal process")->capture_default_str();
    synth_cmd->add_option("--anomalous-legit", synth.sizes.anomalous_legit, "svchost.exe rows to an unusual host")
        ->capture_default_str();
    synth_cmd->add_option("--anomalous-unknown", synth.sizes.anomalous_unknown, "unknown_process.exe rows")
        ->capture_default_str();

    TrainCommand train;
    CLI::App* train_cmd = app.add_subcommand("train", "Fit the feature pipeline and LOF on connection rows");
    train_cmd->add_option("--pipeline", train.pipeline, "Pipeline YAML")->required();
    train_cmd->add_option("--in", train.in, "Training CSV ('-' for stdin)")->required();
    train_cmd->add_option("--out", train.out, "Model file to write")->required();
    train_cmd->add_option("--neighbors", train.neighbors, "k, the number of neighbours")->capture_default_str();
    train_cmd->add_option("--contamination", train.contamination, "Fraction in (0, 0.5] or auto")->capture_default_str();
    train_cmd->add_option("--reach-floor", train.reach_floor,
                          "Smallest reachability distance, in feature units (0: scikit-learn's LOF; the daemon's model.reach_floor)")
        ->capture_default_str();
    train_cmd->add_option("--labels-out", train.labels_out, "Write lof,anomaly for every training row");
    train_cmd->add_option("--threads", train.threads, "Worker threads (0: every core)")->capture_default_str();
    train_cmd->add_flag("--timings", train.timings, "Print phase timings to stderr");

    ScoreCommand score;
    CLI::App* score_cmd = app.add_subcommand("score", "Score new rows against a trained model (no refit)");
    score_cmd->add_option("--model", score.model, "Model file from `netlof train`")->required();
    score_cmd->add_option("--in", score.in, "CSV of rows to score ('-' for stdin)")->required();
    score_cmd->add_option("--out", score.out, "Output CSV: the input columns, lof, anomaly")->capture_default_str();
    score_cmd->add_option("--threads", score.threads, "Worker threads (0: every core)")->capture_default_str();
    score_cmd->add_flag("--timings", score.timings, "Print phase timings to stderr");
    score_cmd->add_flag("--explain", score.explain, "Add a `why` column: what sets each anomaly apart from its neighbours");

    RecordCommand record;
    CLI::App* record_cmd = app.add_subcommand("record", "Record outbound connections with eBPF (root)");
    record_cmd->add_option("--duration", record.duration_s, "Seconds to record (0: until SIGINT/SIGTERM)")
        ->capture_default_str();
    record_cmd->add_option("--out", record.out, "Output file ('-' for stdout)")->capture_default_str();
    record_cmd->add_option("--format", record.format, "jsonl or csv")->capture_default_str();
    record_cmd->add_option("--udp-idle", record.sensor.udp_idle_s, "Seconds without a datagram that end a UDP flow")
        ->capture_default_str();
    record_cmd->add_option("--flush-interval", record.sensor.flush_interval_s,
                           "Seconds between counts of a long-lived connection")->capture_default_str();
    record_cmd->add_option("--max-sockets", record.sensor.max_sockets, "TCP connections tracked at once (kernel map)")
        ->capture_default_str();
    record_cmd->add_option("--max-udp-flows", record.sensor.max_udp_flows, "UDP flows tracked at once (kernel map)")
        ->capture_default_str();
    record_cmd->add_option("--ringbuf-kib", record.sensor.ringbuf_kib, "Ring buffer size in KiB (power of two)")
        ->capture_default_str();
    record_cmd->add_option("--byte-source", record.byte_source,
                           "Where byte counts come from: auto (sock-length where the kernel has it, Linux 6.3+), "
                           "sock-length, or counters (TCP's own counters, UDP from the system calls: older kernels)")
        ->capture_default_str();
    record_cmd->add_flag("--verbose", record.sensor.verbose, "Print libbpf's debug output");
    record_cmd->add_flag("--attach-only", record.sensor.attach_only,
                         "Benchmarks: attach every program but let each return at once (records nothing; "
                         "measures what the tracepoints themselves cost)");

    std::string check_config_file;
    CLI::App* check_cmd = app.add_subcommand("check-config", "Check a daemon config and the allowlists and pipeline it names");
    check_cmd->add_option("file", check_config_file, "Config YAML")->required();
    bool check_insecure = false;
    check_cmd->add_flag("--insecure-files", check_insecure,
                        "Accept config, allowlist and pipeline files not owned by root or writable by group/others");

    RunCommand run;
    CLI::App* run_cmd = app.add_subcommand("run", "The daemon: learn, then alert on allowlist violations and LOF anomalies (root)");
    run_cmd->add_option("--config", run.config, "Config YAML (see configs/netlof.yaml)")->required();
    run_cmd->add_flag("--verbose", run.verbose, "Print libbpf's debug output");
    run_cmd->add_flag("--insecure-files", run.insecure_files,
                      "Accept config, allowlist, pipeline and model files not owned by root or writable by group/others "
                      "(development only)");

    ReplayCommand replay;
    CLI::App* replay_cmd = app.add_subcommand(
        "replay", "The daemon's judgement over recorded connections, by their own times: the alert lines it would have written");
    replay_cmd->add_option("--config", replay.config, "Config YAML (its allowlists, pipeline, model, learning and folding)")
        ->required();
    replay_cmd->add_option("--in", replay.in, "Records (JSON lines or CSV, as record and run write them)")->required();
    replay_cmd->add_option("--out", replay.out, "Alert lines (- for stdout)")->capture_default_str();
    replay_cmd->add_option("--model", replay.model, "A model to use instead of the config's model.path");
    replay_cmd->add_option("--model-out", replay.model_out,
                           "Where to write a model learned during the replay (the config's model.path is never written)");
    replay_cmd->add_flag("--insecure-files", replay.insecure_files,
                         "Accept config, allowlist, pipeline and model files not owned by root or writable by group/others");

    ReportCommand report;
    report.version = NETLOF_VERSION;
    CLI::App* report_cmd = app.add_subcommand(
        "report", "One self-contained HTML page with plots of recorded connections, alert lines and the model");
    report_cmd->add_option("--records", report.records, "Records (JSON lines or CSV, as record and run write them)")
        ->required();
    report_cmd->add_option("--alerts", report.alerts, "Alert lines (the daemon's alerts.path)");
    report_cmd->add_option("--model", report.model, "Model to score the records with (else the config's model.path)");
    report_cmd->add_option("--config", report.config, "The daemon's config: its model.path and alerts.budget");
    report_cmd->add_option("--out", report.out, "HTML file to write")->required();
    report_cmd->add_flag("--insecure-files", report.insecure_files,
                         "Accept config and model files not owned by root or writable by group/others");

    SuggestCommand suggest;
    CLI::App* allowlist_cmd = app.add_subcommand("allowlist", "Allowlist tools");
    allowlist_cmd->require_subcommand(1);
    CLI::App* suggest_cmd = allowlist_cmd->add_subcommand(
        "suggest", "Write what each process reached while learning as an allowlist, for review before use");
    suggest_cmd->add_option("--model", suggest.model, "Model file (the daemon's model.path, or from `netlof train`)")
        ->required();
    suggest_cmd->add_option("--out", suggest.out, "Allowlist YAML to write ('-' for stdout)")->capture_default_str();

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;  // usage errors are bad input too
    }

    try {
        if (*synth_cmd) return run_synth(synth);
        if (*train_cmd) return run_train(train);
        if (*score_cmd) return run_score(score);
        if (*record_cmd) return run_record(record);
        if (*run_cmd) return run_daemon(run);
        if (*replay_cmd) return run_replay(replay);
        if (*report_cmd) return run_report(report);
        if (*suggest_cmd) return run_allowlist_suggest(suggest);
        if (*check_cmd) {
            const LoadedConfig c = load_daemon_config(check_config_file, check_insecure ? FileTrust::Relaxed : FileTrust::Strict);
            fmt::print("{}: ok: {} allowlist rule(s) and {} LOF mute(s) from {} file(s), pipeline {} with {} feature(s)\n",
                       check_config_file, c.allowlist.rules().size(), c.allowlist.mutes().size(),
                       c.config.allowlists.size(),
                       c.config.model.pipeline.empty() ? kBuiltinPipelineName : c.config.model.pipeline,
                       c.pipeline.features.size());
            fmt::print("# the settings in effect, defaults filled in:\n{}", effective_config_yaml(c.config));
            return 0;
        }
    } catch (const InputError& e) {
        log_text(LogLevel::Error, format_diagnostic(e.diagnostic()));
        return 2;
    } catch (const std::exception& e) {
        log_line(LogLevel::Error, std::string("error: ") + e.what());
        return 1;
    }
    return 2;
}
