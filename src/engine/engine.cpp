#include "engine/engine.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <queue>
#include <set>
#include <thread>
#include <unordered_set>

#include <sys/ioctl.h>
#include <unistd.h>

#include "core/jsonio.hpp"
#include "core/util.hpp"
#include "indicators/indicators.hpp"

namespace bridle {

struct TimelineRuns {
  std::unique_ptr<TempDir> dir;
  std::vector<std::filesystem::path> files;
  std::mutex mu;
  std::size_t counter = 0;
};

struct AlertSpill {
  std::unique_ptr<TempDir> dir;
  std::FILE* f = nullptr;
  std::mutex mu;
  std::uint64_t size = 0;
  bool failed = false;
  ~AlertSpill() {
    if (f) std::fclose(f);
  }
  // Moves a.event into the file (CBOR); false (event left in place) on I/O failure.
  bool put(const std::shared_ptr<AlertSpill>& self, Alert& a) {
    std::vector<std::uint8_t> bytes = Json::to_cbor(a.event);
    std::lock_guard<std::mutex> lk(mu);
    if (failed) return false;
    if (!f) {
      try {
        dir = std::make_unique<TempDir>("bridle-alerts");
      } catch (...) {
        failed = true;
        return false;
      }
      f = std::fopen((dir->path() / "events").c_str(), "w+b");
      if (!f) {
        failed = true;
        return false;
      }
    }
    if (std::fseek(f, 0, SEEK_END) != 0 || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      failed = true;
      return false;
    }
    a.spill = self;
    a.spill_offset = size;
    a.spill_size = bytes.size();
    size += bytes.size();
    a.event = Json();
    return true;
  }
  Json get(std::uint64_t off, std::uint64_t n) {
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(n));
    {
      std::lock_guard<std::mutex> lk(mu);
      if (!f || std::fflush(f) != 0 || std::fseek(f, static_cast<long>(off), SEEK_SET) != 0 ||
          std::fread(bytes.data(), 1, bytes.size(), f) != bytes.size())
        return Json();
    }
    return Json::from_cbor(bytes, true, false);
  }
};

Json Alert::load_event() const {
  if (!spill) return event;
  return spill->get(spill_offset, spill_size);
}

Json alert_json(const Alert& a) {
  Json j;
  j["level"] = level_name(a.level);
  j["module"] = a.module;
  j["message"] = a.message;
  j["event_time"] = a.event_time;
  j["event"] = a.load_event();
  if (a.matched)
    j["matched_indicator"] = {{"value", a.matched->value}, {"type", a.matched->type},
                              {"name", a.matched->name},
                              {"stix2_file_name", a.matched->stix2_file_name}};
  else
    j["matched_indicator"] = nullptr;
  return j;
}

