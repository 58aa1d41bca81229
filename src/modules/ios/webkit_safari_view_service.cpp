// WebkitSafariViewService (check-fs): origins with website data of SafariViewService (web
// pages opened inside apps). No timeline rows, as MVT.
#include "modules/ios/webkit_folders.hpp"

namespace bridle {
namespace {

class WebkitSafariViewService final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"WebkitSafariViewService", "webkit_safari_view_service", kIosFs, Level::Critical,
                              ModuleInfo::Shape::List, "Origins with SafariViewService website data"};
    return i;
  }
  void run(ModuleContext& ctx) override {
    ios::webkit_folders_run(ctx,
                            {"private/var/mobile/Containers/Data/Application/*/SystemData/"
                             "com.apple.SafariViewService/Library/WebKit/WebsiteData"},
                            "WebKit SafariViewService WebsiteData");
  }
  void observe(const Json& r, std::vector<Observation>& out) const override { ios::webkit_folders_observe(r, out); }
};

BRIDLE_REGISTER_MODULE(WebkitSafariViewService);

}  // namespace
}  // namespace bridle
