// InteractionC: CoreDuet people interactions (interactionC.db): who exchanged messages or
// calls with whom, through which app, when. The query follows APOLLO's
// interaction_contact_interactions (as MVT), with MVT's three fallbacks for older schemas.
//
// WhatsApp peers are recorded as LIDs ("<digits>@lid"), JIDs or phone numbers. They are
// resolved to a phone number and a contact name from WhatsApp's own databases, read here
// (modules never depend on each other): ContactsV2.sqlite (ZWAADDRESSBOOKCONTACT: LID,
// JID, phone number, name), and, for LIDs that ContactsV2 does not list, the LID <-> phone
// number pairs of LID.sqlite (a bridle addition; MVT only uses the contacts). Resolved
// values go to <sender|recipient|domain>_resolved_phone_number / _resolved_name on WhatsApp
// records only.
//
// No indicator checks (as MVT). Timeline: start/end dates, the record's creation date when
// it is more than an hour away from the start date ("Interaction record created N days
// after the event": a backfilled or tampered record), and the sender contact's aggregate
// dates.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include "core/timeutil.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

constexpr const char* kWhatsApp = "net.whatsapp.WhatsApp";
constexpr const char* kWaDomain = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared";
constexpr double kCreationDivergence = 3600.0;

const ArtifactSpec& interaction_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/CoreDuet/People/interactionC.db", false}},
                              {"private/var/mobile/Library/CoreDuet/People/interactionC.db"}};
  return s;
}
const ArtifactSpec& wa_contacts_spec() {
  static const ArtifactSpec s{{{kWaDomain, "ContactsV2.sqlite", false}},
                              {"private/var/mobile/Containers/Shared/AppGroup/*/ContactsV2.sqlite"}};
  return s;
}
const ArtifactSpec& wa_lid_spec() {
  static const ArtifactSpec s{{{kWaDomain, "LID.sqlite", false}},
                              {"private/var/mobile/Containers/Shared/AppGroup/*/LID.sqlite"}};
  return s;
}

struct Field {
  const char* name;
  const char* expr;
};

constexpr const char* kDirectionCase =
    "CASE ZINTERACTIONS.ZDIRECTION WHEN '0' THEN 'INCOMING' WHEN '1' THEN 'OUTGOING' END";
constexpr const char* kLastIncomingRecipientCase =
    "CASE ZCONTACTS.ZLASTINCOMINGRECIPIENTDATE WHEN '0' THEN '0' ELSE ZCONTACTS.ZLASTINCOMINGRECIPIENTDATE END";

