// DnsEvent: DNS lookups from Android 16 intrusion logs (dns_event).
#include "acquisition/android_source.hpp"
#include "modules/android/intrusion_logs.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

std::vector<std::string> clean_ips(const Json& r) {
  std::vector<std::string> out;
  auto it = r.find("ip_addresses");
  if (it == r.end() || !it->is_array()) return out;
  for (auto& ip : *it) {
    std::string s = ip.is_string() ? ip.get<std::string>() : ip.dump();
    std::size_t k = 0;
    while (k < s.size() && s[k] == '/') ++k;
    s = s.substr(k);
    if (!s.empty() && s != "0.0.0.0") out.push_back(s);
  }
  return out;
}

class DnsEvent final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DnsEvent", "dns_event", kAndroidIntrusionLogs, Level::Critical,
                              ModuleInfo::Shape::List, "DNS lookups from Android intrusion logs"};
    return i;
  }

  void run(ModuleContext& ctx) override { emit_intrusion_events(ctx, "dns_event", "DNS events"); }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string host = jstr(r, "hostname");
    if (!host.empty()) out.push_back({ObsKind::Domain, host, {}});
    for (auto& ip : clean_ips(r)) out.push_back({ObsKind::Ip, ip, {}});
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }

  std::string event_time(const Json& r) const override { return jstr(r, "timestamp"); }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string data = "DNS query for " + jstr(r, "hostname") + " by " + jstr(r, "package_name");
    auto ips = clean_ips(r);
    if (!ips.empty()) {
      data += " [IPs: ";
      for (std::size_t i = 0; i < ips.size(); ++i) data += (i ? ", " : "") + ips[i];
      data += "]";
    }
    out.push_back({jstr(r, "timestamp"), "dns_query", data});
  }
};

BRIDLE_REGISTER_MODULE(DnsEvent);

}  // namespace
}  // namespace bridle
