// UnknownProcesses: process names seen in execution evidence that match no installed
// application and no known iOS system process -> LOW, a lead for an analyst (not a
// detection: the system list cannot be complete, see data/ios_system_processes.txt).
//
// Evidence read here (modules do not see each other's records): DataUsage.sqlite and
// netusage.sqlite (ZPROCESS.ZPROCNAME / ZBUNDLENAME), OSAnalytics netUsageBaseline keys,
// locationd clients.plist keys, and on filesystem dumps shutdown.log clients.
// Installed applications: the backup's Info.plist (Installed Applications, Applications),
// or a dump's app bundles (iTunesMetadata.plist softwareVersionBundleId, <App>.app/Info.plist
// CFBundleIdentifier and CFBundleExecutable).
//
// A name "process/bundle" (DataUsage) is known when either part is known; a
// "<UUID>/bundle" name is its bundle. Known: listed system names (a 16-character name also
// matches a longer listed name it truncates), any com.apple.* identifier, installed bundle
// ids and the last component of one, app executables, and binaries under /System, /usr,
// /sbin, /bin, /Applications or an app container. So a process that books its traffic on
// an Apple bundle id is not reported.
#include <cctype>
#include <map>
#include <set>

#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"
#include "modules/ios/execution_evidence.hpp"

namespace bridle {
namespace {

constexpr const char* kSystemProcesses[] = {
#include "modules/ios/ios_system_processes.inc"
};

const ArtifactSpec& shutdown_spec() {
  static const ArtifactSpec s{{}, {"private/var/db/diagnostics/shutdown.log", "private/var/db/diagnostics/shutdown.*.log"}};
  return s;
}

bool is_uuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

class Known {
 public:
  Known() {
    for (const char* n : kSystemProcesses) {
      system_.insert(to_lower(n));
    }
  }
  void add_app(const std::string& id) {
    if (id.empty()) return;
    apps_.insert(to_lower(id));
    auto dot = id.rfind('.');
    if (dot != std::string::npos) app_tails_.insert(to_lower(id.substr(dot + 1)));
  }
  void add_executable(const std::string& name) {
    if (!name.empty()) app_tails_.insert(to_lower(name));
  }
  std::size_t apps() const { return apps_.size(); }

  bool name(const std::string& raw) const {
    if (raw.empty()) return true;
    std::string n = to_lower(raw);
    if (n.rfind("com.apple.", 0) == 0) return true;
    if (system_.count(n) || apps_.count(n) || app_tails_.count(n)) return true;
    if (raw.size() == 16)  // kernel-truncated name
      for (auto& s : system_)
        if (s.rfind(n, 0) == 0) return true;
    return false;
  }
  bool path(const std::string& p) const {
    for (const char* prefix : {"/System/", "/usr/", "/sbin/", "/bin/", "/Applications/", "/Developer/",
                               "/private/var/containers/Bundle/Application/", "/var/containers/Bundle/Application/"})
      if (p.rfind(prefix, 0) == 0) return true;
    auto slash = p.rfind('/');
    return name(slash == std::string::npos ? p : p.substr(slash + 1));
  }
  // DataUsage "process/bundle" or "<UUID>/bundle", with the separate bundle id column.
  bool net_name(const std::string& proc, const std::string& bundle) const {
    std::string left = proc, right;
    if (auto slash = proc.find('/'); slash != std::string::npos) {
      left = proc.substr(0, slash);
      right = proc.substr(slash + 1);
    }
    if (is_uuid(left)) left.clear();
    if (!left.empty() && name(left)) return true;
    if (!right.empty() && name(right)) return true;
    if (!bundle.empty() && name(bundle)) return true;
    return left.empty() && right.empty() && bundle.empty();
  }

 private:
  std::set<std::string> system_, apps_, app_tails_;
};

struct Sighting {
  std::string source;
  std::string detail;
  std::string first_seen;
};

class UnknownProcesses final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"UnknownProcesses", "unknown_processes", kIosAny, Level::Critical,
                              ModuleInfo::Shape::List,
                              "Processes in execution evidence matching no installed app and no known system process"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    Known known;
    installed(ctx, *src, known);
    std::map<std::string, std::vector<Sighting>> unknown;  // process -> where

