#include "output/report.hpp"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <set>

#include "core/jsonio.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "indicators/indicators.hpp"
#include "bridle/version.hpp"

namespace bridle {

Json alert_to_json(const Alert& a) {
  Json j;
  j["level"] = level_name(a.level);
  j["module"] = a.module;
  j["message"] = a.message;
  j["event_time"] = a.event_time;
  j["event"] = a.event;
  if (a.matched)
    j["matched_indicator"] = {{"value", a.matched->value},
                              {"type", a.matched->type},
                              {"name", a.matched->name},
                              {"stix2_file_name", a.matched->stix2_file_name}};
  else
    j["matched_indicator"] = nullptr;
  return j;
}

Json build_info_json(const ScanResult& result, const RunInfo& info) {
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
  std::vector<fs::path> sorted = info.files_read;
  std::sort(sorted.begin(), sorted.end());
  for (auto& p : sorted)
    read.push_back({{"file_path", p.string()}, {"sha256", sha256_file(p).value_or("unreadable")}});
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

bool write_run_outputs(const fs::path& dir, const ScanResult& result, const RunInfo& info,
                       const std::string& timeline_header, std::string* err) {
  bool ok = true;
  auto put = [&](const std::string& name, const std::string& text) {
    std::string e;
    if (!write_text_file(dir / name, text, &e)) {
      ok = false;
      if (err && err->empty()) *err = e;
    }
  };
  if (!result.alerts.empty()) {
    Json list = Json::array();
    for (auto& a : result.alerts) list.push_back(alert_to_json(a));
    put("alerts.json", dump_mvt(list));
  }
  {
    std::vector<const Alert*> timed;
    for (auto& a : result.alerts)
      if (!a.event_time.empty()) timed.push_back(&a);
    std::stable_sort(timed.begin(), timed.end(),
                     [](const Alert* a, const Alert* b) { return a->event_time < b->event_time; });
    std::string csv = "\"Event Time\",\"Module\",\"Message\",\"Event\"\r\n";
    for (auto* a : timed)
      csv += csv_field(a->event_time) + "," + csv_field(a->module) + "," + csv_field(a->message) +
             "," + csv_field(python_repr(a->event)) + "\r\n";
    put("alerts_timeline.csv", csv);
  }
  if (!result.timeline.empty() || result.timeline_runs) {
    // Streamed: a large acquisition's timeline is never held as one string.
    std::string e;
    auto tmp = dir / "timeline.csv.tmp-bridle";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    bool wok = f != nullptr;
    std::string buf = csv_field(timeline_header) + ",\"Plugin\",\"Event\",\"Description\"\r\n";
    result.for_each_timeline([&](const TimelineEntry& t) {
      buf += csv_field(t.timestamp) + "," + csv_field(t.plugin) + "," + csv_field(t.event) + "," +
             csv_field(t.description) + "\r\n";
      if (buf.size() > (1u << 20) && f) {
        wok = wok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
        buf.clear();
      }
    });
    if (f) {
      wok = wok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
      wok = (std::fclose(f) == 0) && wok;
    }
    std::error_code ec;
    if (wok) fs::rename(tmp, dir / "timeline.csv", ec);
    if (!wok || ec) {
      fs::remove(tmp, ec);
      ok = false;
      if (err && err->empty()) *err = "cannot write " + (dir / "timeline.csv").string();
    }
  }
  {
    // Timesketch JSONL: one event per line, mandatory message/datetime/timestamp_desc, plus
    // the alerts that have a time, tagged with their level.
    bool utc = timeline_header == "UTC Timestamp";
    auto when = [&](const std::string& ts, Json& j) {
      if (ts.size() < 19) return false;
      std::string iso = ts.substr(0, 10) + "T" + ts.substr(11);
      j["datetime"] = utc ? iso + "+00:00" : iso;
      if (auto u = iso_to_unix(ts)) j["timestamp"] = static_cast<std::int64_t>(std::llround(*u * 1e6));
      if (!utc) j["timezone"] = "device local time";
      return true;
    };
    std::string jsonl;
    auto jtmp = dir / "timeline.jsonl.tmp-bridle";
    std::FILE* jf = std::fopen(jtmp.c_str(), "wb");
    bool jok = jf != nullptr;
    std::size_t jlines = 0;
    auto flush = [&](bool force) {
      if (jf && (force || jsonl.size() > (1u << 20))) {
        jok = jok && std::fwrite(jsonl.data(), 1, jsonl.size(), jf) == jsonl.size();
        jsonl.clear();
      }
    };
    result.for_each_timeline([&](const TimelineEntry& t) {
      Json j;
      j["message"] = t.plugin + ": " + t.description;
      if (!when(t.timestamp, j)) return;
      j["timestamp_desc"] = t.event;
      j["module"] = t.plugin;
      j["data_type"] = "bridle:" + t.plugin;
      jsonl += j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
      ++jlines;
      flush(false);
    });
    for (auto& a : result.alerts) {
      Json j;
      j["message"] = std::string(level_name(a.level)) + " alert: " + a.message;
      if (!when(a.event_time, j)) continue;
      j["timestamp_desc"] = "Alert";
      j["module"] = a.module_name;
      j["data_type"] = "bridle:alert";
      j["level"] = level_name(a.level);
      j["tag"] = Json::array({"bridle_alert", level_name(a.level)});
      if (a.matched)
        j["matched_indicator"] = {{"value", a.matched->value}, {"type", a.matched->type},
                                  {"name", a.matched->name}, {"stix2_file_name", a.matched->stix2_file_name}};
      jsonl += j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
      ++jlines;
    }
    flush(true);
    if (jf) jok = (std::fclose(jf) == 0) && jok;
    std::error_code jec;
    if (jok && jlines > 0) {
      fs::rename(jtmp, dir / "timeline.jsonl", jec);
    } else {
      fs::remove(jtmp, jec);
      if (!jok) {
        ok = false;
        if (err && err->empty()) *err = "cannot write " + (dir / "timeline.jsonl").string();
      }
    }
  }
  if (!result.urls.empty()) put("urls.json", dump_mvt(Json(result.urls)));
  put("info.json", dump_mvt(build_info_json(result, info)));
  {
    std::string log;
    auto sev = [](Diagnostic::Severity s) {
      switch (s) {
        case Diagnostic::Severity::Info: return "INFO";
        case Diagnostic::Severity::Warning: return "WARNING";
        case Diagnostic::Severity::Error: return "ERROR";
      }
      return "INFO";
    };
    for (auto& l : result.log) log += l.time + " - " + l.logger + " - " + sev(l.severity) + " - " + l.message + "\n";
    put("command.log", log);
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
  for (auto& a : result.alerts) {
    if (a.level < Level::High) continue;
    os << "  " << paint(a.level == Level::Critical ? "31" : "35", std::string(level_name(a.level)))
       << " [" << a.module << "] " << a.message;
    if (!a.event_time.empty()) os << " (" << a.event_time << ")";
    os << "\n";
  }
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
