// DumpsysGetProp: system properties from the dumpstate's "------ SYSTEM PROPERTIES" block,
// with the stale security patch check.
#include <chrono>
#include <ctime>

#include "modules/android/common.hpp"
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

// "[name]: [value]" lines (the shared getprop parser, MVT's regex semantics).
Json getprop_records(std::string_view text) {
  Json results = Json::array();
  for (auto& [name, value] : parse_getprop(text)) {
    Json r = Json::object();
    r["name"] = ds::valid_utf8(name);
    r["value"] = ds::valid_utf8(value);
    results.push_back(std::move(r));
  }
  return results;
}

// Days since a "YYYY-MM-DD" date (nullopt when malformed).
std::optional<long> days_since(std::string_view d) {
  if (d.size() < 10 || d[4] != '-' || d[7] != '-') return std::nullopt;
  int y = 0, m = 0, day = 0;
  for (std::size_t i : {0u, 1u, 2u, 3u}) { if (d[i] < '0' || d[i] > '9') return std::nullopt; y = y * 10 + (d[i] - '0'); }
  for (std::size_t i : {5u, 6u}) { if (d[i] < '0' || d[i] > '9') return std::nullopt; m = m * 10 + (d[i] - '0'); }
  for (std::size_t i : {8u, 9u}) { if (d[i] < '0' || d[i] > '9') return std::nullopt; day = day * 10 + (d[i] - '0'); }
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  auto today = floor<days>(system_clock::now());
  return static_cast<long>((today - sys_days{ymd}).count());
}

class DumpsysGetProp final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysGetProp", "dumpsys_get_prop", kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::List, "System properties from the dumpstate"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    Json results = getprop_records(d->system_properties());
    for (auto& r : results) {
      if (jstr(r, "name") == "ro.build.version.security_patch") {
        std::string patch = jstr(r, "value");
        auto age = days_since(patch);
        if (age && *age > 6 * 31)
          ctx.alert(Level::Medium,
                    "This phone has not received security updates for more than six months (last update: " +
                        patch + ")",
                    "", r);
      }
      ctx.emit(r);
    }
    ctx.info("Extracted " + std::to_string(results.size()) + " Android system properties");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string name = jstr(r, "name");
    if (!name.empty()) out.push_back({ObsKind::Property, name, {}});
  }
};

BRIDLE_REGISTER_MODULE(DumpsysGetProp);

}  // namespace
}  // namespace bridle
