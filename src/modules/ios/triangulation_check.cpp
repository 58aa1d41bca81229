// TriangulationCheck: Kaspersky's Operation Triangulation checks (triangle_check),
// reimplemented from its documented behaviour, for backups and filesystem dumps.
//
// Exact indicator -> CRITICAL: a process named BackupAgent (not Apple's BackupAgent2) in
// DataUsage.sqlite / netusage.sqlite (ZPROCESS) or in the OSAnalytics netUsageBaseline. The
// Datausage/Netusage/OSAnalyticsADDaily modules raise the same finding on their own records;
// this module repeats it so that the Triangulation verdict is complete in one place.
//
// Heuristic -> HIGH "Possible Operation Triangulation infection (suspicion)". Weak signals,
// each with a time:
//  - file: Manifest MBFile modified/changed/born times (M/C/B) of RootDomain
//    Library/Preferences/com.apple.ImageIO.plist and HomeDomain
//    Library/Preferences/com.apple.locationd.StatusBarIconManager.plist and
//    com.apple.imservice.ids.FaceTime.plist (filesystem dumps: their modification time);
//  - sms: M/C/B times of the SMS attachment folders MediaDomain Library/SMS/Attachments/XX and
//    XX/YY (backups only: a dump has no change time, and a folder needs both M and C);
//  - net: first/last use times (and live-usage times) of nehelper,
//    com.apple.WebKit.WebContent, powerd/com.apple.datausage.diagnostics and
//    lockdownd/com.apple.datausage.security in DataUsage/netusage, and their first-seen date
//    in netUsageBaseline;
//  - location: LocationTimeStopped of the locationd clients
//    .../LocationBundles/IonosphereHarvest.bundle and .../WRMLinkSelection.bundle.
// Events are sorted by time; from every event a window of at most 10 events spanning at
// most 300 s is examined (triangle_check skips the last 10 start positions; not here). A
// window is suspicious when it holds events of at least 2 of the classes file/sms/net/
// location, unless it holds a real SMS attachment (a path deeper than XX/YY: the folders
// were created for a genuine attachment) or an attachment folder without both an M and a C
// event. Overlapping suspicious windows are reported as one alert listing all their events.
#include <algorithm>
#include <map>
#include <set>

#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"
#include "modules/ios/execution_evidence.hpp"
#include "modules/ios/netbase.hpp"

