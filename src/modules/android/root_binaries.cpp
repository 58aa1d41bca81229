// RootBinaries: androidqf root_binaries.json (paths of root tools found on the device);
// each one is a HIGH alert.
#include <map>

#include "core/util.hpp"
#include "modules/android/common.hpp"

namespace bridle {
namespace {

const std::map<std::string, std::string>& descriptions() {
  static const std::map<std::string, std::string> d = {
      {"su", "SuperUser binary"},
      {"busybox", "BusyBox utilities"},
      {"supersu", "SuperSU root management"},
      {"superuser.apk", "Superuser app"},
      {"kingouser.apk", "KingRoot app"},
      {"supersu.apk", "SuperSU app"},
      {"magisk", "Magisk root framework"},
      {"magiskhide", "Magisk hide utility"},
      {"magiskinit", "Magisk init binary"},
      {"magiskpolicy", "Magisk policy binary"},
  };
  return d;
}

class RootBinaries final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"RootBinaries", "root_binaries", kAndroidQF, Level::Critical, ModuleInfo::Shape::List,
                              "Root binaries found by androidqf (root_binaries.json)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto* src = android_part(ctx, "androidqf");
    if (!src) return;
    auto f = src->first("*/root_binaries.json");
    if (!f) {
      ctx.info("No root_binaries.json file found");
      return;
    }
    auto text = android_read(ctx, *src, *f);
    if (!text) return;
    Json list = parse_json_exact(*text);
    if (!list.is_array()) {
      ctx.unreadable(f->path, "not a JSON list");
      return;
    }
    std::vector<Json> records;
    for (auto& e : list) {
      std::string path = e.is_string() ? e.get<std::string>() : jstr(e, "path");
      if (trim(path).empty()) continue;
      std::string name = to_lower(path.substr(path.find_last_of('/') + 1));
      auto it = descriptions().find(name);
      Json r;
      r["path"] = path;
      r["binary_name"] = name;
      r["description"] = it == descriptions().end() ? "Unknown root binary" : it->second;
      ctx.alert(Level::High, "Found root binary \"" + name + "\" at path \"" + path + "\"", "", r);
      records.push_back(std::move(r));
    }
    ctx.info("Found " + std::to_string(records.size()) + " root binaries");
    if (!records.empty())
      ctx.warn("Device shows signs of rooting with " + std::to_string(records.size()) + " root binaries found");
    for (auto& r : records) ctx.emit(std::move(r));
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({"", "root_binary_found",
                   "Root binary found: " + jstr(r, "path") + " (binary: " + jstr(r, "binary_name") + ")"});
  }
};

BRIDLE_REGISTER_MODULE(RootBinaries);

}  // namespace
}  // namespace bridle
