// Execution evidence read by several iOS modules (TriangulationCheck, UnknownProcesses):
// network usage databases, the OSAnalytics addaily plist and locationd clients.plist.
#pragma once
#include <functional>
#include <string>

#include "modules/ios/common.hpp"

namespace bridle::ios {

// DataUsage.sqlite (backups, dumps) and netusage.sqlite (dumps): ZPROCESS / ZLIVEUSAGE.
inline const ArtifactSpec& network_usage_spec() {
  static const ArtifactSpec s{{{"WirelessDomain", "Library/Databases/DataUsage.sqlite", false}},
                              {"private/var/wireless/Library/Databases/DataUsage.sqlite",
                               "private/var/networkd/netusage.sqlite", "private/var/networkd/db/netusage.sqlite"}};
  return s;
}
inline const ArtifactSpec& addaily_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/Preferences/com.apple.osanalytics.addaily.plist", false}},
                              {"private/var/mobile/Library/Preferences/com.apple.osanalytics.addaily.plist"}};
  return s;
}
inline const ArtifactSpec& locationd_clients_spec() {
  static const ArtifactSpec s{{{"RootDomain", "Library/Caches/locationd/clients.plist", false}},
                              {"private/var/mobile/Library/Caches/locationd/clients.plist",
                               "private/var/root/Library/Caches/locationd/clients.plist"}};
  return s;
}

// For every entry of the netUsageBaseline dictionary of every addaily plist:
// fn(plist, process, first_seen) (first_seen: the entry's first value when a string, else "").
inline void for_each_net_usage_baseline(
    ModuleContext& ctx, const std::function<void(const ReadPlist&, const std::string&, const std::string&)>& fn) {
  for (auto& p : read_plists(ctx, addaily_spec(), "the OSAnalytics addaily plist")) {
    auto base = p.data.is_object() ? p.data.find("netUsageBaseline") : p.data.end();
    if (!p.data.is_object() || base == p.data.end() || !base->is_object()) continue;
    for (auto& [proc, v] : base->items()) {
      std::string first = v.is_array() && !v.empty() && v[0].is_string() ? v[0].get<std::string>() : "";
      fn(p, proc, first);
    }
  }
}

// A clients.plist key without its trailing ':' characters.
inline std::string locationd_client_name(std::string key) {
  while (!key.empty() && key.back() == ':') key.pop_back();
  return key;
}

}  // namespace bridle::ios
