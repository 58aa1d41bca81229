// StalkerwareView (not in MVT): the capability combination consumer stalkerware needs.
// An app that has an ENABLED accessibility service (reads the screen, types for the user)
// AND either device-admin rights (resists uninstall, can lock/wipe) or notification-listener
// access (reads every notification, i.e. messages) AND was not installed from a store is a
// HIGH alert, with the evidence in the record.
//
// Where the data comes from:
//   - androidqf: settings_secure.txt (enabled_accessibility_services,
//     enabled_notification_listeners), packages.json (installer, system), and its dumpsys.txt
//     sections "accessibility", "device_policy", "notification", "package" (installers);
//   - bugreport: the same dumpsys sections of the dumpstate text.
// The dumpsys sections are cut with a small local splitter ("DUMP OF SERVICE x:" up to the
// next "DUMP OF SERVICE" / 78-dash line), the same for androidqf's dumpsys.txt and the
// bugreport's shared Dumpstate sections. Without a device-admin list (no device_policy section) only the
// notification-listener branch can fire; the record says which inputs were missing.
#include <map>
#include <set>

#include "core/util.hpp"
#include "modules/android/common.hpp"
#include "modules/android/dumpstate.hpp"

namespace bridle {
namespace {

constexpr const char* kStores[] = {
    "com.android.vending",        "com.sec.android.app.samsungapps", "com.huawei.appmarket",
    "com.amazon.venezia",         "com.xiaomi.market",               "com.xiaomi.mipicks",
    "com.heytap.market",          "com.oppo.market",                 "com.bbk.appstore",
    "com.vivo.appstore",          "com.google.android.feedback",     "com.aurora.store",
    "org.fdroid.fdroid",
};

bool is_store(const std::string& installer) {
  for (const char* s : kStores)
    if (installer == s) return true;
  return false;
}

std::string section(std::string_view text, const std::string& service) {
  std::string head = "DUMP OF SERVICE " + service + ":";
  auto a = text.find(head);
  if (a == std::string_view::npos) return "";
  auto b = text.find("\nDUMP OF SERVICE ", a + head.size());
  auto dash = text.find("\n" + std::string(78, '-'), a + head.size());
  if (dash != std::string_view::npos && (b == std::string_view::npos || dash < b)) b = dash;
  return std::string(text.substr(a, b == std::string_view::npos ? std::string_view::npos : b - a));
}

std::string package_of(std::string component) {
  component = trim(component);
  while (!component.empty() && (component.front() == '{' || component.front() == '(')) component.erase(0, 1);
  auto slash = component.find('/');
  if (slash == std::string::npos || slash == 0) return "";
  std::string pkg = component.substr(0, slash);
  for (char c : pkg)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_')) return "";
  return pkg;
}

struct Caps {
  std::set<std::string> accessibility, admin, listener;
};

void from_settings(const std::string& text, std::map<std::string, Caps>& caps) {
  for (auto& line : split(text, '\n')) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = trim(line.substr(eq + 1));
    bool acc = key == "enabled_accessibility_services", nl = key == "enabled_notification_listeners";
    if (!acc && !nl) continue;
    for (auto& comp : split(value, ':')) {
      std::string pkg = package_of(comp);
      if (pkg.empty()) continue;
      (acc ? caps[pkg].accessibility : caps[pkg].listener).insert(trim(comp));
    }
  }
}

void from_dumpsys(std::string_view text, std::map<std::string, Caps>& caps, std::map<std::string, std::string>& installers,
                  bool& have_admin_data) {
  // accessibility: "enabled services: {" block (old) or "Enabled services:{{a/b}, {c/d}}" (new).
  std::string acc = section(text, "accessibility");
  auto lines = split(acc, '\n');
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string l = trim(lines[i]);
    if (l.rfind("Enabled services:", 0) == 0) {
      std::string rest = l.substr(17);
      for (auto& part : split(rest, '}')) {
        std::string pkg = package_of(part.substr(part.find_last_of('{') == std::string::npos ? 0 : part.find_last_of('{') + 1));
        if (!pkg.empty()) caps[pkg].accessibility.insert(trim(part.substr(part.find_last_of('{') + 1)));
      }
    } else if (l == "enabled services: {") {
      for (++i; i < lines.size() && trim(lines[i]) != "}"; ++i) {
        std::string e = trim(lines[i]);
        auto colon = e.find(" : ");
        if (colon != std::string::npos) e = e.substr(colon + 3);
        std::string pkg = package_of(e);
        if (!pkg.empty()) caps[pkg].accessibility.insert(e);
      }
    }
  }
  // device_policy: components listed under "Enabled Device Admins" ("  pkg/.Cls:").
  std::string dp = section(text, "device_policy");
  if (!dp.empty()) have_admin_data = true;
  bool in_admins = false;
  for (auto& raw : split(dp, '\n')) {
    std::string l = trim(raw);
    if (l.rfind("Enabled Device Admins", 0) == 0) { in_admins = true; continue; }
    if (in_admins && l.empty()) { in_admins = false; continue; }
    if (in_admins && !l.empty() && l.back() == ':' && l.find('/') != std::string::npos && l.find('=') == std::string::npos) {
      std::string comp = l.substr(0, l.size() - 1);
      std::string pkg = package_of(comp);
      if (!pkg.empty()) caps[pkg].admin.insert(comp);
    }
  }
  // notification: enabled listener components ("Allowed notification listeners:" style
  // lists of "pkg/cls" lines, and "mEnabledServicesForCurrentProfiles" style entries).
  std::string nt = section(text, "notification");
  bool in_listeners = false;
  for (auto& raw : split(nt, '\n')) {
    std::string l = trim(raw);
    if (l.find("notification listeners") != std::string::npos || l.find("Notification listeners") != std::string::npos ||
        l.rfind("Enabled services", 0) == 0 || l.rfind("mEnabledServices", 0) == 0) {
      in_listeners = l.find("assistant") == std::string::npos;
      continue;
    }
    if (!in_listeners) continue;
    if (l.empty() || l.back() == ':') { in_listeners = false; continue; }
    std::string comp = l.substr(0, l.find(' '));
    if (comp.rfind("ComponentInfo{", 0) == 0) comp = comp.substr(14);
    while (!comp.empty() && (comp.back() == '}' || comp.back() == ',')) comp.pop_back();
    std::string pkg = package_of(comp);
    if (!pkg.empty()) caps[pkg].listener.insert(comp);
  }
  // package: installerPackageName per "Package [name]" block.
  std::string pk = section(text, "package");
  std::string current;
  for (auto& raw : split(pk, '\n')) {
    std::string l = trim(raw);
    if (l.rfind("Package [", 0) == 0) {
      auto e = l.find(']');
      current = e == std::string::npos ? "" : l.substr(9, e - 9);
    } else if (!current.empty() && l.rfind("installerPackageName=", 0) == 0) {
      installers.emplace(current, l.substr(21));
    }
  }
}

