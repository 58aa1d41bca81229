// WhatsappContacts: WhatsApp's address book (ContactsV2.sqlite): JIDs, LIDs, phone numbers,
// about texts and disappearing-message settings. No indicator checks (as MVT).
#include <cmath>

#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& contacts_spec() {
  static const ArtifactSpec s{{{"AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ContactsV2.sqlite", false}},
                              {"private/var/mobile/Containers/Shared/AppGroup/*/ContactsV2.sqlite"}};
  return s;
}

enum class Conv { Raw, Time };
struct Field {
  const char* name;
  const char* column;
  Conv conv;
};
constexpr Field kFields[] = {
    {"row_pk", "Z_PK", Conv::Raw},
    {"whatsapp_id", "ZWHATSAPPID", Conv::Raw},
    {"lid", "ZLID", Conv::Raw},
    {"phone_number", "ZPHONENUMBER", Conv::Raw},
    {"localized_phone_number", "ZLOCALIZEDPHONENUMBER", Conv::Raw},
    {"full_name", "ZFULLNAME", Conv::Raw},
    {"given_name", "ZGIVENNAME", Conv::Raw},
    {"last_name", "ZLASTNAME", Conv::Raw},
    {"user_name", "ZUSERNAME", Conv::Raw},
    {"business_name", "ZBUSINESSNAME", Conv::Raw},
    {"about_text", "ZABOUTTEXT", Conv::Raw},
    {"about_emoji", "ZABOUTEMOJI", Conv::Raw},
    {"notes", "ZNOTES", Conv::Raw},
    {"disappearing_mode_duration", "ZDISAPPEARINGMODEDURATION", Conv::Raw},
    {"disappearing_mode_timestamp", "ZDISAPPEARINGMODETIMESTAMP", Conv::Time},
    {"about_timestamp", "ZABOUTTIMESTAMP", Conv::Time},
    {"about_expiration_timestamp", "ZABOUTEXPIRATIONTIMESTAMP", Conv::Time},
    {"last_updated", "ZLASTUPDATED", Conv::Time},
    {"phone_status", "ZPHONESTATUS", Conv::Raw},
    {"sync_policy", "ZSYNCPOLICY", Conv::Raw},
};

std::string duration_label(const Json& d) {
  if (!d.is_number() || d.get<double>() == 0) return "off";
  double v = d.get<double>();
  if (!std::isfinite(v)) return "off";
  auto secs = static_cast<long long>(v);
  switch (secs) {
    case 86400: return "24 hours";
    case 604800: return "7 days";
    case 7776000: return "90 days";
    default: return std::to_string(secs) + " seconds";
  }
}

class WhatsappContacts final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"WhatsappContacts", "whatsapp_contacts", kIosAny, Level::Critical,
                              ModuleInfo::Shape::List,
                              "WhatsApp address book (ContactsV2.sqlite): JIDs, LIDs, disappearing messages"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, contacts_spec(), "WhatsApp contacts")) {
      auto cols = ios::table_columns(db, "ZWAADDRESSBOOKCONTACT");
      if (cols.empty()) {
        ctx.unreadable(db.file.display, "no ZWAADDRESSBOOKCONTACT table in the WhatsApp contacts database");
        continue;
      }
      std::string sql = "SELECT ";
      bool first = true;
      for (auto& f : kFields) {
        if (!first) sql += ", ";
        sql += ios::has_column(cols, f.column) ? f.column : "NULL";
        first = false;
      }
      sql += " FROM ZWAADDRESSBOOKCONTACT";
      if (ios::has_column(cols, "Z_PK")) sql += " ORDER BY Z_PK";
      std::size_t n = 0, disappearing = 0;
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        Json r;
        int i = 0;
        for (auto& f : kFields) {
          r[f.name] = f.conv == Conv::Time ? ios::mac_value_iso_or_null(row, i) : row.value(i);
          ++i;
        }
        const Json& d = r["disappearing_mode_duration"];
        bool on = d.is_number() && d.get<double>() != 0;
        r["disappearing_mode_is_on"] = on;
        r["disappearing_mode_label"] = duration_label(d);
        if (on) ++disappearing;
        ctx.emit(std::move(r));
        ++n;
        return true;
      });
      ctx.info("Extracted a total of " + std::to_string(n) + " WhatsApp contacts (" + std::to_string(disappearing) +
               " with disappearing messages enabled)");
    }
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string who = jstr(r, "whatsapp_id");
    if (who.empty()) who = jstr(r, "lid");
    if (who.empty()) who = pystr(r, "phone_number");
    if (std::string name = jstr(r, "full_name"); !name.empty()) who += " (" + name + ")";
    if (std::string t = jstr(r, "about_timestamp"); !t.empty())
      out.push_back({t, "about_changed",
                     "WhatsApp about text of " + who + " changed to \"" + pystr(r, "about_text") + "\""});
    if (std::string t = jstr(r, "disappearing_mode_timestamp"); !t.empty())
      out.push_back({t, "disappearing_mode_set", "WhatsApp disappearing messages timer set to '" +
                                                     pystr(r, "disappearing_mode_label") + "' for " + who});
    if (std::string t = jstr(r, "last_updated"); !t.empty())
      out.push_back({t, "contact_last_updated", "WhatsApp contact record for " + who + " updated"});
    if (std::string t = jstr(r, "about_expiration_timestamp"); !t.empty())
      out.push_back({t, "about_expiration", "WhatsApp about text of " + who + " scheduled to expire"});
  }
};

BRIDLE_REGISTER_MODULE(WhatsappContacts);

}  // namespace
}  // namespace bridle
