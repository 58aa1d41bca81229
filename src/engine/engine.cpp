#include "engine/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "core/jsonio.hpp"
#include "core/util.hpp"
#include "indicators/indicators.hpp"

namespace bridle {

namespace {

std::string log_time() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d,%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// Everything one module produced, merged into the ScanResult in module order.
struct ModuleRun final : ModuleContext {
  const Engine& engine;
  Module& module;
  IosSource* ios_;
  AndroidSource* android_;
  const ScanOptions& opts;
  std::unique_ptr<JsonListWriter> writer;
  Json document;            // Grouped / Document shapes
  bool has_document = false;
  std::vector<Alert> alerts;
  std::vector<TimelineEntry> timeline;
  std::vector<LogLine> log_lines;
  std::vector<Json> urls;
  ModuleOutcome outcome;
  std::vector<Observation> obs_buf;
  std::vector<TimelineRow> rows_buf;

  ModuleRun(const Engine& e, Module& m, IosSource* i, AndroidSource* a, const ScanOptions& o)
      : engine(e), module(m), ios_(i), android_(a), opts(o) {
    outcome.name = m.info().name;
    outcome.slug = m.info().slug;
    if (opts.output_dir && m.info().shape == ModuleInfo::Shape::List)
      writer = std::make_unique<JsonListWriter>(*opts.output_dir / (m.info().slug + ".json"));
  }

  IosSource* ios() override { return ios_; }
  AndroidSource* android() override { return android_; }
  const ModuleOptions& options() const override { return opts.module_options; }

  void process(const Json& record) {
    engine.match_record(module, record, alerts);
    rows_buf.clear();
    module.timeline(record, rows_buf);
    for (auto& r : rows_buf)
      timeline.push_back({r.timestamp, module.info().name, std::move(r.event), std::move(r.description)});
    if (opts.observations) {
      obs_buf.clear();
      module.observe(record, obs_buf);
      if (!obs_buf.empty())
        opts.observations->observe(module.info().slug, std::to_string(outcome.records), obs_buf,
                                   module.event_time(record));
    }
    ++outcome.records;
  }

  void emit(Json record, const std::string& group) override {
    process(record);
    switch (module.info().shape) {
      case ModuleInfo::Shape::List:
        if (writer && !writer->add(record)) {
          diag({Diagnostic::Severity::Error, "", "", writer->error(), false});
        }
        break;
      case ModuleInfo::Shape::Grouped:
        if (!has_document) { document = Json::object(); has_document = true; }
        document[group].push_back(std::move(record));
        break;
      case ModuleInfo::Shape::Document:
        break;
    }
  }

  void set_document(Json doc) override {
    document = std::move(doc);
    has_document = true;
  }

  void alert(Level level, std::string message, std::string event_time, Json record) override {
    Alert a;
    a.level = level;
    a.module = module.info().slug;
    a.module_name = module.info().name;
    a.message = std::move(message);
    a.event_time = std::move(event_time);
    a.event = std::move(record);
    alerts.push_back(std::move(a));
  }

  void collect_url(std::string url, std::string timestamp, std::string source) override {
    Json u;
    u["url"] = std::move(url);
    u["expanded_url"] = nullptr;
    u["timestamp"] = std::move(timestamp);
    u["source"] = std::move(source);
    urls.push_back(std::move(u));
  }

  void log(Diagnostic::Severity sev, std::string message) override {
    LogLine l{log_time(), "bridle." + module.info().slug, sev, std::move(message)};
    if (opts.on_log) opts.on_log(l);
    log_lines.push_back(std::move(l));
  }

  void diag(Diagnostic d) override {
    if (d.module.empty()) d.module = module.info().name;
    std::string text = d.file.empty() ? d.message : d.file + ": " + d.message;
    log(d.severity, text);
    outcome.diagnostics.push_back(std::move(d));
  }

