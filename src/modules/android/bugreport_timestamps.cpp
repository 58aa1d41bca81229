// BugReportTimestamps: modification times of the files a bug report carries under FS/.
#include "acquisition/android_source.hpp"
#include "core/timeutil.hpp"
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

class BugReportTimestamps final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"BugReportTimestamps", "bugreport_timestamps", kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::List, "Modification times of the bug report's FS/ files"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    AndroidSource* src = bugreport_part(ctx);
    if (!src) return;
    std::size_t n = 0;
    for (auto& f : src->glob("FS/*")) {
      Json r = Json::object();
      r["path"] = ds::valid_utf8(f.path);
      // Zip entry times are naive device-local times stored as if UTC by the source.
      r["modified_time"] = unix_to_iso_int(f.mtime);
      ctx.emit(std::move(r));
      ++n;
    }
    ctx.info("Extracted a total of " + std::to_string(n) + " filesystem timestamps from bugreport.");
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "modified_time"), "M---", jstr(r, "path")});
  }
};

BRIDLE_REGISTER_MODULE(BugReportTimestamps);

}  // namespace
}  // namespace bridle
