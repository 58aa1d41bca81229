// ChromeFavicon: Chrome for iOS favicon cache (Favicons: icon_mapping, favicons,
// favicon_bitmaps). Records are sorted by date, as MVT.
#include <algorithm>

#include "core/timeutil.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& chrome_favicon_spec() {
  static const ArtifactSpec s{
      {{"AppDomain-com.google.chrome.ios", "Library/Application Support/Google/Chrome/Default/Favicons", false}},
      {"private/var/mobile/Containers/Data/Application/*/Library/Application Support/Google/Chrome/Default/Favicons"}};
  return s;
}

class ChromeFavicon final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"ChromeFavicon", "chrome_favicon", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Chrome for iOS favicon cache (pages and icon URLs)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, chrome_favicon_spec(), "Chrome favicon cache")) {
      if (!db.db->has_table("icon_mapping") || !db.db->has_table("favicon_bitmaps") || !db.db->has_table("favicons")) {
        ctx.unreadable(db.file.display, "no icon_mapping/favicon_bitmaps/favicons tables in the Chrome favicon cache");
        continue;
      }
      std::vector<Json> records;
      ios::run_query(ctx, db,
                     "SELECT icon_mapping.page_url, favicons.url, favicon_bitmaps.last_updated, "
                     "favicon_bitmaps.last_requested FROM icon_mapping "
                     "JOIN favicon_bitmaps ON icon_mapping.icon_id = favicon_bitmaps.icon_id "
                     "JOIN favicons ON icon_mapping.icon_id = favicons.id ORDER BY icon_mapping.id",
                     [&](const SqliteRow& row) {
                       // The last update, or the last request when the icon was never updated.
                       std::int64_t ts = row.is_null(2) ? 0 : row.integer(2);
                       if (ts == 0 && !row.is_null(3)) ts = row.integer(3);
                       Json r;
                       r["url"] = row.value(0);
                       r["icon_url"] = row.value(1);
                       r["timestamp"] = ts;
                       r["isodate"] = chrome_to_iso(ts);
                       records.push_back(std::move(r));
                       return true;
                     });
      std::stable_sort(records.begin(), records.end(),
                       [](const Json& a, const Json& b) { return jstr(a, "isodate") < jstr(b, "isodate"); });
      ctx.info("Extracted a total of " + std::to_string(records.size()) + " favicon records");
      for (auto& r : records) ctx.emit(std::move(r));
    }
  }

  // MVT checks the page URL and, only when it does not match, the icon URL; both are
  // observations here, so a record where both match raises two alerts.
  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (auto u = jstr(r, "url"); !u.empty()) out.push_back({ObsKind::Url, u, {}});
    if (auto u = jstr(r, "icon_url"); !u.empty()) out.push_back({ObsKind::Url, u, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "new_favicon", pystr(r, "icon_url") + " from " + pystr(r, "url")});
  }
};

BRIDLE_REGISTER_MODULE(ChromeFavicon);

}  // namespace
}  // namespace bridle
