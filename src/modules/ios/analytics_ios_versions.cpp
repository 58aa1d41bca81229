// AnalyticsIOSVersions (check-fs): the iOS builds seen in the keychain analytics events,
// each with the earliest time it was seen.
//
// Deviation: MVT maps the build to a version with its bundled ios_versions.json; bridle has
// no such table yet, so `version` is null.
#include <map>

#include "modules/ios/analytics_records.hpp"

namespace bridle {
namespace {

class AnalyticsIOSVersions final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"AnalyticsIOSVersions", "analytics_ios_versions", kIosFs, Level::Critical,
                              ModuleInfo::Shape::List, "iOS builds seen in the keychain analytics events"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    std::map<std::string, std::string> first_seen;  // build -> earliest isodate
    for (auto& r : ios::analytics_records(ctx)) {
      std::string build = jstr(r, "build");
      if (build.empty()) continue;
      std::string iso = jstr(r, "isodate");
      auto it = first_seen.find(build);
      if (it == first_seen.end() || iso < it->second) first_seen[build] = iso;
    }
    std::vector<Json> out;
    for (auto& [build, iso] : first_seen) {
      Json r = Json::object();
      r["isodate"] = iso;
      r["build"] = build;
      r["version"] = nullptr;
      out.push_back(std::move(r));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Json& a, const Json& b) { return jstr(a, "isodate") < jstr(b, "isodate"); });
    for (auto& r : out) {
      ctx.info("iOS build " + jstr(r, "build") + " first seen on " + jstr(r, "isodate"));
      ctx.emit(std::move(r));
    }
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "ios_version",
                   "Recorded iOS version " + (r.contains("version") && !r["version"].is_null() ? pystr(r, "version")
                                                                                             : pystr(r, "build"))});
  }
};

BRIDLE_REGISTER_MODULE(AnalyticsIOSVersions);

}  // namespace
}  // namespace bridle
