// WebkitSessionResourceLog: WebKit's full_browsing_session_resourceLog.plist
// (browsingStatistics: origins, the origins that redirected to them and that they redirected
// to, sub-frame and sub-resource origins). Grouped by file.
//
// MVT raises, for an entry whose origins match an indicator, a CRITICAL alert plus a HIGH
// "Found HTTP redirect between suspicious domains: SOURCE -> ORIGIN -> DESTINATION". Modules
// here never see indicators (matching is central, from observe()), so that alert cannot be
// raised from run(). Instead:
//  - every origin of an entry (its own, redirect sources and destinations, sub-frame and
//    sub-resource origins) is a Domain observation, so each matching domain raises its own
//    CRITICAL alert on the entry;
//  - entries that are part of a redirect carry the chain in "redirect_chain"
//    (SOURCE: "a" -> ORIGIN: "b" -> DESTINATION: "c", MVT's wording), so every one of those
//    alerts shows the whole chain; two or more alerts on one entry are the redirect between
//    suspicious domains.
// Origins listed as plain strings (what WebKit writes) and as dictionaries with
// origin/domain keys are both read (MVT only reads the latter).
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& log_spec() {
  static const ArtifactSpec s{
      {{"", "Library/WebKit/WebsiteData/ResourceLoadStatistics/full_browsing_session_resourceLog.plist", false}},
      {"private/var/mobile/Containers/Data/Application/*/SystemData/com.apple.SafariViewService/Library/WebKit/"
       "WebsiteData/full_browsing_session_resourceLog.plist",
       "private/var/mobile/Containers/Data/Application/*/Library/WebKit/WebsiteData/ResourceLoadStatistics/"
       "full_browsing_session_resourceLog.plist",
       "private/var/mobile/Library/WebClips/*/Storage/full_browsing_session_resourceLog.plist"}};
  return s;
}

std::vector<std::string> domains_of(const Json& entries) {
  std::vector<std::string> out;
  if (!entries.is_array()) return out;
  for (auto& e : entries) {
    if (e.is_string()) {
      if (!e.get<std::string>().empty()) out.push_back(e.get<std::string>());
    } else if (e.is_object()) {
      for (const char* k : {"origin", "domain"})
        if (auto v = jstr(e, k); !v.empty()) out.push_back(v);
    }
  }
  return out;
}

std::string quoted_list(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
  return s;
}

Json date_or_null(const Json& item, const char* key) {
  auto it = item.find(key);
  // Plist dates come out as strings; anything else is not a date (MVT logs an error).
  if (it != item.end() && it->is_string()) return *it;
  return nullptr;
}

class WebkitSessionResourceLog final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"WebkitSessionResourceLog", "webkit_session_resource_log", kIosAny, Level::Critical,
                              ModuleInfo::Shape::Grouped,
                              "WebKit browsing session resource logs: origins and redirect chains"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    std::size_t files = 0;
    for (auto& p : ios::read_plists(ctx, log_spec(), "Safari browsing session resource logs")) {
      ctx.info("Found Safari browsing session resource log at path: " + p.file.display);
      ++files;
      auto stats = p.data.is_object() ? p.data.find("browsingStatistics") : p.data.end();
      if (!p.data.is_object() || stats == p.data.end() || !stats->is_array()) continue;
      std::string group = ios::evidence_ref(p.file);
      for (auto& item : *stats) {
        if (!item.is_object()) continue;
        auto get = [&](const char* k) -> Json {
          auto it = item.find(k);
          return it == item.end() ? Json("") : *it;
        };
        Json r;
        r["origin"] = get("PrevalentResourceOrigin");
        r["redirect_source"] = get("topFrameUniqueRedirectsFrom");
        r["redirect_destination"] = get("topFrameUniqueRedirectsTo");
        r["subframe_under_origin"] = get("subframeUnderTopFrameOrigins");
        r["subresource_under_origin"] = get("subresourceUnderTopFrameOrigins");
        auto ui = item.find("hadUserInteraction");
        r["user_interaction"] = ui == item.end() ? Json(nullptr) : *ui;
        r["most_recent_interaction"] = date_or_null(item, "mostRecentUserInteraction");
        r["last_seen"] = date_or_null(item, "lastSeen");
        auto src = domains_of(r["redirect_source"]);
        auto dst = domains_of(r["redirect_destination"]);
        if (!src.empty() || !dst.empty()) {
          std::string chain;
          if (!src.empty()) chain += "SOURCE: " + quoted_list(src) + " -> ";
          chain += "ORIGIN: \"" + pystr(r, "origin") + "\"";
          if (!dst.empty()) chain += " -> DESTINATION: " + quoted_list(dst);
          r["redirect_chain"] = chain;
        }
        ctx.emit(std::move(r), group);
      }
    }
    ctx.info("Extracted records from " + std::to_string(files) + " Safari browsing session resource logs");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (auto o = jstr(r, "origin"); !o.empty()) out.push_back({ObsKind::Domain, o, {}});
    for (const char* k : {"redirect_source", "redirect_destination", "subframe_under_origin", "subresource_under_origin"})
      if (auto it = r.find(k); it != r.end())
        for (auto& d : domains_of(*it)) out.push_back({ObsKind::Domain, d, {}});
  }
};

BRIDLE_REGISTER_MODULE(WebkitSessionResourceLog);

}  // namespace
}  // namespace bridle
