// DumpsysPlatformCompat: packages named in the DOWNSCALED change's raw overrides, which keep
// listing apps after they are uninstalled ("DUMP OF SERVICE platform_compat:").
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

Json parse_platform_compat(std::string_view text) {
  Json results = Json::array();
  for_each_line(text, [&](std::string_view line) {
    std::string_view t = ds::strip(line);
    if (!ds::starts(t, "ChangeId(168419799; name=DOWNSCALED;")) return true;
    auto p = t.find("rawOverrides={");
    if (p == std::string_view::npos) return true;
    std::string_view body = t.substr(p + 14);
    auto close = body.find('}');
    if (close == std::string_view::npos) return true;
    body = body.substr(0, close);
    std::size_t pos = 0;
    while (pos <= body.size()) {
      auto comma = body.find(',', pos);
      std::string_view item = ds::strip(body.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
      std::string_view pkg = ds::strip(ds::before(item, '='));
      if (!pkg.empty()) results.push_back(Json{{"package_name", ds::valid_utf8(pkg)}});
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    return true;
  });
  return results;
}

class DumpsysPlatformCompat final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysPlatformCompat", "dumpsys_platform_compat", kAndroidBugreport,
                              Level::Critical, ModuleInfo::Shape::List,
                              "Apps (also uninstalled ones) listed in platform_compat overrides"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    Json results = parse_platform_compat(d->service("platform_compat"));
    ctx.info("Found " + std::to_string(results.size()) + " uninstalled apps");
    for (auto& r : results) ctx.emit(r);
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }
};

BRIDLE_REGISTER_MODULE(DumpsysPlatformCompat);

}  // namespace
}  // namespace bridle