namespace {

// Alerts whose event stays in memory; the events of later ones go to a temporary file, so a
// run with hundreds of thousands of alerts (each carrying its full record) stays flat.
// BRIDLE_ALERTS_IN_MEMORY overrides it (tests use a tiny value).
std::size_t alerts_in_memory() {
  static const std::size_t n = [] {
    const char* e = std::getenv("BRIDLE_ALERTS_IN_MEMORY");
    long long v = e ? std::atoll(e) : -1;
    return v >= 0 ? static_cast<std::size_t>(v) : std::size_t{2'000};
  }();
  return n;
}

// A module's timeline rows are spilled to a sorted run file once this many are buffered, so
// memory stays flat however large the acquisition (a 300k-file Manifest gives ~400k rows).
// BRIDLE_TIMELINE_SPILL_ROWS overrides it (tests use a tiny value to exercise the merge).
std::size_t spill_rows() {
  static const std::size_t n = [] {
    const char* e = std::getenv("BRIDLE_TIMELINE_SPILL_ROWS");
    long long v = e ? std::atoll(e) : 0;
    return v > 0 ? static_cast<std::size_t>(v) : std::size_t{100'000};
  }();
  return n;
}

void put_str(std::string& out, const std::string& s) {
  std::uint32_t n = static_cast<std::uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  out.append(s);
}

bool get_str(std::FILE* f, std::string& s) {
  std::uint32_t n = 0;
  if (std::fread(&n, 4, 1, f) != 1) return false;
  s.resize(n);
  return n == 0 || std::fread(s.data(), 1, n, f) == n;
}

bool read_entry(std::FILE* f, TimelineEntry& e) {
  return get_str(f, e.timestamp) && get_str(f, e.plugin) && get_str(f, e.event) && get_str(f, e.description);
}

// Sorts, de-duplicates and writes rows as a run file; false on I/O failure (rows then stay).
bool spill_run(TimelineRuns& runs, std::vector<TimelineEntry>& rows) {
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  std::filesystem::path path;
  {
    std::lock_guard<std::mutex> lk(runs.mu);
    if (!runs.dir) runs.dir = std::make_unique<TempDir>("bridle-timeline");
    path = runs.dir->path() / ("run" + std::to_string(runs.counter++));
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  std::string buf;
  bool ok = true;
  for (auto& e : rows) {
    put_str(buf, e.timestamp);
    put_str(buf, e.plugin);
    put_str(buf, e.event);
    put_str(buf, e.description);
    if (buf.size() > (1u << 20)) {
      ok = ok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
      buf.clear();
    }
  }
  ok = ok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return false;
  {
    std::lock_guard<std::mutex> lk(runs.mu);
    runs.files.push_back(path);
  }
  rows.clear();
  rows.shrink_to_fit();
  return true;
}

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
  std::shared_ptr<TimelineRuns> runs;
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
  std::shared_ptr<AlertSpill> spill;
  std::atomic<std::size_t>* kept_alerts = nullptr;  // events held in memory, whole run
  // Progress (read by the progress thread): 0 waiting, 1 running, 2 done.
  std::atomic<int> state{0};
  std::atomic<std::size_t> records_done{0};
  std::mutex artifact_mu;
  std::string artifact;  // last evidence file the module said it found
  std::mutex* progress_mu = nullptr;  // with opts.progress: guards the terminal line
  bool* progress_line_shown = nullptr;

  ModuleRun(const Engine& e, Module& m, IosSource* i, AndroidSource* a, const ScanOptions& o,
            std::shared_ptr<TimelineRuns> r, std::shared_ptr<AlertSpill> sp, std::atomic<std::size_t>* kept)
      : engine(e), module(m), ios_(i), android_(a), opts(o), runs(std::move(r)), spill(std::move(sp)),
        kept_alerts(kept) {
    outcome.name = m.info().name;
    outcome.slug = m.info().slug;
    if (opts.output_dir && m.info().shape == ModuleInfo::Shape::List)
      writer = std::make_unique<JsonListWriter>(*opts.output_dir / (m.info().slug + ".json"));
  }

  IosSource* ios() override { return ios_; }
  AndroidSource* android() override { return android_; }
  const ModuleOptions& options() const override { return opts.module_options; }

  // Alerts from `first` on: events beyond the run's in-memory budget go to the spill file.
  void bound_alerts(std::size_t first) {
    for (std::size_t i = first; i < alerts.size(); ++i) {
      if (kept_alerts->fetch_add(1, std::memory_order_relaxed) < alerts_in_memory()) continue;
      spill->put(spill, alerts[i]);
    }
  }

  void process(const Json& record) {
    std::size_t before = alerts.size();
    engine.match_record(module, record, alerts);
    if (alerts.size() != before) bound_alerts(before);
    rows_buf.clear();
    module.timeline(record, rows_buf);
    for (auto& r : rows_buf)
      timeline.push_back({r.timestamp, module.info().name, std::move(r.event), std::move(r.description)});
    if (timeline.size() >= spill_rows() && !spill_run(*runs, timeline))
      diag({Diagnostic::Severity::Warning, "", "", "could not spill timeline rows to a temporary file; keeping them in memory", false});
    if (opts.observations) {
      obs_buf.clear();
      module.observe(record, obs_buf);
      if (!obs_buf.empty())
        opts.observations->observe(module.info().slug, std::to_string(outcome.records), obs_buf,
                                   module.event_time(record));
    }
    ++outcome.records;
    records_done.store(outcome.records, std::memory_order_relaxed);
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
    bound_alerts(alerts.size() - 1);
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
    if (opts.progress) {
      auto at = message.find(" at path: ");
      if (at != std::string::npos) {
        std::lock_guard<std::mutex> lk(artifact_mu);
        artifact = message.substr(at + 10);
      }
    }
    LogLine l{log_time(), "bridle." + module.info().slug, sev, std::move(message)};
    if (opts.on_log) {
      if (progress_line_shown) {
        // Log lines go above the progress line: erase it first (it is redrawn on the next tick).
        std::lock_guard<std::mutex> lk(*progress_mu);
        if (*progress_line_shown) {
          std::fputs("\r\033[K", stderr);
          *progress_line_shown = false;
        }
        opts.on_log(l);
      } else {
        opts.on_log(l);
      }
    }
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

// Modules whose artifacts grow with the device's history (messages, browsing, every file of
// the backup), longest first as measured on bench/run's large acquisitions.
// Rank in that list, or -1.
int long_running_rank(const std::string& slug) {
  static const char* const kSlugs[] = {"sms", "manifest", "safari_history", "whatsapp", "chrome_history",
                                       "firefox_history", "aqf_files"};
  for (int i = 0; i < static_cast<int>(std::size(kSlugs)); ++i)
    if (slug == kSlugs[i]) return i;
  return -1;
}

// One progress line on stderr: modules done, then each running module with its records and
// the evidence file it is reading.
std::string progress_line(const std::vector<std::unique_ptr<ModuleRun>>& runs) {
  std::size_t done = 0;
  std::string running;
  for (auto& rp : runs) {
    int st = rp->state.load(std::memory_order_relaxed);
    if (st == 2) ++done;
    if (st != 1) continue;
    std::string art;
    {
      std::lock_guard<std::mutex> lk(rp->artifact_mu);
      art = rp->artifact;
    }
    if (auto slash = art.find_last_of('/'); slash != std::string::npos) art = art.substr(slash + 1);
    running += " | " + rp->module.info().name + " " + std::to_string(rp->records_done.load(std::memory_order_relaxed)) +
               " records";
    if (!art.empty()) running += " (" + art + ")";
  }
  return "modules " + std::to_string(done) + "/" + std::to_string(runs.size()) + running;
}

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
  auto timeline_runs = std::make_shared<TimelineRuns>();
  auto alert_spill = std::make_shared<AlertSpill>();
  std::atomic<std::size_t> kept_alerts{0};
  for (auto& m : modules)
    runs.push_back(std::make_unique<ModuleRun>(*this, *m, ios, android, opts, timeline_runs, alert_spill,
                                               &kept_alerts));

  unsigned threads = opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(runs.size()));
  // Start order: the modules that read the biggest artifacts of a large acquisition first
  // (longest first keeps both cores busy to the end instead of one module running alone at
  // the tail), then the rest in run order. Results still merge in run order.
  std::vector<std::size_t> order;
  order.reserve(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    auto rank = [&](std::size_t i) {
      int r = long_running_rank(runs[i]->module.info().slug);
      return r < 0 ? 1000 : r;
    };
    return rank(a) < rank(b);
  });
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      std::size_t k = next.fetch_add(1);
      if (k >= order.size()) return;
      auto& r = *runs[order[k]];
      r.state.store(1);
      r.log(Diagnostic::Severity::Info, "Running module " + r.module.info().name + "...");
      try {
        r.module.run(r);
      } catch (const std::exception& e) {
        r.diag({Diagnostic::Severity::Error, "", "", std::string("module failed: ") + e.what(), true});
      } catch (...) {
        r.diag({Diagnostic::Severity::Error, "", "", "module failed with an unknown error", true});
      }
      r.finish();
      r.state.store(2);
    }
  };
  // Progress: one line rewritten in place every half second (only asked for on a terminal).
  std::mutex progress_mu, line_mu;
  std::condition_variable progress_cv;
  bool modules_done = false, line_shown = false;
  std::thread progress;
  if (opts.progress) {
    for (auto& rp : runs) {
      rp->progress_mu = &line_mu;
      rp->progress_line_shown = &line_shown;
    }
    progress = std::thread([&] {
      std::unique_lock<std::mutex> lk(progress_mu);
      while (!progress_cv.wait_for(lk, std::chrono::milliseconds(500), [&] { return modules_done; })) {
        // Cut to the terminal's width: a wrapped line could not be erased in place.
        std::size_t width = 80;
        winsize ws{};
        if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) width = ws.ws_col;
        std::string text = progress_line(runs);
        if (text.size() > width - 1) text.resize(width - 1);
        std::string line = "\r\033[K" + text;
        std::lock_guard<std::mutex> ll(line_mu);
        std::fputs(line.c_str(), stderr);
        std::fflush(stderr);
        line_shown = true;
      }
      std::lock_guard<std::mutex> ll(line_mu);
      if (line_shown) std::fputs("\r\033[K", stderr);
      line_shown = false;
    });
  }
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (progress.joinable()) {
    {
      std::lock_guard<std::mutex> lk(progress_mu);
      modules_done = true;
    }
    progress_cv.notify_all();
    progress.join();
  }

  for (auto& rp : runs) {
    auto& r = *rp;
    for (auto& a : r.alerts) {
      LogLine l{log_time(), "bridle." + r.module.info().slug,
                a.level >= Level::High ? Diagnostic::Severity::Error : Diagnostic::Severity::Warning,
                std::string(level_name(a.level)) + " ALERT: " + alert_log_text(a)};
      r.log_lines.push_back(l);
    }
    // Write <slug>_detected.json with this module's alerts (streamed, one alert at a time).
    if (opts.output_dir && !r.alerts.empty()) {
      JsonListWriter w(*opts.output_dir / (r.module.info().slug + "_detected.json"));
      for (auto& a : r.alerts) w.add(alert_json(a));
      w.close();
    }
    for (auto& a : r.alerts) result.alerts.push_back(std::move(a));
    for (auto& d : r.outcome.diagnostics) result.diagnostics.push_back(d);
    for (auto& l : r.log_lines) result.log.push_back(std::move(l));
    for (auto& t : r.timeline) result.timeline.push_back(std::move(t));
    for (auto& u : r.urls) result.urls.push_back(std::move(u));
    result.modules.push_back(std::move(r.outcome));
  }
  std::stable_sort(result.timeline.begin(), result.timeline.end());
  if (!timeline_runs->files.empty()) result.timeline_runs = timeline_runs;
  return result;
}