namespace bridle {
namespace {

constexpr std::size_t kWindowEvents = 10;
constexpr double kWindowSeconds = 300;

// Manifest (domain, path) of the suspicious preference files, and their place in a dump.
struct PrefFile {
  const char* domain;
  const char* path;
  const char* fs_path;
};
constexpr PrefFile kPrefFiles[] = {
    {"RootDomain", "Library/Preferences/com.apple.ImageIO.plist",
     "private/var/root/Library/Preferences/com.apple.ImageIO.plist"},
    {"HomeDomain", "Library/Preferences/com.apple.locationd.StatusBarIconManager.plist",
     "private/var/mobile/Library/Preferences/com.apple.locationd.StatusBarIconManager.plist"},
    {"HomeDomain", "Library/Preferences/com.apple.imservice.ids.FaceTime.plist",
     "private/var/mobile/Library/Preferences/com.apple.imservice.ids.FaceTime.plist"},
};
constexpr const char* kAttachments = "Library/SMS/Attachments/";
constexpr const char* kImplicitProcesses[] = {"nehelper", "com.apple.WebKit.WebContent",
                                              "powerd/com.apple.datausage.diagnostics",
                                              "lockdownd/com.apple.datausage.security"};
constexpr const char* kLocationBundles[] = {"/LocationBundles/IonosphereHarvest.bundle",
                                            "/LocationBundles/WRMLinkSelection.bundle"};

struct Event {
  double ts = 0;
  std::string event;    // M, C, B, NetFirst, NetTimestamp, NetLive, NetUsage, LocationTimeStopped
  std::string cls;      // file, sms, net, location
  std::string subject;  // path, process or location client
  std::string source;   // evidence it comes from
  int depth = 0;        // sms: 3 for XX, 4 for XX/YY, more for real attachments
};

Json event_json(const Event& e) {
  Json j;
  j["isodate"] = unix_to_iso(e.ts);
  j["event"] = e.event;
  j["class"] = e.cls;
  j["subject"] = e.subject;
  j["source"] = e.source;
  return j;
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

bool is_implicit(const std::string& proc) {
  for (const char* p : kImplicitProcesses)
    if (proc == p) return true;
  return false;
}

// True when the window is suspicious; fills the classes seen.
bool suspicious(const std::vector<Event>& ev, std::size_t from, std::size_t to, std::set<std::string>& classes) {
  std::map<std::string, std::set<std::string>> sms_dirs;
  for (std::size_t i = from; i < to; ++i) {
    const Event& e = ev[i];
    if (e.cls == "sms") {
      if (e.depth > 4) return false;  // a real attachment explains the folder times
      sms_dirs[e.subject].insert(e.event);
    } else {
      classes.insert(e.cls);
    }
  }
  for (auto& [dir, kinds] : sms_dirs)
    if (!kinds.count("M") || !kinds.count("C")) return false;
  if (!sms_dirs.empty()) classes.insert("sms");
  return classes.size() >= 2;
}

class TriangulationCheck final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"TriangulationCheck", "triangulation_check", kIosAny, Level::Critical,
                              ModuleInfo::Shape::List,
                              "Operation Triangulation: BackupAgent, and Kaspersky's 5-minute correlation of weak signals"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    std::vector<Event> events;
    std::vector<Json> detections;

    // Files and SMS attachment folders.
    if (src->is_backup()) {
      std::string err;
      PlistOptions po;
      bool ok = src->for_each_manifest_row(
          [&](const std::string&, const std::string& domain, const std::string& rel, std::int64_t,
              std::string_view blob) {
            bool sms = domain == "MediaDomain" && rel.rfind(kAttachments, 0) == 0;
            bool pref = false;
            for (auto& p : kPrefFiles) pref = pref || (domain == p.domain && rel == p.path);
            if (!sms && !pref) return;
            auto mb = nska_to_json(blob, po);
            if (!mb || !mb->is_object()) return;
            int depth = static_cast<int>(std::count(rel.begin(), rel.end(), '/'));
            static const std::pair<const char*, const char*> kTimes[] = {
                {"LastModified", "M"}, {"LastStatusChange", "C"}, {"Birth", "B"}};
            for (auto [key, kind] : kTimes) {
              std::int64_t t = jint(*mb, key, 0);
              if (t <= 0) continue;
              events.push_back({static_cast<double>(t), kind, sms ? "sms" : "file", rel, domain + " (Manifest.db)", depth});
            }
          },
          &err);
      if (!ok) ctx.unreadable("Manifest.db", "could not read the file records: " + err);
    } else {
      for (auto& p : kPrefFiles)
        for (auto& e : src->fs_glob(p.fs_path))
          if (!e.is_dir && e.mtime) events.push_back({*e.mtime, "M", "file", p.path, e.path, 0});
    }

    // Network usage databases.
    for (auto& db : ios::open_databases(ctx, ios::network_usage_spec(), "network usage")) {
      auto pcols = ios::table_columns(db, "ZPROCESS");
      if (!ios::has_column(pcols, "ZPROCNAME") || !ios::has_column(pcols, "Z_PK")) {
        ctx.unreadable(db.file.display, "no usable ZPROCESS table");
        continue;
      }
      auto pc = [&](const char* c) { return ios::has_column(pcols, c) ? "p." + std::string(c) : std::string("NULL"); };
      auto lcols = ios::table_columns(db, "ZLIVEUSAGE");
      bool live = ios::has_column(lcols, "ZHASPROCESS") && ios::has_column(lcols, "ZTIMESTAMP");
      std::string sql = "SELECT p.Z_PK, p.ZPROCNAME, " + pc("ZFIRSTTIMESTAMP") + ", " + pc("ZTIMESTAMP") + ", " +
                        (live ? "l.ZTIMESTAMP" : "NULL") + " FROM ZPROCESS p" +
                        (live ? " LEFT JOIN ZLIVEUSAGE l ON l.ZHASPROCESS = p.Z_PK" : "") + " ORDER BY p.Z_PK";
      std::set<std::int64_t> reported;
      std::set<std::pair<std::int64_t, std::string>> seen_times;
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        std::string proc = row.is_null(1) ? "" : row.text(1);
        bool exact = ios::is_triangulation_backup_agent(proc);
        if (!exact && !is_implicit(proc)) return true;
        std::vector<Event> mine;
        static const std::pair<int, const char*> kCols[] = {{2, "NetFirst"}, {3, "NetTimestamp"}, {4, "NetLive"}};
        for (auto [col, kind] : kCols) {
          auto iso = ios::mac_value_iso(row, col);
          auto t = iso.empty() ? std::nullopt : iso_to_unix(iso);
          if (!t) continue;
          // ZPROCESS times repeat on every live-usage row of the process.
          if (!seen_times.insert({row.integer(0), std::string(kind) + iso}).second) continue;
          mine.push_back({*t, kind, "net", proc, db.file.display, 0});
        }
        for (auto& e : mine) events.push_back(e);
        if (exact && reported.insert(row.integer(0)).second) {
          Json d;
          d["detection"] = "exact";
          d["isodate"] = ios::mac_value_iso(row, 2);
          d["process"] = proc;
          d["source"] = db.file.display;
          d["first_seen"] = ios::mac_value_iso(row, 2);
          d["last_seen"] = ios::mac_value_iso(row, 3);
          ctx.alert(Level::Critical,
                    "Operation Triangulation (Kaspersky's exact indicator): process " + proc + " in " +
                        db.file.display + " (first seen " + jstr(d, "first_seen") + ", last seen " +
                        jstr(d, "last_seen") + ")",
                    jstr(d, "isodate"), d);
          detections.push_back(std::move(d));
        }
        return true;
      });
    }