    for (auto& db : ios::open_databases(ctx, ios::network_usage_spec(), "network usage")) {
      auto cols = ios::table_columns(db, "ZPROCESS");
      if (!ios::has_column(cols, "ZPROCNAME")) {
        ctx.unreadable(db.file.display, "no ZPROCESS.ZPROCNAME column");
        continue;
      }
      auto c = [&](const char* n) { return ios::has_column(cols, n) ? std::string(n) : std::string("NULL"); };
      ios::run_query(ctx, db,
                     "SELECT ZPROCNAME, " + c("ZBUNDLENAME") + ", " + c("ZFIRSTTIMESTAMP") +
                         " FROM ZPROCESS ORDER BY " + (ios::has_column(cols, "Z_PK") ? "Z_PK" : "rowid"),
                     [&](const SqliteRow& row) {
                       std::string proc = row.is_null(0) ? "" : row.text(0);
                       std::string bundle = row.is_null(1) ? "" : row.text(1);
                       if (proc.empty() || known.net_name(proc, bundle)) return true;
                       unknown[proc].push_back({db.file.display, bundle.empty() ? "" : "bundle id " + bundle,
                                                ios::mac_value_iso(row, 2)});
                       return true;
                     });
    }
    ios::for_each_net_usage_baseline(ctx, [&](const ios::ReadPlist& p, const std::string& proc, const std::string& first) {
      if (!known.net_name(proc, "")) unknown[proc].push_back({p.file.display, "netUsageBaseline", first});
    });
    for (auto& p : ios::read_plists(ctx, ios::locationd_clients_spec(), "the locationd clients.plist")) {
      if (!p.data.is_object()) continue;
      for (auto& [key, v] : p.data.items()) {
        if (!v.is_object()) continue;
        std::string client = ios::locationd_client_name(key);
        // "com.apple.locationd.bundle-/System/...": a system location bundle.
        if (client.rfind("com.apple.", 0) == 0) continue;
        bool ok = client.find('/') != std::string::npos ? known.path(client.substr(client.find('/'))) : known.name(client);
        if (!ok && v.contains("BundleId")) ok = known.name(jstr(v, "BundleId"));
        if (!ok) unknown[client].push_back({p.file.display, "location client", ""});
      }
    }
    if (!src->is_backup()) shutdown_clients(ctx, known, unknown);

    for (auto& [proc, where] : unknown) {
      Json r;
      r["process"] = proc;
      std::string first;
      Json list = Json::array();
      std::set<std::string> sources;
      for (auto& s : where) {
        Json e;
        e["source"] = s.source;
        e["detail"] = s.detail;
        e["first_seen"] = s.first_seen;
        list.push_back(e);
        sources.insert(s.source);
        if (!s.first_seen.empty() && (first.empty() || s.first_seen < first)) first = s.first_seen;
      }
      r["first_seen"] = first;
      r["seen_in"] = list;
      std::string src_list;
      for (auto& s : sources) src_list += (src_list.empty() ? "" : ", ") + s;
      ctx.alert(Level::Low,
                "Process \"" + proc + "\" (seen in " + src_list +
                    ") matches no installed application and no known iOS system process: a lead for an analyst",
                first, r);
      ctx.emit(std::move(r));
    }
    ctx.info("Found " + std::to_string(unknown.size()) + " processes not matching installed apps (" +
             std::to_string(known.apps()) + ") or known system processes");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string p = jstr(r, "process");
    if (!p.empty()) out.push_back({ObsKind::Process, p, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    if (jstr(r, "first_seen").empty()) return;
    out.push_back({jstr(r, "first_seen"), "unknown_process", "Unknown process " + jstr(r, "process") + " first seen"});
  }

  std::string event_time(const Json& r) const override { return jstr(r, "first_seen"); }

 private:
  static void installed(ModuleContext& ctx, IosSource& src, Known& known) {
    if (src.is_backup()) {
      std::string err;
      auto data = read_file(src.root() / "Info.plist", 256ull << 20, &err);
      auto plist = data ? plist_to_json(*data, {}, &err) : std::nullopt;
      if (!plist || !plist->is_object()) {
        ctx.unreadable("Info.plist", "cannot read the installed applications: " + err);
        return;
      }
      if (auto it = plist->find("Installed Applications"); it != plist->end() && it->is_array())
        for (auto& a : *it)
          if (a.is_string()) known.add_app(a.get<std::string>());
      if (auto it = plist->find("Applications"); it != plist->end() && it->is_object())
        for (auto& [id, v] : it->items()) known.add_app(id);
      return;
    }
    for (auto& p : ios::read_plists(ctx, {{}, {"private/var/containers/Bundle/Application/*/iTunesMetadata.plist"}},
                                    "iTunesMetadata.plist files"))
      known.add_app(jstr(p.data, "softwareVersionBundleId"));
    for (auto& p : ios::read_plists(ctx, {{}, {"private/var/containers/Bundle/Application/*/*.app/Info.plist"}},
                                    "application Info.plist files")) {
      known.add_app(jstr(p.data, "CFBundleIdentifier"));
      known.add_executable(jstr(p.data, "CFBundleExecutable"));
    }
  }

  // shutdown.log: "remaining client pid: N (/path/to/binary)".
  static void shutdown_clients(ModuleContext& ctx, const Known& known,
                               std::map<std::string, std::vector<Sighting>>& unknown) {
    IosSource* src = ctx.ios();
    for (auto& f : src->find(shutdown_spec())) {
      std::string err;
      auto text = src->read(f, &err, 256ull << 20);
      if (!text) {
        ctx.unreadable(f.display, "cannot read shutdown.log: " + err);
        continue;
      }
      std::set<std::string> done;
      for (auto& line : split(*text, '\n')) {
        auto at = line.find("remaining client pid:");
        if (at == std::string::npos) continue;
        auto open = line.find('(', at), close = line.rfind(')');
        if (open == std::string::npos || close == std::string::npos || close <= open) continue;
        std::string path = line.substr(open + 1, close - open - 1);
        if (path.empty() || known.path(path) || !done.insert(path).second) continue;
        unknown[path].push_back({f.display, "shutdown.log client", ""});
      }
    }
  }
};

BRIDLE_REGISTER_MODULE(UnknownProcesses);

}  // namespace
}  // namespace bridle