void ScanResult::for_each_timeline(const std::function<void(const TimelineEntry&)>& fn) const {
  if (!timeline_runs || timeline_runs->files.empty()) {
    for (auto& t : timeline) fn(t);
    return;
  }
  // k-way merge of the in-memory rows and every spilled run; equal consecutive rows (the same
  // module's duplicates split across runs) are written once.
  struct Cursor {
    std::FILE* f = nullptr;
    TimelineEntry cur;
  };
  std::vector<Cursor> cursors;
  for (auto& p : timeline_runs->files) {
    Cursor c;
    c.f = std::fopen(p.c_str(), "rb");
    if (c.f && read_entry(c.f, c.cur)) cursors.push_back(std::move(c));
    else if (c.f) std::fclose(c.f);
  }
  std::size_t mem = 0;
  using Item = std::pair<const TimelineEntry*, std::size_t>;  // row, cursor index (SIZE_MAX = memory)
  auto greater = [](const Item& a, const Item& b) { return *b.first < *a.first; };
  std::priority_queue<Item, std::vector<Item>, decltype(greater)> heap(greater);
  for (std::size_t i = 0; i < cursors.size(); ++i) heap.push({&cursors[i].cur, i});
  if (mem < timeline.size()) heap.push({&timeline[mem], SIZE_MAX});
  std::optional<TimelineEntry> last;
  while (!heap.empty()) {
    auto [row, src] = heap.top();
    heap.pop();
    if (!last || !(*last == *row)) {
      fn(*row);
      last = *row;
    }
    if (src == SIZE_MAX) {
      if (++mem < timeline.size()) heap.push({&timeline[mem], SIZE_MAX});
    } else if (read_entry(cursors[src].f, cursors[src].cur)) {
      heap.push({&cursors[src].cur, src});
    }
  }
  for (auto& c : cursors) std::fclose(c.f);
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