// Newest schema: sender, recipients and attachments.
const std::vector<Field> kFull = {
    {"start_date", "ZINTERACTIONS.ZSTARTDATE"},
    {"end_date", "ZINTERACTIONS.ZENDDATE"},
    {"bundle_id", "ZINTERACTIONS.ZBUNDLEID"},
    {"account", "ZINTERACTIONS.ZACCOUNT"},
    {"target_bundle_id", "ZINTERACTIONS.ZTARGETBUNDLEID"},
    {"direction", kDirectionCase},
    {"sender_display_name", "ZCONTACTS.ZDISPLAYNAME"},
    {"sender_identifier", "ZCONTACTS.ZIDENTIFIER"},
    {"sender_personid", "ZCONTACTS.ZPERSONID"},
    {"recipient_display_name", "RC.ZDISPLAYNAME"},
    {"recipient_identifier", "RC.ZIDENTIFIER"},
    {"recipient_personid", "RC.ZPERSONID"},
    {"recipient_count", "ZINTERACTIONS.ZRECIPIENTCOUNT"},
    {"domain_identifier", "ZINTERACTIONS.ZDOMAINIDENTIFIER"},
    {"is_response", "ZINTERACTIONS.ZISRESPONSE"},
    {"content", "ZATTACHMENT.ZCONTENTTEXT"},
    {"uti", "ZATTACHMENT.ZUTI"},
    {"attachment_content_url", "ZATTACHMENT.ZCONTENTURL"},
    {"size", "ZATTACHMENT.ZSIZEINBYTES"},
    {"photo_local_id", "ZATTACHMENT.ZPHOTOLOCALIDENTIFIER"},
    {"attachment_id", "HEX(ZATTACHMENT.ZIDENTIFIER)"},
    {"cloud_id", "ZATTACHMENT.ZCLOUDIDENTIFIER"},
    {"incoming_recipient_count", "ZCONTACTS.ZINCOMINGRECIPIENTCOUNT"},
    {"incoming_sender_count", "ZCONTACTS.ZINCOMINGSENDERCOUNT"},
    {"outgoing_recipient_count", "ZCONTACTS.ZOUTGOINGRECIPIENTCOUNT"},
    {"interactions_creation_date", "ZINTERACTIONS.ZCREATIONDATE"},
    {"contacts_creation_date", "ZCONTACTS.ZCREATIONDATE"},
    {"first_incoming_recipient_date", "ZCONTACTS.ZFIRSTINCOMINGRECIPIENTDATE"},
    {"first_incoming_sender_date", "ZCONTACTS.ZFIRSTINCOMINGSENDERDATE"},
    {"first_outgoing_recipient_date", "ZCONTACTS.ZFIRSTOUTGOINGRECIPIENTDATE"},
    {"last_incoming_sender_date", "ZCONTACTS.ZLASTINCOMINGSENDERDATE"},
    {"last_incoming_recipient_date", "ZCONTACTS.ZLASTINCOMINGRECIPIENTDATE"},
    {"last_outgoing_recipient_date", "ZCONTACTS.ZLASTOUTGOINGRECIPIENTDATE"},
    {"custom_id", "ZCONTACTS.ZCUSTOMIDENTIFIER"},
    {"interaction_content_url", "ZINTERACTIONS.ZCONTENTURL"},
    {"location_uuid", "ZINTERACTIONS.ZLOCATIONUUID"},
    {"group_name", "ZINTERACTIONS.ZGROUPNAME"},
    {"derivied_intent_id", "ZINTERACTIONS.ZDERIVEDINTENTIDENTIFIER"},  // sic (MVT's key)
    {"table_id", "ZINTERACTIONS.Z_PK"},
};

// Without photo identifiers, group names and derived intents.
std::vector<Field> without_newest() {
  std::vector<Field> out;
  for (auto& f : kFull) {
    std::string n = f.name;
    if (n == "photo_local_id" || n == "group_name" || n == "derivied_intent_id") continue;
    if (n == "last_incoming_recipient_date") out.push_back({f.name, kLastIncomingRecipientCase});
    else out.push_back(f);
  }
  return out;
}

