// AQFGetProp: androidqf getprop.txt. Property names are matched against indicators; an old
// security patch level is a heuristic alert.
#include <chrono>

#include "modules/android/common.hpp"

namespace bridle {
namespace {

// Days since 1970-01-01 of "YYYY-MM-DD..." (nullopt when malformed).
std::optional<long> days_of(const std::string& s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y, m, d;
  try {
    y = std::stoi(s.substr(0, 4));
    m = std::stoi(s.substr(5, 2));
    d = std::stoi(s.substr(8, 2));
  } catch (...) {
    return std::nullopt;
  }
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<long>(sys_days(ymd).time_since_epoch().count());
}

constexpr const char* kInteresting[] = {
    "gsm.sim.operator.alpha", "gsm.sim.operator.iso-country", "persist.sys.timezone", "ro.boot.serialno",
    "ro.build.version.sdk", "ro.build.version.security_patch", "ro.product.cpu.abi", "ro.product.locale",
    "ro.product.vendor.manufacturer", "ro.product.vendor.model", "ro.product.vendor.name"};

class AqfGetProp final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"AQFGetProp", "aqf_get_prop", kAndroidQF, Level::Critical, ModuleInfo::Shape::List,
                              "System properties (androidqf getprop.txt), security patch age"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto* src = android_part(ctx, "androidqf");
    if (!src) return;
    auto f = src->first("*/getprop.txt");
    if (!f) {
      ctx.info("getprop.txt file not found");
      return;
    }
    auto text = android_read(ctx, *src, *f);
    if (!text) return;
    auto props = parse_getprop(*text);
    std::vector<Json> records;
    for (auto& [k, v] : props) {
      Json r;
      r["name"] = k;
      r["value"] = v;
      for (const char* i : kInteresting)
        if (k == i) ctx.info(k + ": " + v);
      if (k == "ro.build.version.security_patch") check_patch(ctx, *src, r);
      records.push_back(std::move(r));
    }
    ctx.info("Extracted a total of " + std::to_string(records.size()) + " properties");
    for (auto& r : records) ctx.emit(std::move(r));
  }

  // The acquisition date (acquisition.json "started"), else today.
  static long reference_day(const AndroidSource& src) {
    if (auto d = days_of(jstr(src.acquisition, "started"))) return *d;
    using namespace std::chrono;
    return static_cast<long>(floor<days>(system_clock::now()).time_since_epoch().count());
  }

  static void check_patch(ModuleContext& ctx, const AndroidSource& src, const Json& r) {
    std::string v = jstr(r, "value");
    auto patch = days_of(v);
    if (!patch) return;
    if (reference_day(src) - *patch > 6 * 31)
      ctx.alert(Level::Medium,
                "This phone has not received security updates for more than six months (last update: " + v + ")", "", r);
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string n = jstr(r, "name");
    if (!n.empty()) out.push_back({ObsKind::Property, n, {}});
  }
};

BRIDLE_REGISTER_MODULE(AqfGetProp);

}  // namespace
}  // namespace bridle
