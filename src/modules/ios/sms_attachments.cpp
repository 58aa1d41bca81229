// SMSAttachments: iMessage/SMS attachments (sms.db attachment table) and the FORCEDENTRY
// trace (a received attachment stored as /var/tmp/...-1).
#include <set>

#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& sms_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/SMS/sms.db", false}},
                              {"private/var/mobile/Library/SMS/sms.db"}};
  return s;
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

class SmsAttachments final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"SMSAttachments", "sms_attachments", kIosAny, Level::High, ModuleInfo::Shape::List,
                              "Message attachments (sms.db): file names, suspicious /var/tmp attachments"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, sms_spec(), "SMS")) {
      if (!db.db->has_table("attachment")) {
        // Not every sms.db has attachments (or the table): nothing to read, nothing missed.
        ctx.info("No SMS attachment tables found in the database, skipping: no such table: attachment");
        continue;
      }
      bool joins = db.db->has_table("message_attachment_join") && db.db->has_table("message");
      bool handle = joins && db.db->has_table("handle");
      auto mcols = joins ? ios::table_columns(db, "message") : std::vector<std::string>{};
      std::string service = joins && ios::has_column(mcols, "service") ? "message.service" : "NULL";
      std::string sql = "SELECT attachment.ROWID AS attachment_id, attachment.*, " + service + " AS service, " +
                        (handle && ios::has_column(mcols, "handle_id") ? "handle.id" : "NULL") +
                        " AS phone_number FROM attachment";
      // LEFT JOINs: an attachment whose message row is gone is kept (MVT's join drops it).
      if (joins)
        sql += " LEFT JOIN message_attachment_join ON message_attachment_join.attachment_id = attachment.ROWID"
               " LEFT JOIN message ON message.ROWID = message_attachment_join.message_id";
      if (handle && ios::has_column(mcols, "handle_id"))
        sql += " LEFT JOIN handle ON handle.ROWID = message.handle_id";
      sql += " ORDER BY attachment.ROWID";
      std::size_t n = 0;
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        Json r = ios::row_to_json_blobs_b64(row);
        r["isodate"] = ios::mac_value_iso(row, row.index("created_date"));
        r["start_date"] = ios::mac_value_iso(row, row.index("start_date"));
        r["direction"] = jint(r, "is_outgoing") == 1 ? "sent" : "received";
        r["has_user_info"] = r.contains("user_info") && !r["user_info"].is_null();
        if (!r["service"].is_string() || jstr(r, "service").empty()) r["service"] = "Unknown";
        if (!r["filename"].is_string() || jstr(r, "filename").empty()) r["filename"] = "NULL";
        std::string filename = jstr(r, "filename");
        if (filename.rfind("/var/tmp/", 0) == 0 && ends_with(filename, "-1") && jstr(r, "direction") == "received")
          ctx.alert(Level::Medium,
                    "Suspicious iMessage attachment " + filename + " on " + jstr(r, "isodate"),
                    jstr(r, "isodate"), r);
        ctx.emit(std::move(r));
        ++n;
        return true;
      });
      ctx.info("Extracted a total of " + std::to_string(n) + " SMS attachments");
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string f = jstr(r, "filename");
    if (!f.empty() && f != "NULL") out.push_back({ObsKind::FilePath, f, Level::High});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "sms_attachment",
                   pystr(r, "service") + ": Attachment '" + pystr(r, "transfer_name") + "' " + pystr(r, "direction") +
                       " from " + pystr(r, "phone_number") + " with " + pystr(r, "total_bytes") +
                       " bytes (is_sticker: " + pystr(r, "is_sticker") + ", has_user_info: " +
                       pystr(r, "has_user_info") + ")"});
  }
};

BRIDLE_REGISTER_MODULE(SmsAttachments);

}  // namespace
}  // namespace bridle
