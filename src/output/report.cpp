#include "output/report.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <cmath>
#include <ostream>
#include <set>

#include "core/jsonio.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "indicators/indicators.hpp"
#include "bridle/version.hpp"

namespace bridle {

Json alert_to_json(const Alert& a) { return alert_json(a); }

namespace {
using FileHashes = std::vector<std::pair<fs::path, std::string>>;

// sha256 of every evidence file read, sorted by path.
FileHashes hash_files_read(const RunInfo& info) {
  std::vector<fs::path> sorted = info.files_read;
  std::sort(sorted.begin(), sorted.end());
  FileHashes out;
  out.reserve(sorted.size());
  for (auto& p : sorted) out.emplace_back(p, sha256_file_shared(p).value_or("unreadable"));
  return out;
}

Json build_info_json_with(const ScanResult& result, const RunInfo& info, const FileHashes& read_hashes);
}  // namespace

Json build_info_json(const ScanResult& result, const RunInfo& info) {
  return build_info_json_with(result, info, hash_files_read(info));
}

namespace {
Json build_info_json_with(const ScanResult& result, const RunInfo& info, const FileHashes& read_hashes) {
  Json j;
  std::error_code ec;
  auto abs = fs::absolute(info.target, ec);
  j["target_path"] = info.target.string();
  j["target_path_absolute"] = ec ? info.target.string() : abs.lexically_normal().string();
  j["tool"] = "bridle";
  j["bridle_version"] = kVersion;
  j["command"] = info.command;
  j["acquisition_kind"] = info.acquisition_kind;
  j["date"] = info.started_at;
  j["finished"] = now_iso_local();
  Json files = Json::array(), hashes = Json::array();
  if (info.indicators) {
    for (auto& f : info.indicators->files()) {
      files.push_back(f.path);
      hashes.push_back({{"file_path", f.path}, {"sha256", f.sha256}});
    }
    j["indicators_digest"] = info.indicators->digest();
    j["indicators_count"] = info.indicators->size();
  } else {
    j["indicators_digest"] = nullptr;
    j["indicators_count"] = 0;
  }
  j["ioc_files"] = files;
  j["ioc_files_sha256"] = hashes;
  Json read = Json::array();
  for (auto& [p, h] : read_hashes) read.push_back({{"file_path", p.string()}, {"sha256", h}});
  j["files_read"] = read;
  Json all = Json::array();
  if (info.hash_all) {
    std::vector<fs::path> paths;
    for (auto it = fs::recursive_directory_iterator(info.target, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && !it->is_symlink(ec)) paths.push_back(it->path());
    }
    std::sort(paths.begin(), paths.end());
    for (auto& p : paths)
      all.push_back({{"file_path", p.string()}, {"sha256", sha256_file(p).value_or("unreadable")}});
  }
  j["hashes"] = all;
  Json counts = Json::object();
  for (Level l : {Level::Critical, Level::High, Level::Medium, Level::Low, Level::Informational})
    counts[std::string(level_name(l))] = result.count(l);
  j["alert_counts"] = counts;
  j["partial"] = result.partial();
  Json unread = Json::array();
  for (auto& d : result.diagnostics)
    if (d.unread) unread.push_back({{"module", d.module}, {"file", d.file}, {"reason", d.message}});
  j["not_checked"] = unread;
  j["exit_code"] = result.exit_code();
  for (auto& [k, v] : info.extra.items()) j[k] = v;
  return j;
}
}  // namespace

namespace {

// A file written through a temporary name and renamed when complete (like write_text_file),
// filled from a buffer flushed every MiB.
struct StreamFile {
  fs::path path, tmp;
  std::FILE* f = nullptr;
  bool ok = false;
  std::string buf;
  explicit StreamFile(fs::path p) : path(std::move(p)), tmp(path) { tmp += ".tmp-bridle"; }
  ~StreamFile() { discard(); }
  void open() {
    f = std::fopen(tmp.c_str(), "wb");
    ok = f != nullptr;
    buf.reserve(1u << 21);
  }
  void flush() {
    if (f && !buf.empty()) ok = ok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
    buf.clear();
  }
  void maybe_flush() {
    if (buf.size() > (1u << 20)) flush();
  }
  bool failed() const { return !ok; }
  bool commit() {
    flush();
    if (f) {
      ok = (std::fclose(f) == 0) && ok;
      f = nullptr;
    }
    std::error_code ec;
    if (ok) fs::rename(tmp, path, ec);
    if (!ok || ec) {
      fs::remove(tmp, ec);
      return false;
    }
    return true;
  }
  void discard() {
    if (f) {
      std::fclose(f);
      f = nullptr;
      std::error_code ec;
      fs::remove(tmp, ec);
    }
  }
};

// Batches of merged timeline rows handed from the merging thread to the jsonl formatter.
struct RowBatch {
  static constexpr std::size_t kSize = 4096;
  std::vector<TimelineEntry> rows = std::vector<TimelineEntry>(kSize);
  std::size_t n = 0;
  void put(const TimelineEntry& t) {
    TimelineEntry& d = rows[n++];
    d.timestamp.assign(t.timestamp);  // assignments reuse the strings' storage
    d.plugin.assign(t.plugin);
    d.event.assign(t.event);
    d.description.assign(t.description);
  }
};

class RowPipe {
 public:
  RowBatch* fresh() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !free_.empty() || all_.size() < kInFlight; });
    if (free_.empty()) {
      all_.push_back(std::make_unique<RowBatch>());
      return all_.back().get();
    }
    RowBatch* b = free_.back();
    free_.pop_back();
    b->n = 0;
    return b;
  }
  void push(RowBatch* b) {
    std::lock_guard<std::mutex> lk(mu_);
    queue_.push_back(b);
    cv_.notify_all();
  }
  void close() {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  RowBatch* pop() {  // nullptr when closed and drained
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return nullptr;
    RowBatch* b = queue_.front();
    queue_.pop_front();
    return b;
  }
  void recycle(RowBatch* b) {
    std::lock_guard<std::mutex> lk(mu_);
    free_.push_back(b);
    cv_.notify_all();
  }

 private:
  static constexpr std::size_t kInFlight = 8;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<RowBatch*> queue_;
  std::vector<RowBatch*> free_;
  std::vector<std::unique_ptr<RowBatch>> all_;
  bool closed_ = false;
};

