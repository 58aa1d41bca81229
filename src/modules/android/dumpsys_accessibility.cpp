// DumpsysAccessibility: installed (old format) or enabled (Android 14+) accessibility services
// ("DUMP OF SERVICE accessibility:"). Every service is a MEDIUM alert: accessibility is the
// usual way stalkerware reads the screen.
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

Json parse_accessibility(std::string_view text) {
  Json results = Json::array();
  // Old format: "installed services: {" then "N : pkg/svc" lines up to "}".
  bool in_services = false;
  for_each_line(text, [&](std::string_view line) {
    std::string_view t = ds::strip(line);
    if (!in_services) {
      if (ds::starts(t, "installed services:")) in_services = true;
      return true;
    }
    if (t == "}") return false;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return true;
    std::string_view rest = line.substr(colon + 1);
    std::string_view service = ds::strip(ds::before(rest, ':'));
    if (service.empty()) return true;
    Json r = Json::object();
    r["package_name"] = ds::valid_utf8(ds::before(service, '/'));
    r["service"] = ds::valid_utf8(service);
    results.push_back(std::move(r));
    return true;
  });
  // New format (AOSP 14+): "Enabled services:{{pkg/svc}, {pkg/svc}}".
  for_each_line(text, [&](std::string_view line) {
    std::string_view t = ds::strip(line);
    if (!ds::starts(t, "Enabled services:")) return true;
    // Each innermost "{...}" without a '{' inside.
    std::size_t pos = 0;
    while (pos < t.size()) {
      auto open = t.find('{', pos);
      if (open == std::string_view::npos) break;
      auto next_open = t.find('{', open + 1);
      auto close = t.find('}', open + 1);
      if (close == std::string_view::npos) break;
      if (next_open != std::string_view::npos && next_open < close) { pos = next_open; continue; }
      std::string_view item = t.substr(open + 1, close - open - 1);
      if (!item.empty()) {
        auto slash = item.find('/');
        Json r = Json::object();
        r["package_name"] = ds::valid_utf8(item.substr(0, slash));
        r["service"] = slash == std::string_view::npos ? std::string() : ds::valid_utf8(item.substr(slash + 1));
        results.push_back(std::move(r));
      }
      pos = close + 1;
    }
    return true;
  });
  return results;
}

class DumpsysAccessibility final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysAccessibility", "dumpsys_accessibility", kAndroidBugreport,
                              Level::Critical, ModuleInfo::Shape::List,
                              "Accessibility services (dumpsys accessibility)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    Json results = parse_accessibility(d->service("accessibility"));
    for (auto& r : results) {
      ctx.info("Found installed accessibility service \"" + jstr(r, "service") + "\"");
      ctx.alert(Level::Medium,
                "Found accessibility service \"" + jstr(r, "service") + "\" of package \"" +
                    jstr(r, "package_name") + "\"",
                "", r);
      ctx.emit(r);
    }
    ctx.info("Identified a total of " + std::to_string(results.size()) + " accessibility services");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }
};

BRIDLE_REGISTER_MODULE(DumpsysAccessibility);

}  // namespace
}  // namespace bridle
