// ConfigurationProfiles: installed configuration profiles (profile-*.stub plists of the
// configurationprofiles system group container), backups only.
//
// Heuristic: a profile whose first payload is com.apple.notificationsettings -> MEDIUM.
// MVT only looks at it when indicators are loaded (an early return in its
// check_indicators); here it runs always, because a profile that silences notifications is
// worth a look whatever indicator set the analyst happens to use, and the check costs
// nothing.
#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

constexpr const char* kDomain = "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles";

const ArtifactSpec& profiles_spec() {
  static const ArtifactSpec s{{{kDomain, "*", true}}, {}};
  return s;
}

std::string basename_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

class ConfigurationProfiles final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"ConfigurationProfiles", "configuration_profiles", kIosBackup, Level::Critical,
                              ModuleInfo::Shape::List, "Installed configuration profiles (payloads, install dates)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    std::size_t n = 0;
    for (auto& f : src->find(profiles_spec())) {
      if (basename_of(f.relative_path).rfind("profile-", 0) != 0) continue;
      std::string err;
      Json plist = Json::object();
      auto bytes = src->read(f, &err, 64ull << 20);
      if (!bytes) {
        ctx.unreadable(f.display, "cannot read the configuration profile: " + err);
      } else if (auto j = plist_to_json(*bytes, {}, &err); j && j->is_object()) {
        plist = std::move(*j);
      } else {
        // Kept with an empty plist, as MVT, so the file still shows up in the results.
        ctx.unreadable(f.display, "not a readable property list: " + err);
      }
      Json r;
      r["file_id"] = f.file_id;
      r["relative_path"] = f.relative_path;
      r["domain"] = f.domain;
      r["install_date"] = nullptr;
      if (auto it = plist.find("InstallDate"); it != plist.end() && it->is_string()) r["install_date"] = *it;
      r["plist"] = plist;
      // MVT's key order: plist before install_date.
      Json ordered;
      for (const char* k : {"file_id", "relative_path", "domain", "plist", "install_date"}) ordered[k] = r[k];

      const Json* content = nullptr;
      if (auto it = plist.find("PayloadContent"); it != plist.end() && it->is_array() && !it->empty())
        content = &(*it)[0];
      if (content && content->is_object() && jstr(*content, "PayloadType") == "com.apple.notificationsettings") {
        ctx.alert(Level::Medium,
                  "Found a potentially suspicious configuration profile \"" + pystr(plist, "PayloadDisplayName") +
                      "\" with payload type com.apple.notificationsettings",
                  "", ordered);
      }
      ctx.emit(std::move(ordered));
      ++n;
    }
    ctx.info("Extracted details about " + std::to_string(n) + " configuration profiles");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    auto it = r.find("plist");
    if (it == r.end() || !it->is_object()) return;
    if (auto id = jstr(*it, "PayloadUUID"); !id.empty()) out.push_back({ObsKind::ProfileId, id, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string when = jstr(r, "install_date");
    if (when.empty()) return;
    const Json& p = r.contains("plist") ? r["plist"] : Json::object();
    out.push_back({when, "configuration_profile_install",
                   pystr(p, "PayloadType") + " installed: " + pystr(p, "PayloadUUID") + " - " +
                       pystr(p, "PayloadDisplayName") + ": " + pystr(p, "PayloadDescription")});
  }
};

BRIDLE_REGISTER_MODULE(ConfigurationProfiles);

}  // namespace
}  // namespace bridle