// Oldest schemas: sender only, raw direction and mechanism.
const std::vector<Field> kSenderOnlyA = {
    {"start_date", "ZINTERACTIONS.ZSTARTDATE"},
    {"end_date", "ZINTERACTIONS.ZENDDATE"},
    {"bundle_id", "ZINTERACTIONS.ZBUNDLEID"},
    {"sender_display_name", "ZCONTACTS.ZDISPLAYNAME"},
    {"sender_identifier", "ZCONTACTS.ZIDENTIFIER"},
    {"sender_personid", "ZCONTACTS.ZPERSONID"},
    {"direction", "ZINTERACTIONS.ZDIRECTION"},
    {"is_response", "ZINTERACTIONS.ZISRESPONSE"},
    {"mechanism", "ZINTERACTIONS.ZMECHANISM"},
    {"recipient_count", "ZINTERACTIONS.ZRECIPIENTCOUNT"},
    {"interactions_creation_date", "ZINTERACTIONS.ZCREATIONDATE"},
    {"contacts_creation_date", "ZCONTACTS.ZCREATIONDATE"},
    {"first_incoming_recipient_date", "ZCONTACTS.ZFIRSTINCOMINGRECIPIENTDATE"},
    {"first_incoming_sender_date", "ZCONTACTS.ZFIRSTINCOMINGSENDERDATE"},
    {"first_outgoing_recipient_date", "ZCONTACTS.ZFIRSTOUTGOINGRECIPIENTDATE"},
    {"last_incoming_sender_date", "ZCONTACTS.ZLASTINCOMINGSENDERDATE"},
    {"last_incoming_recipient_date", kLastIncomingRecipientCase},
    {"last_outgoing_recipient_date", "ZCONTACTS.ZLASTOUTGOINGRECIPIENTDATE"},
    {"account", "ZINTERACTIONS.ZACCOUNT"},
    {"domain_identifier", "ZINTERACTIONS.ZDOMAINIDENTIFIER"},
    {"incoming_recipient_count", "ZCONTACTS.ZINCOMINGRECIPIENTCOUNT"},
    {"incoming_sender_count", "ZCONTACTS.ZINCOMINGSENDERCOUNT"},
    {"outgoing_recipient_count", "ZCONTACTS.ZOUTGOINGRECIPIENTCOUNT"},
    {"custom_id", "ZCONTACTS.ZCUSTOMIDENTIFIER"},
    {"interaction_content_url", "ZINTERACTIONS.ZCONTENTURL"},
    {"location_uuid", "ZINTERACTIONS.ZLOCATIONUUID"},
    {"table_id", "ZINTERACTIONS.Z_PK"},
};
// As above without recipient count and custom identifier, creation date third.
std::vector<Field> sender_only_b() {
  std::vector<Field> out;
  for (auto& f : kSenderOnlyA) {
    std::string n = f.name;
    if (n == "recipient_count" || n == "custom_id" || n == "interactions_creation_date") continue;
    out.push_back(f);
    if (n == "end_date") out.push_back({"interactions_creation_date", "ZINTERACTIONS.ZCREATIONDATE"});
  }
  return out;
}

constexpr const char* kFullJoins =
    " FROM ZINTERACTIONS LEFT JOIN ZCONTACTS ON ZINTERACTIONS.ZSENDER = ZCONTACTS.Z_PK"
    " LEFT JOIN Z_1INTERACTIONS ON ZINTERACTIONS.Z_PK = Z_1INTERACTIONS.Z_3INTERACTIONS"
    " LEFT JOIN ZATTACHMENT ON Z_1INTERACTIONS.Z_1ATTACHMENTS = ZATTACHMENT.Z_PK"
    " LEFT JOIN Z_2INTERACTIONRECIPIENT ON ZINTERACTIONS.Z_PK = Z_2INTERACTIONRECIPIENT.Z_3INTERACTIONRECIPIENT"
    " LEFT JOIN ZCONTACTS RC ON Z_2INTERACTIONRECIPIENT.Z_2RECIPIENTS = RC.Z_PK";
constexpr const char* kSenderJoin = " FROM ZINTERACTIONS LEFT JOIN ZCONTACTS ON ZINTERACTIONS.ZSENDER = ZCONTACTS.Z_PK";

bool is_timestamp(const std::string& n) {
  return n == "start_date" || n == "end_date" || n == "interactions_creation_date" || n == "contacts_creation_date" ||
         n == "first_incoming_recipient_date" || n == "first_incoming_sender_date" ||
         n == "first_outgoing_recipient_date" || n == "last_incoming_sender_date" ||
         n == "last_incoming_recipient_date" || n == "last_outgoing_recipient_date";
}

