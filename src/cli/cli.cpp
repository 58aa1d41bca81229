#include "cli/cli.hpp"

#include <unistd.h>

#include <iostream>
#include <thread>

#include "acquisition/android_source.hpp"
#include "acquisition/source.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "indicators/feeds.hpp"
#include "modules/module.hpp"

namespace bridle::cli {

int& exit_code() {
  static int code = 0;
  return code;
}

std::vector<CommandSetup>& command_setups() {
  static std::vector<CommandSetup> s;
  return s;
}

CommandRegistrar::CommandRegistrar(CommandSetup setup) { command_setups().push_back(std::move(setup)); }

CLI::App* group(CLI::App& root, const std::string& name, const std::string& description) {
  for (auto* sub : root.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return sub;
  auto* g = root.add_subcommand(name, description);
  g->require_subcommand(1);
  return g;
}

bool stderr_is_tty() { return isatty(2) == 1; }

void add_check_options(CLI::App* cmd, CheckOptions& o, bool with_hashes) {
  cmd->add_option("-i,--iocs", o.iocs, "STIX2 indicators file (repeatable; data folder and BRIDLE_STIX2 are loaded too)");
  cmd->add_option("-o,--output", o.output, "Folder for the results (created; nothing is written without it)");
  cmd->add_option("-m,--module", o.modules, "Run only this module (repeatable)");
  cmd->add_flag("-l,--list-modules", o.list_modules, "List the modules and exit");
  if (with_hashes) cmd->add_flag("-H,--hashes", o.hashes, "Record the sha256 of every file of the acquisition in info.json");
  cmd->add_flag("-f,--fast", o.fast, "Skip slow filesystem-wide checks");
  cmd->add_flag("-v,--verbose", o.verbose, "Print every log line");
  cmd->add_option("-j,--threads", o.threads, "Modules run in parallel (default: all cores)");
  cmd->add_option("--store", o.store, "Record the acquisition's observables in this store (file or postgresql://...; default: the data folder's store.sqlite)");
  cmd->add_flag("--no-store", o.no_store, "Do not record anything in the observation store");
}

LoadedIndicators load_indicators(const std::vector<std::string>& files, bool quiet) {
  LoadedIndicators li;
  li.set = std::make_unique<IndicatorSet>();
  std::vector<fs::path> paths;
  for (auto& f : files) {
    std::error_code ec;
    if (!fs::exists(f, ec)) throw Fail{kExitCannotRun, "indicators file not found: " + f};
    paths.emplace_back(f);
  }
  const std::size_t explicit_count = paths.size();
  for (auto& p : default_indicator_files()) paths.push_back(p);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const auto& p = paths[i];
    std::size_t warnings_before = li.set->warnings().size();
    bool ok = li.set->load_file(p);
    if (!quiet) std::cerr << (ok ? "Loaded indicators from " : "Could not load indicators from ") << p.string() << "\n";
    // Indicators the user named explicitly must be used: checking without them and saying
    // "nothing found" would mislead. (Files found in the data folder only warn.)
    if (!ok && i < explicit_count) {
      std::string why = li.set->warnings().size() > warnings_before ? li.set->warnings().back() : "unreadable";
      throw Fail{kExitCannotRun, "cannot use the indicators file " + p.string() + ": " + why};
    }
  }
  if (!quiet) {
    for (auto& w : li.set->warnings()) std::cerr << "  warning: " << w << "\n";
    std::cerr << "Loaded a total of " << li.set->size() << " unique indicators from "
              << li.set->files().size() << " file(s) (indicator-set digest "
              << li.set->digest().substr(0, 16) << ")\n";
  }
  li.index = std::make_unique<IndicatorIndex>(*li.set);
  return li;
}

void list_modules(unsigned kind_mask) {
  for (auto& m : ModuleRegistry::instance().create_all()) {
    if (!(m->info().kinds & kind_mask)) continue;
    std::cout << m->info().name << "\t" << m->info().slug << "\t" << m->info().description << "\n";
  }
}

std::optional<fs::path> prepare_output(const std::string& out, const fs::path& target) {
  if (out.empty()) return std::nullopt;
  fs::path p(out);
  std::error_code ec;
  auto abs_out = fs::weakly_canonical(fs::absolute(p), ec);
  auto abs_target = fs::weakly_canonical(fs::absolute(target), ec);
  auto rel = abs_out.lexically_relative(abs_target);
  if (!rel.empty() && *rel.begin() != ".." && fs::is_directory(abs_target))
    throw Fail{kExitCannotRun, "refusing to write results inside the evidence folder: " + out};
  fs::create_directories(p, ec);
  if (ec || !fs::is_directory(p)) throw Fail{kExitCannotRun, "cannot create the output folder " + out};
  return p;
}

int run_check(const std::string& command, const std::string& acquisition_kind, unsigned kind,
              const fs::path& target, IosSource* ios, AndroidSource* android,
              const CheckOptions& o, Json info_extra, const std::string& timeline_header) {
  std::string started = now_iso_local();
  auto out = prepare_output(o.output, target);
  auto li = load_indicators(o.iocs);
  if (auto note = feeds::feeds_staleness_note(feeds::max_age_days_from_env())) std::cerr << *note << "\n";
  auto modules = ModuleRegistry::instance().create(static_cast<AcqKind>(kind));
  std::string err;
  if (!select_modules(modules, o.modules, &err)) throw Fail{kExitCannotRun, err};

  ScanOptions so;
  so.output_dir = out;
  so.threads = o.threads;
  so.progress = isatty(2) == 1;  // live progress line on a terminal only
  so.module_options.fast = o.fast;
  so.module_options.have_indicators = !li.set->empty();
  bool verbose = o.verbose;
  so.on_log = [verbose](const LogLine& l) {
    if (verbose || l.severity != Diagnostic::Severity::Info)
      std::cerr << "[" << l.logger << "] " << l.message << "\n";
  };
  auto rec = store_begin(o, modules);
  so.observations = store_sink(rec.get());
  Engine engine(li.set.get(), li.index.get());
  ScanResult result = engine.run(std::move(modules), ios, android, so);

  RunInfo info;
  info.command = command;
  info.target = target;
  info.acquisition_kind = acquisition_kind;
  info.indicators = li.set.get();
  info.hash_all = o.hashes;
  info.started_at = started;
  info.extra = std::move(info_extra);
  info.progress = so.progress;
  if (ios) info.files_read = ios->files_read();
  if (android) {
    // Archive inputs (zip, .ab) are hashed whole; folder inputs file by file.
    std::error_code fec;
    if (fs::is_regular_file(target, fec)) info.files_read.push_back(fs::absolute(target));
    else
      // Member paths start with the folder's own name (MVT's convention): join them onto its parent.
      for (auto& rel : android->files_read()) {
        auto p = fs::absolute(target).lexically_normal();
        if (!p.has_filename()) p = p.parent_path();
        info.files_read.push_back(p.parent_path() / rel);
      }
  }
  // The store records while the result files are written: both only read the result.
  std::string store_msg;
  std::thread recorder;
  if (rec) recorder = std::thread([&] { store_msg = store_finish(rec.get(), result, info, *li.set, ios, android); });
  if (out) {
    std::string werr;
    if (!write_run_outputs(*out, result, info, timeline_header, &werr))
      std::cerr << "error: " << werr << "\n";
    else
      std::cerr << "Results written to " << out->string() << "\n";
  }
  if (recorder.joinable()) recorder.join();
  std::cerr << store_msg;
  print_summary(std::cout, result, info, isatty(1) == 1);
  return result.exit_code();
}

}  // namespace bridle::cli
