// DumpsysBatteryDaily: package updates recorded in batterystats' daily stats, with uninstall
// (vers=0) and downgrade detection ("DUMP OF SERVICE batterystats:" -> "  Daily from ...").
#include <algorithm>
#include <charconv>
#include <map>

#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

std::optional<long long> to_int(std::string_view s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Json parse_battery_daily(std::string_view text) {
  Json results = Json::array();
  bool in_daily = false;
  std::string from, to;
  std::vector<std::pair<std::string, std::string>> seen;  // per day: package, vers
  for_each_line(text, [&](std::string_view line) {
    if (ds::starts(line, "  Daily from ")) {
      std::string_view tf = ds::strip(line.substr(13));
      while (!tf.empty() && tf.back() == ':') tf.remove_suffix(1);
      auto sep = tf.find(" to ");
      if (sep == std::string_view::npos) { in_daily = false; return true; }
      from = ds::valid_utf8(tf.substr(0, std::min<std::size_t>(sep, 10)));
      to = ds::valid_utf8(tf.substr(sep + 4, 10));
      in_daily = true;
      seen.clear();
      return true;
    }
    if (!in_daily) return true;
    std::string_view t = ds::strip(line);
    if (!ds::starts(t, "Update ")) return true;
    t = t.substr(7);
    auto sp = t.find(' ');
    if (sp == std::string_view::npos) return true;
    std::string pkg = ds::valid_utf8(t.substr(0, sp));
    std::string_view rest = t.substr(sp + 1);
    auto eq = rest.find('=');
    if (pkg.empty() || eq == std::string_view::npos) return true;
    std::string vers = ds::valid_utf8(ds::strip(rest.substr(eq + 1)));
    if (vers.empty()) return true;
    for (auto& s : seen)
      if (s.first == pkg && s.second == vers) return true;
    seen.emplace_back(pkg, vers);
    Json r = Json::object();
    r["action"] = "update";
    r["from"] = from;
    r["to"] = to;
    r["package_name"] = pkg;
    r["vers"] = vers;
    results.push_back(std::move(r));
    return true;
  });
  return results;
}

class DumpsysBatteryDaily final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysBatteryDaily", "dumpsys_battery_daily", kAndroidBugreport,
                              Level::Critical, ModuleInfo::Shape::List,
                              "Package updates, uninstalls and downgrades from batterystats daily stats"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    Json results = parse_battery_daily(d->service("batterystats"));
    // Uninstalls and downgrades, in chronological order.
    std::vector<std::size_t> order(results.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      auto key = [&](std::size_t i) {
        return std::make_tuple(jstr(results[i], "from"), jstr(results[i], "to"), jstr(results[i], "package_name"));
      };
      return key(a) < key(b);
    });
    std::map<std::string, long long> last;
    std::vector<std::pair<std::size_t, std::string>> alerts;
    for (std::size_t i : order) {
      Json& r = results[i];
      std::string pkg = jstr(r, "package_name");
      auto v = to_int(jstr(r, "vers"));
      if (v && *v == 0) {
        r["action"] = "uninstall";
        alerts.emplace_back(i, "Detected uninstall of package " + pkg + " (vers 0)");
        last.erase(pkg);
        continue;
      }
      if (!v) continue;
      auto it = last.find(pkg);
      if (it != last.end() && *v < it->second) {
        r["action"] = "downgrade";
        r["previous_vers"] = std::to_string(it->second);
        alerts.emplace_back(i, "Detected downgrade of package " + pkg + " from vers " + std::to_string(it->second) +
                                   " to vers " + std::to_string(*v));
      }
      last[pkg] = *v;
    }
    for (auto& [i, msg] : alerts) ctx.alert(Level::Medium, msg, jstr(results[i], "from"), results[i]);
    ctx.info("Extracted a total of " + std::to_string(results.size()) + " battery daily stats");
    for (auto& r : results) ctx.emit(r);
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string pkg = pystr(r, "package_name"), vers = pystr(r, "vers"), action = jstr(r, "action");
    std::string desc;
    if (action == "uninstall") desc = "Recorded uninstall of package " + pkg + " (vers 0)";
    else if (action == "downgrade")
      desc = "Recorded downgrade of package " + pkg + " from vers " + pystr(r, "previous_vers") + " to vers " + vers;
    else desc = "Recorded update of package " + pkg + " with vers " + vers;
    out.push_back({jstr(r, "from"), "battery_daily", desc});
  }
};

BRIDLE_REGISTER_MODULE(DumpsysBatteryDaily);

}  // namespace
}  // namespace bridle
