// The engine: runs modules over an acquisition, matches every observable centrally against
// the indicator index, collects alerts, timeline and diagnostics, and hands everything to the
// writers. Modules run in parallel; results are merged in module order, so output is
// deterministic.
#pragma once
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "modules/module.hpp"

namespace bridle {

class IndicatorIndex;
class IndicatorSet;

struct MatchedIndicator {
  std::string value;
  std::string type;  // MVT bucket name
  std::string name;  // collection name
  std::string stix2_file_name;
};

// Alert events beyond the first few thousand of a run, kept in a temporary file.
struct AlertSpill;

struct Alert {
  Level level = Level::Informational;
  std::string module;       // slug
  std::string module_name;  // class name
  std::string message;
  std::string event_time;
  Json event;               // null when spilled (see load_event)
  std::optional<MatchedIndicator> matched;
  // Set when the engine moved `event` to its spill file (a run with many alerts keeps only
  // the small fields in memory).
  std::shared_ptr<AlertSpill> spill;
  std::uint64_t spill_offset = 0, spill_size = 0;
  // The event record, read back from the spill file when needed.
  Json load_event() const;
};

// An alert as MVT writes it in alerts.json / <module>_detected.json (event loaded if spilled).
Json alert_json(const Alert& a);

// Receives every record's observations (the observation store plugs in here).
class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  virtual void observe(const std::string& module, const std::string& record_ref,
                       const std::vector<Observation>& obs, const std::string& event_time) = 0;
};

struct ModuleOutcome {
  std::string name, slug;
  std::size_t records = 0;
  std::size_t alerts = 0;
  bool ran = false;
  std::vector<Diagnostic> diagnostics;
};

struct LogLine {
  std::string time;   // "YYYY-MM-DD HH:MM:SS,mmm"
  std::string logger; // "bridle.<slug>" or "bridle"
  Diagnostic::Severity severity;
  std::string message;
};

struct ScanOptions {
  std::optional<std::filesystem::path> output_dir;  // nothing is written without it
  std::vector<std::string> only_modules;            // -m (class names or slugs)
  ModuleOptions module_options;
  unsigned threads = 0;                             // 0 = hardware concurrency
  std::function<void(const LogLine&)> on_log;        // live log sink (console)
  ObservationSink* observations = nullptr;
  // Live progress on stderr (running modules, records done); the CLI sets it when stderr
  // is a terminal.
  bool progress = false;
};

struct TimelineEntry {
  std::string timestamp, plugin, event, description;
  auto operator<=>(const TimelineEntry&) const = default;
};

// Timeline rows that did not fit in memory: sorted, de-duplicated runs written to a private
// temporary folder (removed with this object) and merged when the timeline is written.
struct TimelineRuns;

struct ScanResult {
  std::vector<ModuleOutcome> modules;
  std::vector<Alert> alerts;
  std::vector<Diagnostic> diagnostics;  // all, in module order
  std::vector<LogLine> log;
  std::vector<TimelineEntry> timeline;  // in-memory rows, de-duplicated per module, sorted
  std::shared_ptr<TimelineRuns> timeline_runs;  // spilled rows (large acquisitions), or null
  // Every timeline row in order — in-memory rows and spilled runs merged, duplicates dropped.
  void for_each_timeline(const std::function<void(const TimelineEntry&)>& fn) const;
  std::vector<Json> urls;               // urls.json entries, in module order
  bool partial() const;  // some evidence could not be read
  std::size_t count(Level l) const;
  // 1 when HIGH/CRITICAL alerts, 3 when nothing found but partial, 0 otherwise.
  int exit_code() const;
};

class Engine {
 public:
  Engine(const IndicatorSet* set, const IndicatorIndex* index) : set_(set), index_(index) {}
  // Runs `modules` over the acquisition. ios/android: the source (one of them non-null).
  ScanResult run(std::vector<std::unique_ptr<Module>> modules, IosSource* ios,
                 AndroidSource* android, const ScanOptions& opts);
  // Matches one record of `module` (used by run() and by check-iocs on stored JSON).
  void match_record(const Module& module, const Json& record, std::vector<Alert>& out) const;

 private:
  const IndicatorSet* set_;
  const IndicatorIndex* index_;
};

// Selects modules by -m names (class name or slug, case-insensitive); unknown names -> error.
bool select_modules(std::vector<std::unique_ptr<Module>>& modules,
                    const std::vector<std::string>& names, std::string* err);

}  // namespace bridle
