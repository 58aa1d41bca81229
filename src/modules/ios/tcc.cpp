// TCC: privacy permission grants (TCC.db "access" table): which app or binary may use the
// camera, microphone, photos, location... Spyware implants often grant themselves access.
//
// Three schemas, told apart by the columns of "access" (PRAGMA table_info):
//   v3 (iOS 14+): auth_value, auth_reason, last_modified
//   v2:           allowed, prompt_count, last_modified
//   v1:           allowed, prompt_count
#include <sqlite3.h>

#include <algorithm>

#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& tcc_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/TCC/TCC.db", false}},
                              {"private/var/mobile/Library/TCC/TCC.db"}};
  return s;
}

std::string auth_value_desc(const Json& v) {
  if (!v.is_number_integer()) return "";
  switch (v.get<std::int64_t>()) {
    case 0: return "denied";
    case 1: return "unknown";
    case 2: return "allowed";
    case 3: return "limited";
    default: return "";
  }
}

std::string allowed_desc(const Json& v) {
  if (!v.is_number_integer()) return "";
  switch (v.get<std::int64_t>()) {
    case 0: return "denied";
    case 1: return "allowed";
    default: return "";
  }
}

std::string auth_reason_desc(const Json& v) {
  static const char* const kReasons[] = {
      nullptr,          "error",          "user_consent",         "user_set",
      "system_set",     "service_policy", "mdm_policy",           "override_policy",
      "missing_usage_string", "prompt_timeout", "preflight_unknown", "entitled",
      "app_type_policy"};
  if (!v.is_number_integer()) return "unknown";
  auto n = v.get<std::int64_t>();
  if (n < 1 || n > 12) return "unknown";
  return kReasons[n];
}

// Unix seconds (int or float column) -> iso; "" for null or anything else.
std::string unix_value_iso(const SqliteRow& row, int col) {
  if (col < 0 || row.is_null(col)) return "";
  if (row.type(col) == SQLITE_INTEGER) return unix_to_iso_int(row.integer(col));
  if (row.type(col) == SQLITE_FLOAT) return unix_to_iso(row.real(col));
  return "";
}

bool col_present(const std::vector<std::string>& cols, const char* name) {
  std::string l = to_lower(name);
  return std::any_of(cols.begin(), cols.end(), [&](const std::string& c) { return to_lower(c) == l; });
}

class Tcc final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"TCC", "tcc", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Privacy permissions granted to apps and binaries (TCC.db)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, tcc_spec(), "TCC")) {
      auto cols = db.db->columns("access");
      if (cols.empty()) {
        ctx.unreadable(db.file.display, "no readable \"access\" table in the TCC database");
        continue;
      }
      if (!col_present(cols, "service") || !col_present(cols, "client")) {
        ctx.unreadable(db.file.display, "the \"access\" table has no service/client columns");
        continue;
      }
      auto col = [&](const char* c) { return col_present(cols, c) ? std::string(c) : std::string("NULL"); };
      int version = 0;
      std::string sql;
      if (col_present(cols, "auth_value")) {
        version = 3;
        sql = "SELECT service, client, " + col("client_type") + ", auth_value, " + col("auth_reason") + ", " +
              col("last_modified") + " FROM access";
      } else if (col_present(cols, "allowed")) {
        version = col_present(cols, "last_modified") ? 2 : 1;
        sql = "SELECT service, client, " + col("client_type") + ", allowed, " + col("prompt_count") +
              (version == 2 ? ", last_modified" : "") + " FROM access";
      } else {
        ctx.unreadable(db.file.display, "unknown TCC schema: \"access\" has neither auth_value nor allowed");
        continue;
      }

      std::size_t n = 0;
      ios::run_query(ctx, db, sql, [&](const SqliteRow& row) {
        Json r = Json::object();
        r["service"] = row.value(0);
        r["client"] = row.value(1);
        Json ct = row.value(2);
        r["client_type"] = (ct.is_number_integer() && ct.get<std::int64_t>() == 0) ? "bundle_id" : "absolute_path";
        std::string grant;
        if (version == 3) {
          grant = auth_value_desc(row.value(3));
          r["auth_value"] = grant;
          r["auth_reason_desc"] = auth_reason_desc(row.value(4));
          r["last_modified"] = unix_value_iso(row, 5);
        } else {
          grant = allowed_desc(row.value(3));
          r["allowed_value"] = grant;
          r["prompt_count"] = row.value(4);
          if (version == 2) r["last_modified"] = unix_value_iso(row, 5);
        }
        std::string service = jstr(r, "service");
        if (service == "kTCCServiceMicrophone" || service == "kTCCServiceCamera") {
          std::string device = service == "kTCCServiceMicrophone" ? "microphone" : "camera";
          std::string msg = "Found client \"" + jstr(r, "client") + "\" with access " + grant + " to " + device;
          if (r.contains("last_modified")) msg += " on " + jstr(r, "last_modified");
          if (version == 3) msg += " by " + jstr(r, "auth_reason_desc");
          ctx.info(msg);
        }
        ctx.emit(std::move(r));
        ++n;
        return true;
      });
      ctx.info("Extracted a total of " + std::to_string(n) + " TCC items");
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string client = jstr(r, "client");
    if (!client.empty()) out.push_back({ObsKind::Process, client, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    if (!r.contains("last_modified")) return;
    std::string grant = r.contains("allowed_value") ? pystr(r, "allowed_value") : pystr(r, "auth_value");
    out.push_back({jstr(r, "last_modified"), "AccessRequest",
                   "Access to " + pystr(r, "service") + " by " + pystr(r, "client") + " " + grant});
  }
};

BRIDLE_REGISTER_MODULE(Tcc);

}  // namespace
}  // namespace bridle
