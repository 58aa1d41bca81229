// AQFSettings: androidqf settings_<namespace>.txt (key=value). Written as MVT's dict
// {namespace: {key: value}} (Document shape, so MVT's aqf_settings.json layout is kept; one
// record per namespace is emitted for counting). Dangerous values are MEDIUM alerts.
#include "core/util.hpp"
#include "modules/android/common.hpp"

namespace bridle {
namespace {

struct Dangerous {
  const char* key;
  const char* safe;
  const char* description;
};
constexpr Dangerous kDangerous[] = {
    {"verifier_verify_adb_installs", "1", "disabled Google Play Services apps verification"},
    {"package_verifier_enable", "1", "disabled Google Play Protect"},
    {"package_verifier_state", "1", "disabled APK package verification"},
    {"package_verifier_user_consent", "1", "disabled Google Play Protect"},
    {"upload_apk_enable", "1", "disabled Google Play Protect"},
    {"adb_install_need_confirm", "1", "disabled confirmation of adb apps installation"},
    {"send_security_reports", "1", "disabled sharing of security reports"},
    {"samsung_errorlog_agree", "1", "disabled sharing of crash logs with manufacturer"},
    {"send_action_app_error", "1", "disabled applications errors reports"},
    {"accessibility_enabled", "0", "enabled accessibility services"},
};

class AqfSettings final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"AQFSettings", "aqf_settings", kAndroidQF, Level::Critical, ModuleInfo::Shape::Document,
                              "System/secure/global settings (androidqf settings_*.txt), dangerous values"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto* src = android_part(ctx, "androidqf");
    if (!src) return;
    Json doc = Json::object();
    std::size_t count = 0;
    for (auto& f : src->glob("*/settings_*.txt")) {
      std::string base = f.path.substr(f.path.find_last_of('/') + 1);
      auto us = base.find_last_of('_');
      std::string ns = base.substr(us + 1, base.size() - us - 1 - 4);
      auto text = android_read(ctx, *src, f);
      if (!text) continue;
      Json& d = doc[ns];
      if (!d.is_object()) d = Json::object();
      for (auto& raw : split(*text, '\n')) {
        std::string line = raw;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        d[key] = value;
        ++count;
        for (auto& dz : kDangerous) {
          if (key != dz.key || value == dz.safe) continue;
          Json ev;
          ev["namespace"] = ns;
          ev["key"] = key;
          ev["value"] = value;
          ev["description"] = dz.description;
          ctx.alert(Level::Medium,
                    "Found suspicious \"" + ns + "\" setting \"" + key + " = " + value + "\" (" + dz.description + ")",
                    "", ev);
        }
      }
    }
    ctx.info("Identified " + std::to_string(count) + " settings");
    if (doc.empty()) return;
    for (auto& [ns, d] : doc.items()) ctx.emit(Json{{"namespace", ns}, {"settings", d}});
    ctx.set_document(std::move(doc));
  }
};

BRIDLE_REGISTER_MODULE(AqfSettings);

}  // namespace
}  // namespace bridle
