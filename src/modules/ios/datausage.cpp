// Datausage: per-process network usage from DataUsage.sqlite (ZPROCESS / ZLIVEUSAGE), with
// the NetBase heuristics (deleted process rows, gaps in process ids, Triangulation's
// BackupAgent). See netbase.hpp.
#include "modules/ios/netbase.hpp"

namespace bridle {
namespace {

class Datausage final : public ios::NetBase {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Datausage", "datausage", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Per-process network usage (DataUsage.sqlite), deleted process records"};
    return i;
  }

 protected:
  const ArtifactSpec& spec() const override {
    static const ArtifactSpec s{{{"WirelessDomain", "Library/Databases/DataUsage.sqlite", false}},
                                {"private/var/wireless/Library/Databases/DataUsage.sqlite"}};
    return s;
  }
  std::string what() const override { return "DataUsage"; }
};

BRIDLE_REGISTER_MODULE(Datausage);

}  // namespace
}  // namespace bridle
