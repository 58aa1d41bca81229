// GlobalPreferences: the device-wide preferences (.GlobalPreferences.plist), one record per
// key. Tells whether Lockdown Mode (Apple's hardening against mercenary spyware) is on.
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& prefs_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/Preferences/.GlobalPreferences.plist", false}},
                              {"private/var/mobile/Library/Preferences/.GlobalPreferences.plist"}};
  return s;
}

// Python truthiness of a plist value.
bool truthy(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return false;
    case Json::value_t::boolean: return v.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return v.get<double>() != 0;
    case Json::value_t::string: return !v.get<std::string>().empty();
    default: return !v.empty();
  }
}

class GlobalPreferences final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"GlobalPreferences", "global_preferences", kIosAny, Level::Critical,
                              ModuleInfo::Shape::List, "Global preferences (Lockdown Mode state)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    // <data> values as MVT's JSON encoder writes bytes (UTF-8 with backslash escapes).
    for (auto& p : ios::read_plists(ctx, prefs_spec(), "the global preferences file", false)) {
      if (!p.data.is_object()) {
        ctx.unreadable(p.file.display, "the global preferences are not a dictionary");
        continue;
      }
      std::size_t n = 0;
      for (auto& [key, value] : p.data.items()) {
        Json r = Json::object();
        r["entry"] = key;
        r["value"] = value;
        if (key == "LDMGlobalEnabled") {
          if (truthy(value)) ctx.alert(Level::Informational, "Lockdown mode enabled", "", r);
          else ctx.alert(Level::Low, "Lockdown mode disabled", "", r);
        }
        ctx.emit(std::move(r));
        ++n;
      }
      ctx.info("Extracted a total of " + std::to_string(n) + " global preferences");
    }
  }
  // No observables and no timeline (MVT has neither for this module).
};

BRIDLE_REGISTER_MODULE(GlobalPreferences);

}  // namespace
}  // namespace bridle
