// FirefoxFavicon: Firefox for iOS favicons and the pages they were fetched for (browser.db:
// favicons, favicon_sites, history).
#include <sqlite3.h>

#include "core/timeutil.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& firefox_spec() {
  static const ArtifactSpec s{{{"AppDomainGroup-group.org.mozilla.ios.Firefox", "profile.profile/browser.db", false}},
                              {"private/var/mobile/profile.profile/browser.db",
                               "private/var/mobile/Containers/Shared/AppGroup/*/profile.profile/browser.db"}};
  return s;
}

class FirefoxFavicon final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"FirefoxFavicon", "firefox_favicon", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Firefox for iOS favicons and the pages that loaded them (browser.db)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, firefox_spec(), "Firefox favicon")) {
      if (!db.db->has_table("favicons") || !db.db->has_table("favicon_sites") || !db.db->has_table("history")) {
        ctx.unreadable(db.file.display, "no favicons/favicon_sites/history tables in the Firefox database");
        continue;
      }
      std::size_t n = 0;
      ios::run_query(ctx, db,
                     "SELECT favicons.id, favicons.url, favicons.width, favicons.height, favicons.type, "
                     "favicons.date, history.id, history.url FROM favicons "
                     "JOIN favicon_sites ON favicon_sites.faviconID = favicons.id "
                     "JOIN history ON favicon_sites.siteID = history.id ORDER BY favicon_sites.rowid",
                     [&](const SqliteRow& row) {
                       Json r;
                       r["id"] = row.value(0);
                       r["url"] = row.value(1);
                       r["width"] = row.value(2);
                       r["height"] = row.value(3);
                       r["type"] = row.value(4);
                       std::string iso;
                       if (row.type(5) == SQLITE_INTEGER) iso = unix_to_iso_int(row.integer(5));
                       else if (row.type(5) == SQLITE_FLOAT) iso = unix_to_iso(row.real(5));
                       r["isodate"] = iso;
                       r["history_id"] = row.value(6);
                       r["history_url"] = row.value(7);
                       ctx.emit(std::move(r));
                       ++n;
                       return true;
                     });
      ctx.info("Extracted a total of " + std::to_string(n) + " favicon items");
    }
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
