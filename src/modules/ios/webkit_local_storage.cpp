// WebkitLocalStorage (check-fs): origins with Local Storage data in the apps' WebKit folders.
#include "modules/ios/webkit_folders.hpp"

namespace bridle {
namespace {

class WebkitLocalStorage final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"WebkitLocalStorage", "webkit_local_storage", kIosFs, Level::Critical,
                              ModuleInfo::Shape::List, "Origins with WebKit Local Storage data in apps"};
    return i;
  }
  void run(ModuleContext& ctx) override {
    ios::webkit_folders_run(
        ctx, {"private/var/mobile/Containers/Data/Application/*/Library/WebKit/WebsiteData/LocalStorage"},
        "WebKit Local Storage");
  }
  void observe(const Json& r, std::vector<Observation>& out) const override { ios::webkit_folders_observe(r, out); }
  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "webkit_local_storage",
                   "WebKit Local Storage folder " + jstr(r, "folder") + " containing file for URL " + jstr(r, "url")});
  }
};

BRIDLE_REGISTER_MODULE(WebkitLocalStorage);

}  // namespace
}  // namespace bridle
