// WebkitResourceLoadStatistics: domains WebKit's Intelligent Tracking Prevention observed,
// per app (ResourceLoadStatistics/observations.db in every app container).
#include "core/timeutil.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

constexpr const char* kRelPath = "Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db";

const ArtifactSpec& rls_spec() {
  static const ArtifactSpec s{
      {{"", kRelPath, false}},
      {"private/var/mobile/Containers/Data/Application/*/Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db",
       "private/var/mobile/Containers/Data/Application/*/SystemData/com.apple.SafariViewService/Library/WebKit/WebsiteData/observations.db"}};
  return s;
}

// A time column kept as stored plus its "<name>_isodate" (unix time) when it is >= 0 (WebKit
// writes -1 for "never").
void add_time(Json& r, const SqliteRow& row, int col, const std::string& name) {
  Json v = row.value(col);
  r[name] = v;
  if (v.is_number() && v.get<double>() >= 0) r[name + "_isodate"] = unix_to_iso(v.get<double>());
}

class WebkitResourceLoadStatistics final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"WebkitResourceLoadStatistics", "webkit_resource_load_statistics", kIosAny,
                              Level::Critical, ModuleInfo::Shape::List,
                              "Domains observed by WebKit resource load statistics, per app"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, rls_spec(), "WebKit ResourceLoadStatistics observations.db")) {
      auto cols = ios::table_columns(db, "ObservedDomains");
      if (cols.empty()) {
        ctx.unreadable(db.file.display, "no ObservedDomains table in observations.db");
        continue;
      }
      for (const char* req : {"registrableDomain", "lastSeen"})
        if (!ios::has_column(cols, req)) {
          ctx.unreadable(db.file.display, std::string("ObservedDomains has no ") + req + " column");
          cols.clear();
          break;
        }
      if (cols.empty()) continue;
      auto col = [&](const char* c) { return ios::has_column(cols, c) ? std::string(c) : std::string("NULL"); };
      bool has_user_time = ios::has_column(cols, "mostRecentUserInteractionTime");
      bool has_push_time = ios::has_column(cols, "mostRecentWebPushInteractionTime");
      std::string sql = "SELECT " + col("domainID") + ", registrableDomain, lastSeen, " +
                        col("hadUserInteraction") + ", " + col("mostRecentUserInteractionTime") + ", " +
                        col("mostRecentWebPushInteractionTime") + " FROM ObservedDomains";
      // Backups: the app's domain and the path inside it; dumps: no domain, the dump path.
      std::string domain = db.file.domain;
      std::string path = db.file.domain.empty() ? db.file.relative_path : std::string(kRelPath);
      std::size_t n = 0;
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        Json r;
        r["domain_id"] = row.value(0);
        r["registrable_domain"] = row.value(1);
        r["last_seen"] = row.value(2);
        if (row.is_null(3)) r["had_user_interaction"] = nullptr;
        else r["had_user_interaction"] = row.integer(3) != 0;
        Json ls = row.value(2);
        r["last_seen_isodate"] = ls.is_number() ? unix_to_iso(ls.get<double>()) : std::string();
        r["domain"] = domain;
        r["path"] = path;
        if (has_user_time) add_time(r, row, 4, "most_recent_user_interaction_time");
        if (has_push_time) add_time(r, row, 5, "most_recent_web_push_interaction_time");
        ctx.emit(std::move(r));
        ++n;
        return true;
      });
      ctx.info("Extracted a total of " + std::to_string(n) + " records from " + db.file.display);
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string d = jstr(r, "registrable_domain");
    if (!d.empty()) out.push_back({ObsKind::Domain, d, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "last_seen_isodate"), "visit",
                   "Webkit resource loaded from " + pystr(r, "registrable_domain") + " by app in domain " +
                       pystr(r, "domain")});
  }
};

BRIDLE_REGISTER_MODULE(WebkitResourceLoadStatistics);

}  // namespace
}  // namespace bridle
