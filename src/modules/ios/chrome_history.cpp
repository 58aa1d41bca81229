// ChromeHistory: Chrome for iOS visits (History: urls JOIN visits).
#include "modules/ios/browser_db.hpp"

namespace bridle {
namespace {

const ArtifactSpec& chrome_history_spec() {
  static const ArtifactSpec s{
      {{"AppDomain-com.google.chrome.ios", "Library/Application Support/Google/Chrome/Default/History", false}},
      {"private/var/mobile/Containers/Data/Application/*/Library/Application Support/Google/Chrome/Default/History"}};
  return s;
}

class ChromeHistory final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"ChromeHistory", "chrome_history", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Chrome for iOS visits (History database)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    ios::emit_query_rows(ctx, chrome_history_spec(), "Chrome history", {"urls", "visits"},
                         "no urls/visits tables in the Chrome history database",
                         "SELECT urls.id, urls.url, visits.id, visits.visit_time, visits.from_visit FROM urls "
                         "JOIN visits ON visits.url = urls.id ORDER BY visits.visit_time, visits.id",
                         "history items", [](const SqliteRow& row) {
                           Json r;
                           r["id"] = row.value(0);
                           r["url"] = row.value(1);
                           r["visit_id"] = row.value(2);
                           r["timestamp"] = row.value(3);
                           r["isodate"] = row.is_null(3) ? std::string() : chrome_to_iso(row.integer(3));
                           r["redirect_source"] = row.value(4);
                           return r;
                         });
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (auto u = jstr(r, "url"); !u.empty()) out.push_back({ObsKind::Url, u, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "visit",
                   pystr(r, "id") + " - " + pystr(r, "url") + " (visit ID: " + pystr(r, "visit_id") +
                       ", redirect source: " + pystr(r, "redirect_source") + ")"});
  }
};

BRIDLE_REGISTER_MODULE(ChromeHistory);

}  // namespace
}  // namespace bridle
