// Whatsapp: messages (ChatStorage.sqlite) and the links in them, LID <-> phone number pairs
// (LID.sqlite, next to ChatStorage and not listed in the Manifest) and chat sessions.
#include <algorithm>
#include <map>
#include <set>

#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

constexpr const char* kDomain = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared";

const ArtifactSpec& chat_spec() {
  static const ArtifactSpec s{{{kDomain, "ChatStorage.sqlite", false}},
                              {"private/var/mobile/Containers/Shared/AppGroup/*/ChatStorage.sqlite"}};
  return s;
}

// A sibling database of ChatStorage.sqlite (same backup domain, or same folder of the dump).
ArtifactSpec sibling_spec(const IosFile& chat, const std::string& name) {
  ArtifactSpec s;
  if (!chat.domain.empty()) {
    std::string rel = chat.relative_path;
    auto slash = rel.rfind('/');
    s.backup.push_back({chat.domain, slash == std::string::npos ? name : rel.substr(0, slash + 1) + name, false});
  } else {
    std::string rel = chat.relative_path;
    auto slash = rel.rfind('/');
    s.fs_globs.push_back(slash == std::string::npos ? name : rel.substr(0, slash + 1) + name);
  }
  return s;
}

constexpr const char* kOwnMediaHosts[] = {"https://mmg.whatsapp.net/", "https://mmg-fna.whatsapp.net/"};

