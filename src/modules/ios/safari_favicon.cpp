// SafariFavicon (check-fs): favicons Safari fetched (Favicons.db), valid and rejected.
#include <algorithm>

#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& spec() {
  static const ArtifactSpec s{
      {},
      {"private/var/mobile/Library/Image Cache/Favicons/Favicons.db",
       "private/var/mobile/Containers/Data/Application/*/Library/Image Cache/Favicons/Favicons.db"}};
  return s;
}

class SafariFavicon final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"SafariFavicon", "safari_favicon", kIosFs, Level::Critical, ModuleInfo::Shape::List,
                              "Pages and icon URLs in Safari's favicon cache"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    std::vector<Json> out;
    for (auto& db : ios::open_databases(ctx, spec(), "Safari favicon")) {
      std::string path = ios::evidence_ref(db.file);
      auto add = [&](const SqliteRow& row, const char* type) {
        Json r = Json::object();
        r["url"] = row.value(0, false);
        r["icon_url"] = row.value(1, false);
        r["timestamp"] = row.value(2, false);
        r["isodate"] = ios::mac_value_iso(row, 2);
        r["type"] = type;
        r["safari_favicon_db_path"] = path;
        out.push_back(std::move(r));
        return true;
      };
      ios::run_query(ctx, db,
                     "SELECT page_url.url, icon_info.url, icon_info.timestamp FROM page_url "
                     "JOIN icon_info ON page_url.uuid = icon_info.uuid ORDER BY icon_info.timestamp",
                     [&](const SqliteRow& row) { return add(row, "valid"); });
      if (db.db->has_table("rejected_resources"))
        ios::run_query(ctx, db, "SELECT page_url, icon_url, timestamp FROM rejected_resources ORDER BY timestamp",
                       [&](const SqliteRow& row) { return add(row, "rejected"); });
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Json& a, const Json& b) { return jstr(a, "isodate") < jstr(b, "isodate"); });
    ctx.info("Extracted a total of " + std::to_string(out.size()) + " favicon records");
    for (auto& r : out) ctx.emit(std::move(r));
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string url = jstr(r, "url"), icon = jstr(r, "icon_url");
    if (!url.empty()) out.push_back({ObsKind::Url, url, {}});
    if (!icon.empty()) out.push_back({ObsKind::Url, icon, {}});
  }

  std::string event_time(const Json& r) const override { return jstr(r, "isodate"); }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "safari_favicon",
                   "Safari favicon from " + pystr(r, "url") + " with icon URL " + pystr(r, "icon_url") + " (" +
                       pystr(r, "type") + ")"});
  }
};

BRIDLE_REGISTER_MODULE(SafariFavicon);

}  // namespace
}  // namespace bridle
