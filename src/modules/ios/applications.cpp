// Applications: installed App Store / MDM / sideloaded apps and their iTunes metadata.
// Backups: Info.plist "Applications" (name -> {iTunesMetadata, PlaceholderIcon}); filesystem
// dumps: private/var/containers/Bundle/Application/*/iTunesMetadata.plist.
//
// Heuristics (MEDIUM):
//  - metadata without softwareVersionBundleId. MVT raises this only when indicators are
//    loaded; here always: an app whose metadata lacks its own bundle id is malformed or
//    forged whatever indicators are in use, and the test does not depend on them;
//  - sourceApp (the installer) not the App Store or MDM (dmd).
// softwareVersionBundleId is observed as an app id and as a process (as MVT checks both).
#include <cstdio>

#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

constexpr const char* kKnownInstallers[] = {"com.apple.AppStore", "com.apple.AppStore.ProductPageExtension",
                                            "com.apple.dmd", "dmd"};

// "2021-03-04T05:06:07Z" (iTunes purchaseDate, UTC) -> "2021-03-04 05:06:07.000000".
// MVT parses it as a naive datetime and converts it from the analyst's local time zone;
// the Z means UTC, so it is kept as UTC here.
std::string itunes_date(const std::string& s) {
  int y, mo, d, h, mi, se;
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) == 7 && z == 'Z') {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.000000", y, mo, d, h, mi, se);
    return buf;
  }
  if (s.size() == 26 && s[4] == '-' && s[10] == ' ') return s;  // a plist <date>
  return "";
}

void add_isodate(Json& entry) {
  auto di = entry.find("com.apple.iTunesStore.downloadInfo");
  if (di == entry.end() || !di->is_object()) return;
  std::string pd = jstr(*di, "purchaseDate");
  if (pd.empty()) return;
  if (auto iso = itunes_date(pd); !iso.empty()) entry["isodate"] = iso;
}

class Applications final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Applications", "applications", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Installed applications and their installer (iTunes metadata)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    std::size_t n = 0;
    auto finish = [&](Json entry) {
      check(ctx, entry);
      ctx.emit(std::move(entry));
      ++n;
    };
    if (src->is_backup()) {
      std::string err;
      auto data = read_file(src->root() / "Info.plist", 256ull << 20, &err);
      if (!data) {
        ctx.unreadable("Info.plist", err);
        return;
      }
      auto plist = plist_to_json(*data, {}, &err);
      if (!plist || !plist->is_object()) {
        ctx.unreadable("Info.plist", "not a readable property list: " + err);
        return;
      }
      auto apps = plist->find("Applications");
      if (apps != plist->end() && apps->is_object()) {
        for (auto& [name, app] : apps->items()) {
          Json entry;
          entry["name"] = name;
          if (app.is_object()) {
            if (auto md = app.find("iTunesMetadata"); md != app.end() && md->is_string()) {
              auto raw = base64_decode(md->get<std::string>());
              std::optional<Json> meta;
              if (raw) meta = plist_to_json(*raw, {}, &err);
              if (meta && meta->is_object()) {
                for (auto& [k, v] : meta->items()) entry[k] = v;
              } else {
                ctx.diag({Diagnostic::Severity::Warning, "", "Info.plist",
                          "iTunesMetadata of " + name + " is not a readable property list", false});
              }
            }
            add_isodate(entry);
            if (auto icon = app.find("PlaceholderIcon"); icon != app.end() && icon->is_string())
              if (auto raw = base64_decode(icon->get<std::string>())) entry["icon_sha256"] = sha256_hex(*raw);
          }
          finish(std::move(entry));
        }
      }
    } else {
      ArtifactSpec spec{{}, {"private/var/containers/Bundle/Application/*/iTunesMetadata.plist"}};
      for (auto& p : ios::read_plists(ctx, spec, "iTunesMetadata.plist files")) {
        if (!p.data.is_object()) {
          ctx.unreadable(p.file.display, "iTunesMetadata.plist is not a dictionary");
          continue;
        }
        Json entry = p.data;
        entry["file_path"] = p.file.relative_path;
        add_isodate(entry);
        finish(std::move(entry));
      }
    }
    ctx.info("Extracted a total of " + std::to_string(n) + " applications");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string id = jstr(r, "softwareVersionBundleId");
    if (id.empty()) return;
    out.push_back({ObsKind::AppId, id, {}});
    out.push_back({ObsKind::Process, id, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    if (!r.contains("isodate")) return;
    out.push_back({jstr(r, "isodate"), "app_installed",
                   "App " + jstr(r, "name") + " version " + jstr(r, "bundleShortVersionString") + " from " +
                       jstr(r, "artistName") + " installed from " + jstr(r, "sourceApp")});
  }

 private:
  static void check(ModuleContext& ctx, const Json& entry) {
    if (!entry.contains("softwareVersionBundleId")) {
      ctx.alert(Level::Medium, "Suspicious application identified without softwareVersionBundleId", "", entry);
      return;
    }
    // No sourceApp: installed from the App Store (as MVT assumes).
    std::string installer = entry.contains("sourceApp") ? pystr(entry, "sourceApp") : "com.apple.AppStore";
    for (const char* k : kKnownInstallers)
      if (installer == k) return;
    ctx.alert(Level::Medium,
              "Suspicious app not installed from the App Store or MDM: " + pystr(entry, "softwareVersionBundleId") +
                  " (installed by " + installer + ")",
              "", entry);
  }
};

BRIDLE_REGISTER_MODULE(Applications);

}  // namespace
}  // namespace bridle