  void finish() {
    if (writer) {
      if (!writer->close()) diag({Diagnostic::Severity::Error, "", "", writer->error(), false});
    }
    if (opts.output_dir && has_document && module.info().shape != ModuleInfo::Shape::List) {
      std::string err;
      if (!write_text_file(*opts.output_dir / (module.info().slug + ".json"), dump_mvt(document), &err))
        diag({Diagnostic::Severity::Error, "", "", err, false});
    }
    // De-duplicate the module's timeline rows (MVT does it per module) and sort.
    std::sort(timeline.begin(), timeline.end());
    timeline.erase(std::unique(timeline.begin(), timeline.end()), timeline.end());
    outcome.alerts = alerts.size();
    outcome.ran = true;
  }
};

std::string alert_log_text(const Alert& a) { return a.message; }

}  // namespace

void Module::records_of(const Json& doc, const std::function<void(const Json&)>& fn) const {
  switch (info().shape) {
    case ModuleInfo::Shape::List:
      if (doc.is_array())
        for (auto& r : doc) fn(r);
      break;
    case ModuleInfo::Shape::Grouped:
      if (doc.is_object())
        for (auto& [k, v] : doc.items())
          if (v.is_array())
            for (auto& r : v) fn(r);
      break;
    case ModuleInfo::Shape::Document:
      fn(doc);
      break;
  }
}

void Engine::match_record(const Module& module, const Json& record, std::vector<Alert>& out) const {
  if (!index_ || index_->empty()) return;
  std::vector<Observation> obs;
  module.observe(record, obs);
  if (obs.empty()) return;
  // One alert per observed value: the most specific matching indicator (the longest value,
  // e.g. "badbadbad.example.org" over "example.org"; ties go to the first loaded), as MVT
  // reports one indicator per finding.
  std::set<std::pair<ObsKind, std::string>> seen;
  for (const auto& o : obs) {
    if (!seen.insert({o.kind, o.value}).second) continue;
    auto matches = index_->match(o);
    if (matches.empty()) continue;
    const IocMatch* best = &matches.front();
    for (const auto& m : matches)
      if (m.indicator->value.size() > best->indicator->value.size()) best = &m;
    const IocMatch& m = *best;
    Alert a;
    a.level = o.level.value_or(module.info().ioc_level);
    a.module = module.info().slug;
    a.module_name = module.info().name;
    a.message = m.message;
    a.event_time = module.event_time(record);
    a.event = record;
    a.matched = MatchedIndicator{m.indicator->raw_value.empty() ? m.indicator->value : m.indicator->raw_value,
                                 std::string(ioc_mvt_bucket(m.indicator->type)),
                                 m.collection ? m.collection->name : "",
                                 m.collection ? m.collection->stix2_file_name : ""};
    out.push_back(std::move(a));
  }
}

ScanResult Engine::run(std::vector<std::unique_ptr<Module>> modules, IosSource* ios,
                       AndroidSource* android, const ScanOptions& opts) {
  ScanResult result;
  std::vector<std::unique_ptr<ModuleRun>> runs;
  runs.reserve(modules.size());
  for (auto& m : modules) runs.push_back(std::make_unique<ModuleRun>(*this, *m, ios, android, opts));

  unsigned threads = opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(runs.size()));
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= runs.size()) return;
      auto& r = *runs[i];
      r.log(Diagnostic::Severity::Info, "Running module " + r.module.info().name + "...");
      try {
        r.module.run(r);
      } catch (const std::exception& e) {
        r.diag({Diagnostic::Severity::Error, "", "", std::string("module failed: ") + e.what(), true});
      } catch (...) {
        r.diag({Diagnostic::Severity::Error, "", "", "module failed with an unknown error", true});
      }
      r.finish();
    }
  };
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }

  for (auto& rp : runs) {
    auto& r = *rp;
    for (auto& a : r.alerts) {
      LogLine l{log_time(), "bridle." + r.module.info().slug,
                a.level >= Level::High ? Diagnostic::Severity::Error : Diagnostic::Severity::Warning,
                std::string(level_name(a.level)) + " ALERT: " + alert_log_text(a)};
      r.log_lines.push_back(l);
    }
    // Write <slug>_detected.json with this module's alerts.
    if (opts.output_dir && !r.alerts.empty()) {
      Json list = Json::array();
      for (auto& a : r.alerts) {
        Json j;
        j["level"] = level_name(a.level);
        j["module"] = a.module;
        j["message"] = a.message;
        j["event_time"] = a.event_time;
        j["event"] = a.event;
        if (a.matched)
          j["matched_indicator"] = {{"value", a.matched->value}, {"type", a.matched->type},
                                    {"name", a.matched->name},
                                    {"stix2_file_name", a.matched->stix2_file_name}};
        else
          j["matched_indicator"] = nullptr;
        list.push_back(std::move(j));
      }
      write_text_file(*opts.output_dir / (r.module.info().slug + "_detected.json"), dump_mvt(list));
    }
    for (auto& a : r.alerts) result.alerts.push_back(std::move(a));
    for (auto& d : r.outcome.diagnostics) result.diagnostics.push_back(d);
    for (auto& l : r.log_lines) result.log.push_back(std::move(l));
    for (auto& t : r.timeline) result.timeline.push_back(std::move(t));
    for (auto& u : r.urls) result.urls.push_back(std::move(u));
    result.modules.push_back(std::move(r.outcome));
  }
  std::stable_sort(result.timeline.begin(), result.timeline.end());
  return result;
}

bool ScanResult::partial() const {
  for (auto& d : diagnostics)
    if (d.unread) return true;
  return false;
}

std::size_t ScanResult::count(Level l) const {
  return static_cast<std::size_t>(std::count_if(alerts.begin(), alerts.end(),
                                                [&](const Alert& a) { return a.level == l; }));
}

int ScanResult::exit_code() const {
  if (count(Level::High) + count(Level::Critical) > 0) return 1;
  if (partial()) return 3;
  return 0;
}

bool select_modules(std::vector<std::unique_ptr<Module>>& modules,
                    const std::vector<std::string>& names, std::string* err) {
  if (names.empty()) return true;
  std::vector<std::unique_ptr<Module>> keep;
  for (auto& n : names) {
    std::string ln = to_lower(n);
    bool found = false;
    for (auto& m : modules) {
      if (!m) continue;
      if (to_lower(m->info().name) == ln || m->info().slug == ln) {
        keep.push_back(std::move(m));
        found = true;
        break;
      }
    }
    if (!found) {
      bool dup = std::any_of(keep.begin(), keep.end(), [&](auto& k) {
        return to_lower(k->info().name) == ln || k->info().slug == ln;
      });
      if (!dup) {
        if (err) *err = "unknown module \"" + n + "\" (see --list-modules)";
        return false;
      }
    }
  }
  modules = std::move(keep);
  return true;
}

}  // namespace bridle
