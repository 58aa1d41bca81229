// OSAnalyticsADDaily: daily per-process network usage baseline kept by osanalytics
// (com.apple.osanalytics.addaily.plist, netUsageBaseline). Process names in it are checked
// against indicators; a "BackupAgent" process there is Kaspersky's exact detection of
// Operation Triangulation.
#include "modules/ios/common.hpp"
#include "modules/ios/netbase.hpp"

namespace bridle {
namespace {

const ArtifactSpec& addaily_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/Preferences/com.apple.osanalytics.addaily.plist", false}},
                              {"private/var/mobile/Library/Preferences/com.apple.osanalytics.addaily.plist"}};
  return s;
}

class OSAnalyticsADDaily final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"OSAnalyticsADDaily", "os_analytics_ad_daily", kIosAny, Level::Critical,
                              ModuleInfo::Shape::List,
                              "Daily per-process network usage baseline (osanalytics addaily plist)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& p : ios::read_plists(ctx, addaily_spec(), "the osanalytics addaily plist")) {
      if (!p.data.is_object()) {
        ctx.unreadable(p.file.display, "the addaily plist is not a dictionary");
        continue;
      }
      auto base = p.data.find("netUsageBaseline");
      if (base == p.data.end()) {
        ctx.info("No netUsageBaseline in " + p.file.display);
        continue;
      }
      if (!base->is_object()) {
        ctx.unreadable(p.file.display, "netUsageBaseline is not a dictionary");
        continue;
      }
      std::size_t n = 0, odd = 0;
      for (auto& [package, values] : base->items()) {
        // [date, wifi_in, wifi_out, wwan_in, wwan_out]; anything missing is null.
        // (clang < 16 cannot capture a structured binding: capture a reference to it)
        auto at = [&v = values](std::size_t i) -> Json {
          return v.is_array() && i < v.size() ? v[i] : Json(nullptr);
        };
        if (!values.is_array() || values.size() < 5) ++odd;
        Json r = Json::object();
        r["package"] = package;
        Json ts = at(0);
        r["ts"] = ts.is_string() ? ts : Json(nullptr);
        r["wifi_in"] = at(1);
        r["wifi_out"] = at(2);
        r["wwan_in"] = at(3);
        r["wwan_out"] = at(4);
        if (ios::is_triangulation_backup_agent(package))
          ctx.alert(Level::Critical,
                    "Operation Triangulation: BackupAgent process seen in netUsageBaseline (" +
                        p.file.display + ") on " + pystr(r, "ts"),
                    jstr(r, "ts"), r);
        ctx.emit(std::move(r));
        ++n;
      }
      if (odd)
        ctx.diag({Diagnostic::Severity::Warning, "", p.file.display,
                  std::to_string(odd) + " netUsageBaseline entries do not have the expected 5 values", false});
      ctx.info("Extracted a total of " + std::to_string(n) + " com.apple.osanalytics.addaily entries");
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string package = jstr(r, "package");
    if (!package.empty()) out.push_back({ObsKind::Process, package, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "ts"), "osanalytics_addaily",
                   pystr(r, "package") + " WIFI IN: " + pystr(r, "wifi_in") + ", WIFI OUT: " +
                       pystr(r, "wifi_out") + " - WWAN IN: " + pystr(r, "wwan_in") +
                       ", WWAN OUT: " + pystr(r, "wwan_out")});
  }
};

BRIDLE_REGISTER_MODULE(OSAnalyticsADDaily);

}  // namespace
}  // namespace bridle
