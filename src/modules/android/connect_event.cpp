// ConnectEvent: outgoing TCP connections from Android 16 intrusion logs (connect_event).
#include "acquisition/android_source.hpp"
#include "modules/android/intrusion_logs.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

// "host/1.2.3.4" -> "1.2.3.4"; "" for loopback/unspecified addresses.
std::string clean_ip(const Json& r) {
  const std::string full = jstr(r, "ip_address");
  std::string_view ip(full);
  auto slash = ip.rfind('/');
  if (slash != std::string_view::npos) ip.remove_prefix(slash + 1);
  if (ip == "::1" || ip == "127.0.0.1" || ip == "0.0.0.0") return std::string();
  return std::string(ip);
}

class ConnectEvent final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"ConnectEvent", "connect_event", kAndroidIntrusionLogs, Level::Critical,
                              ModuleInfo::Shape::List, "Network connections from Android intrusion logs"};
    return i;
  }

  void run(ModuleContext& ctx) override { emit_intrusion_events(ctx, "connect_event", "connect events"); }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string ip = clean_ip(r);
    if (!ip.empty()) out.push_back({ObsKind::Ip, ip, {}});
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }

  std::string event_time(const Json& r) const override { return jstr(r, "timestamp"); }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string d = "Connection to ";
    d += jstr(r, "ip_address");
    d += ':';
    d += pystr(r, "port");
    d += " by ";
    d += jstr(r, "package_name");
    out.push_back({jstr(r, "timestamp"), "connection", d});
  }
};

BRIDLE_REGISTER_MODULE(ConnectEvent);

}  // namespace
}  // namespace bridle
