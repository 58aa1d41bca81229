// LocationdClients: apps and system services that used location (locationd clients.plist).
// One record per client dictionary; `package` is its key without the trailing ':'.
// Indicator matches are HIGH (as MVT): the client's last path component and BundleId as
// processes, BundlePath / Executable / Registered as file paths.
#include <array>

#include "core/timeutil.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& clients_spec() {
  static const ArtifactSpec s{{{"RootDomain", "Library/Caches/locationd/clients.plist", false}},
                              {"private/var/mobile/Library/Caches/locationd/clients.plist",
                               "private/var/root/Library/Caches/locationd/clients.plist"}};
  return s;
}

constexpr std::array<const char*, 9> kTimestamps = {
    "ConsumptionPeriodBegin", "ReceivingLocationInformationTimeStopped", "VisitTimeStopped",
    "LocationTimeStopped", "BackgroundLocationTimeStopped", "SignificantTimeStopped",
    "NonPersistentSignificantTimeStopped", "FenceTimeStopped", "BeaconRegionTimeStopped"};

class LocationdClients final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"LocationdClients", "locationd_clients", kIosAny, Level::High, ModuleInfo::Shape::List,
                              "Location services clients (locationd clients.plist)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    std::size_t n = 0;
    for (auto& p : ios::read_plists(ctx, clients_spec(), "the locationd clients.plist")) {
      ctx.info("Found Locationd Clients plist at path: " + p.file.display);
      if (!p.data.is_object()) {
        ctx.unreadable(p.file.display, "clients.plist is not a dictionary");
        continue;
      }
      for (auto& [key, value] : p.data.items()) {
        // Some entries are migration counters (integers), not clients.
        if (!value.is_object()) continue;
        Json r = value;
        std::string package = key;
        while (!package.empty() && package.back() == ':') package.pop_back();
        r["package"] = package;
        for (const char* t : kTimestamps) {
          auto it = r.find(t);
          if (it == r.end()) continue;
          if (it->is_number_integer()) *it = mac_to_iso_int(it->get<std::int64_t>());
          else if (it->is_number()) *it = mac_to_iso(it->get<double>());
        }
        ctx.emit(std::move(r));
        ++n;
      }
    }
    ctx.info("Extracted a total of " + std::to_string(n) + " Locationd Clients entries");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string package = jstr(r, "package");
    auto slash = package.rfind('/');
    std::string proc = slash == std::string::npos ? package : package.substr(slash + 1);
    if (!proc.empty()) out.push_back({ObsKind::Process, proc, {}});
    if (auto b = r.find("BundleId"); b != r.end() && b->is_string() && !b->get<std::string>().empty())
      out.push_back({ObsKind::Process, b->get<std::string>(), {}});
    for (const char* k : {"BundlePath", "Executable", "Registered"}) {
      // "Registered" is sometimes a boolean.
      auto it = r.find(k);
      if (it != r.end() && it->is_string() && !it->get<std::string>().empty())
        out.push_back({ObsKind::FilePath, it->get<std::string>(), {}});
    }
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    for (const char* t : kTimestamps) {
      auto it = r.find(t);
      if (it == r.end()) continue;
      out.push_back({it->is_string() ? it->get<std::string>() : std::string(), t,
                     std::string(t) + " from " + pystr(r, "package")});
    }
  }
};

BRIDLE_REGISTER_MODULE(LocationdClients);

}  // namespace
}  // namespace bridle
