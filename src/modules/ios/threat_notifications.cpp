// ThreatNotifications: Apple's threat notifications ("ALERT: State-sponsored attackers may
// be targeting your iPhone", "... Apple detected a targeted mercenary spyware attack ...")
// where the SMS module cannot see them:
//  - e-mail: Mail's Envelope Index (messages from threat-notifications@apple.com, or whose
//    subject is a notification title);
//  - iMessage: sms.db messages whose notification text is only in attributedBody (recent
//    iOS versions leave message.text empty), or that come from Apple's notification
//    address. Messages whose text starts with a notice are left to the SMS module, which
//    already raises them.
// Every finding is a HIGH alert with the message row as evidence. Records are the findings
// only (not the whole mailbox).
#include <algorithm>

#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& mail_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/Mail/Envelope Index", false}},
                              {"private/var/mobile/Library/Mail/Envelope Index"}};
  return s;
}
const ArtifactSpec& sms_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/SMS/sms.db", false}},
                              {"private/var/mobile/Library/SMS/sms.db"}};
  return s;
}

constexpr const char* kSenders[] = {"threat-notifications@apple.com", "threat-notifications@email.apple.com"};
// Lower-case phrases of the notification titles and texts.
constexpr const char* kPhrases[] = {"state-sponsored attackers may be targeting your iphone",
                                    "detected a targeted mercenary spyware attack against your iphone",
                                    "mercenary spyware attack against your iphone"};
// Text prefixes the SMS module already alerts on.
constexpr const char* kSmsPrefixes[] = {"ALERT: State-sponsored attackers may be targeting your iPhone",
                                        "ALERT: Apple detected a targeted mercenary spyware attack against your iPhone"};

bool apple_sender(const std::string& s) {
  std::string l = to_lower(trim(s));
  // "Apple <threat-notifications@apple.com>" as well as the bare address.
  for (const char* a : kSenders)
    if (l == a || l.find(std::string("<") + a + ">") != std::string::npos) return true;
  return false;
}

std::string phrase_in(std::string_view text) {
  std::string l = to_lower(text);
  for (const char* p : kPhrases)
    if (l.find(p) != std::string::npos) return p;
  return "";
}