    // OSAnalytics netUsageBaseline: {process: [first seen date, wifi in/out, wwan in/out]}.
    ios::for_each_net_usage_baseline(ctx, [&](const ios::ReadPlist& p, const std::string& proc, const std::string& iso) {
      bool exact = ios::is_triangulation_backup_agent(proc);
      if (!exact && !is_implicit(proc)) return;
      if (auto t = iso_to_unix(iso)) events.push_back({*t, "NetUsage", "net", proc, p.file.display, 0});
      if (exact) {
        Json d;
        d["detection"] = "exact";
        d["isodate"] = iso;
        d["process"] = proc;
        d["source"] = p.file.display;
        d["first_seen"] = iso;
        d["last_seen"] = nullptr;
        ctx.alert(Level::Critical,
                  "Operation Triangulation (Kaspersky's exact indicator): process " + proc +
                      " in netUsageBaseline of " + p.file.display + " (first seen " + iso + ")",
                  iso, d);
        detections.push_back(std::move(d));
      }
    });

    // locationd clients that stopped using location.
    for (auto& p : ios::read_plists(ctx, ios::locationd_clients_spec(), "the locationd clients.plist")) {
      if (!p.data.is_object()) continue;
      for (auto& [key, v] : p.data.items()) {
        std::string client = ios::locationd_client_name(key);
        bool match = false;
        for (const char* b : kLocationBundles) match = match || ends_with(client, b);
        if (!match || !v.is_object()) continue;
        auto it = v.find("LocationTimeStopped");
        if (it == v.end() || !it->is_number()) continue;
        double t = it->get<double>() + kMacEpochOffset;
        events.push_back({t, "LocationTimeStopped", "location", client, p.file.display, 0});
      }
    }

    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
    ctx.info("Collected " + std::to_string(events.size()) + " Operation Triangulation weak-signal events");

    // Sliding windows; overlapping suspicious windows are merged into one finding.
    std::size_t cluster_from = 0, cluster_to = 0;
    std::set<std::string> cluster_classes;
    bool open = false;
    auto flush = [&] {
      if (!open) return;
      open = false;
      Json d;
      d["detection"] = "heuristic";
      d["isodate"] = unix_to_iso(events[cluster_from].ts);
      d["classes"] = cluster_classes;
      d["window_seconds"] = kWindowSeconds;
      Json list = Json::array();
      for (std::size_t i = cluster_from; i < cluster_to; ++i) list.push_back(event_json(events[i]));
      d["events"] = list;
      std::string classes;
      for (auto& c : cluster_classes) classes += (classes.empty() ? "" : ", ") + c;
      ctx.alert(Level::High,
                "Possible Operation Triangulation infection (suspicion): " + std::to_string(cluster_to - cluster_from) +
                    " events of classes " + classes + " within " + std::to_string(static_cast<int>(kWindowSeconds)) +
                    " seconds from " + jstr(d, "isodate"),
                jstr(d, "isodate"), d);
      detections.push_back(std::move(d));
      cluster_classes.clear();
    };
    for (std::size_t i = 0; i < events.size(); ++i) {
      std::size_t end = i;
      while (end < events.size() && end - i < kWindowEvents && events[end].ts - events[i].ts <= kWindowSeconds) ++end;
      std::set<std::string> classes;
      if (!suspicious(events, i, end, classes)) continue;
      if (open && i < cluster_to) {
        cluster_to = std::max(cluster_to, end);
      } else {
        flush();
        open = true;
        cluster_from = i;
        cluster_to = end;
      }
      cluster_classes.insert(classes.begin(), classes.end());
    }
    flush();

    for (auto& d : detections) ctx.emit(std::move(d));
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    if (jstr(r, "detection") == "exact")
      out.push_back({jstr(r, "isodate"), "triangulation_exact",
                     "BackupAgent process in " + jstr(r, "source") + " (Operation Triangulation)"});
    else
      out.push_back({jstr(r, "isodate"), "triangulation_suspicion",
                     "Suspicious combination of " + std::to_string(r.value("events", Json::array()).size()) +
                         " events (Operation Triangulation heuristic)"});
  }

  std::string event_time(const Json& r) const override { return jstr(r, "isodate"); }
};

BRIDLE_REGISTER_MODULE(TriangulationCheck);

}  // namespace
}  // namespace bridle