// A JSON string as nlohmann's dump(-1, ' ', false, replace) writes it: ASCII handled here
// (short escapes, other control bytes as \u00xx, DEL kept), anything with a byte >= 0x80
// handed to nlohmann for its UTF-8 validation and replacement.
void append_json_string(std::string& out, const std::string& s) {
  if (!append_ascii_json_string(out, s, false))
    out += Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

int two_digits(const std::string& s, std::size_t at) {
  char a = s[at], b = s[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  return (a - '0') * 10 + (b - '0');
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// iso_to_unix() for the common "YYYY-MM-DD HH:MM:SS[.f{1,9}]" form without sscanf/timegm;
// the same double (whole seconds plus the correctly rounded fraction); other forms go to
// iso_to_unix itself.
std::optional<double> fast_iso_to_unix(const std::string& ts) {
  if (ts.size() < 19 || ts[4] != '-' || ts[7] != '-' || ts[10] != ' ' || ts[13] != ':' || ts[16] != ':')
    return iso_to_unix(ts);
  int y1 = two_digits(ts, 0), y2 = two_digits(ts, 2), mo = two_digits(ts, 5), d = two_digits(ts, 8),
      h = two_digits(ts, 11), mi = two_digits(ts, 14), se = two_digits(ts, 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || se < 0 || se > 60)
    return iso_to_unix(ts);
  std::int64_t secs = days_from_civil(y1 * 100 + y2, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                      h * 3600 + mi * 60 + se;
  double v = static_cast<double>(secs);
  if (ts.size() > 20 && ts[19] == '.' && ts[20] >= '0' && ts[20] <= '9') {
    static constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    std::uint64_t n = 0;
    std::size_t k = 0;
    while (k < 9 && 20 + k < ts.size() && ts[20 + k] >= '0' && ts[20 + k] <= '9') {
      n = n * 10 + static_cast<std::uint64_t>(ts[20 + k] - '0');
      ++k;
    }
    v += static_cast<double>(n) / kPow10[k];  // exact operands: one correctly rounded division
  }
  return v;
}

// ,"datetime":...,"timestamp":...[,"timezone":...] of a timeline row (ts.size() >= 19).
void append_jsonl_when(std::string& j, const std::string& ts, bool utc) {
  std::string iso = ts.substr(0, 10) + "T" + ts.substr(11);
  if (utc) iso += "+00:00";
  j += ",\"datetime\":";
  append_json_string(j, iso);
  if (auto u = fast_iso_to_unix(ts)) {
    j += ",\"timestamp\":";
    char b[24];
    auto r = std::to_chars(b, b + sizeof b, static_cast<std::int64_t>(std::llround(*u * 1e6)));
    j.append(b, r.ptr);
  }
  if (!utc) j += ",\"timezone\":\"device local time\"";
}

}  // namespace

bool write_run_outputs(const fs::path& dir, const ScanResult& result, const RunInfo& info,
                       const std::string& timeline_header, std::string* err) {
  // The evidence files are hashed for info.json on a second core while the other outputs
  // are written.
  auto read_hashes = std::async(std::launch::async, [&info] { return hash_files_read(info); });
  bool ok = true;
  auto put = [&](const std::string& name, const std::string& text) {
    std::string e;
    if (!write_text_file(dir / name, text, &e)) {
      ok = false;
      if (err && err->empty()) *err = e;
    }
  };
  // Every alert, read back in order from the engine's streams (or rendered here from the
  // alerts a caller collected itself, as check-iocs does).
  std::shared_ptr<AlertStreams> streams = result.alert_streams;
  if (!streams) streams = AlertStreams::from_alerts(result.alerts);
  if (streams->size() > 0) {
    // alerts.json: every module's elements (its <slug>_detected.json body) in module order.
    StreamFile js(dir / "alerts.json");
    js.open();
    js.buf += "[\n";
    bool read_ok = streams->for_each_json_chunk([&](std::string_view chunk) {
      js.buf.append(chunk);
      js.maybe_flush();
    });
    js.buf += "\n]";
    if (!read_ok || !js.commit()) {
      ok = false;
      if (err && err->empty()) *err = "cannot write " + (dir / "alerts.json").string();
    }
  }
  {
    StreamFile csv(dir / "alerts_timeline.csv");
    csv.open();
    csv.buf += "\"Event Time\",\"Module\",\"Message\",\"Event\"\r\n";
    bool read_ok = streams->for_each_csv_line([&](std::string_view line) {
      csv.buf.append(line);
      csv.maybe_flush();
    });
    if (!read_ok || !csv.commit()) {
      ok = false;
      if (err && err->empty()) *err = "cannot write " + (dir / "alerts_timeline.csv").string();
    }
  }
  {
    // timeline.csv and the Timesketch timeline.jsonl (one event per line, mandatory
    // message/datetime/timestamp_desc, plus the alerts that have a time, tagged with their
    // level) are written in one pass over the merged timeline, streamed: a large
    // acquisition's timeline is never held as one string.
    const bool utc = timeline_header == "UTC Timestamp";
    const bool has_rows = !result.timeline.empty() || result.timeline_runs;
    StreamFile csv(dir / "timeline.csv"), jsonl(dir / "timeline.jsonl");
    if (has_rows) {
      csv.open();
      append_csv_field(csv.buf, timeline_header);
      csv.buf += ",\"Plugin\",\"Event\",\"Description\"\r\n";
    }
    jsonl.open();
    std::size_t jlines = 0;
    std::size_t rows_done = 0;
    auto last_shown = std::chrono::steady_clock::now();
    bool shown = false;
    if (has_rows) {
      // The merge and timeline.csv run here; timeline.jsonl is formatted on a second thread
      // from batches of merged rows (a few batches in flight: memory stays bounded).
      RowPipe pipe;
      std::thread jsonl_writer([&] {
        std::string scratch;
        while (RowBatch* b = pipe.pop()) {
          for (std::size_t i = 0; i < b->n; ++i) {
            const TimelineEntry& t = b->rows[i];
            if (t.timestamp.size() < 19) continue;
            std::string& j = jsonl.buf;
            j += "{\"message\":";
            scratch.assign(t.plugin);
            scratch += ": ";
            scratch += t.description;
            append_json_string(j, scratch);
            append_jsonl_when(j, t.timestamp, utc);
            j += ",\"timestamp_desc\":";
            append_json_string(j, t.event);
            j += ",\"module\":";
            append_json_string(j, t.plugin);
            j += ",\"data_type\":";
            scratch.assign("bridle:");
            scratch += t.plugin;
            append_json_string(j, scratch);
            j += "}\n";
            ++jlines;
            jsonl.maybe_flush();
          }
          pipe.recycle(b);
        }
      });
      RowBatch* batch = pipe.fresh();
      result.for_each_timeline([&](const TimelineEntry& t) {
        if (info.progress && (++rows_done & 0xffff) == 0) {
          auto now = std::chrono::steady_clock::now();
          if (now - last_shown > std::chrono::milliseconds(500)) {
            std::fprintf(stderr, "\r\033[Kwriting timeline.csv / timeline.jsonl: %zu rows", rows_done);
            std::fflush(stderr);
            last_shown = now;
            shown = true;
          }
        }
        append_csv_field(csv.buf, t.timestamp);
        csv.buf += ',';
        append_csv_field(csv.buf, t.plugin);
        csv.buf += ',';
        append_csv_field(csv.buf, t.event);
        csv.buf += ',';
        append_csv_field(csv.buf, t.description);
        csv.buf += "\r\n";
        csv.maybe_flush();
        batch->put(t);
        if (batch->n == RowBatch::kSize) {
          pipe.push(batch);
          batch = pipe.fresh();
        }
      });
      pipe.push(batch);
      pipe.close();
      jsonl_writer.join();
    }
    if (shown) std::fputs("\r\033[K", stderr);
    // The alerts that have a time, after the rows: what dump() of {"message", "datetime",
    // "timestamp", "timezone", "timestamp_desc", "module", "data_type", "level", "tag",
    // "matched_indicator"} writes, formatted directly.
    std::string scratch;
    streams->for_each_brief([&](const Alert& a) {
      if (a.event_time.size() < 19) return;
      std::string& j = jsonl.buf;
      const std::string_view level = level_name(a.level);
      j += "{\"message\":";
      scratch.assign(level);
      scratch += " alert: ";
      scratch += a.message;
      append_json_string(j, scratch);
      append_jsonl_when(j, a.event_time, utc);
      j += ",\"timestamp_desc\":\"Alert\",\"module\":";
      append_json_string(j, a.module_name);
      j += ",\"data_type\":\"bridle:alert\",\"level\":";
      append_json_string(j, std::string(level));
      j += ",\"tag\":[\"bridle_alert\",";
      append_json_string(j, std::string(level));
      j += ']';
      if (a.matched) {
        j += ",\"matched_indicator\":{\"value\":";
        append_json_string(j, a.matched->value);
        j += ",\"type\":";
        append_json_string(j, a.matched->type);
        j += ",\"name\":";
        append_json_string(j, a.matched->name);
        j += ",\"stix2_file_name\":";
        append_json_string(j, a.matched->stix2_file_name);
        j += '}';
      }
      j += "}\n";
      ++jlines;
      jsonl.maybe_flush();
    });
    if (has_rows && !csv.commit()) {
      ok = false;
      if (err && err->empty()) *err = "cannot write " + (dir / "timeline.csv").string();
    }
    if (jlines > 0) {
      if (!jsonl.commit()) {
        ok = false;
        if (err && err->empty()) *err = "cannot write " + (dir / "timeline.jsonl").string();
      }
    } else {
      bool failed = jsonl.failed();
      jsonl.discard();
      if (failed) {
        ok = false;
        if (err && err->empty()) *err = "cannot write " + (dir / "timeline.jsonl").string();
      }
    }
  }
  if (!result.urls.empty()) put("urls.json", dump_mvt(Json(result.urls)));
  put("info.json", dump_mvt(build_info_json_with(result, info, read_hashes.get())));
  {
    StreamFile logf(dir / "command.log");
    logf.open();
    auto sev = [](Diagnostic::Severity s) {
      switch (s) {
        case Diagnostic::Severity::Info: return "INFO";
        case Diagnostic::Severity::Warning: return "WARNING";
        case Diagnostic::Severity::Error: return "ERROR";
      }
      return "INFO";
    };
    result.for_each_log([&](const LogLine& l) {
      std::string& b = logf.buf;
      b += l.time;
      b += " - ";
      b += l.logger;
      b += " - ";
      b += sev(l.severity);
      b += " - ";
      b += l.message;
      b += '\n';
      logf.maybe_flush();
    });
    if (!logf.commit()) {
      ok = false;
      if (err && err->empty()) *err = "cannot write " + (dir / "command.log").string();
    }
  }
  return ok;
}

void print_summary(std::ostream& os, const ScanResult& result, const RunInfo& info, bool color) {
  auto paint = [&](const char* code, const std::string& s) {
    return color ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  };
  std::size_t crit = result.count(Level::Critical), high = result.count(Level::High),
              med = result.count(Level::Medium), low = result.count(Level::Low),
              infos = result.count(Level::Informational);
  os << "\n";
  std::string verdict;
  if (crit + high > 0) {
    verdict = paint("1;31", "VERDICT: signs of compromise found.") + " " + std::to_string(crit + high) +
              " high-severity finding(s) match known spyware indicators or attack traces. Treat this "
              "device as possibly compromised and get expert help before acting.";
  } else if (result.partial()) {
    verdict = paint("1;33", "VERDICT: incomplete.") +
              " Nothing suspicious was found in what could be read, but some evidence could not be "
              "checked (listed below). This is not a clean result.";
  } else if (med + low > 0) {
    verdict = paint("1;33", "VERDICT: no known spyware found.") + " " + std::to_string(med + low) +
              " lower-severity finding(s) may deserve a look by an expert.";
  } else {
    verdict = paint("1;32", "VERDICT: no known spyware found.") +
              " No indicator matched and no suspicious activity was seen.";
  }
  os << verdict << "\n";
  if (!info.indicators || info.indicators->empty())
    os << paint("33", "Note: no indicators were loaded, so only built-in heuristics ran. Run "
                      "`bridle download-iocs` or pass -i FILE.stix2.")
       << "\n";
  os << "Alerts: " << crit << " critical, " << high << " high, " << med << " medium, " << low
     << " low, " << infos << " informational.\n";
  if (crit + high > 0)
    result.for_each_alert_brief([&](const Alert& a) {
      if (a.level < Level::High) return;
      os << "  " << paint(a.level == Level::Critical ? "31" : "35", std::string(level_name(a.level)))
         << " [" << a.module << "] " << a.message;
      if (!a.event_time.empty()) os << " (" << a.event_time << ")";
      os << "\n";
    });
  std::vector<const Diagnostic*> unread;
  for (auto& d : result.diagnostics)
    if (d.unread) unread.push_back(&d);
  if (!unread.empty()) {
    os << "Could not be checked:\n";
    for (auto* d : unread)
      os << "  - " << d->module << ": " << (d->file.empty() ? "" : d->file + ": ") << d->message << "\n";
  }
  if (crit + high > 0 || result.partial())
    os << "Help: if you are a journalist, activist or human rights defender, Amnesty International's "
          "Security Lab (https://securitylab.amnesty.org/get-help/) and Access Now's Digital Security "
          "Helpline (https://www.accessnow.org/help/) can help. Keep the acquisition and these results.\n";
}

}  // namespace bridle
