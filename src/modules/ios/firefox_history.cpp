// FirefoxHistory: Firefox for iOS visits (browser.db: visits, history). The record key
// "i1000000s_local" is MVT's (a typo of is_local), kept for compatibility.
#include "modules/ios/browser_db.hpp"

namespace bridle {
namespace {

class FirefoxHistory final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"FirefoxHistory", "firefox_history", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Firefox for iOS visits (browser.db)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    // visits.date is in microseconds; integer division as MVT (whole seconds).
    ios::emit_query_rows(ctx, ios::firefox_browser_db_spec(), "Firefox history", {"visits", "history"},
                         "no visits/history tables in the Firefox database",
                         "SELECT visits.id, visits.date/1000000, history.url, history.title, visits.is_local, "
                         "visits.type FROM visits JOIN history ON visits.siteID = history.id ORDER BY visits.id",
                         "history items", [](const SqliteRow& row) {
                           Json r;
                           r["id"] = row.value(0);
                           r["isodate"] = ios::unix_value_iso(row, 1);
                           r["url"] = row.value(2);
                           r["title"] = row.value(3);
                           r["i1000000s_local"] = row.value(4);
                           r["type"] = row.value(5);
                           return r;
                         });
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (auto u = jstr(r, "url"); !u.empty()) out.push_back({ObsKind::Url, u, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "firefox_history",
                   "Firefox visit with ID " + pystr(r, "id") + " to URL: " + pystr(r, "url")});
  }
};

BRIDLE_REGISTER_MODULE(FirefoxHistory);

}  // namespace
}  // namespace bridle
