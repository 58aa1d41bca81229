// ProfileEvents: configuration profile operations (MCProfileEvents.plist), backups only.
// Every event is raised as a LOW alert (a profile installation is rare and worth a look),
// as MVT.
#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& events_spec() {
  static const ArtifactSpec s{{{"", "Library/ConfigurationProfiles/MCProfileEvents.plist", false}}, {}};
  return s;
}

class ProfileEvents final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"ProfileEvents", "profile_events", kIosBackup, Level::Critical,
                              ModuleInfo::Shape::List, "Configuration profile operations (MCProfileEvents.plist)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    std::size_t n = 0;
    for (auto& p : ios::read_plists(ctx, events_spec(), "MCProfileEvents.plist")) {
      ctx.info("Found MCProfileEvents.plist file at " + p.file.display);
      auto it = p.data.find("ProfileEvents");
      if (!p.data.is_object() || it == p.data.end()) continue;
      if (!it->is_array()) {
        ctx.unreadable(p.file.display, "ProfileEvents is not a list");
        continue;
      }
      for (auto& event : *it) {
        if (!event.is_object() || event.empty()) continue;
        auto first = event.begin();
        Json r;
        r["profile_id"] = first.key();
        r["timestamp"] = "";
        r["operation"] = "";
        r["process"] = "";
        if (first.value().is_object()) {
          for (auto& [k, v] : first.value().items()) {
            std::string key = to_lower(k);
            if (key == "timestamp") r["timestamp"] = v.is_string() ? v.get<std::string>() : pystr(v);
            else r[key] = v;
          }
        }
        ctx.alert(Level::Low,
                  "On " + pystr(r, "timestamp") + " process \"" + pystr(r, "process") + "\" started operation \"" +
                      pystr(r, "operation") + "\" of profile \"" + pystr(r, "profile_id") + "\"",
                  jstr(r, "timestamp"), r);
        ctx.emit(std::move(r));
        ++n;
      }
    }
    ctx.info("Extracted " + std::to_string(n) + " profile events");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (auto p = jstr(r, "process"); !p.empty()) out.push_back({ObsKind::Process, p, {}});
    if (auto id = jstr(r, "profile_id"); !id.empty()) out.push_back({ObsKind::ProfileId, id, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "timestamp"), "profile_operation",
                   "Process " + pystr(r, "process") + " started operation " + pystr(r, "operation") +
                       " of profile " + pystr(r, "profile_id")});
  }
};

BRIDLE_REGISTER_MODULE(ProfileEvents);

}  // namespace
}  // namespace bridle
