// Shared by the iOS browser modules (ChromeHistory, FirefoxHistory, FirefoxFavicon): the
// Firefox browser.db location, its time values, and the "every database with these tables,
// one record per row" loop.
#pragma once
#include <sqlite3.h>

#include <initializer_list>
#include <string>

#include "core/timeutil.hpp"
#include "modules/ios/common.hpp"

namespace bridle::ios {

// Firefox for iOS browser.db (backup and filesystem locations).
inline const ArtifactSpec& firefox_browser_db_spec() {
  static const ArtifactSpec s{{{"AppDomainGroup-group.org.mozilla.ios.Firefox", "profile.profile/browser.db", false}},
                              {"private/var/mobile/profile.profile/browser.db",
                               "private/var/mobile/Containers/Shared/AppGroup/*/profile.profile/browser.db"}};
  return s;
}

// A Unix time column (integer or float seconds) as iso; "" for anything else.
inline std::string unix_value_iso(const SqliteRow& row, int col) {
  if (row.type(col) == SQLITE_INTEGER) return unix_to_iso_int(row.integer(col));
  if (row.type(col) == SQLITE_FLOAT) return unix_to_iso(row.real(col));
  return {};
}

// For every database of `spec` (`what` names it in logs): a database lacking one of `tables`
// is unreadable (`missing`); otherwise `sql` is run and `make(row)` emitted for each row, then
// "Extracted a total of N <items>" is logged.
template <class Make>
void emit_query_rows(ModuleContext& ctx, const ArtifactSpec& spec, const std::string& what,
                     std::initializer_list<const char*> tables, const std::string& missing,
                     const std::string& sql, const std::string& items, Make make) {
  for (auto& db : open_databases(ctx, spec, what)) {
    bool complete = true;
    for (const char* t : tables) complete = complete && db.db->has_table(t);
    if (!complete) {
      ctx.unreadable(db.file.display, missing);
      continue;
    }
    std::size_t n = 0;
    run_query(ctx, db, sql, [&](const SqliteRow& row) {
      ctx.emit(make(row));
      ++n;
      return true;
    });
    ctx.info("Extracted a total of " + std::to_string(n) + " " + items);
  }
}

}  // namespace bridle::ios
