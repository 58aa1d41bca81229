// Shortcuts: iOS Shortcuts (Shortcuts.sqlite: ZSHORTCUT LEFT JOIN ZSHORTCUTACTIONS) and the
// URLs in their actions (one record per shortcut and action row, as MVT).
//
// URLs are taken from every string value of the actions' parameters (MVT regex-searches
// the Python repr of the parameters, which can glue quotes and commas to a URL).
#include <functional>

#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& shortcuts_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/Shortcuts/Shortcuts.sqlite", false}},
                              {"private/var/mobile/Library/Shortcuts/Shortcuts.sqlite"}};
  return s;
}

void collect_strings(const Json& j, const std::function<void(const std::string&)>& fn) {
  if (j.is_string()) fn(j.get<std::string>());
  else if (j.is_array() || j.is_object())
    for (auto& v : j) collect_strings(v, fn);
}

class Shortcuts final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Shortcuts", "shortcuts", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "iOS Shortcuts and the URLs in their actions (Shortcuts.sqlite)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, shortcuts_spec(), "Shortcuts")) {
      auto cols = ios::table_columns(db, "ZSHORTCUT");
      if (cols.empty()) {
        ctx.unreadable(db.file.display, "no ZSHORTCUT table in the Shortcuts database");
        continue;
      }
      auto c = [&](const char* name) {
        return ios::has_column(cols, name) ? "ZSHORTCUT." + std::string(name) : std::string("NULL");
      };
      bool have_actions = db.db->has_table("ZSHORTCUTACTIONS");
      std::string sql = "SELECT ZSHORTCUT.Z_PK, " + c("ZNAME") + ", " + c("ZCREATIONDATE") + ", " +
                        c("ZMODIFICATIONDATE") + ", " + c("ZACTIONSDESCRIPTION") + ", " +
                        (have_actions ? "ZSHORTCUTACTIONS.ZDATA" : "NULL") + " FROM ZSHORTCUT" +
                        (have_actions ? " LEFT JOIN ZSHORTCUTACTIONS ON ZSHORTCUTACTIONS.ZSHORTCUT = ZSHORTCUT.Z_PK"
                                      : "") +
                        " ORDER BY ZSHORTCUT.Z_PK";
      std::size_t n = 0, undecoded = 0;
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        Json r;
        r["shortcut_id"] = row.value(0);
        r["shortcut_name"] = row.value(1);
        r["modified_date"] = ios::mac_value_iso(row, 3);
        r["description"] = row.value(4);
        std::string data = row.is_null(5) ? std::string() : row.blob(5);
        std::optional<Json> actions;
        if (!data.empty()) actions = plist_to_json(data);
        if (actions && actions->is_array()) {
          Json urls = Json::array();
          for (auto& a : *actions) {
            if (!a.is_object()) continue;
            auto params = a.find("WFWorkflowActionParameters");
            if (params == a.end()) continue;
            collect_strings(*params, [&](const std::string& s) {
              for (auto& u : extract_urls(s)) urls.push_back(u);
            });
          }
          r["parsed_actions"] = actions->size();
          r["action_urls"] = urls;
        } else {
          if (!data.empty()) ++undecoded;
          r["parsed_actions"] = 0;
          r["action_urls"] = nullptr;
        }
        r["isodate"] = ios::mac_value_iso(row, 2);
        ctx.emit(std::move(r));
        ++n;
        return true;
      });
      if (undecoded)
        ctx.diag({Diagnostic::Severity::Warning, "", db.file.display,
                  std::to_string(undecoded) + " shortcut action lists could not be decoded", false});
      ctx.info("Extracted a total of " + std::to_string(n) + " Shortcuts");
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (auto it = r.find("action_urls"); it != r.end() && it->is_array())
      for (auto& u : *it)
        if (u.is_string()) out.push_back({ObsKind::Url, u.get<std::string>(), {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string urls;
    if (auto it = r.find("action_urls"); it != r.end() && it->is_array() && !it->empty()) {
      urls = "- URLs in actions: ";
      bool first = true;
      for (auto& u : *it) {
        if (!first) urls += ", ";
        urls += pystr(u);
        first = false;
      }
    }
    std::string desc = jstr(r, "description");
    std::string data = "iOS Shortcut '" + jstr(r, "shortcut_name") + "': " + desc + " " + urls;
    out.push_back({jstr(r, "isodate"), "shortcut_created", data});
    out.push_back({jstr(r, "modified_date"), "shortcut_modified", data});
  }
};

BRIDLE_REGISTER_MODULE(Shortcuts);

}  // namespace
}  // namespace bridle
