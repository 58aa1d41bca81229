// Shared by Analytics and AnalyticsIOSVersions: records of the keychain analytics
// databases (private/var/Keychains/Analytics/*.db), hard_failures, soft_failures and
// all_events (when present): each `data` plist as a dict plus isodate (the row's unix
// timestamp) and artifact (the database's file name).
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "core/timeutil.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"

namespace bridle::ios {

inline std::vector<Json> analytics_records(ModuleContext& ctx) {
  static const ArtifactSpec s{{}, {"private/var/Keychains/Analytics/*.db"}};
  std::vector<Json> out;
  for (auto& db : open_databases(ctx, s, "Analytics")) {
    std::string artifact = db.file.relative_path.substr(db.file.relative_path.rfind('/') + 1);
    std::string sql;
    for (const char* t : {"hard_failures", "soft_failures", "all_events"}) {
      if (!db.db->has_table(t)) continue;
      if (!sql.empty()) sql += " UNION ";
      sql += std::string("SELECT timestamp, data FROM ") + t;
    }
    if (sql.empty()) {
      ctx.info(db.file.display + " has none of the analytics tables");
      continue;
    }
    std::size_t bad = 0;
    run_query(ctx, db, sql, [&](const SqliteRow& row) {
      bool has_ts = !row.is_null(0), has_data = !row.is_null(1);
      if (!has_ts && !has_data) return true;
      Json r = Json::object();
      if (has_data) {
        std::string err;
        auto j = plist_to_json(row.blob(1), {}, &err);
        if (!j) {
          ++bad;
        } else if (j->is_object()) {
          r = std::move(*j);
        } else {
          r["data"] = std::move(*j);
        }
      }
      r["isodate"] = has_ts ? unix_to_iso(row.real(0)) : std::string();
      r["artifact"] = artifact;
      out.push_back(std::move(r));
      return true;
    });
    if (bad) ctx.warn(db.file.display + ": " + std::to_string(bad) + " rows with an unreadable data plist");
  }
  return out;
}

}  // namespace bridle::ios
