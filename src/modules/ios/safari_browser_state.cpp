// SafariBrowserState: open Safari tabs (BrowserState.db) and each tab's back/forward
// session history (a 4-byte header followed by a binary plist).
#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& state_spec() {
  static const ArtifactSpec s{
      {{"", "Library/Safari/BrowserState.db", false},
       {"", "Library/Safari/Profiles/*/BrowserState.db", true}},
      {"private/var/mobile/Library/Safari/BrowserState.db",
       "private/var/mobile/Library/Safari/Profiles/*/BrowserState.db",
       "private/var/mobile/Containers/Data/Application/*/Library/Safari/BrowserState.db",
       "private/var/mobile/Containers/Data/Application/*/Library/Safari/Profiles/*/BrowserState.db"}};
  return s;
}

constexpr std::size_t kMaxSessionBlob = 64u << 20;  // larger session blobs are not parsed

std::size_t base64_size(const std::string& b64) {
  auto bytes = base64_decode(b64);
  return bytes ? bytes->size() : 0;
}

class SafariBrowserState final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"SafariBrowserState", "safari_browser_state", kIosAny, Level::Critical,
                              ModuleInfo::Shape::List,
                              "Safari open tabs and their session history (BrowserState.db)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    std::size_t tabs = 0, entries = 0;
    for (auto& db : ios::open_databases(ctx, state_spec(), "Safari browser state")) {
      if (!db.db->has_table("tabs")) {
        ctx.unreadable(db.file.display, "no tabs table in the Safari browser state database");
        continue;
      }
      auto tcols = ios::table_columns(db, "tabs");
      auto tcol = [&](const char* c) {
        return ios::has_column(tcols, c) ? std::string("tabs.") + c : std::string("NULL");
      };
      std::string session;
      std::string from = " FROM tabs";
      if (db.db->has_table("tab_sessions") && ios::has_column(ios::table_columns(db, "tab_sessions"), "session_data")) {
        // iOS 12+: the session lives in tab_sessions. LEFT JOIN keeps tabs whose session
        // row is missing (MVT's inner join drops them).
        session = "tab_sessions.session_data";
        from += " LEFT JOIN tab_sessions ON tabs.uuid = tab_sessions.tab_uuid";
      } else {
        session = tcol("session_data");  // iOS < 12: in the tabs table
      }
      std::string sql = "SELECT " + tcol("title") + ", " + tcol("url") + ", " + tcol("user_visible_url") +
                        ", " + tcol("last_viewed_time") + ", " + session + from +
                        " ORDER BY " + tcol("last_viewed_time");
      std::string ref = ios::evidence_ref(db.file);
      std::size_t bad_sessions = 0;
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        Json r;
        r["tab_title"] = row.value(0);
        r["tab_url"] = row.value(1);
        r["tab_visible_url"] = row.value(2);
        r["last_viewed_timestamp"] = ios::mac_value_iso(row, 3);
        Json sess = Json::array();
        if (!row.is_null(4)) {
          std::string blob = row.blob(4);
          if (blob.size() > kMaxSessionBlob) {
            ++bad_sessions;
          } else if (blob.size() > 4) {
            std::string err;
            auto pl = plist_to_json(std::string_view(blob).substr(4), {}, &err);
            if (!pl || !pl->is_object()) {
              ++bad_sessions;
            } else {
              const Json* list = nullptr;
              if (auto h = pl->find("SessionHistory"); h != pl->end() && h->is_object())
                if (auto e = h->find("SessionHistoryEntries"); e != h->end() && e->is_array()) list = &*e;
              if (list)
                for (auto& e : *list) {
                  if (!e.is_object()) continue;
                  Json s;
                  // MVT's field names: entry_title holds the original URL of the entry.
                  s["entry_title"] = e.value("SessionHistoryEntryOriginalURL", Json());
                  s["entry_url"] = e.value("SessionHistoryEntryURL", Json());
                  auto d = e.find("SessionHistoryEntryData");
                  s["data_length"] = (d != e.end() && d->is_string()) ? base64_size(d->get<std::string>()) : 0;
                  sess.push_back(std::move(s));
                  ++entries;
                }
            }
          }
        }
        r["session_data"] = std::move(sess);
        r["safari_browser_state_db"] = ref;
        ctx.emit(std::move(r));
        ++tabs;
        return true;
      });
      if (bad_sessions)
        ctx.diag({Diagnostic::Severity::Warning, "", db.file.display,
                  std::to_string(bad_sessions) + " tab session blobs could not be parsed (too large or not a property list)",
                  true});
    }
    ctx.info("Extracted a total of " + std::to_string(tabs) + " tab records and " + std::to_string(entries) +
             " session history entries");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string url = jstr(r, "tab_url");
    if (!url.empty()) out.push_back({ObsKind::Url, url, {}});
    if (auto it = r.find("session_data"); it != r.end() && it->is_array())
      for (auto& s : *it) {
        std::string e = jstr(s, "entry_url");
        if (!e.empty()) out.push_back({ObsKind::Url, e, {}});
        // entry_title carries the entry's original URL (before redirects).
        std::string o = jstr(s, "entry_title");
        if (starts_with_icase(o, "http://") || starts_with_icase(o, "https://"))
          out.push_back({ObsKind::Url, o, {}});
      }
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "last_viewed_timestamp"), "tab", pystr(r, "tab_title") + " - " + pystr(r, "tab_url")});
  }
};

BRIDLE_REGISTER_MODULE(SafariBrowserState);

}  // namespace
}  // namespace bridle
