// Read-only access to SQLite evidence. Databases are opened with immutable=1 so nothing
// (no -shm, no -wal, no journal) is ever created or changed next to the evidence. A
// database with a non-empty -wal sidecar is copied with its WAL into a private temporary
// folder and opened there, so the WAL is applied without touching the original.
#pragma once
#include <chrono>
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
  // Column name (cached for the statement: one string per column, not per row).
  const std::string& name(int i) const;
  // True when two result columns share a name (then the later one overwrites, as in a dict).
  bool duplicate_names() const;
  bool is_null(int i) const;
  int type(int i) const;  // SQLITE_INTEGER ...
  std::int64_t integer(int i) const;
  double real(int i) const;
  std::string text(int i) const;   // TEXT as is; other types converted by SQLite
  std::string blob(int i) const;   // raw bytes
  std::string_view text_view(int i) const;  // TEXT bytes, valid until the next step
  std::string_view blob_view(int i) const;  // BLOB bytes, valid until the next step
  // Column by name (-1 when absent).
  int index(const std::string& name) const;
  // Python-sqlite3-like value: null/int/float/str; blobs become base64 when
  // blob_base64, else UTF-8-with-backslashreplace text (MVT's JSON encoder).
  Json value(int i, bool blob_base64 = false) const;

 private:
  friend class SqliteDb;
  explicit SqliteRow(sqlite3_stmt* st) : st_(st) {}
  void load_names() const;
  sqlite3_stmt* st_;
  mutable std::vector<std::string> names_;  // filled on first use
  mutable bool names_loaded_ = false;
  mutable bool duplicates_ = false;
};

struct SqliteError {
  std::string message;
  bool corrupt = false;  // SQLITE_CORRUPT / SQLITE_NOTADB
};

// The plaintext of a database that is not stored as a plain file (e.g. a file of an encrypted
// backup), read at any offset on demand: SqliteDb::open_image reads it through a read-only
// SQLite VFS, so the plaintext is never written to disk and never held whole in memory.
// One reader serves one connection (one thread at a time).
class SqliteImageReader {
 public:
  virtual ~SqliteImageReader() = default;
  // Plaintext size in bytes (fixed when the reader is made).
  virtual std::uint64_t size() const = 0;
  // Copies plaintext [offset, offset + n) into out; offset + n <= size(). false + *err (a
  // message naming the file) on failure.
  virtual bool read(std::uint64_t offset, void* out, std::size_t n, std::string* err) = 0;
};

// Tuning for SqliteDb::open. The defaults suit evidence parsing.
struct SqliteOptions {
  // Wall-clock budget for the SQLite work of one query() (time spent inside sqlite3_step,
  // not in the row callback). A hostile database cannot make a query run longer; it fails
  // with "query timed out". 0 = unlimited.
  std::chrono::milliseconds query_timeout{60'000};
  int busy_timeout_ms = 5'000;
};

class SqliteDb {
 public:
  static std::unique_ptr<SqliteDb> open(const std::filesystem::path& path,
                                        const SqliteOptions& options, SqliteError* err);
  // Opens `path` read-only (see file comment). nullopt + error when it is not a readable
  // SQLite database.
  static std::unique_ptr<SqliteDb> open(const std::filesystem::path& path, SqliteError* err);
  // Opens a database image held in memory (e.g. a decrypted backup file), read-only, with
  // sqlite3_deserialize: the plaintext never touches the disk. `label` names it in errors.
  static std::unique_ptr<SqliteDb> open_memory(std::string image, const std::string& label,
                                               SqliteError* err);
  // Opens the database whose plaintext `reader` gives, read-only, through bridle's image VFS
  // (bridle-image): xWrite/xTruncate/xSync refuse, no journal, WAL or lock is ever created;
  // temporary files (large sorts) are encrypted with a throw-away key. A database last
  // written in WAL mode is read as a rollback-journal one (as open_memory does). Reader
  // failures during queries are reported with the reader's message. `label` names it.
  static std::unique_ptr<SqliteDb> open_image(std::unique_ptr<SqliteImageReader> reader,
                                              const std::string& label, SqliteError* err);
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
  void set_query_timeout(std::chrono::milliseconds timeout) { options_.query_timeout = timeout; }
  // True when the database had a non-empty -wal that was applied (on a private copy).
  bool wal_applied() const { return temp_ != nullptr; }
  // Called once when the database is closed (after an in-memory image has been wiped).
  void set_on_close(std::function<void()> fn) { on_close_ = std::move(fn); }

  struct Budget;      // per-query time accounting (implementation detail)
  struct ImageState;  // open_image: the reader and its last error (implementation detail)

 private:
  SqliteDb() = default;
  static int progress_cb(void* self);
  // Hardening and the validation query shared by every open path; false + *err.
  bool finish_open(const std::string& label, SqliteError* err);
  std::string image_error() const;  // open_image: the reader's last failure, if any
  void clear_image_error();
  sqlite3* db_ = nullptr;
  std::unique_ptr<TempDir> temp_;  // private copy when a WAL had to be applied
  SqliteOptions options_{};
  Budget* active_ = nullptr;  // budget of the query whose sqlite3_step is running
  std::string image_;          // open_memory: the database bytes SQLite reads in place
  std::function<void()> on_close_;
  std::shared_ptr<ImageState> image_state_;  // open_image
};

// URI ("file:///...?mode=ro&immutable=1" style) for a path, percent-encoding every byte
// outside [A-Za-z0-9._~/-] so %, ?, #, spaces and non-ASCII names are safe.
std::string sqlite_file_uri(const std::filesystem::path& path, const std::string& query);

// For a corrupt database: copies `src` (and its non-empty -wal) into `into`, runs the
// sqlite3 command-line tool on that copy (fork/exec, no shell; ".recover", falling back to
// ".dump" which scans past damaged pages, e.g. when the CLI lacks sqlite_dbpage as Debian's
// does) and replays its SQL output into a new database inside `into`, which is returned.
// Output is bounded (2 GiB) and time-limited (10 min); the replay only accepts
// BEGIN/COMMIT/CREATE/INSERT/PRAGMA writable_schema statements. nullopt (+ *err) when the
// tool is missing or nothing could be recovered. The original file is never opened.
std::optional<std::filesystem::path> sqlite_recover_copy(const std::filesystem::path& src,
                                                         TempDir& into, std::string* err);

}  // namespace bridle
