// AcquisitionProblems: reports what the Android source found wrong while listing the
// acquisition (member names escaping the archive, symlinks leading out, zip bombs, duplicate
// names, damaged archives) through the engine, so they appear in the log and summary and
// make the run partial when evidence was left unchecked.
#include "modules/android/common.hpp"

namespace bridle {
namespace {

class AcquisitionProblems final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"AcquisitionProblems", "acquisition_problems",
                              kAndroidQF | kAndroidBugreport | kAndroidBackup | kAndroidIntrusionLogs,
                              Level::Critical, ModuleInfo::Shape::List,
                              "Problems found in the acquisition's layout (hostile names, bombs, links)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto* src = ctx.android();
    if (!src) return;
    report(ctx, *src);
    for (const char* k : {"bugreport", "backup", "intrusion_logs"})
      if (auto* n = src->nested(k)) report(ctx, *n);
  }

  static void report(ModuleContext& ctx, const AndroidSource& s) {
    for (auto d : s.problems()) {
      if (d.file.empty()) d.file = s.display();
      else d.file = s.display() + "!" + d.file;
      ctx.diag(std::move(d));
    }
  }
};

BRIDLE_REGISTER_MODULE(AcquisitionProblems);

}  // namespace
}  // namespace bridle
