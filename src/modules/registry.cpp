#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "modules/module.hpp"

namespace bridle {

namespace {
// MVT's run order for the modules it has (its command module lists), so that outputs and
// logs line up with MVT's; modules MVT lacks come after, by name.
const std::vector<std::string>& mvt_order() {
  static const std::vector<std::string> order = {
      // iOS (backup, fs, mixed)
      "BackupInfo", "ConfigurationProfiles", "Manifest", "ProfileEvents",
      "CacheFiles", "Filesystem", "Netusage", "Analytics", "AnalyticsIOSVersions",
      "SafariFavicon", "ShutdownLog", "IOSVersionHistory", "WebkitIndexedDB",
      "WebkitLocalStorage", "WebkitSafariViewService",
      "Calls", "ChromeFavicon", "ChromeHistory", "Contacts", "FirefoxFavicon",
      "FirefoxHistory", "IDStatusCache", "LocationdClients", "OSAnalyticsADDaily", "Datausage",
      "SafariBrowserState", "SafariHistory", "TCC", "SMS", "SMSAttachments",
      "WebkitResourceLoadStatistics", "WebkitSessionResourceLog", "Whatsapp",
      "WhatsappContacts", "InteractionC", "Shortcuts", "Applications", "Calendar",
      "GlobalPreferences",
      // Android (androidqf, bugreport, backup, intrusion logs)
      "AQFPackages", "AQFProcesses", "AQFGetProp", "AQFSettings", "AQFFiles",
      "AQFLogTimestamps", "RootBinaries", "Mounts",
      "DumpsysAccessibility", "DumpsysActivities", "DumpsysAppops", "DumpsysBatteryDaily",
      "DumpsysBatteryHistory", "DumpsysDBInfo", "DumpsysGetProp", "DumpsysPackages",
      "DumpsysPlatformCompat", "DumpsysReceivers", "DumpsysADBState", "BugReportTimestamps",
      "Tombstones", "DnsEvent", "ConnectEvent", "SecurityEvent"};
  return order;
}

std::size_t rank(const std::string& name) {
  const auto& o = mvt_order();
  auto it = std::find(o.begin(), o.end(), name);
  return it == o.end() ? o.size() : static_cast<std::size_t>(it - o.begin());
}
}  // namespace

ModuleRegistry& ModuleRegistry::instance() {
  static ModuleRegistry r;
  return r;
}

void ModuleRegistry::add(ModuleFactory factory) { factories_.push_back(std::move(factory)); }

std::vector<std::unique_ptr<Module>> ModuleRegistry::create_all() const {
  std::vector<std::unique_ptr<Module>> out;
  for (auto& f : factories_) out.push_back(f());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    auto ra = rank(a->info().name), rb = rank(b->info().name);
    if (ra != rb) return ra < rb;
    return a->info().name < b->info().name;
  });
  return out;
}

std::vector<std::unique_ptr<Module>> ModuleRegistry::create(AcqKind kind) const {
  auto all = create_all();
  std::vector<std::unique_ptr<Module>> out;
  for (auto& m : all)
    if (m->info().kinds & kind) out.push_back(std::move(m));
  return out;
}

std::vector<std::string> extract_urls(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  auto lower_at = [&](std::size_t p, std::string_view w) {
    if (p + w.size() > text.size()) return false;
    for (std::size_t k = 0; k < w.size(); ++k)
      if (std::tolower(static_cast<unsigned char>(text[p + k])) != w[k]) return false;
    return true;
  };
  while (i < text.size()) {
    if ((text[i] | 0x20) != 'h') {  // most positions: not the start of "http"
      ++i;
      continue;
    }
    std::size_t len = 0;
    if (lower_at(i, "https://")) len = 8;
    else if (lower_at(i, "http://")) len = 7;
    if (!len) { ++i; continue; }
    std::size_t j = i + len;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    std::string url(text.substr(i, j - i));
    // Trim punctuation that ends sentences rather than URLs.
    while (url.size() > len) {
      char c = url.back();
      if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' ||
          c == '"' || c == ']' || c == '>') {
        url.pop_back();
        continue;
      }
      if (c == ')') {
        auto open = std::count(url.begin(), url.end(), '(');
        auto close = std::count(url.begin(), url.end(), ')');
        if (close > open) { url.pop_back(); continue; }
      }
      break;
    }
    if (url.size() > len) out.push_back(url);
    i = j;
  }
  return out;
}

std::string jstr(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::int64_t jint(const Json& j, const char* key, std::int64_t def) {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  if (it == j.end()) return def;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_unsigned()) return static_cast<std::int64_t>(it->get<std::uint64_t>());
  if (it->is_number_float()) return static_cast<std::int64_t>(it->get<double>());
  return def;
}

std::string pystr(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "None";
    case Json::value_t::string: return j.get<std::string>();
    case Json::value_t::boolean: return j.get<bool>() ? "True" : "False";
    case Json::value_t::number_float: {
      double d = j.get<double>();
      if (d == static_cast<double>(static_cast<long long>(d)) && d < 1e16 && d > -1e16) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.1f", d);
        return buf;
      }
      return j.dump();
    }
    default: return j.dump();
  }
}

std::string pystr(const Json& j, const char* key) {
  if (!j.is_object()) return "None";
  auto it = j.find(key);
  return it == j.end() ? "None" : pystr(*it);
}

std::string to_slug(std::string_view name) {
  // MVT: re.sub("(.)([A-Z][a-z]+)", r"\1_\2") then re.sub("([a-z0-9])([A-Z])", r"\1_\2"), lower.
  std::string s1;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (i > 0 && std::isupper(static_cast<unsigned char>(name[i])) && i + 1 < name.size() &&
        std::islower(static_cast<unsigned char>(name[i + 1])))
      s1 += '_';
    s1 += name[i];
  }
  std::string s2;
  for (std::size_t i = 0; i < s1.size(); ++i) {
    if (i > 0 && std::isupper(static_cast<unsigned char>(s1[i])) &&
        (std::islower(static_cast<unsigned char>(s1[i - 1])) || std::isdigit(static_cast<unsigned char>(s1[i - 1]))))
      s2 += '_';
    s2 += s1[i];
  }
  std::string out;
  for (char c : s2) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // "__" can appear when a '_' was already there.
  std::string dedup;
  for (char c : out)
    if (!(c == '_' && !dedup.empty() && dedup.back() == '_')) dedup += c;
  return dedup;
}

}  // namespace bridle
