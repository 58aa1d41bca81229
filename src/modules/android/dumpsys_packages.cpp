// DumpsysPackages: installed packages, versions, install times, installer and permissions
// ("DUMP OF SERVICE package:" -> "Packages:").
#include <set>

#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

// Package ids of rooting/jailbreaking tools.
const std::set<std::string>& root_packages() {
  static const std::set<std::string> s = {
      "com.noshufou.android.su", "com.noshufou.android.su.elite", "eu.chainfire.supersu",
      "com.koushikdutta.superuser", "com.thirdparty.superuser", "com.yellowes.su",
      "com.koushikdutta.rommanager", "com.koushikdutta.rommanager.license",
      "com.dimonvideo.luckypatcher", "com.chelpus.lackypatch", "com.ramdroid.appquarantine",
      "com.ramdroid.appquarantinepro", "com.devadvance.rootcloak", "com.devadvance.rootcloakplus",
      "de.robv.android.xposed.installer", "com.saurik.substrate", "com.zachspong.temprootremovejb",
      "com.amphoras.hidemyroot", "com.amphoras.hidemyrootadfree", "com.formyhm.hiderootPremium",
      "com.formyhm.hideroot", "me.phh.superuser", "eu.chainfire.supersu.pro", "com.kingouser.com",
      "com.topjohnwu.magisk"};
  return s;
}

struct PackageBuilder {
  Json rec;
  std::string first_install_pkg, first_install_user0, first_install_other;
  enum class Block { None, Declared, Install, Runtime, Requested } block = Block::None;
  long user = -1;  // current "User N:" block
  bool take_runtime = true;

  explicit PackageBuilder(std::string name) {
    rec = Json::object();
    rec["package_name"] = std::move(name);
    rec["uid"] = "";
    rec["version_name"] = "";
    rec["version_code"] = "";
    rec["timestamp"] = "";
    rec["first_install_time"] = "";
    rec["last_update_time"] = "";
    rec["installer"] = "";
    rec["system"] = false;
    rec["permissions"] = Json::array();
    rec["requested_permissions"] = Json::array();
  }

  static Json granted_of(std::string_view rest) {
    if (rest.find("granted=") == std::string_view::npos) return Json();
    return rest.find("granted=true") != std::string_view::npos;
  }

