// Netusage (check-fs): per-process network usage from networkd's netusage.sqlite, with the
// NetBase heuristics (deleted process records, gaps in process ids, binaries not found in
// the dump, Triangulation's BackupAgent). See netbase.hpp.
#include "modules/ios/netbase.hpp"

namespace bridle {
namespace {

class Netusage final : public ios::NetBase {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Netusage", "netusage", kIosFs, Level::Critical, ModuleInfo::Shape::List,
                              "Per-process network usage (networkd netusage.sqlite), deleted process records"};
    return i;
  }

 protected:
  const ArtifactSpec& spec() const override {
    static const ArtifactSpec s{{},
                                {"private/var/networkd/netusage.sqlite",
                                 "private/var/networkd/db/netusage.sqlite"}};
    return s;
  }
  std::string what() const override { return "netusage"; }
};

BRIDLE_REGISTER_MODULE(Netusage);

}  // namespace
}  // namespace bridle
