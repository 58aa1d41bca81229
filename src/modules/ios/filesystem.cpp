// Filesystem (check-fs): every entry of the dump (folders, files, symlinks — never
// followed) with its modification time.
//
// Deviation from MVT: `path` starts with "/" ("/private/var/..."), the device path, so
// file:path indicators (which are absolute) match; MVT writes it relative ("private/var/...")
// and its file:path indicators never match here (mvt-reference §8.3 item 8). Unless --fast,
// every path component is also looked up as a process name (MVT's check_file_path_process),
// at HIGH.
//
// The module also reports the acquisition's own problems (unsafe archive member names,
// truncation, folders that cannot be listed) as its diagnostics, since it is the module
// that reads the whole dump.
#include "acquisition/source.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

class Filesystem final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Filesystem", "filesystem", kIosFs, Level::High, ModuleInfo::Shape::List,
                              "Every file and folder of the dump: suspicious paths and process names in paths"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    fast_ = ctx.options().fast;
    IosSource* src = ctx.ios();
    if (!src) return;
    std::size_t n = 0;
    bool listed = src->for_each_entry([&](const IosFsEntry& e) {
      Json r = Json::object();
      r["path"] = "/" + (is_valid_utf8(e.path) ? e.path : utf8_backslashreplace(e.path));
      r["modified"] = e.mtime ? unix_to_iso(*e.mtime) : std::string();
      ctx.emit(std::move(r));
      ++n;
      return true;
    });
    if (!listed) {
      ctx.info("The acquisition has no file listing (not a filesystem dump)");
      return;
    }
    for (auto& d : src->acquisition_problems()) {
      Diagnostic c = d;
      ctx.diag(std::move(c));
    }
    ctx.info("Listed " + std::to_string(n) + " files and folders");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string path = jstr(r, "path");
    if (path.empty()) return;
    // Results of MVT (relative paths) re-checked: make them absolute too.
    std::string abs = path.front() == '/' ? path : "/" + path;
    out.push_back({ObsKind::FilePath, abs, {}});
    if (fast_) return;
    for (auto& c : split(abs, '/'))
      if (!c.empty()) out.push_back({ObsKind::Process, c, Level::High});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "modified"), "entry_modified", jstr(r, "path")});
  }

 private:
  bool fast_ = false;
};

BRIDLE_REGISTER_MODULE(Filesystem);

}  // namespace
}  // namespace bridle
