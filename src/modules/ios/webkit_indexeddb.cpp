// WebkitIndexedDB (check-fs): origins with IndexedDB data in the apps' WebKit folders.
#include "modules/ios/webkit_folders.hpp"

namespace bridle {
namespace {

class WebkitIndexedDB final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"WebkitIndexedDB", "webkit_indexeddb", kIosFs, Level::Critical,
                              ModuleInfo::Shape::List, "Origins with WebKit IndexedDB data in apps"};
    return i;
  }
  void run(ModuleContext& ctx) override {
    ios::webkit_folders_run(
        ctx, {"private/var/mobile/Containers/Data/Application/*/Library/WebKit/WebsiteData/IndexedDB"},
        "WebKit IndexedDB");
  }
  void observe(const Json& r, std::vector<Observation>& out) const override { ios::webkit_folders_observe(r, out); }
  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "webkit_indexeddb",
                   "IndexedDB folder " + jstr(r, "folder") + " containing file for URL " + jstr(r, "url")});
  }
};

BRIDLE_REGISTER_MODULE(WebkitIndexedDB);

}  // namespace
}  // namespace bridle