  void line(std::string_view l) {
    std::string_view t = ds::strip(l);
    // Continuation of a permission block?
    switch (block) {
      case Block::Declared:
        if (ds::indented(l, 6)) {
          Json p = Json::object();
          p["name"] = ds::valid_utf8(ds::before(t, ':'));
          p["type"] = "declared";
          rec["permissions"].push_back(std::move(p));
          return;
        }
        break;
      case Block::Install:
        if (ds::indented(l, 6)) {
          Json p = Json::object();
          p["name"] = ds::valid_utf8(ds::before(t, ':'));
          p["granted"] = granted_of(ds::after(t, ':'));
          p["type"] = "install";
          rec["permissions"].push_back(std::move(p));
          return;
        }
        break;
      case Block::Runtime:
        if (ds::indented(l, 8)) {
          if (take_runtime) {
            Json p = Json::object();
            p["name"] = ds::valid_utf8(ds::before(t, ':'));
            p["granted"] = granted_of(ds::after(t, ':'));
            p["type"] = "runtime";
            rec["permissions"].push_back(std::move(p));
          }
          return;
        }
        break;
      case Block::Requested:
        if (ds::indented(l, 6)) {
          rec["requested_permissions"].push_back(ds::valid_utf8(t));
          return;
        }
        break;
      case Block::None: break;
    }
    block = Block::None;

    bool pkg_level = ds::indented(l, 4) && !ds::indented(l, 5);
    if (pkg_level && ds::starts(t, "User ")) {
      std::string_view n = ds::before(t.substr(5), ':');
      long v = 0;
      bool ok = !n.empty() && n.size() < 9;
      for (char c : n) {
        if (c < '0' || c > '9') { ok = false; break; }
        v = v * 10 + (c - '0');
      }
      user = ok ? v : -2;
      take_runtime = user == 0 || user == -2;
      return;
    }
    if (pkg_level) user = -1;
    auto value = [&](std::string_view key) { return ds::valid_utf8(ds::strip(t.substr(key.size()))); };
    auto first_field = [&](std::string_view key) {
      std::string_view v = t.substr(key.size());
      return ds::valid_utf8(ds::strip(ds::before(v, '=')));
    };
    if (ds::starts(t, "userId=")) rec["uid"] = first_field("userId=");
    else if (ds::starts(t, "versionName=")) rec["version_name"] = first_field("versionName=");
    else if (ds::starts(t, "versionCode=")) rec["version_code"] = value("versionCode=");
    else if (ds::starts(t, "timeStamp=")) rec["timestamp"] = first_field("timeStamp=");
    else if (ds::starts(t, "firstInstallTime=")) {
      std::string v = first_field("firstInstallTime=");
      if (user == 0) first_install_user0 = v;
      else if (user >= 0 || user == -2) { if (first_install_other.empty()) first_install_other = v; }
      else first_install_pkg = v;
    } else if (ds::starts(t, "lastUpdateTime=")) rec["last_update_time"] = first_field("lastUpdateTime=");
    else if (ds::starts(t, "installerPackageName=")) rec["installer"] = value("installerPackageName=");
    else if (ds::starts(t, "pkgFlags=")) {
      for (auto tok : ds::split_ws(t.substr(9), 256)) {
        std::string_view x = tok;
        while (!x.empty() && (x.front() == '[')) x.remove_prefix(1);
        while (!x.empty() && (x.back() == ']')) x.remove_suffix(1);
        if (x == "SYSTEM") rec["system"] = true;
      }
    } else if (t == "declared permissions:") block = Block::Declared;
    else if (t == "install permissions:") block = Block::Install;
    else if (t == "runtime permissions:") block = Block::Runtime;
    else if (t == "requested permissions:") block = Block::Requested;
  }

  Json finish() {
    if (!first_install_user0.empty()) rec["first_install_time"] = first_install_user0;
    else if (!first_install_pkg.empty()) rec["first_install_time"] = first_install_pkg;
    else rec["first_install_time"] = first_install_other;
    return std::move(rec);
  }
};

Json parse_packages(std::string_view text) {
  Json results = Json::array();
  bool in_list = false;
  std::optional<PackageBuilder> cur;
  for_each_line(text, [&](std::string_view line) {
    if (!in_list) {
      if (ds::starts(line, "Packages:")) in_list = true;
      return true;
    }
    if (ds::strip(line).empty()) return false;
    if (ds::starts(line, "  Package [")) {
      if (cur) results.push_back(cur->finish());
      cur.reset();
      auto close = line.find(']', 11);
      if (close == std::string_view::npos || close == 11) return true;
      cur.emplace(ds::valid_utf8(line.substr(11, close - 11)));
      return true;
    }
    if (cur) cur->line(line);
    return true;
  });
  if (cur) results.push_back(cur->finish());
  return results;
}

class DumpsysPackages final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysPackages", "dumpsys_packages", kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::List,
                              "Installed packages, install times, installer and permissions (dumpsys package)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    Json results = parse_packages(d->service("package"));
    ctx.info("Extracted details on " + std::to_string(results.size()) + " packages");
    std::set<std::string> alerted;
    for (auto& r : results) {
      std::string pkg = jstr(r, "package_name");
      if (root_packages().count(pkg) && alerted.insert(pkg).second)
        ctx.alert(Level::Medium, "Found an installed package related to rooting/jailbreaking: \"" + pkg + "\"",
                  "", r);  // MVT leaves event_time empty
      ctx.emit(r);
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string desc = "Install or update of package " + pystr(r, "package_name");
    out.push_back({jstr(r, "timestamp"), "package_install", desc});
    out.push_back({jstr(r, "first_install_time"), "package_first_install", desc});
    out.push_back({jstr(r, "last_update_time"), "package_last_update", desc});
  }
};

BRIDLE_REGISTER_MODULE(DumpsysPackages);

}  // namespace
}  // namespace bridle
