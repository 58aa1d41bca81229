// Read-only access to SQLite evidence. Databases are opened with immutable=1 so nothing
// (no -shm, no -wal, no journal) is ever created or changed next to the evidence. A
// database with a non-empty -wal sidecar is copied with its WAL into a private temporary
// folder and opened there, so the WAL is applied without touching the original.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/types.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace bridle {

class TempDir;

class SqliteDb;

// One row of a query; column values converted to JSON like Python's sqlite3 module
// (INTEGER -> int, REAL -> float, TEXT -> str, BLOB -> bytes (kept as raw std::string in a
// Json binary-less string via blob()), NULL -> null).
class SqliteRow {
 public:
  int columns() const;
  std::string name(int i) const;
  bool is_null(int i) const;
  int type(int i) const;  // SQLITE_INTEGER ...
  std::int64_t integer(int i) const;
  double real(int i) const;
  std::string text(int i) const;   // TEXT as is; other types converted by SQLite
  std::string blob(int i) const;   // raw bytes
  // Column by name (-1 when absent).
  int index(const std::string& name) const;
  // Python-sqlite3-like value: null/int/float/str; blobs become base64 when
  // blob_base64, else UTF-8-with-backslashreplace text (MVT's JSON encoder).
  Json value(int i, bool blob_base64 = false) const;

 private:
  friend class SqliteDb;
  explicit SqliteRow(sqlite3_stmt* st) : st_(st) {}
  sqlite3_stmt* st_;
};

struct SqliteError {
  std::string message;
  bool corrupt = false;  // SQLITE_CORRUPT / SQLITE_NOTADB
};

class SqliteDb {
 public:
  // Opens `path` read-only (see file comment). nullopt + error when it is not a readable
  // SQLite database.
  static std::unique_ptr<SqliteDb> open(const std::filesystem::path& path, SqliteError* err);
  ~SqliteDb();

  // Runs `sql` with optional text parameters; calls fn for every row (return false to stop).
  // Returns false and fills err on failure (rows already delivered stay delivered).
  bool query(const std::string& sql, const std::vector<std::string>& params,
             const std::function<bool(const SqliteRow&)>& fn, SqliteError* err = nullptr);
  bool query(const std::string& sql, const std::function<bool(const SqliteRow&)>& fn,
             SqliteError* err = nullptr) {
    return query(sql, {}, fn, err);
  }
  bool has_table(const std::string& table);
  std::vector<std::string> columns(const std::string& table);  // PRAGMA table_info
  // "ok" when PRAGMA quick_check passes, else the problem text.
  std::string quick_check();
  sqlite3* handle() { return db_; }

 private:
  SqliteDb() = default;
  sqlite3* db_ = nullptr;
  std::unique_ptr<TempDir> temp_;  // private copy when a WAL had to be applied
};

}  // namespace bridle