class ThreatNotifications final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"ThreatNotifications", "threat_notifications", kIosAny, Level::Critical,
                              ModuleInfo::Shape::List,
                              "Apple threat notifications received by e-mail or iMessage (beyond SMS text)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    mail(ctx);
    messages(ctx);
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "threat_notification",
                   "Apple threat notification by " + jstr(r, "channel") + " from " + jstr(r, "sender") + ": " +
                       jstr(r, "title")});
  }

  std::string event_time(const Json& r) const override { return jstr(r, "isodate"); }

 private:
  static void found(ModuleContext& ctx, Json r, const std::string& why) {
    r["reason"] = why;
    ctx.alert(Level::High,
              "Detected a threat notification from Apple received by " + jstr(r, "channel") + " on " +
                  jstr(r, "isodate") + " (" + why + ")",
              jstr(r, "isodate"), r);
    ctx.emit(std::move(r));
  }

  static void mail(ModuleContext& ctx) {
    for (auto& db : ios::open_databases(ctx, mail_spec(), "Mail Envelope Index")) {
      auto mcols = ios::table_columns(db, "messages");
      if (mcols.empty()) {
        ctx.unreadable(db.file.display, "no messages table in the Mail Envelope Index");
        continue;
      }
      // Current schema: sender/subject are references to addresses/subjects; older
      // schemas keep the text in messages.
      bool ref_sender = db.db->has_table("addresses") && ios::has_column(mcols, "sender");
      bool ref_subject = db.db->has_table("subjects") && ios::has_column(mcols, "subject");
      std::string sender = ref_sender ? "COALESCE(a.address, '') || CASE WHEN a.comment IS NOT NULL AND a.comment != '' "
                                        "THEN ' (' || a.comment || ')' ELSE '' END"
                                      : (ios::has_column(mcols, "sender") ? "m.sender" : "NULL");
      std::string subject = ref_subject ? "s.subject" : (ios::has_column(mcols, "subject") ? "m.subject" : "NULL");
      std::string address = ref_sender ? "a.address" : (ios::has_column(mcols, "sender") ? "m.sender" : "NULL");
      std::string date = ios::has_column(mcols, "date_received") ? "m.date_received"
                         : ios::has_column(mcols, "date_sent") ? "m.date_sent" : "NULL";
      std::string sql = "SELECT m.ROWID, " + address + ", " + sender + ", " + subject + ", " + date +
                        " FROM messages m" + (ref_sender ? " LEFT JOIN addresses a ON m.sender = a.ROWID" : "") +
                        (ref_subject ? " LEFT JOIN subjects s ON m.subject = s.ROWID" : "") + " ORDER BY m.ROWID";
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        std::string addr = row.is_null(1) ? "" : row.text(1);
        std::string subj = row.is_null(3) ? "" : row.text(3);
        std::string why;
        if (apple_sender(addr)) why = "sent by Apple's threat notification address";
        else if (auto p = phrase_in(subj); !p.empty()) why = "subject contains \"" + p + "\"";
        if (why.empty()) return true;
        Json r;
        r["channel"] = "e-mail";
        r["isodate"] = row.is_null(4) ? std::string() : unix_to_iso_int(row.integer(4));
        r["sender"] = row.is_null(2) ? "" : row.text(2);
        r["title"] = subj;
        r["row_id"] = row.value(0);
        r["evidence"] = db.file.display;
        found(ctx, std::move(r), why);
        return true;
      });
    }
  }

  static void messages(ModuleContext& ctx) {
    for (auto& db : ios::open_databases(ctx, sms_spec(), "SMS")) {
      auto cols = ios::table_columns(db, "message");
      if (cols.empty()) continue;  // the SMS module reports the database
      bool body = ios::has_column(cols, "attributedBody");
      bool handles = db.db->has_table("handle") && ios::has_column(cols, "handle_id");
      std::string sql = std::string("SELECT m.ROWID, m.guid, m.date, m.text, ") + (body ? "m.attributedBody" : "NULL") +
                        ", " + (handles ? "h.id" : "NULL") + (ios::has_column(cols, "service") ? ", m.service" : ", NULL") +
                        " FROM message m" + (handles ? " LEFT JOIN handle h ON h.rowid = m.handle_id" : "") +
                        " ORDER BY m.ROWID";
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        std::string text = row.is_null(3) ? "" : row.text(3);
        for (const char* p : kSmsPrefixes)
          if (text.rfind(p, 0) == 0) return true;  // raised by the SMS module
        std::string handle = row.is_null(5) ? "" : row.text(5);
        std::string why;
        std::string title;
        if (apple_sender(handle)) {
          why = "sent by Apple's threat notification address";
        } else if (auto p = phrase_in(text); !p.empty()) {
          why = "text contains \"" + p + "\"";
        } else if (!row.is_null(4)) {
          // The typedstream keeps the string as plain UTF-8.
          if (auto p2 = phrase_in(row.blob(4)); !p2.empty()) {
            why = "attributedBody contains \"" + p2 + "\"";
            title = p2;
          }
        }
        if (why.empty()) return true;
        Json r;
        r["channel"] = row.is_null(6) ? std::string("iMessage/SMS") : row.text(6);
        r["isodate"] = ios::mac_value_iso(row, 2);
        r["sender"] = handle;
        r["title"] = text.empty() ? title : text;
        r["row_id"] = row.value(0);
        r["guid"] = row.value(1);
        r["evidence"] = db.file.display;
        found(ctx, std::move(r), why);
        return true;
      });
    }
  }
};

BRIDLE_REGISTER_MODULE(ThreatNotifications);

}  // namespace
}  // namespace bridle
