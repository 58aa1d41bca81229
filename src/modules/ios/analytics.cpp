// Analytics (check-fs): keychain analytics events (private/var/Keychains/Analytics/*.db).
// Every string value of a record is looked up as a process name and as a URL/domain.
#include "core/jsonio.hpp"
#include "modules/ios/analytics_records.hpp"

namespace bridle {
namespace {

class Analytics final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Analytics", "analytics", kIosFs, Level::Critical, ModuleInfo::Shape::List,
                              "Keychain analytics events: process names and domains in them"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto records = ios::analytics_records(ctx);
    std::stable_sort(records.begin(), records.end(),
                     [](const Json& a, const Json& b) { return jstr(a, "isodate") < jstr(b, "isodate"); });
    ctx.info("Extracted " + std::to_string(records.size()) + " records from analytics databases");
    for (auto& r : records) ctx.emit(std::move(r));
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (!r.is_object()) return;
    for (auto& [k, v] : r.items()) {
      if (!v.is_string() || k == "isodate" || k == "artifact") continue;
      std::string s = v.get<std::string>();
      if (s.empty()) continue;
      out.push_back({ObsKind::Process, s, {}});
      out.push_back({ObsKind::Url, s, {}});
    }
  }

  std::string event_time(const Json& r) const override { return jstr(r, "isodate"); }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), jstr(r, "artifact"), python_repr(r)});
  }
};

BRIDLE_REGISTER_MODULE(Analytics);

}  // namespace
}  // namespace bridle
