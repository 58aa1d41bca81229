// AQFLogTimestamps: modification times of the files androidqf copied under logs/ (timeline
// only). Times are shown in the device's local time, so a zip and a folder of the same
// acquisition agree (as far as the zip's stored times allow).
#include "modules/android/common.hpp"

namespace bridle {
namespace {

class AqfLogTimestamps final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"AQFLogTimestamps", "aqf_log_timestamps", kAndroidQF, Level::Critical,
                              ModuleInfo::Shape::List, "Modification times of androidqf logs/ files (timeline)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto* src = android_part(ctx, "androidqf");
    if (!src) return;
    auto tz = TimeZone::load(src->timezone);
    std::size_t n = 0;
    for (auto& f : src->glob("*/logs/*")) {
      Json r;
      r["path"] = f.path;
      r["modified_time"] = f.mtime ? to_device_local(static_cast<double>(f.mtime), tz.get()) : "";
      ctx.emit(std::move(r));
      ++n;
    }
    ctx.info("Extracted a total of " + std::to_string(n) + " filesystem timestamps from AndroidQF logs directory.");
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "modified_time"), "file_modified", jstr(r, "path")});
  }
};

BRIDLE_REGISTER_MODULE(AqfLogTimestamps);

}  // namespace
}  // namespace bridle
