// ChromeHistory: Chrome for iOS visits (History: urls JOIN visits).
#include "core/timeutil.hpp"
#include "modules/ios/common.hpp"

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
    for (auto& db : ios::open_databases(ctx, chrome_history_spec(), "Chrome history")) {
      if (!db.db->has_table("urls") || !db.db->has_table("visits")) {
        ctx.unreadable(db.file.display, "no urls/visits tables in the Chrome history database");
        continue;
      }
      std::size_t n = 0;
      ios::run_query(ctx, db,
                     "SELECT urls.id, urls.url, visits.id, visits.visit_time, visits.from_visit FROM urls "
                     "JOIN visits ON visits.url = urls.id ORDER BY visits.visit_time, visits.id",
                     [&](const SqliteRow& row) {
                       Json r;
                       r["id"] = row.value(0);
                       r["url"] = row.value(1);
                       r["visit_id"] = row.value(2);
                       r["timestamp"] = row.value(3);
                       r["isodate"] = row.is_null(3) ? std::string() : chrome_to_iso(row.integer(3));
                       r["redirect_source"] = row.value(4);
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
    out.push_back({jstr(r, "isodate"), "visit",
                   pystr(r, "id") + " - " + pystr(r, "url") + " (visit ID: " + pystr(r, "visit_id") +
                       ", redirect source: " + pystr(r, "redirect_source") + ")"});
  }
};

BRIDLE_REGISTER_MODULE(ChromeHistory);

}  // namespace
}  // namespace bridle
