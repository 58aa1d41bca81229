// DumpsysActivities: activities registered for non-data intent actions
// ("DUMP OF SERVICE package:" -> "Activity Resolver Table:" -> "  Non-Data Actions:").
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

class DumpsysActivities final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysActivities", "dumpsys_activities", kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::List, "Activities handling intents (dumpsys package)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    std::size_t n = 0;
    walk_resolver_table(d->service("package"), "Activity Resolver Table:", [](const std::string&) {},
                        [&](const std::string& intent, const std::string& activity) {
                          Json r = Json::object();
                          r["intent"] = intent;
                          r["package_name"] = activity.substr(0, activity.find('/'));
                          r["activity"] = activity;
                          ctx.emit(std::move(r));
                          ++n;
                        });
    ctx.info("Extracted " + std::to_string(n) + " package activities");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }
};

BRIDLE_REGISTER_MODULE(DumpsysActivities);


}  // namespace
}  // namespace bridle
