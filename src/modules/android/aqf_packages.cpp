// AQFPackages: androidqf packages.json (installed packages with APK hashes and signing
// certificates). Heuristics: rooting apps, side-loading, third-party stores, disabled
// security/OTA packages.
#include <algorithm>

#include "modules/android/common.hpp"

namespace bridle {
namespace {

// Public lists of rooting / root-hiding apps (as RootBeer and MVT use).
constexpr const char* kRootPackages[] = {
    "com.noshufou.android.su",         "com.noshufou.android.su.elite",
    "eu.chainfire.supersu",            "com.koushikdutta.superuser",
    "com.thirdparty.superuser",        "com.yellowes.su",
    "com.koushikdutta.rommanager",     "com.koushikdutta.rommanager.license",
    "com.dimonvideo.luckypatcher",     "com.chelpus.lackypatch",
    "com.ramdroid.appquarantine",      "com.ramdroid.appquarantinepro",
    "com.devadvance.rootcloak",        "com.devadvance.rootcloakplus",
    "de.robv.android.xposed.installer", "com.saurik.substrate",
    "com.zachspong.temprootremovejb",  "com.amphoras.hidemyroot",
    "com.amphoras.hidemyrootadfree",   "com.formyhm.hiderootPremium",
    "com.formyhm.hideroot",            "me.phh.superuser",
    "eu.chainfire.supersu.pro",        "com.kingouser.com",
    "com.topjohnwu.magisk",
};
constexpr const char* kThirdPartyStores[] = {"com.aurora.store", "org.fdroid.fdroid"};
constexpr const char* kBrowserInstallers[] = {"com.google.android.packageinstaller", "com.android.packageinstaller"};
constexpr const char* kSecurityPackages[] = {"com.policydm", "com.samsung.android.app.omcagent",
                                             "com.samsung.android.securitylogagent", "com.sec.android.soagent"};
constexpr const char* kSystemUpdatePackages[] = {
    "com.android.updater",       "com.google.android.gms", "com.huawei.android.hwouc",
    "com.lge.lgdmsclient",       "com.motorola.ccc.ota",   "com.oneplus.opbackup",
    "com.oppo.ota",              "com.transsion.systemupdate", "com.wssyncmldm"};

template <std::size_t N>
bool in(const char* const (&list)[N], const std::string& v) {
  return std::any_of(std::begin(list), std::end(list), [&](const char* x) { return v == x; });
}

bool jbool(const Json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

class AqfPackages final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"AQFPackages", "aqf_packages", kAndroidQF, Level::Critical, ModuleInfo::Shape::List,
                              "Installed packages (androidqf packages.json): app ids, APK and certificate hashes"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto* src = android_part(ctx, "androidqf");
    if (!src) return;
    auto f = src->first("*/packages.json");
    if (!f) {
      ctx.warn("packages.json file not found in this androidqf bundle");
      return;
    }
    auto text = android_read(ctx, *src, *f);
    if (!text) return;
    Json list = parse_json_exact(*text);
    if (!list.is_array()) {
      ctx.unreadable(f->path, "not a JSON list of packages");
      return;
    }
    ctx.info("Found " + std::to_string(list.size()) + " packages in packages.json");
    for (auto& p : list) {
      if (!p.is_object()) continue;
      std::string name = jstr(p, "name"), installer = jstr(p, "installer");
      if (in(kRootPackages, name)) {
        ctx.alert(Level::Medium, "Found an installed package related to rooting/jailbreaking: \"" + name + "\"", "", p);
        continue;
      }
      if (in(kThirdPartyStores, installer))
        ctx.alert(Level::Informational,
                  "Found a package installed via a third party store (installer=\"" + installer + "\"): \"" + name + "\"", "", p);
      else if (in(kBrowserInstallers, installer))
        ctx.alert(Level::Medium,
                  "Found a package installed via a browser (installer=\"" + installer + "\"): \"" + name + "\"", "", p);
      else if ((installer == "null" || installer.empty()) && !jbool(p, "system"))
        ctx.alert(Level::Medium, "Found a non-system package installed via adb or another method: \"" + name + "\"", "", p);
      if (jbool(p, "disabled") && (in(kSecurityPackages, name) || in(kSystemUpdatePackages, name)))
        ctx.alert(Level::Medium, "Found a security or system update package disabled: \"" + name + "\"", "", p);
    }
    for (auto& p : list)
      if (p.is_object()) ctx.emit(p);
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string name = jstr(r, "name");
    if (!name.empty()) out.push_back({ObsKind::AppId, name, {}});
    auto files = r.find("files");
    if (files == r.end() || !files->is_array()) return;
    for (auto& f : *files) {
      std::string h = jstr(f, "sha256");
      if (!h.empty()) out.push_back({ObsKind::FileHash, h, {}});
      auto cert = f.find("certificate");
      if (cert == f.end() || !cert->is_object()) continue;
      for (const char* k : {"Md5", "Sha1", "Sha256"}) {
        std::string c = jstr(*cert, k);
        if (!c.empty()) out.push_back({ObsKind::CertHash, c, {}});
      }
    }
  }
};

BRIDLE_REGISTER_MODULE(AqfPackages);

}  // namespace
}  // namespace bridle