std::string digits_of(const std::string& s) {
  std::string d;
  for (char c : s)
    if (c >= '0' && c <= '9') d += c;
  return d;
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Python truthiness of a record field.
std::string truthy(const Json& r, const std::string& key) {
  auto it = r.find(key);
  if (it == r.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return pystr(*it);
}

using Entry = std::pair<Json, Json>;  // phone number, name (null when unknown)

struct WaMaps {
  std::map<std::string, Entry> by_lid;    // LID user part (digits before '@')
  std::map<std::string, Entry> by_phone;  // phone number digits
  std::map<std::string, std::string> lid_pairs;  // LID.sqlite: LID user part -> phone
};

std::string user_part(const std::string& s) { return s.substr(0, s.find('@')); }

WaMaps read_whatsapp(ModuleContext& ctx) {
  WaMaps m;
  IosSource* src = ctx.ios();
  if (!src) return m;
  for (auto& f : src->find(wa_contacts_spec())) {
    SqliteError err;
    auto db = src->open_sqlite(f, &err);
    if (!db) {
      ctx.unreadable(f.display, "cannot open the WhatsApp contacts database: " + err.message);
      continue;
    }
    auto cols = db->columns("ZWAADDRESSBOOKCONTACT");
    if (cols.empty()) continue;
    ios::OpenedDb od{f, std::move(db)};
    auto c = [&](const char* n) { return ios::has_column(cols, n) ? std::string(n) : std::string("NULL"); };
    std::vector<std::pair<std::string, std::string>> jid_setdefault;
    ios::run_query(ctx, od,
                   "SELECT " + c("ZWHATSAPPID") + ", " + c("ZLID") + ", " + c("ZPHONENUMBER") + ", " + c("ZFULLNAME") +
                       ", " + c("ZGIVENNAME") + " FROM ZWAADDRESSBOOKCONTACT" +
                       (ios::has_column(cols, "Z_PK") ? " ORDER BY Z_PK" : ""),
                   [&](const SqliteRow& row) {
                     std::string full = row.is_null(3) ? "" : row.text(3);
                     std::string given = row.is_null(4) ? "" : row.text(4);
                     Json name = !full.empty() ? Json(full) : !given.empty() ? Json(given) : Json(nullptr);
                     std::string phone = row.is_null(2) ? "" : row.text(2);
                     Entry e{phone.empty() ? Json(row.value(2)) : Json(phone), name};
                     if (!row.is_null(1) && !row.text(1).empty()) m.by_lid[user_part(row.text(1))] = e;
                     if (!phone.empty()) m.by_phone[digits_of(phone)] = e;
                     std::string jid = row.is_null(0) ? "" : row.text(0);
                     if (jid.find('@') != std::string::npos) m.by_phone.emplace(user_part(jid), e);
                     return true;
                   });
  }
  for (auto& f : src->find(wa_lid_spec())) {
    SqliteError err;
    auto db = src->open_sqlite(f, &err);
    if (!db) {
      ctx.unreadable(f.display, "cannot open the WhatsApp LID database: " + err.message);
      continue;
    }
    auto cols = db->columns("ZWAPHONENUMBERLIDPAIR");
    if (!ios::has_column(cols, "ZLID") || !ios::has_column(cols, "ZPHONENUMBER")) continue;
    ios::OpenedDb od{f, std::move(db)};
    ios::run_query(ctx, od,
                   "SELECT ZLID, ZPHONENUMBER FROM ZWAPHONENUMBERLIDPAIR WHERE ZLID IS NOT NULL AND "
                   "ZPHONENUMBER IS NOT NULL",
                   [&](const SqliteRow& row) {
                     m.lid_pairs.emplace(user_part(row.text(0)), row.text(1));
                     return true;
                   });
  }
  return m;
}

Entry resolve(const Json& v, const WaMaps& m) {
  if (!v.is_string() || v.get<std::string>().empty()) return {nullptr, nullptr};
  std::string s = v.get<std::string>();
  if (ends_with(s, "@lid")) {
    std::string user = user_part(s);
    if (auto it = m.by_lid.find(user); it != m.by_lid.end()) return it->second;
    if (auto it = m.lid_pairs.find(user); it != m.lid_pairs.end()) {
      std::string d = digits_of(it->second);
      if (auto p = m.by_phone.find(d); p != m.by_phone.end()) return {p->second.first, p->second.second};
      return {d.empty() ? Json(nullptr) : Json("+" + d), nullptr};
    }
    return {nullptr, nullptr};
  }
  if (ends_with(s, "@g.us")) return {nullptr, nullptr};
  if (ends_with(s, "@s.whatsapp.net")) {
    std::string d = user_part(s);
    Entry e{nullptr, nullptr};
    if (auto it = m.by_phone.find(d); it != m.by_phone.end()) e = it->second;
    bool has_phone = e.first.is_string() && !e.first.get<std::string>().empty();
    return {has_phone ? e.first : Json("+" + d), e.second};
  }
  if (s[0] == '+') {
    if (auto it = m.by_phone.find(digits_of(s)); it != m.by_phone.end()) return {nullptr, it->second.second};
    return {nullptr, nullptr};
  }
  return {nullptr, nullptr};
}

bool present(const Entry& e) {
  auto t = [](const Json& j) { return j.is_string() ? !j.get<std::string>().empty() : !j.is_null(); };
  return t(e.first) || t(e.second);
}

std::string describe_party(const Json& r, const std::string& prefix) {
  std::string name = truthy(r, prefix + "_display_name");
  if (name.empty()) name = truthy(r, prefix + "_resolved_name");
  std::string id = truthy(r, prefix + "_resolved_phone_number");
  if (id.empty()) id = truthy(r, prefix + "_identifier");
  if (!name.empty() && !id.empty()) {
    // A display name that is only a formatted copy of the number adds nothing.
    std::string nd = digits_of(name);
    if (!nd.empty() && nd == digits_of(id)) return id;
    return name + " (" + id + ")";
  }
  return !name.empty() ? name : id;
}

std::string describe_delta(double seconds) {
  char buf[64];
  if (seconds >= 86400) std::snprintf(buf, sizeof buf, "%.0f days", seconds / 86400);
  else std::snprintf(buf, sizeof buf, "%.0f hours", seconds / 3600);
  return buf;
}

class InteractionC final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"InteractionC", "interaction_c", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "CoreDuet people interactions (interactionC.db), WhatsApp LIDs resolved"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto dbs = ios::open_databases(ctx, interaction_spec(), "InteractionC");
    if (dbs.empty()) return;
    WaMaps maps = read_whatsapp(ctx);
    const std::vector<std::pair<std::vector<Field>, const char*>> variants = {
        {kFull, kFullJoins}, {without_newest(), kFullJoins}, {kSenderOnlyA, kSenderJoin}, {sender_only_b(), kSenderJoin}};
    for (auto& db : dbs) {
      std::vector<Json> records;
      bool done = false;
      std::string last_error;
      for (auto& [fields, joins] : variants) {
        std::string sql = "SELECT ";
        for (std::size_t i = 0; i < fields.size(); ++i) sql += (i ? ", " : "") + std::string(fields[i].expr);
        sql += std::string(joins) + " ORDER BY ZINTERACTIONS.Z_PK";
        records.clear();
        SqliteError err;
        const auto& fl = fields;
        bool ok = db.db->query(sql, [&](const SqliteRow& row) {
          Json r;
          for (int i = 0; i < static_cast<int>(fl.size()); ++i) {
            std::string n = fl[i].name;
            if (is_timestamp(n) && !row.is_null(i) && row.type(i) != 3 /* SQLITE_TEXT */)
              r[n] = ios::mac_value_iso(row, i);
            else
              r[n] = row.value(i);
          }
          records.push_back(std::move(r));
          return true;
        }, &err);
        if (ok) {
          done = true;
          break;
        }
        last_error = err.message;
        // A damaged database is not a schema difference: no point trying older queries.
        if (err.corrupt) break;
      }
      if (!done) {
        ctx.unreadable(db.file.display, "cannot read the interactions: " + last_error);
        if (records.empty()) continue;
      }
      for (auto& r : records) {
        // The older queries return ZDIRECTION as a number.
        if (auto& d = r["direction"]; d == 0 || d == "0") d = "INCOMING";
        else if (d == 1 || d == "1") d = "OUTGOING";
        if (jstr(r, "bundle_id") != kWhatsApp) continue;
        const std::vector<std::pair<std::string, std::vector<Json>>> candidates = {
            {"sender", {r.value("sender_identifier", Json()), r.value("custom_id", Json())}},
            {"recipient", {r.value("recipient_identifier", Json())}},
            {"domain", {r.value("domain_identifier", Json())}}};
        for (auto& [prefix, values] : candidates) {
          Entry e{nullptr, nullptr};
          for (auto& v : values) {
            e = resolve(v, maps);
            if (present(e)) break;
          }
          r[prefix + "_resolved_phone_number"] = e.first;
          r[prefix + "_resolved_name"] = e.second;
        }
      }
      for (auto& r : records) ctx.emit(std::move(r));
      ctx.info("Extracted a total of " + std::to_string(records.size()) + " InteractionC events");
    }
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string sender = describe_party(r, "sender");
    std::string recipient = describe_party(r, "recipient");
    if (recipient.empty()) recipient = describe_party(r, "domain");
    std::string direction = truthy(r, "direction");
    if (sender.empty() && direction == "OUTGOING") sender = "local user";
    if (recipient.empty() && direction == "INCOMING") recipient = "local user";
    std::string header = "[" + pystr(r, "bundle_id") + "]";
    if (auto a = truthy(r, "account"); !a.empty()) header += " " + a;
    if (!direction.empty()) header += " " + direction;
    std::string data = header + " from " + (sender.empty() ? "unknown" : sender) + " to " +
                       (recipient.empty() ? "unknown" : recipient);
    if (auto g = truthy(r, "group_name"); !g.empty()) data += " (group: " + g + ")";
    if (auto c = truthy(r, "content"); !c.empty()) data += ": " + c;

    std::vector<std::string> seen;
    for (const char* k : {"start_date", "end_date"}) {
      std::string t = truthy(r, k);
      if (t.empty() || std::find(seen.begin(), seen.end(), t) != seen.end()) continue;
      out.push_back({t, k, data});
      seen.push_back(t);
    }

    if (std::string created = truthy(r, "interactions_creation_date"); !created.empty()) {
      auto start = iso_to_unix(truthy(r, "start_date"));
      auto made = iso_to_unix(created);
      if (!start || !made) {
        out.push_back({created, "interactions_creation_date", data});
      } else {
        double delta = *made - *start;
        if (std::fabs(delta) >= kCreationDivergence)
          out.push_back({created, "interactions_creation_date",
                         "Interaction record created " + describe_delta(std::fabs(delta)) + " " +
                             (delta > 0 ? "after" : "before") + " the event: " + data});
      }
    }

    static const std::pair<const char*, const char*> kContactEvents[] = {
        {"contacts_creation_date", "Contact {} first recorded in interactionC"},
        {"first_incoming_sender_date", "First incoming interaction from {}"},
        {"last_incoming_sender_date", "Last incoming interaction from {}"},
        {"first_incoming_recipient_date", "First incoming interaction where {} was a recipient"},
        {"last_incoming_recipient_date", "Last incoming interaction where {} was a recipient"},
        {"first_outgoing_recipient_date", "First outgoing interaction to {}"},
        {"last_outgoing_recipient_date", "Last outgoing interaction to {}"},
    };
    if (sender.empty() || sender == "local user") sender = describe_party(r, "sender");
    if (sender.empty()) return;
    for (auto& [field, tmpl] : kContactEvents) {
      std::string t = truthy(r, field);
      if (t.empty()) continue;
      std::string text = tmpl;
      text.replace(text.find("{}"), 2, sender);
      out.push_back({t, field, text});
    }
  }
};

BRIDLE_REGISTER_MODULE(InteractionC);

}  // namespace
}  // namespace bridle
