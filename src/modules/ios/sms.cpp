// SMS: iMessage/SMS messages (sms.db), links in them, Apple threat notifications.
#include "core/util.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& sms_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/SMS/sms.db", false}},
                              {"private/var/mobile/Library/SMS/sms.db"}};
  return s;
}

constexpr const char* kThreatNotices[] = {
    "ALERT: State-sponsored attackers may be targeting your iPhone",
    "ALERT: Apple detected a targeted mercenary spyware attack against your iPhone",
};

class Sms final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"SMS", "sms", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Messages (sms.db): links, sender handles, Apple threat notifications"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, sms_spec(), "SMS")) {
      // LEFT JOIN: messages without a handle row (e.g. some group or system messages) are
      // kept, unlike MVT's inner join.
      std::size_t n = 0;
      ios::run_query(ctx, db,
                     "SELECT message.*, handle.id AS phone_number FROM message "
                     "LEFT JOIN handle ON handle.rowid = message.handle_id",
                     [&](const SqliteRow& row) {
                       Json r = ios::row_to_json(row, {"attributedBody", "payload_data", "message_summary_info"});
                       r["isodate"] = ios::mac_value_iso(row, row.index("date"));
                       r["isodate_read"] = ios::mac_value_iso(row, row.index("date_read"));
                       r["direction"] = jint(r, "is_from_me") == 1 ? "sent" : "received";
                       if (!r.contains("text") || r["text"].is_null()) r["text"] = "";
                       std::string text = jstr(r, "text");
                       for (const char* notice : kThreatNotices) {
                         if (text.rfind(notice, 0) == 0) {
                           ctx.alert(Level::High,
                                     "Detected a threat notification from Apple sent by SMS/iMessage on " +
                                         jstr(r, "isodate"),
                                     jstr(r, "isodate"), r);
                         }
                       }
                       auto links = extract_urls(text);
                       if (!links.empty()) {
                         r["links"] = links;
                         for (auto& l : links) ctx.collect_url(l, jstr(r, "isodate"), "sms");
                       }
                       ctx.emit(std::move(r));
                       ++n;
                       return true;
                     });
      ctx.info("Extracted a total of " + std::to_string(n) + " SMS messages");
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (auto it = r.find("links"); it != r.end() && it->is_array())
      for (auto& l : *it)
        if (l.is_string()) out.push_back({ObsKind::Url, l.get<std::string>(), {}});
    // Links in the text of records re-loaded from older results without "links".
    if (!r.contains("links"))
      for (auto& l : extract_urls(jstr(r, "text"))) out.push_back({ObsKind::Url, l, {}});
    // iMessage handles can be attacker e-mail addresses (Pegasus lookups).
    std::string handle = jstr(r, "phone_number");
    if (handle.find('@') != std::string::npos) out.push_back({ObsKind::Email, handle, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string text = jstr(r, "text");
    std::string flat;
    for (char c : text) {
      if (c == '\n') flat += "\\n";
      else flat += c;
    }
    std::string desc = pystr(r, "service") + ": " + pystr(r, "guid") + " \"" + flat + "\" from " +
                       pystr(r, "phone_number") + " (" + pystr(r, "account") + ")";
    std::string dir = jstr(r, "direction");
    out.push_back({jstr(r, "isodate"), dir == "sent" ? "sms_sent" : "sms_received", desc});
    if (!jstr(r, "isodate_read").empty()) out.push_back({jstr(r, "isodate_read"), "sms_read", desc});
  }
};

BRIDLE_REGISTER_MODULE(Sms);

}  // namespace
}  // namespace bridle
