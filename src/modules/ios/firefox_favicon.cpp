// FirefoxFavicon: Firefox for iOS favicons and the pages they were fetched for (browser.db:
// favicons, favicon_sites, history).
#include "modules/ios/browser_db.hpp"

namespace bridle {
namespace {

class FirefoxFavicon final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"FirefoxFavicon", "firefox_favicon", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Firefox for iOS favicons and the pages that loaded them (browser.db)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    ios::emit_query_rows(ctx, ios::firefox_browser_db_spec(), "Firefox favicon", {"favicons", "favicon_sites", "history"},
                         "no favicons/favicon_sites/history tables in the Firefox database",
                         "SELECT favicons.id, favicons.url, favicons.width, favicons.height, favicons.type, "
                         "favicons.date, history.id, history.url FROM favicons "
                         "JOIN favicon_sites ON favicon_sites.faviconID = favicons.id "
                         "JOIN history ON favicon_sites.siteID = history.id ORDER BY favicon_sites.rowid",
                         "favicon items", [](const SqliteRow& row) {
                           Json r;
                           r["id"] = row.value(0);
                           r["url"] = row.value(1);
                           r["width"] = row.value(2);
                           r["height"] = row.value(3);
                           r["type"] = row.value(4);
                           r["isodate"] = ios::unix_value_iso(row, 5);
                           r["history_id"] = row.value(6);
                           r["history_url"] = row.value(7);
                           return r;
                         });
  }

  // Both URLs are observations (MVT checks history_url only when url does not match).
  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (auto u = jstr(r, "url"); !u.empty()) out.push_back({ObsKind::Url, u, {}});
    if (auto u = jstr(r, "history_url"); !u.empty()) out.push_back({ObsKind::Url, u, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "firefox_history",
                   "Firefox favicon " + pystr(r, "url") + " when visiting " + pystr(r, "history_url")});
  }
};

BRIDLE_REGISTER_MODULE(FirefoxFavicon);

}  // namespace
}  // namespace bridle
