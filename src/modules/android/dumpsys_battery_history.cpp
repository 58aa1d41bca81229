// DumpsysBatteryHistory: job, alarm wake-up and top-app events from batterystats' history
// ("DUMP OF SERVICE batterystats:" -> "Battery History ...").
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

std::string unquote(std::string_view s) {
  while (!s.empty() && s.front() == '"') s.remove_prefix(1);
  while (!s.empty() && s.back() == '"') s.remove_suffix(1);
  return ds::valid_utf8(s);
}

Json parse_battery_history(std::string_view text) {
  Json results = Json::array();
  // Starts at the "Battery History" heading when there is one.
  auto h = text.find("Battery History ");
  if (h != std::string_view::npos) {
    auto ls = text.rfind('\n', h);
    text = text.substr(ls == std::string_view::npos ? 0 : ls + 1);
  }
  for_each_line(text, [&](std::string_view line) {
    if (ds::starts(line, "Battery History ")) return true;
    std::string_view t = ds::strip(line);
    if (t.empty()) return false;
    auto parts = ds::split_ws(t, 2);
    std::string elapsed(parts[0]);
    if (parts.size() > 1 && parts[0].size() == 5 && parts[0][2] == '-' && parts[1].find(':') != std::string_view::npos)
      elapsed = std::string(parts[0]) + " " + std::string(parts[1]);
    std::string event, uid, service, package;
    auto job = [&](std::string_view marker) {
      auto p = line.find(marker);
      std::string_view payload = line.substr(p + marker.size());
      auto colon = payload.find(':');
      if (colon == std::string_view::npos) return false;
      uid = ds::valid_utf8(payload.substr(0, colon));
      service = unquote(ds::strip(payload.substr(colon + 1)));
      package = service.substr(0, service.find('/'));
      return true;
    };
    std::size_t p;
    if ((p = line.find("+job=")) != std::string_view::npos && p > 0) {
      event = "start_job";
      if (!job("+job=")) return true;
    } else if ((p = line.find("-job=")) != std::string_view::npos && p > 0) {
      event = "end_job";
      if (!job("-job=")) return true;
    } else if ((p = line.find("+running +wake_lock=")) != std::string_view::npos && p > 0) {
      std::string_view payload = line.substr(p + 20);
      auto colon = payload.find(':');
      if (colon == std::string_view::npos) return true;
      uid = ds::valid_utf8(payload.substr(0, colon));
      auto w = line.find("*walarm*:");
      if (w == std::string_view::npos) return true;
      std::string_view s = line.substr(w + 9);
      s = s.substr(0, s.find(' '));
      service = std::string(ds::strip(unquote(s)));
      if (service.empty() || service.find('/') == std::string::npos) return true;
      event = "wake";
      package = service.substr(0, service.find('/'));
    } else if (((p = line.find("+top=")) != std::string_view::npos && p > 0) ||
               ((p = line.find("-top=")) != std::string_view::npos && p > 0)) {
      event = line[p] == '+' ? "start_top" : "end_top";
      std::string_view rest = line.substr(p + 5);
      auto colon = rest.find(':');
      if (colon == std::string_view::npos) return true;
      uid = ds::valid_utf8(rest.substr(0, colon));
      package = unquote(rest.substr(colon + 1));
    } else {
      return true;
    }
    Json r = Json::object();
    r["time_elapsed"] = ds::valid_utf8(elapsed);
    r["event"] = event;
    r["uid"] = uid;
    r["package_name"] = package;
    r["service"] = service;
    results.push_back(std::move(r));
    return true;
  });
  return results;
}

class DumpsysBatteryHistory final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysBatteryHistory", "dumpsys_battery_history", kAndroidBugreport,
                              Level::Critical, ModuleInfo::Shape::List,
                              "Jobs, alarm wake-ups and foreground apps from batterystats history"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    Json results = parse_battery_history(d->service("batterystats"));
    ctx.info("Extracted a total of " + std::to_string(results.size()) + " battery history records");
    for (auto& r : results) ctx.emit(r);
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }
};

BRIDLE_REGISTER_MODULE(DumpsysBatteryHistory);

}  // namespace
}  // namespace bridle
