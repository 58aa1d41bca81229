// Calls: the call history (CallHistory.storedata, ZCALLRECORD). No indicator checks (as MVT).
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& calls_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/CallHistoryDB/CallHistory.storedata", false}},
                              {"private/var/mobile/Library/CallHistoryDB/CallHistory.storedata"}};
  return s;
}

class Calls final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Calls", "calls", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Phone and FaceTime call history (CallHistory.storedata)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, calls_spec(), "Calls")) {
      auto cols = ios::table_columns(db, "ZCALLRECORD");
      if (cols.empty()) {
        ctx.unreadable(db.file.display, "no ZCALLRECORD table in the call history database");
        continue;
      }
      auto c = [&](const char* name) { return ios::has_column(cols, name) ? std::string(name) : std::string("NULL"); };
      std::size_t n = 0;
      ios::run_query(ctx, db,
                     "SELECT " + c("ZDATE") + ", " + c("ZDURATION") + ", " + c("ZLOCATION") + ", " + c("ZADDRESS") +
                         ", " + c("ZSERVICE_PROVIDER") + " FROM ZCALLRECORD" +
                         (ios::has_column(cols, "Z_PK") ? " ORDER BY Z_PK" : ""),
                     [&](const SqliteRow& row) {
                       Json r;
                       r["isodate"] = ios::mac_value_iso(row, 0);
                       r["duration"] = row.value(1);
                       r["location"] = row.value(2);
                       // ZADDRESS is a BLOB holding UTF-8 text on most versions.
                       r["number"] = row.value(3);
                       r["provider"] = row.value(4);
                       ctx.emit(std::move(r));
                       ++n;
                       return true;
                     });
      ctx.info("Extracted a total of " + std::to_string(n) + " calls");
    }
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "call",
                   "From " + pystr(r, "number") + " using " + pystr(r, "provider") + " during " +
                       pystr(r, "duration") + " seconds"});
  }
};

BRIDLE_REGISTER_MODULE(Calls);

}  // namespace
}  // namespace bridle
