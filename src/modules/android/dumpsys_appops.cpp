// DumpsysAppops: per-package App-Ops permissions and their access/reject history
// ("DUMP OF SERVICE appops:").
#include <algorithm>

#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

// "YYYY-MM-DD HH:MM:SS.f{1,6}" -> "YYYY-MM-DD HH:MM:SS.ffffff"; "" when malformed.
std::string appops_time(std::string_view s) {
  s = ds::strip(s);
  if (s.size() < 21 || s.size() > 26 || s[19] != '.') return "";
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  static const char kShape[] = "dddd-dd-dd dd:dd:dd";
  for (std::size_t i = 0; i < 19; ++i) {
    if (kShape[i] == 'd' ? !digit(s[i]) : s[i] != kShape[i]) return "";
  }
  std::string frac(s.substr(20));
  for (char c : frac)
    if (!digit(c)) return "";
  frac.resize(6, '0');
  return std::string(s.substr(0, 19)) + "." + frac;
}

Json parse_appops(std::string_view text) {
  Json results = Json::array();
  Json package, perm, entry;  // null when not open
  std::string uid;
  bool started = false;
  auto flush_entry = [&] {
    if (!entry.is_null() && !perm.is_null()) perm["entries"].push_back(entry);
    entry = Json();
  };
  auto flush_perm = [&] {
    flush_entry();
    if (!perm.is_null() && !package.is_null()) package["permissions"].push_back(perm);
    perm = Json();
  };
  auto flush_package = [&] {
    flush_perm();
    if (!package.is_null()) results.push_back(package);
    package = Json();
  };
  for_each_line(text, [&](std::string_view line) {
    if (ds::starts(line, "  Uid ")) started = true;
    if (!started) return true;
    if (ds::strip(line).empty()) return false;
    if (ds::starts(line, "  Uid ")) {
      flush_package();
      std::string_view u = line.substr(6);
      if (!u.empty()) u.remove_suffix(1);  // trailing ':'
      uid = ds::valid_utf8(u);
      return true;
    }
    if (ds::starts(line, "    Package ")) {
      flush_package();
      std::string_view name = line.substr(12);
      if (!name.empty()) name.remove_suffix(1);
      package = Json::object();
      package["package_name"] = ds::valid_utf8(name);
      package["permissions"] = Json::array();
      package["uid"] = uid;
      return true;
    }
    if (!package.is_null() && ds::indented(line, 6) && line.size() > 6 && line[6] != ' ') {
      flush_perm();
      auto toks = ds::split_ws(line, 3);
      if (toks.empty()) return true;
      perm = Json::object();
      perm["name"] = ds::valid_utf8(toks[0]);
      perm["entries"] = Json::array();
      if (toks.size() > 1) {
        std::string_view a = toks[1];  // "(allow):"
        a = a.size() >= 3 ? a.substr(1, a.size() - 3) : std::string_view{};
        perm["access"] = ds::valid_utf8(a);
      }
      return true;
    }
    if (ds::indented(line, 10) && !perm.is_null()) {
      std::string_view access = ds::strip(ds::before(line, ':'));
      if (access != "Access" && access != "Reject") return true;
      flush_entry();
      entry = Json::object();
      entry["access"] = std::string(access);
      auto lb = line.find('['), rb = line.find(']');
      std::string type;
      if (lb != std::string_view::npos && rb != std::string_view::npos && rb > lb)
        type = ds::valid_utf8(line.substr(lb + 1, rb - lb - 1));
      entry["type"] = type;
      auto paren = line.find('(');
      if (rb != std::string_view::npos && paren != std::string_view::npos && paren > rb) {
        std::string ts = appops_time(line.substr(rb + 1, paren - rb - 1));
        if (!ts.empty()) entry["timestamp"] = ts;
      }
    }
    return true;
  });
  flush_package();
  return results;
}

const char* const kRiskyPermissions[] = {"REQUEST_INSTALL_PACKAGES"};
const char* const kRiskyPackages[] = {"com.android.shell"};

class DumpsysAppops final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysAppops", "dumpsys_appops", kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::List,
                              "App-Ops permissions and their access history (dumpsys appops)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    Json results = parse_appops(d->service("appops"));
    ctx.info("Identified a total of " + std::to_string(results.size()) + " packages in App-Ops Manager");
    for (auto& r : results) {
      std::string pkg = jstr(r, "package_name");
      bool risky_pkg = std::find(std::begin(kRiskyPackages), std::end(kRiskyPackages), pkg) != std::end(kRiskyPackages);
      for (auto& perm : r["permissions"]) {
        std::string name = jstr(perm, "name");
        bool risky_perm = std::find(std::begin(kRiskyPermissions), std::end(kRiskyPermissions), name) !=
                          std::end(kRiskyPermissions);
        if (!risky_perm && !risky_pkg) continue;
        std::vector<std::pair<std::string, std::string>> entries;  // timestamp, access
        for (auto& e : perm["entries"]) entries.emplace_back(jstr(e, "timestamp"), jstr(e, "access"));
        if (entries.empty()) entries.emplace_back("", "Unknown");
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto& [ts, access] : entries) {
          Json cleaned = r;
          cleaned["permissions"] = Json::array({perm});
          std::string msg = risky_perm ? "Package '" + pkg + "' had risky permission '" + name + "' set to '" +
                                             access + "' at " + ts
                                       : "Risky package '" + pkg + "' had '" + name + "' permission set to '" +
                                             access + "' at " + ts;
          ctx.alert(Level::Medium, msg, ts, std::move(cleaned));
        }
      }
      ctx.emit(r);
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    auto it = r.find("permissions");
    if (it == r.end() || !it->is_array()) return;
    for (auto& p : *it) {
      auto e = p.find("entries");
      if (e == p.end() || !e->is_array()) continue;
      for (auto& en : *e) {
        if (!en.is_object() || !en.contains("timestamp")) continue;
        out.push_back({jstr(en, "timestamp"), jstr(en, "access"),
                       pystr(r, "package_name") + " access to " + pystr(p, "name") + ": " + pystr(en, "access")});
      }
    }
  }
};

BRIDLE_REGISTER_MODULE(DumpsysAppops);

}  // namespace
}  // namespace bridle
