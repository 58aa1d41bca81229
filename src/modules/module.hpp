// The module contract. A module reads one artifact kind and emits records (MVT's JSON
// shape), the observables each record carries, timeline rows and heuristic alerts. It never
// matches indicators itself: the engine does, centrally, from observe().
//
// Adding a module is one .cpp file with a BRIDLE_REGISTER_MODULE(...) line; no list to edit.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace bridle {

class IosSource;
class AndroidSource;

// Acquisition kinds a module supports (bit mask).
enum AcqKind : unsigned {
  kIosBackup = 1u << 0,
  kIosFs = 1u << 1,
  kAndroidQF = 1u << 2,
  kAndroidBugreport = 1u << 3,
  kAndroidBackup = 1u << 4,
  kAndroidIntrusionLogs = 1u << 5,
  kIosAny = kIosBackup | kIosFs,
};

struct ModuleInfo {
  std::string name;        // MVT class name, e.g. "SafariHistory" (timeline "Plugin" column)
  std::string slug;        // JSON file stem, e.g. "safari_history"
  unsigned kinds = 0;      // AcqKind mask
  Level ioc_level = Level::Critical;  // level of an indicator match on this module's records
  // Output shape: a JSON list of records (default), or a dict: group -> list of records
  // (grouped), or a single document (document, e.g. backup_info).
  enum class Shape { List, Grouped, Document } shape = Shape::List;
  std::string description;  // one line for --list-modules
};

struct TimelineRow {
  std::string timestamp;    // "YYYY-MM-DD HH:MM:SS.ffffff" or ""
  std::string event;
  std::string description;
};

struct ModuleOptions {
  bool fast = false;             // MVT --fast: skip expensive filesystem-wide checks
  bool have_indicators = false;  // some indicators are loaded
};

// Where a module's work goes. Implemented by the engine; thread-safe per module instance.
class ModuleContext {
 public:
  virtual ~ModuleContext() = default;
  virtual IosSource* ios() = 0;          // non-null for iOS acquisitions
  virtual AndroidSource* android() = 0;  // non-null for Android acquisitions
  virtual const ModuleOptions& options() const = 0;

  // One result record. `group` is the dict key for Shape::Grouped modules.
  virtual void emit(Json record, const std::string& group = "") = 0;
  // The whole document for Shape::Document modules.
  virtual void set_document(Json doc) = 0;
  // A non-indicator (heuristic) alert with its evidence record.
  virtual void alert(Level level, std::string message, std::string event_time, Json record) = 0;
  // A URL seen in messages (urls.json; source "sms", "whatsapp", ...).
  virtual void collect_url(std::string url, std::string timestamp, std::string source) = 0;
  // Progress, findings that are not alerts, and problems. Problems with unread=true make the
  // run partial.
  virtual void log(Diagnostic::Severity sev, std::string message) = 0;
  virtual void diag(Diagnostic d) = 0;
  void info(std::string m) { log(Diagnostic::Severity::Info, std::move(m)); }
  void warn(std::string m) { log(Diagnostic::Severity::Warning, std::move(m)); }
  // An artifact that exists but could not be read (fully).
  void unreadable(std::string file, std::string why) {
    diag({Diagnostic::Severity::Error, "", std::move(file), std::move(why), true});
  }
};

class Module {
 public:
  virtual ~Module() = default;
  virtual const ModuleInfo& info() const = 0;
  // Extract records from the acquisition.
  virtual void run(ModuleContext& ctx) = 0;
  // The observables a record carries (also used on records re-loaded from JSON by
  // check-iocs and on stored records, so it must only read the record).
  virtual void observe(const Json& record, std::vector<Observation>& out) const {
    (void)record; (void)out;
  }
  // Timeline rows of a record (MVT's serialize()).
  virtual void timeline(const Json& record, std::vector<TimelineRow>& out) const {
    (void)record; (void)out;
  }
  // event_time of an indicator alert raised on this record ("" by default, as MVT).
  virtual std::string event_time(const Json& record) const { (void)record; return ""; }
  // Calls fn for every record inside a document written by this module (check-iocs).
  virtual void records_of(const Json& doc, const std::function<void(const Json&)>& fn) const;
};

using ModuleFactory = std::function<std::unique_ptr<Module>()>;

// Registry of all modules, in registration-independent, deterministic order (see
// module_order() in registry.cpp: MVT's order for the modules it has, then by name).
class ModuleRegistry {
 public:
  static ModuleRegistry& instance();
  void add(ModuleFactory factory);
  // Fresh instances of the modules supporting `kind`, in run order.
  std::vector<std::unique_ptr<Module>> create(AcqKind kind) const;
  std::vector<std::unique_ptr<Module>> create_all() const;

 private:
  std::vector<ModuleFactory> factories_;
};

struct ModuleRegistrar {
  explicit ModuleRegistrar(ModuleFactory f) { ModuleRegistry::instance().add(std::move(f)); }
};

#define BRIDLE_CONCAT_(a, b) a##b
#define BRIDLE_CONCAT(a, b) BRIDLE_CONCAT_(a, b)
#define BRIDLE_REGISTER_MODULE(Type)                                                    \
  static ::bridle::ModuleRegistrar BRIDLE_CONCAT(bridle_registrar_, __LINE__)(         \
      [] { return std::unique_ptr<::bridle::Module>(new Type()); })

// Helpers for modules.
// Links in free text: http(s)://... up to whitespace; trailing punctuation that cannot end a
// URL (.,;:!?'")] and unbalanced ')') is trimmed (MVT keeps it).
std::vector<std::string> extract_urls(std::string_view text);
// Json field accessors that tolerate missing/null/mistyped values.
std::string jstr(const Json& j, const char* key);
std::int64_t jint(const Json& j, const char* key, std::int64_t def = 0);
// Python str() of a JSON value, as MVT's f-strings print record fields ("None", "True",
// "1.0", strings as they are).
std::string pystr(const Json& j);
std::string pystr(const Json& j, const char* key);
// CamelCase -> snake_case as MVT derives slugs.
std::string to_slug(std::string_view class_name);

}  // namespace bridle
