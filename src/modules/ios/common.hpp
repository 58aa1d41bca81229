// Shared helpers for iOS modules: finding and opening their databases and plists.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acquisition/source.hpp"
#include "modules/module.hpp"

namespace bridle::ios {

struct OpenedDb {
  IosFile file;
  std::unique_ptr<SqliteDb> db;
};

// Every file matching the spec opened as SQLite. Files that exist but cannot be opened are
// reported as unreadable; "not found" is logged as information.
std::vector<OpenedDb> open_databases(ModuleContext& ctx, const ArtifactSpec& spec,
                                     const std::string& what);

struct ReadPlist {
  IosFile file;
  Json data;
};
// Every file matching the spec parsed as a property list (unreadable ones reported).
std::vector<ReadPlist> read_plists(ModuleContext& ctx, const ArtifactSpec& spec,
                                   const std::string& what, bool data_as_base64 = true);

// Runs a query, reporting failure (and a corrupt database) as unreadable evidence.
bool run_query(ModuleContext& ctx, OpenedDb& db, const std::string& sql,
               const std::function<bool(const SqliteRow&)>& fn);

// The row as a JSON object with every column (blob columns named in `b64` base64-encoded,
// other blobs as UTF-8 text with backslash escapes).
Json row_to_json(const SqliteRow& row, const std::vector<std::string>& b64 = {});

// sqlite time value (int or float) as Mac absolute time -> iso ("" for null/0).
std::string mac_value_iso(const SqliteRow& row, int col);

}  // namespace bridle::ios

namespace bridle::ios {

// How MVT names an evidence file in records ("safari_history_db" and the like): the backup
// storage path "<id[0:2]>/<id>" for backups, the path inside the dump for filesystem dumps.
std::string evidence_ref(const IosFile& f);

// Column names of a table (empty when the table does not exist or cannot be read).
std::vector<std::string> table_columns(OpenedDb& db, const std::string& table);
bool has_column(const std::vector<std::string>& cols, const std::string& name);

// The row as a JSON object with every column, every BLOB value base64-encoded.
Json row_to_json_blobs_b64(const SqliteRow& row);

// sqlite time value as Mac absolute time -> iso; JSON null for SQL NULL ("" for 0, as MVT).
Json mac_value_iso_or_null(const SqliteRow& row, int col);

}  // namespace bridle::ios