std::string strip_lid(std::string s) {
  auto at = s.find('@');
  return at == std::string::npos ? s : s.substr(0, at);
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

bool is_group(const Json& r) {
  return jint(r, "session_type", -1) == 1 || ends_with(jstr(r, "contact_jid"), "@g.us");
}

class Whatsapp final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Whatsapp", "whatsapp", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "WhatsApp messages and their links, chat sessions, LID/phone pairs"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, chat_spec(), "WhatsApp")) process(ctx, db);
  }

  void process(ModuleContext& ctx, ios::OpenedDb& db) {
    if (!db.db->has_table("ZWAMESSAGE")) {
      ctx.unreadable(db.file.display, "no ZWAMESSAGE table in the WhatsApp database");
      return;
    }
    std::size_t messages = extract_messages(ctx, db);

    // LID <-> phone number pairs: LID.sqlite (a sibling without a Manifest row), or in
    // ChatStorage itself in some versions.
    std::vector<Json> pairs;
    std::map<std::string, std::string> lid_phone;
    auto read_pairs = [&](ios::OpenedDb& d) {
      auto cols = ios::table_columns(d, "ZWAPHONENUMBERLIDPAIR");
      if (cols.empty()) return false;
      auto c = [&](const char* n) { return ios::has_column(cols, n) ? std::string(n) : std::string("NULL"); };
      ios::run_query(ctx, d,
                     "SELECT " + c("ZLID") + ", " + c("ZPHONENUMBER") + ", " + c("ZTIMESTAMP") +
                         " FROM ZWAPHONENUMBERLIDPAIR ORDER BY Z_PK",
                     [&](const SqliteRow& row) {
                       Json p;
                       p["record_type"] = "lid_phone_number_pair";
                       p["lid"] = row.value(0);
                       p["phone_number"] = row.value(1);
                       p["pair_timestamp"] = ios::mac_value_iso_or_null(row, 2);
                       if (!row.is_null(0) && !row.is_null(1))
                         lid_phone.emplace(strip_lid(row.text(0)), row.text(1));
                       pairs.push_back(std::move(p));
                       return true;
                     });
      return true;
    };
    bool found_pairs = false;
    for (auto& lid : ios::open_databases(ctx, sibling_spec(db.file, "LID.sqlite"), "WhatsApp LID")) {
      if (!read_pairs(lid)) ctx.info(lid.file.display + ": no ZWAPHONENUMBERLIDPAIR table");
      else found_pairs = true;
    }
    if (!found_pairs && db.db->has_table("ZWAPHONENUMBERLIDPAIR")) read_pairs(db);
    std::size_t n_pairs = pairs.size();
    for (auto& p : pairs) ctx.emit(std::move(p));

    // Address book LIDs (ContactsV2.sqlite) complete the LID -> phone number map.
    std::map<std::string, std::string> contact_phone;
    {
      IosSource* src = ctx.ios();
      for (auto& f : src->find(sibling_spec(db.file, "ContactsV2.sqlite"))) {
        SqliteError err;
        auto cdb = src->open_sqlite(f, &err);
        if (!cdb) continue;  // the WhatsappContacts module reports it
        ios::OpenedDb c{f, std::move(cdb)};
        auto cols = ios::table_columns(c, "ZWAADDRESSBOOKCONTACT");
        if (!ios::has_column(cols, "ZLID") || !ios::has_column(cols, "ZPHONENUMBER")) continue;
        c.db->query("SELECT ZLID, ZPHONENUMBER FROM ZWAADDRESSBOOKCONTACT "
                    "WHERE ZLID IS NOT NULL AND ZPHONENUMBER IS NOT NULL",
                    [&](const SqliteRow& row) {
                      contact_phone.emplace(strip_lid(row.text(0)), row.text(1));
                      return true;
                    });
      }
    }
    auto resolve = [&](const std::string& jid) -> Json {
      std::string user = strip_lid(jid);
      std::string phone;
      if (ends_with(jid, "@lid")) {
        if (auto it = lid_phone.find(user); it != lid_phone.end()) phone = it->second;
        else if (auto it2 = contact_phone.find(user); it2 != contact_phone.end()) phone = it2->second;
      } else if (ends_with(jid, "@s.whatsapp.net")) {
        phone = user;
      }
      if (phone.empty()) return nullptr;
      return phone[0] == '+' ? phone : "+" + phone;
    };

    std::size_t sessions = extract_sessions(ctx, db, resolve);
    ctx.info("Extracted a total of " + std::to_string(messages) + " WhatsApp messages, " +
             std::to_string(sessions) + " chat sessions and " + std::to_string(n_pairs) +
             " LID-phone number pairs");
  }

  std::size_t extract_messages(ModuleContext& ctx, ios::OpenedDb& db) {
    auto mcols = ios::table_columns(db, "ZWAMESSAGE");
    auto media = ios::table_columns(db, "ZWAMEDIAITEM");
    auto data = ios::table_columns(db, "ZWAMESSAGEDATAITEM");
    bool join_media = ios::has_column(media, "ZMESSAGE");
    bool join_data = ios::has_column(data, "ZMESSAGE");
    auto pick = [](bool joined, const std::vector<std::string>& cols, const char* table, const char* c) {
      return (joined && ios::has_column(cols, c) ? std::string(table) + "." + c : std::string("NULL")) + " AS " + c;
    };
    std::string sql = "SELECT ZWAMESSAGE.*, " + pick(join_media, media, "ZWAMEDIAITEM", "ZAUTHORNAME") + ", " +
                      pick(join_media, media, "ZWAMEDIAITEM", "ZMEDIAURL") + ", " +
                      pick(join_data, data, "ZWAMESSAGEDATAITEM", "ZCONTENT1") + ", " +
                      pick(join_data, data, "ZWAMESSAGEDATAITEM", "ZCONTENT2") + ", " +
                      pick(join_data, data, "ZWAMESSAGEDATAITEM", "ZMATCHEDTEXT") + ", " +
                      pick(join_data, data, "ZWAMESSAGEDATAITEM", "ZSUMMARY") + ", " +
                      pick(join_data, data, "ZWAMESSAGEDATAITEM", "ZTITLE") + " FROM ZWAMESSAGE";
    if (join_media) sql += " LEFT JOIN ZWAMEDIAITEM ON ZWAMEDIAITEM.ZMESSAGE = ZWAMESSAGE.Z_PK";
    if (join_data) sql += " LEFT JOIN ZWAMESSAGEDATAITEM ON ZWAMESSAGEDATAITEM.ZMESSAGE = ZWAMESSAGE.Z_PK";
    if (ios::has_column(mcols, "Z_PK")) sql += " ORDER BY ZWAMESSAGE.Z_PK";
    std::size_t n = 0;
    ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
      Json r = ios::row_to_json(row);
      r["isodate"] = ios::mac_value_iso(row, row.index("ZMESSAGEDATE"));
      std::vector<std::string> links;
      for (const char* field : {"ZTEXT", "ZMATCHEDTEXT", "ZMEDIAURL", "ZCONTENT1", "ZCONTENT2"}) {
        auto it = r.find(field);
        if (it == r.end() || !it->is_string()) continue;
        for (auto& l : extract_urls(it->get<std::string>())) {
          bool own = false;
          for (const char* h : kOwnMediaHosts) own = own || starts_with_icase(l, h);
          if (own || std::find(links.begin(), links.end(), l) != links.end()) continue;
          links.push_back(std::move(l));
        }
      }
      if (!links.empty()) {
        for (auto& l : links) ctx.collect_url(l, jstr(r, "isodate"), "whatsapp");
        r["links"] = links;
      }
      ctx.emit(std::move(r));
      ++n;
      return true;
    });
    return n;
  }

  template <class Resolve>
  std::size_t extract_sessions(ModuleContext& ctx, ios::OpenedDb& db, Resolve& resolve) {
    auto cols = ios::table_columns(db, "ZWACHATSESSION");
    if (cols.empty()) {
      ctx.info(db.file.display + ": no ZWACHATSESSION table");
      return 0;
    }
    auto c = [&](const char* n) {
      return (ios::has_column(cols, n) ? std::string("s.") + n : std::string("NULL")) + " AS " + n;
    };
    auto gcols = ios::table_columns(db, "ZWAGROUPINFO");
    std::string group_join;
    std::string creation = "NULL";
    if (ios::has_column(gcols, "ZCREATIONDATE")) {
      creation = "g.ZCREATIONDATE";
      if (ios::has_column(cols, "ZGROUPINFO") && ios::has_column(gcols, "Z_PK"))
        group_join = " LEFT JOIN ZWAGROUPINFO g ON g.Z_PK = s.ZGROUPINFO";
      else if (ios::has_column(gcols, "ZCHATSESSION"))
        group_join = " LEFT JOIN ZWAGROUPINFO g ON g.ZCHATSESSION = s.Z_PK";
      else
        creation = "NULL";
    }
    auto mcols = ios::table_columns(db, "ZWAMESSAGE");
    std::string stats_join, first = "NULL", last = "NULL", count = "0";
    if (ios::has_column(mcols, "ZCHATSESSION") && ios::has_column(mcols, "ZMESSAGEDATE")) {
      stats_join =
          " LEFT JOIN (SELECT ZCHATSESSION AS cs, MIN(ZMESSAGEDATE) AS first_date, MAX(ZMESSAGEDATE) AS last_date,"
          " COUNT(*) AS n FROM ZWAMESSAGE GROUP BY ZCHATSESSION) m ON m.cs = s.Z_PK";
      first = "m.first_date";
      last = "m.last_date";
      count = "IFNULL(m.n, 0)";
    }
    std::string sql = "SELECT " + c("Z_PK") + ", " + c("ZCONTACTJID") + ", " + c("ZPARTNERNAME") + ", " +
                      c("ZSESSIONTYPE") + ", " + c("ZARCHIVED") + ", " + c("ZREMOVED") + ", " +
                      c("ZMESSAGECOUNTER") + ", " + c("ZLASTMESSAGEDATE") + ", " + creation + ", " + first +
                      ", " + last + ", " + count + " FROM ZWACHATSESSION s" + group_join + stats_join +
                      " ORDER BY s.Z_PK";
    std::size_t n = 0;
    ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
      Json r;
      r["session_pk"] = row.value(0);
      r["contact_jid"] = row.value(1);
      r["partner_name"] = row.value(2);
      r["session_type"] = row.value(3);
      r["archived"] = row.value(4);
      r["removed"] = row.value(5);
      r["message_counter"] = row.value(6);
      r["last_message_date"] = ios::mac_value_iso_or_null(row, 7);
      r["group_creation_date"] = ios::mac_value_iso_or_null(row, 8);
      r["first_stored_message_date"] = ios::mac_value_iso_or_null(row, 9);
      r["last_stored_message_date"] = ios::mac_value_iso_or_null(row, 10);
      r["stored_message_count"] = row.value(11);
      r["record_type"] = "chat_session";
      r["partner_resolved_phone_number"] = row.is_null(1) ? Json() : resolve(row.text(1));
      ctx.emit(std::move(r));
      ++n;
      return true;
    });
    return n;
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (r.contains("record_type")) return;
    if (auto it = r.find("links"); it != r.end() && it->is_array())
      for (auto& l : *it)
        if (l.is_string()) out.push_back({ObsKind::Url, l.get<std::string>(), {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string type = jstr(r, "record_type");
    if (type.empty()) {
      std::string desc = "'" + pystr(r, "ZTEXT") + "' from " + pystr(r, "ZFROMJID");
      if (auto it = r.find("links"); it != r.end() && it->is_array() && !it->empty()) {
        desc += " - Embedded links: ";
        bool first = true;
        for (auto& l : *it) {
          if (!first) desc += ", ";
          desc += pystr(l);
          first = false;
        }
      }
      out.push_back({jstr(r, "isodate"), "message", desc});
    } else if (type == "lid_phone_number_pair") {
      std::string ts = jstr(r, "pair_timestamp");
      if (!ts.empty())
        out.push_back({ts, "lid_pair_recorded",
                       "WhatsApp associated LID " + pystr(r, "lid") + " with phone number " + pystr(r, "phone_number")});
    } else if (type == "chat_session") {
      bool group = is_group(r);
      std::string name = "'" + pystr(r, "partner_name") + "' (";
      std::string who;
      if (group) {
        who = "WhatsApp group chat " + name + pystr(r, "contact_jid") + ")";
      } else {
        std::string phone = jstr(r, "partner_resolved_phone_number");
        who = "WhatsApp chat with " + name + (phone.empty() ? pystr(r, "contact_jid") : phone) + ")";
      }
      if (std::string t = jstr(r, "group_creation_date"); !t.empty())
        out.push_back({t, "group_created", who + " was created"});
      if (std::string t = jstr(r, "first_stored_message_date"); !t.empty())
        out.push_back({t, "chat_first_message", "First stored message in " + who});
      if (std::string t = jstr(r, "last_message_date"); !t.empty())
        out.push_back({t, "chat_last_message", "Last message in " + who});
    }
  }
};

BRIDLE_REGISTER_MODULE(Whatsapp);

}  // namespace
}  // namespace bridle
