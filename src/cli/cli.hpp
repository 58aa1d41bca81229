// Command-line front end: commands register themselves (one file per command family), so
// adding a command touches no shared list.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "output/report.hpp"

namespace bridle::cli {

// Exit codes (README "Exit codes").
inline constexpr int kExitClean = 0;
inline constexpr int kExitAlerts = 1;
inline constexpr int kExitCannotRun = 2;
inline constexpr int kExitPartial = 3;

// Thrown by commands to stop with a clear message and an exit code.
struct Fail {
  int code;
  std::string message;
};

// The exit code a command's callback sets (CLI11 callbacks return nothing).
int& exit_code();

using CommandSetup = std::function<void(CLI::App& root)>;
struct CommandRegistrar {
  explicit CommandRegistrar(CommandSetup setup);
};
std::vector<CommandSetup>& command_setups();
// The subcommand group ("ios", "android", "iocs", ...), created on first use.
CLI::App* group(CLI::App& root, const std::string& name, const std::string& description);

// Options every check-* command shares.
struct CheckOptions {
  std::vector<std::string> iocs;
  std::string output;
  std::vector<std::string> modules;
  bool list_modules = false;
  bool hashes = false;
  bool fast = false;
  bool verbose = false;
  unsigned threads = 0;
  std::string store;      // --store URL (default: user_data_dir()/store.sqlite)
  bool no_store = false;  // --no-store
};
void add_check_options(CLI::App* cmd, CheckOptions& o, bool with_hashes = true);

// Indicators from -i files plus the defaults (data folder, BRIDLE_STIX2); prints what was
// loaded to stderr.
struct LoadedIndicators {
  std::unique_ptr<IndicatorSet> set;
  std::unique_ptr<IndicatorIndex> index;
};
LoadedIndicators load_indicators(const std::vector<std::string>& files, bool quiet = false);

// Prints the module list for --list-modules.
void list_modules(unsigned kind_mask);

// Runs a full check: modules of `kind` over the source, outputs, summary. Returns the exit code.
int run_check(const std::string& command, const std::string& acquisition_kind, unsigned kind,
              const std::filesystem::path& target, IosSource* ios, AndroidSource* android,
              const CheckOptions& o, Json info_extra = Json::object(),
              const std::string& timeline_header = "UTC Timestamp");

// Observation store of a check (cli/store.cpp): opened before the scan (nullptr with
// --no-store or when it cannot be opened: a warning, never a failure), recorded after it.
// store_finish returns what it has to say ("Recorded ..." or a warning) instead of printing
// it, so it can run while the result files are written.
struct StoreRecorder;
std::shared_ptr<StoreRecorder> store_begin(const CheckOptions& o, const std::vector<std::unique_ptr<Module>>& modules);
ObservationSink* store_sink(StoreRecorder* rec);
std::string store_finish(StoreRecorder* rec, const ScanResult& result, const RunInfo& info, const IndicatorSet& set,
                  IosSource* ios, AndroidSource* android);

// Prepares the output folder (created; refused when it is inside the evidence).
std::optional<std::filesystem::path> prepare_output(const std::string& out,
                                                    const std::filesystem::path& target);

bool stderr_is_tty();

}  // namespace bridle::cli

#define BRIDLE_REGISTER_COMMAND(fn) \
  static ::bridle::cli::CommandRegistrar BRIDLE_CONCAT(bridle_cmd_, __LINE__)(fn)
