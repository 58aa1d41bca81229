// Calendar: events (CalendarItem) with their organizer (Participant). QuaDream's KingSpawn
// exploit planted invisible calendar invitations titled "Meeting" with the note "Notes".
#include <algorithm>

#include "core/util.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& calendar_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/Calendar/Calendar.sqlitedb", false}},
                              {"private/var/mobile/Library/Calendar/Calendar.sqlitedb"}};
  return s;
}

// Record fields in MVT's order: (name, table, column). Time fields are Mac absolute times.
struct Field {
  const char* name;
  bool participant;
  const char* column;
};
constexpr Field kFields[] = {
    {"id", false, "ROWID"},
    {"summary", false, "summary"},
    {"description", false, "description"},
    {"start_date", false, "start_date"},
    {"end_date", false, "end_date"},
    {"all_day", false, "all_day"},
    {"calendar_id", false, "calendar_id"},
    {"organizer_id", false, "organizer_id"},
    {"url", false, "url"},
    {"last_modified", false, "last_modified"},
    {"external_id", false, "external_id"},
    {"external_mod_tag", false, "external_mod_tag"},
    {"unique_identifier", false, "unique_identifier"},
    {"hidden", false, "hidden"},
    {"uuid", false, "UUID"},
    {"creation_date", false, "creation_date"},
    {"action", false, "action"},
    {"created_by_id", false, "created_by_id"},
    {"participant_uuid", true, "UUID"},
    {"participant_email", true, "email"},
    {"participant_phone", true, "phone_number"},
    {"participant_comment", true, "comment"},
    {"participant_last_modified", true, "last_modified"},
};
constexpr const char* kTimeFields[] = {"start_date", "end_date", "last_modified", "creation_date",
                                       "participant_last_modified"};

bool is_time_field(const std::string& name) {
  return std::any_of(std::begin(kTimeFields), std::end(kTimeFields), [&](const char* t) { return name == t; });
}

bool col_present(const std::vector<std::string>& cols, const char* name) {
  std::string l = to_lower(name);
  return std::any_of(cols.begin(), cols.end(), [&](const std::string& c) { return to_lower(c) == l; });
}

class Calendar final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Calendar", "calendar", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Calendar events and organizers (QuaDream exploit invitations)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, calendar_spec(), "Calendar")) {
      auto icols = db.db->columns("CalendarItem");
      if (icols.empty()) {
        ctx.unreadable(db.file.display, "no readable CalendarItem table in the Calendar database");
        continue;
      }
      auto pcols = db.db->columns("Participant");
      bool can_join = !pcols.empty() && col_present(icols, "organizer_id");
      if (pcols.empty())
        ctx.warn(db.file.display + ": no Participant table, organizers are not listed");
      std::string sql = "SELECT ";
      for (std::size_t i = 0; i < std::size(kFields); ++i) {
        const Field& f = kFields[i];
        if (i) sql += ", ";
        std::string c = f.column;
        bool have = f.participant ? (can_join && col_present(pcols, f.column))
                                  : (c == "ROWID" || col_present(icols, f.column));
        sql += have ? std::string(f.participant ? "Participant." : "CalendarItem.") + c : std::string("NULL");
      }
      sql += " FROM CalendarItem";
      if (can_join) sql += " LEFT JOIN Participant ON Participant.ROWID = CalendarItem.organizer_id";

      std::size_t n = 0;
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        Json r = Json::object();
        for (int i = 0; i < static_cast<int>(std::size(kFields)); ++i) {
          std::string name = kFields[i].name;
          // Mac times converted; null (and text) kept as they are.
          if (is_time_field(name) && !row.is_null(i) && row.value(i).is_number())
            r[name] = ios::mac_value_iso(row, i);
          else
            r[name] = row.value(i);
        }
        if (jstr(r, "summary") == "Meeting" && jstr(r, "description") == "Notes")
          ctx.alert(Level::High, "Potential Quadream exploit event identified: " + pystr(r, "uuid"),
                    jstr(r, "creation_date"), r);
        ctx.emit(std::move(r));
        ++n;
        return true;
      });
      ctx.info("Extracted a total of " + std::to_string(n) + " calendar items");
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string email = jstr(r, "participant_email");
    if (!email.empty()) out.push_back({ObsKind::Email, email, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string data = "Calendar event " + pystr(r, "summary") + " (" + pystr(r, "description") +
                       ") (invitation by " + pystr(r, "participant_email") + ")";
    for (const char* t : kTimeFields) {
      std::string ts = jstr(r, t);
      if (ts.empty()) continue;
      out.push_back({ts, t, data});
    }
  }
};

BRIDLE_REGISTER_MODULE(Calendar);

}  // namespace
}  // namespace bridle
