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
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"
#include "modules/module.hpp"

namespace bridle {

class IndicatorIndex;
class IndicatorSet;
class TempDir;

struct MatchedIndicator {
  std::string value;
  std::string type;  // MVT bucket name
  std::string name;  // collection name
  std::string stix2_file_name;
};

struct IocMatch;

struct Alert {
  Level level = Level::Informational;
  std::string module;       // slug
  std::string module_name;  // class name
  std::string message;
  std::string event_time;
  Json event;
  std::optional<MatchedIndicator> matched;
  // The event record (kept for callers of the spilling engine of earlier versions).
  const Json& load_event() const { return event; }
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

// Every alert of a run, rendered once when it is raised (its alerts.json element, its
// alerts_timeline.csv line, a brief record without the event for the summary, command.log and
// timeline.jsonl) into per-module streams that move to a private temporary folder past a small
// memory budget, so a run with hundreds of thousands of alerts stays flat. The writers read
// them back in order. With an output folder, a module's stream of elements is its
// `<slug>_detected.json` itself, and alerts.json is copied from those; without one, elements
// and CSV lines are not rendered at all (only the brief records, counts and the summary).
class AlertStreams {
 public:
  struct Stream;  // one module's alerts (engine.cpp)
  AlertStreams();
  ~AlertStreams();
  AlertStreams(const AlertStreams&) = delete;
  AlertStreams& operator=(const AlertStreams&) = delete;
  // Streams of alerts already in memory (check-iocs): one per run of consecutive alerts of a
  // module, elements and CSV lines rendered here.
  static std::shared_ptr<AlertStreams> from_alerts(const std::vector<Alert>& alerts);

  std::size_t size() const;  // alerts
  std::size_t count(Level level) const;
  // The elements of alerts.json in order (each at its list indent, joined by ",\n"), in
  // chunks. False when a stream could not be read back.
  bool for_each_json_chunk(const std::function<void(std::string_view)>& fn) const;
  // The lines of alerts_timeline.csv ("\r\n" included): alerts with an event time, stably
  // sorted by it. False when a stream could not be read back.
  bool for_each_csv_line(const std::function<void(std::string_view)>& fn) const;
  // Every alert in order without its event (`event` is null). False on a read error.
  bool for_each_brief(const std::function<void(const Alert&)>& fn) const;

  // Engine side: a new stream (module order = call order).
  Stream& add_stream(const std::string& slug, const std::string& name);
  const std::vector<std::unique_ptr<Stream>>& streams() const { return streams_; }
  // A fresh path in the private temporary folder (created on first use); nullopt when it
  // cannot be created.
  std::optional<std::filesystem::path> temp_path();

 private:
  std::vector<std::unique_ptr<Stream>> streams_;
  std::mutex mu_;
  std::unique_ptr<TempDir> dir_;
  std::size_t counter_ = 0;
  bool no_dir_ = false;
};

struct ScanResult {
  std::vector<ModuleOutcome> modules;
  // Alerts with their events, as far as the in-memory budget allows (all of them on a small
  // run; BRIDLE_ALERTS_IN_MEMORY): for tests and tools. The complete list is alert_streams.
  std::vector<Alert> alerts;
  // Every alert (the engine's runs). Null when a caller filled `alerts` itself (check-iocs):
  // then `alerts` is the complete list.
  std::shared_ptr<AlertStreams> alert_streams;
  std::vector<Diagnostic> diagnostics;  // all, in module order
  std::vector<LogLine> log;             // modules' log lines (alert lines: for_each_log)
  std::vector<TimelineEntry> timeline;  // in-memory rows, de-duplicated per module, sorted
  std::shared_ptr<TimelineRuns> timeline_runs;  // spilled rows (large acquisitions), or null
  // Every timeline row in order — in-memory rows and spilled runs merged, duplicates dropped.
  void for_each_timeline(const std::function<void(const TimelineEntry&)>& fn) const;
  // Every log line in order: each module's lines, then one "<LEVEL> ALERT: <message>" line
  // per alert of that module (timed when read).
  void for_each_log(const std::function<void(const LogLine&)>& fn) const;
  // Every alert without its event, in order (see AlertStreams::for_each_brief).
  void for_each_alert_brief(const std::function<void(const Alert&)>& fn) const;
  std::vector<Json> urls;               // urls.json entries, in module order
  bool partial() const;  // some evidence could not be read
  std::size_t alert_count() const;
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
  // Looks up a record's observations (from module.observe()): `hit` gets the alert level and
  // the most specific matching indicator of each distinct observed value.
  bool matching() const;  // indicators are loaded
  void match_observations(const Module& module, const std::vector<Observation>& obs,
                          const std::function<void(Level, const IocMatch&)>& hit) const;

 private:
  const IndicatorSet* set_;
  const IndicatorIndex* index_;
};

// Selects modules by -m names (class name or slug, case-insensitive); unknown names -> error.
bool select_modules(std::vector<std::unique_ptr<Module>>& modules,
                    const std::vector<std::string>& names, std::string* err);

}  // namespace bridle