class StalkerwareView final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"StalkerwareView", "stalkerware_view", kAndroidQF | kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::List,
                              "Apps combining accessibility with device admin or notification access, not from a store"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    std::map<std::string, Caps> caps;
    std::map<std::string, std::string> installers;
    std::set<std::string> system;
    bool have_admin = false, have_installers = false;
    std::vector<std::string> inputs;
    auto* qf = android_part(ctx, "androidqf");
    if (qf) {
      for (auto& f : qf->glob("*/settings_secure.txt"))
        if (auto t = android_read(ctx, *qf, f)) { from_settings(*t, caps); inputs.push_back(f.path); }
      if (auto f = qf->first("*/packages.json")) {
        if (auto t = android_read(ctx, *qf, *f)) {
          Json list = parse_json_exact(*t);
          if (list.is_array()) {
            have_installers = true;
            inputs.push_back(f->path);
            for (auto& p : list) {
              if (!p.is_object()) continue;
              installers[jstr(p, "name")] = jstr(p, "installer");
              if (auto it = p.find("system"); it != p.end() && it->is_boolean() && it->get<bool>())
                system.insert(jstr(p, "name"));
            }
          }
        }
      }
      if (auto f = qf->first("*/dumpsys.txt"))
        if (auto t = android_read(ctx, *qf, *f)) {
          from_dumpsys(*t, caps, installers, have_admin);
          inputs.push_back(f->path);
        }
    }
    // Bugreport (own or nested): the shared dumpstate.
    if (auto* br = android_part(ctx, "bugreport")) {
      std::string err;
      if (auto ds = shared_dumpstate(*br, &err)) {
        std::size_t before = installers.size();
        // The four sections this module reads, in dumpsys layout (the dumpstate itself is
        // not kept whole).
        std::string text;
        for (const char* name : {"accessibility", "device_policy", "notification", "package"}) {
          if (!ds->has_service(name)) continue;
          text += "DUMP OF SERVICE ";
          text += name;
          text += ":\n";
          text += ds->service(name);
          text += "\n" + std::string(78, '-') + "\n";
        }
        from_dumpsys(text, caps, installers, have_admin);
        have_installers = have_installers || installers.size() > before;
        inputs.push_back(br->display() + "!" + ds->path());
      }
    }
    if (inputs.empty()) return;
    if (!have_admin) ctx.info("No device_policy data: device-admin rights could not be checked");
    for (auto& [pkg, c] : caps) {
      if (system.count(pkg)) continue;
      if (c.accessibility.empty() && c.admin.empty() && c.listener.empty()) continue;
      auto inst = installers.find(pkg);
      std::string installer = inst == installers.end() ? "" : inst->second;
      bool known_installer = inst != installers.end();
      bool from_store = known_installer && is_store(installer);
      Json r;
      r["package_name"] = pkg;
      r["accessibility_services"] = Json(std::vector<std::string>(c.accessibility.begin(), c.accessibility.end()));
      r["device_admins"] = Json(std::vector<std::string>(c.admin.begin(), c.admin.end()));
      r["notification_listeners"] = Json(std::vector<std::string>(c.listener.begin(), c.listener.end()));
      r["installer"] = known_installer ? Json(installer) : Json(nullptr);
      r["installed_from_store"] = from_store;
      r["device_admin_data"] = have_admin;
      r["installer_data"] = have_installers;
      r["sources"] = inputs;
      bool combo = !c.accessibility.empty() && (!c.admin.empty() || !c.listener.empty());
      if (combo && !from_store) {
        std::string what = std::string("accessibility service") + (c.admin.empty() ? "" : " + device admin") +
                           (c.listener.empty() ? "" : " + notification listener");
        std::string origin = !known_installer ? "unknown installer"
                             : (installer.empty() || installer == "null") ? "not installed from a store (adb or sideloaded)"
                                                                          : "installed by \"" + installer + "\"";
        ctx.alert(Level::High,
                  "Possible stalkerware: \"" + pkg + "\" holds " + what + " and was " +
                      (known_installer ? "" : "installed by an ") + origin,
                  "", r);
      }
      ctx.emit(std::move(r));
    }
  }
};

BRIDLE_REGISTER_MODULE(StalkerwareView);

}  // namespace
}  // namespace bridle
