// IOSVersionHistory (check-fs): the iOS version recorded at the top of each analytics
// journal (private/var/db/analyticsd/Analytics-Journal-*.ips): which versions the device
// ran, and since when.
#include <algorithm>
#include <cctype>

#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

// "2021-09-20 10:19:04.12 +0200" -> UTC "2021-09-20 08:19:04.120000"; "" when malformed.
std::string journal_time_to_utc(const std::string& ts) {
  auto sp = ts.rfind(' ');
  if (sp == std::string::npos || sp < 19) return "";
  std::string local = ts.substr(0, sp), tz = ts.substr(sp + 1);
  auto dot = local.find('.');
  std::string base = local.substr(0, dot), frac = dot == std::string::npos ? "" : local.substr(dot + 1);
  if (frac.size() > 6 || !std::all_of(frac.begin(), frac.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return "";
  frac.resize(6, '0');
  auto secs = iso_to_unix(base + "." + frac);
  if (!secs) return "";
  int offset = 0;
  if (tz != "Z") {
    std::string t = tz;
    t.erase(std::remove(t.begin(), t.end(), ':'), t.end());
    if (t.size() != 5 || (t[0] != '+' && t[0] != '-') ||
        !std::all_of(t.begin() + 1, t.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return "";
    offset = (std::stoi(t.substr(1, 2)) * 3600 + std::stoi(t.substr(3, 2)) * 60) * (t[0] == '-' ? -1 : 1);
  }
  return unix_to_iso(*secs - offset);
}

class IOSVersionHistory final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"IOSVersionHistory", "ios_version_history", kIosFs, Level::Critical,
                              ModuleInfo::Shape::List, "iOS versions recorded in the analytics journals"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    static const ArtifactSpec s{{}, {"private/var/db/analyticsd/Analytics-Journal-*.ips"}};
    IosSource* src = ctx.ios();
    if (!src) return;
    auto files = src->find(s);
    if (files.empty()) {
      ctx.info("There might be no data to extract: no analytics journal found");
      return;
    }
    std::vector<Json> out;
    for (auto& f : files) {
      std::string err;
      auto data = src->read(f, &err, 64ull << 20);
      if (!data) {
        ctx.unreadable(f.display, "cannot read the analytics journal: " + err);
        continue;
      }
      std::string first = trim(data->substr(0, data->find('\n')));
      Json j = Json::parse(first, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("timestamp") || !j.contains("os_version")) {
        ctx.warn(f.display + ": the first line is not the expected JSON header (timestamp, os_version)");
        continue;
      }
      std::string iso = journal_time_to_utc(jstr(j, "timestamp"));
      if (iso.empty()) {
        ctx.warn(f.display + ": unreadable timestamp " + jstr(j, "timestamp"));
        continue;
      }
      Json r = Json::object();
      r["isodate"] = iso;
      r["os_version"] = j["os_version"];
      out.push_back(std::move(r));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Json& a, const Json& b) { return jstr(a, "isodate") < jstr(b, "isodate"); });
    for (auto& r : out) ctx.emit(std::move(r));
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "ios_version", "Recorded iOS version " + pystr(r, "os_version")});
  }
};

BRIDLE_REGISTER_MODULE(IOSVersionHistory);

}  // namespace
}  // namespace bridle
