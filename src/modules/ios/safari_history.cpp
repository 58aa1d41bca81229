// SafariHistory: Safari visits (History.db, also per-profile databases) and the network
// injection heuristic (an http:// visit redirected to another domain in under a second, the
// trace of Pegasus network injection documented by Amnesty in 2021).
#include <cmath>

#include "core/timeutil.hpp"
#include "indicators/indicators.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& history_spec() {
  static const ArtifactSpec s{
      {{"", "Library/Safari/History.db", false}, {"", "Library/Safari/Profiles/*/History.db", true}},
      {"private/var/mobile/Library/Safari/History.db",
       "private/var/mobile/Library/Safari/Profiles/*/History.db",
       "private/var/mobile/Containers/Data/Application/*/Library/Safari/History.db",
       "private/var/mobile/Containers/Data/Application/*/Library/Safari/Profiles/*/History.db"}};
  return s;
}

// Mac absolute time -> microseconds since the Unix epoch, rounded as Python's
// datetime.utcfromtimestamp does (whole seconds plus the fraction rounded half to even).
std::optional<std::int64_t> mac_to_unix_us(const Json& v) {
  if (!v.is_number()) return std::nullopt;
  double t = v.get<double>() + kMacEpochOffset;
  if (!std::isfinite(t) || std::fabs(t) > 9.0e12) return std::nullopt;
  double whole;
  double frac = std::modf(t, &whole);
  return static_cast<std::int64_t>(whole) * 1000000 + static_cast<std::int64_t>(std::nearbyint(frac * 1e6));
}

class SafariHistory final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"SafariHistory", "safari_history", kIosAny, Level::Critical,
                              ModuleInfo::Shape::List,
                              "Safari history (History.db): visited URLs, fast cross-domain redirects"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    std::size_t total = 0;
    for (auto& db : ios::open_databases(ctx, history_spec(), "Safari history")) {
      if (!db.db->has_table("history_items") || !db.db->has_table("history_visits")) {
        ctx.unreadable(db.file.display, "no history_items/history_visits table in the Safari history database");
        continue;
      }
      auto vcols = ios::table_columns(db, "history_visits");
      auto col = [&](const char* c) {
        return ios::has_column(vcols, c) ? std::string("history_visits.") + c : std::string("NULL");
      };
      // The redirect destination's id, URL and time come from correlated primary-key lookups
      // in the SELECT list, so records stream straight through (nothing is buffered) while the
      // FROM clause, and so the row order, stays that of the plain visits query.
      std::string dest = col("redirect_destination");
      auto dest_sub = [&](const char* what) {
        return std::string("(SELECT ") + what +
               " FROM history_visits AS v2 JOIN history_items AS i2 ON i2.id = v2.history_item "
               "WHERE v2.id = " + dest + " LIMIT 1)";
      };
      std::string sql =
          "SELECT history_items.id AS id, history_items.url AS url, history_visits.id AS visit_id, "
          "history_visits.visit_time AS visit_time, " + col("redirect_source") + " AS redirect_source, " +
          dest + " AS redirect_destination, " + dest_sub("v2.id") + " AS dest_visit_id, " +
          dest_sub("i2.url") + " AS dest_url, " + dest_sub("v2.visit_time") + " AS dest_visit_time "
          "FROM history_items JOIN history_visits ON history_visits.history_item = history_items.id "
          "ORDER BY history_visits.visit_time ASC";
      std::string ref = ios::evidence_ref(db.file);
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        Json r;
        r["id"] = row.value(0);
        r["url"] = row.value(1);
        r["visit_id"] = row.value(2);
        r["timestamp"] = row.value(3);
        r["isodate"] = ios::mac_value_iso(row, 3);
        r["redirect_source"] = row.value(4);
        r["redirect_destination"] = row.value(5);
        r["safari_history_db"] = ref;
        check_injection(ctx, r, row.value(6), row.value(7), row.value(8));
        ctx.emit(std::move(r));
        ++total;
        return true;
      });
    }
    ctx.info("Extracted a total of " + std::to_string(total) + " history records");
  }

  // The network injection heuristic for one visit `r`, given its redirect destination's visit
  // id, URL and time (looked up in the same database: visit ids only mean something there).
  static void check_injection(ModuleContext& ctx, const Json& r, const Json& dest_visit_id,
                              const Json& dest_url_v, const Json& dest_time) {
    std::string url = jstr(r, "url");
    if (url.rfind("http://", 0) != 0) return;
    const Json& dest_id = r["redirect_destination"];
    if (!dest_id.is_number_integer() || !dest_visit_id.is_number_integer() || dest_visit_id != dest_id) return;
    std::string dest_url = dest_url_v.is_null()     ? std::string()
                           : dest_url_v.is_string() ? dest_url_v.get<std::string>()
                                                    : dest_url_v.dump();  // as jstr()
    std::string from_host = normalize_host(url_host(url));
    std::string to_host = normalize_host(url_host(dest_url));
    if (from_host.empty() || to_host.empty() || from_host == to_host) return;
    auto t0 = mac_to_unix_us(r["timestamp"]);
    auto t1 = mac_to_unix_us(dest_time);
    if (!t0 || !t1) return;
    std::int64_t elapsed = *t1 - *t0;
    // MVT tests timedelta.seconds == 0: a redirect 0 <= elapsed < 1 s (negative deltas
    // have seconds 86399 there, so they are not flagged either).
    if (elapsed < 0 || elapsed >= 1000000) return;
    std::string secs = pystr(Json(static_cast<double>(elapsed) / 1e6));
    ctx.alert(Level::Medium,
              "Redirect took less than a second! (" + secs + "s) from " + url + " to " + dest_url +
                  " (visit " + pystr(r, "visit_id") + " -> " + pystr(dest_visit_id) + ")",
              jstr(r, "isodate"), r);
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string url = jstr(r, "url");
    if (!url.empty()) out.push_back({ObsKind::Url, url, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "safari_history",
                   "Safari visit to " + pystr(r, "url") + " (ID: " + pystr(r, "id") +
                       ", Visit ID: " + pystr(r, "visit_id") + ")"});
  }
};

BRIDLE_REGISTER_MODULE(SafariHistory);

}  // namespace
}  // namespace bridle
