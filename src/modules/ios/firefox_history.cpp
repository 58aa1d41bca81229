// FirefoxHistory: Firefox for iOS visits (browser.db: visits, history). The record key
// "i1000000s_local" is MVT's (a typo of is_local), kept for compatibility.
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

class FirefoxHistory final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"FirefoxHistory", "firefox_history", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Firefox for iOS visits (browser.db)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, firefox_spec(), "Firefox history")) {
      if (!db.db->has_table("visits") || !db.db->has_table("history")) {
        ctx.unreadable(db.file.display, "no visits/history tables in the Firefox database");
        continue;
      }
      std::size_t n = 0;
      // visits.date is in microseconds; integer division as MVT (whole seconds).
      ios::run_query(ctx, db,
                     "SELECT visits.id, visits.date/1000000, history.url, history.title, visits.is_local, "
                     "visits.type FROM visits JOIN history ON visits.siteID = history.id ORDER BY visits.id",
                     [&](const SqliteRow& row) {
                       Json r;
                       r["id"] = row.value(0);
                       std::string iso;
                       if (row.type(1) == SQLITE_INTEGER) iso = unix_to_iso_int(row.integer(1));
                       else if (row.type(1) == SQLITE_FLOAT) iso = unix_to_iso(row.real(1));
                       r["isodate"] = iso;
                       r["url"] = row.value(2);
                       r["title"] = row.value(3);
                       r["i1000000s_local"] = row.value(4);
                       r["type"] = row.value(5);
                       ctx.emit(std::move(r));
                       ++n;
                       return true;
                     });
      ctx.info("Extracted a total of " + std::to_string(n) + " history items");
    }
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
