// Mounts: androidqf mounts.json (a list of `mount` output lines). A system partition
// mounted read-write is a sign of rooting (HIGH); unusual options on one are MEDIUM.
#include <algorithm>

#include "core/util.hpp"
#include "modules/android/common.hpp"

namespace bridle {
namespace {

constexpr const char* kSystemPartitions[] = {"/system", "/vendor", "/product", "/system_ext"};
constexpr const char* kNoatimeAllowed[] = {"/system_dlkm", "/system_ext", "/product", "/vendor", "/vendor_dlkm"};

bool is_system(const std::string& mp) {
  for (const char* p : kSystemPartitions)
    if (mp.rfind(p, 0) == 0) return true;
  return false;
}

class Mounts final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Mounts", "mounts", kAndroidQF, Level::Critical, ModuleInfo::Shape::List,
                              "Mount points (androidqf mounts.json): read-write system partitions"};
    return i;
  }

  // "dev on /mp type fs (opts)" -> record.
  static std::optional<Json> parse(const std::string& line) {
    auto on = line.find(" on ");
    auto type = line.find(" type ", on == std::string::npos ? 0 : on + 4);
    auto paren = line.find(" (", type == std::string::npos ? 0 : type + 6);
    if (on == std::string::npos || type == std::string::npos || paren == std::string::npos || line.back() != ')')
      return std::nullopt;
    Json r;
    r["device"] = line.substr(0, on);
    r["mount_point"] = line.substr(on + 4, type - on - 4);
    r["filesystem_type"] = line.substr(type + 6, paren - type - 6);
    std::string opts = line.substr(paren + 2, line.size() - paren - 3);
    r["mount_options"] = opts;
    Json list = Json::array();
    for (auto& o : split(opts, ','))
      if (!o.empty()) list.push_back(o);
    r["options_list"] = list;
    std::string mp = r["mount_point"];
    r["is_system_partition"] = is_system(mp);
    r["is_read_write"] = std::find(list.begin(), list.end(), "rw") != list.end();
    return r;
  }

  void run(ModuleContext& ctx) override {
    auto* src = android_part(ctx, "androidqf");
    if (!src) return;
    auto f = src->first("*/mounts.json");
    if (!f) {
      ctx.info("No mount information file found");
      return;
    }
    auto text = android_read(ctx, *src, *f);
    if (!text) return;
    Json list = parse_json_exact(*text);
    std::vector<std::string> lines;
    if (list.is_array()) {
      for (auto& l : list)
        if (l.is_string()) lines.push_back(trim(l.get<std::string>()));
    } else {
      for (auto& l : split(*text, '\n')) lines.push_back(trim(l));
    }
    std::vector<Json> records;
    for (auto& l : lines) {
      if (l.empty()) continue;
      auto r = parse(l);
      if (!r) continue;
      std::string mp = (*r)["mount_point"];
      if ((*r)["is_system_partition"].get<bool>()) {
        if ((*r)["is_read_write"].get<bool>()) {
          std::string msg = mp == "/system" ? "Root detected /system partition is mounted as read-write (rw)"
                                            : "System partition " + mp + " is mounted as read-write (rw)";
          ctx.alert(Level::High, msg, "", *r);
        }
        std::vector<std::string> odd;
        for (auto& o : (*r)["options_list"]) {
          std::string s = o;
          if (s == "remount" || s == "nodiratime") odd.push_back(s);
          if (s == "noatime" &&
              std::none_of(std::begin(kNoatimeAllowed), std::end(kNoatimeAllowed), [&](const char* a) { return mp == a; }))
            odd.push_back(s);
        }
        if (!odd.empty()) {
          std::string joined;
          for (auto& o : odd) joined += (joined.empty() ? "" : ", ") + o;
          ctx.alert(Level::Medium, "Suspicious mount options found for " + mp + ": " + joined, "", *r);
        }
      }
      records.push_back(std::move(*r));
    }
    ctx.info("Parsed " + std::to_string(records.size()) + " mount entries");
    for (auto& r : records) ctx.emit(std::move(r));
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    for (const char* k : {"mount_point", "device"}) {
      std::string v = jstr(r, k);
      if (!v.empty() && v.front() == '/') out.push_back({ObsKind::FilePath, v, {}});
    }
  }
};

BRIDLE_REGISTER_MODULE(Mounts);

}  // namespace
}  // namespace bridle
