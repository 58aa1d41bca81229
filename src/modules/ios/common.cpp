#include "modules/ios/common.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>

#include "core/timeutil.hpp"
#include "formats/plist.hpp"

namespace bridle::ios {

std::vector<OpenedDb> open_databases(ModuleContext& ctx, const ArtifactSpec& spec,
                                     const std::string& what) {
  std::vector<OpenedDb> out;
  IosSource* src = ctx.ios();
  if (!src) return out;
  auto files = src->find(spec);
  if (files.empty()) {
    ctx.info("There might be no data to extract: unable to find the " + what + " database");
    return out;
  }
  for (auto& f : files) {
    SqliteError err;
    auto db = src->open_sqlite(f, &err);
    if (!db) {
      ctx.unreadable(f.display, "cannot open the " + what + " database: " + err.message);
      continue;
    }
    ctx.info("Found " + what + " database at path: " + f.display);
    out.push_back({f, std::move(db)});
  }
  return out;
}

std::vector<ReadPlist> read_plists(ModuleContext& ctx, const ArtifactSpec& spec,
                                   const std::string& what, bool data_as_base64) {
  std::vector<ReadPlist> out;
  IosSource* src = ctx.ios();
  if (!src) return out;
  auto files = src->find(spec);
  if (files.empty()) {
    ctx.info("There might be no data to extract: unable to find " + what);
    return out;
  }
  for (auto& f : files) {
    std::string err;
    auto bytes = src->read(f, &err, 256ull << 20);
    if (!bytes) {
      ctx.unreadable(f.display, "cannot read " + what + ": " + err);
      continue;
    }
    PlistOptions po;
    po.data_as_base64 = data_as_base64;
    auto j = plist_to_json(*bytes, po, &err);
    if (!j) {
      ctx.unreadable(f.display, "not a readable property list: " + err);
      continue;
    }
    out.push_back({f, std::move(*j)});
  }
  return out;
}

bool run_query(ModuleContext& ctx, OpenedDb& db, const std::string& sql,
               const std::function<bool(const SqliteRow&)>& fn) {
  SqliteError err;
  if (db.db->query(sql, fn, &err)) return true;
  ctx.unreadable(db.file.display, (err.corrupt ? "damaged database: " : "query failed: ") + err.message);
  return false;
}

namespace {
// Appends a member to an object known not to hold `key` yet, without ordered_map's linear
// key search (which makes building a wide row quadratic).
void append_member(Json& j, const std::string& key, Json value) {
  auto& base = static_cast<Json::object_t::Container&>(j.get_ref<Json::object_t&>());
  base.emplace_back(key, std::move(value));
}
}  // namespace

Json row_to_json(const SqliteRow& row, const std::vector<std::string>& b64) {
  Json j = Json::object();
  const int n = row.columns();
  const bool dups = row.duplicate_names();
  if (!dups) j.get_ref<Json::object_t&>().reserve(static_cast<std::size_t>(n) + 4);
  for (int i = 0; i < n; ++i) {
    const std::string& name = row.name(i);
    bool as_b64 = !b64.empty() && std::find(b64.begin(), b64.end(), name) != b64.end();
    if (dups) j[name] = row.value(i, as_b64);
    else append_member(j, name, row.value(i, as_b64));
  }
  return j;
}

std::string mac_value_iso(const SqliteRow& row, int col) {
  if (col < 0 || row.is_null(col)) return "";
  if (row.type(col) == SQLITE_INTEGER) return mac_to_iso_int(row.integer(col));
  if (row.type(col) == SQLITE_FLOAT) return mac_to_iso(row.real(col));
  return "";
}

}  // namespace bridle::ios

namespace bridle::ios {

std::string evidence_ref(const IosFile& f) {
  if (f.file_id.size() > 2) return f.file_id.substr(0, 2) + "/" + f.file_id;
  return f.relative_path;
}

std::vector<std::string> table_columns(OpenedDb& db, const std::string& table) {
  if (!db.db) return {};
  return db.db->columns(table);
}

bool has_column(const std::vector<std::string>& cols, const std::string& name) {
  for (auto& c : cols)
    if (c.size() == name.size() &&
        std::equal(c.begin(), c.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return true;
  return false;
}

Json row_to_json_blobs_b64(const SqliteRow& row) {
  Json j = Json::object();
  const int n = row.columns();
  const bool dups = row.duplicate_names();
  if (!dups) j.get_ref<Json::object_t&>().reserve(static_cast<std::size_t>(n) + 4);
  for (int i = 0; i < n; ++i) {
    if (dups) j[row.name(i)] = row.value(i, row.type(i) == SQLITE_BLOB);
    else append_member(j, row.name(i), row.value(i, row.type(i) == SQLITE_BLOB));
  }
  return j;
}

Json mac_value_iso_or_null(const SqliteRow& row, int col) {
  if (col < 0 || row.is_null(col)) return nullptr;
  return mac_value_iso(row, col);
}

}  // namespace bridle::ios
