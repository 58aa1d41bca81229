// IOSVersionCheck: is the device running the newest iOS release bridle knows of?
// The device build and version come from the backup's Info.plist (Build Version, Product
// Version) or the dump's System/Library/CoreServices/SystemVersion.plist (ProductBuildVersion,
// ProductVersion). They are compared with the build -> version table of
// data/ios_versions.json, compiled in from ios_versions_table.inc (same rows; a test checks
// it). An older version than the newest in the table -> LOW alert (an unpatched device is
// easier to exploit; it is not a sign of compromise). The table has a date and a limited
// coverage (see the JSON): a device on the newest listed version is reported as such, with
// the table date, not as "up to date".
#include <algorithm>
#include <cstdlib>

#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

struct BuildRow {
  const char* build;
  const char* version;
};
constexpr BuildRow kBuilds[] = {
#include "modules/ios/ios_versions_table.inc"
};
// Date of data/ios_versions.json (the test checks that it matches).
constexpr const char* kTableDate = "2026-11-28";

std::vector<long> version_parts(const std::string& v) {
  std::vector<long> out;
  for (auto& p : split(v, '.')) out.push_back(std::strtol(p.c_str(), nullptr, 10));
  while (!out.empty() && out.back() == 0) out.pop_back();  // "26" == "26.0"
  return out;
}

int compare_versions(const std::string& a, const std::string& b) {
  auto pa = version_parts(a), pb = version_parts(b);
  if (pa < pb) return -1;
  if (pb < pa) return 1;
  return 0;
}

const BuildRow* newest() {
  const BuildRow* best = &kBuilds[0];
  for (auto& r : kBuilds)
    if (compare_versions(r.version, best->version) > 0 ||
        (compare_versions(r.version, best->version) == 0 && std::string(r.build) > best->build))
      best = &r;
  return best;
}

class IOSVersionCheck final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"IOSVersionCheck", "ios_version_check", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Device iOS version against the newest release in bridle's table"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    std::string build, version, where;
    if (src->is_backup()) {
      where = "Info.plist";
      std::string err;
      auto data = read_file(src->root() / "Info.plist", 64ull << 20, &err);
      auto plist = data ? plist_to_json(*data, {}, &err) : std::nullopt;
      if (!plist || !plist->is_object()) {
        ctx.unreadable("Info.plist", "cannot read the device version: " + err);
        return;
      }
      build = jstr(*plist, "Build Version");
      version = jstr(*plist, "Product Version");
    } else {
      ArtifactSpec spec{{}, {"System/Library/CoreServices/SystemVersion.plist"}};
      auto plists = ios::read_plists(ctx, spec, "SystemVersion.plist");
      if (plists.empty() || !plists[0].data.is_object()) return;
      where = plists[0].file.display;
      build = jstr(plists[0].data, "ProductBuildVersion");
      version = jstr(plists[0].data, "ProductVersion");
    }
    const BuildRow* known = nullptr;
    for (auto& r : kBuilds)
      if (!build.empty() && build == r.build) known = &r;
    if (version.empty() && known) version = known->version;
    if (version.empty()) {
      ctx.warn("No iOS version in " + where + ": the version check was not done");
      return;
    }
    const BuildRow* latest = newest();
    int cmp = compare_versions(version, latest->version);
    Json r;
    r["build"] = build.empty() ? Json(nullptr) : Json(build);
    r["version"] = version;
    r["source"] = where;
    r["build_in_table"] = known != nullptr;
    r["table_version_of_build"] = known ? Json(known->version) : Json(nullptr);
    r["latest_version"] = latest->version;
    r["latest_build"] = latest->build;
    r["table_date"] = kTableDate;
    r["outdated"] = cmp < 0;
    if (known && compare_versions(known->version, version) != 0)
      ctx.warn("Build " + build + " is iOS " + known->version + " in bridle's table, but " + where + " says " + version);
    if (cmp < 0) {
      ctx.alert(Level::Low,
                "This phone is running an outdated iOS version: " + version + (build.empty() ? "" : " (" + build + ")") +
                    "; the newest release in bridle's table (dated " + kTableDate + ") is " + latest->version + " (" +
                    latest->build + ")",
                "", r);
    } else if (cmp > 0) {
      ctx.info("iOS " + version + " is newer than the newest release in bridle's table (" + latest->version +
               ", dated " + kTableDate + ")");
    } else {
      ctx.info("iOS " + version + " is the newest release in bridle's table (dated " + kTableDate +
               "); newer releases may exist");
    }
    ctx.emit(std::move(r));
  }
};

BRIDLE_REGISTER_MODULE(IOSVersionCheck);

}  // namespace
}  // namespace bridle
