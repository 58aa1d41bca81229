#include "formats/sqlite.hpp"

#include <openssl/crypto.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <system_error>

#include "core/util.hpp"

namespace bridle {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------
// SqliteRow

int SqliteRow::columns() const { return sqlite3_column_count(st_); }

void SqliteRow::load_names() const {
  if (names_loaded_) return;
  int n = sqlite3_column_count(st_);
  names_.clear();
  names_.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const char* c = sqlite3_column_name(st_, i);
    names_.emplace_back(c ? c : "");
  }
  for (std::size_t i = 0; i < names_.size() && !duplicates_; ++i)
    for (std::size_t k = 0; k < i; ++k)
      if (names_[k] == names_[i]) {
        duplicates_ = true;
        break;
      }
  names_loaded_ = true;
}

const std::string& SqliteRow::name(int i) const {
  static const std::string empty;
  load_names();
  if (i < 0 || static_cast<std::size_t>(i) >= names_.size()) return empty;
  return names_[static_cast<std::size_t>(i)];
}

bool SqliteRow::duplicate_names() const {
  load_names();
  return duplicates_;
}

std::string_view SqliteRow::text_view(int i) const {
  const unsigned char* t = sqlite3_column_text(st_, i);
  int n = sqlite3_column_bytes(st_, i);
  if (!t || n <= 0) return {};
  return {reinterpret_cast<const char*>(t), static_cast<std::size_t>(n)};
}

std::string_view SqliteRow::blob_view(int i) const {
  const void* b = sqlite3_column_blob(st_, i);
  int n = sqlite3_column_bytes(st_, i);
  if (!b || n <= 0) return {};
  return {static_cast<const char*>(b), static_cast<std::size_t>(n)};
}

bool SqliteRow::is_null(int i) const { return sqlite3_column_type(st_, i) == SQLITE_NULL; }
int SqliteRow::type(int i) const { return sqlite3_column_type(st_, i); }
std::int64_t SqliteRow::integer(int i) const { return sqlite3_column_int64(st_, i); }
double SqliteRow::real(int i) const { return sqlite3_column_double(st_, i); }

std::string SqliteRow::text(int i) const {
  const unsigned char* t = sqlite3_column_text(st_, i);
  int n = sqlite3_column_bytes(st_, i);
  if (!t || n <= 0) return {};
  return std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(n));
}

std::string SqliteRow::blob(int i) const {
  const void* b = sqlite3_column_blob(st_, i);
  int n = sqlite3_column_bytes(st_, i);
  if (!b || n <= 0) return {};
  return std::string(static_cast<const char*>(b), static_cast<std::size_t>(n));
}

int SqliteRow::index(const std::string& wanted) const {
  int n = columns();
  for (int i = 0; i < n; ++i)
    if (name(i) == wanted) return i;
  // SQLite column names are case-insensitive (like Python's sqlite3.Row keys).
  for (int i = 0; i < n; ++i)
    if (sqlite3_stricmp(name(i).c_str(), wanted.c_str()) == 0) return i;
  return -1;
}

Json SqliteRow::value(int i, bool blob_base64) const {
  switch (sqlite3_column_type(st_, i)) {
    case SQLITE_INTEGER: return Json(static_cast<std::int64_t>(sqlite3_column_int64(st_, i)));
    case SQLITE_FLOAT: return Json(sqlite3_column_double(st_, i));
    case SQLITE_TEXT: {
      std::string_view t = text_view(i);
      if (is_valid_utf8(t)) return Json(std::string(t));
      return Json(utf8_backslashreplace(t));
    }
    case SQLITE_BLOB: {
      std::string_view b = blob_view(i);
      return blob_base64 ? Json(base64_encode(b)) : Json(utf8_backslashreplace(b));
    }
    default: return Json(nullptr);
  }
}

// ---------------------------------------------------------------------------------------
// Helpers

namespace {

bool is_corrupt_code(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

void set_err(SqliteError* err, std::string message, bool corrupt) {
  if (!err) return;
  err->message = std::move(message);
  err->corrupt = corrupt;
}

// Copies a file into a new 0600 file (O_EXCL, no symlink following at the target).
bool copy_private(const fs::path& from, const fs::path& to, std::string* why) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    *why = "cannot open " + from.string() + ": " + std::strerror(errno);
    return false;
  }
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) {
    *why = "cannot create " + to.string() + ": " + std::strerror(errno);
    ::close(in);
    return false;
  }
  ::fchmod(out, 0600);
  std::array<char, 1 << 16> buf{};
  bool ok = true;
  for (;;) {
    ssize_t got = ::read(in, buf.data(), buf.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      *why = "cannot read " + from.string() + ": " + std::strerror(errno);
      ok = false;
      break;
    }
    if (got == 0) break;
    ssize_t off = 0;
    while (off < got) {
      ssize_t w = ::write(out, buf.data() + off, static_cast<std::size_t>(got - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        *why = "cannot write " + to.string() + ": " + std::strerror(errno);
        ok = false;
        break;
      }
      off += w;
    }
    if (!ok) break;
  }
  ::close(in);
  if (::close(out) != 0 && ok) {
    *why = "cannot write " + to.string() + ": " + std::strerror(errno);
    ok = false;
  }
  return ok;
}

fs::path sidecar(const fs::path& db, const char* suffix) {
  fs::path p = db;
  p += suffix;
  return p;
}

std::uint64_t regular_size(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

bool regular_exists(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string sqlite_file_uri(const fs::path& path, const std::string& query) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  const std::string raw = abs.string();
  static const char* hx = "0123456789ABCDEF";
  // "file://" + empty authority + absolute path ("file:///abs"), so a path that begins with
  // "//" can never be read as an authority.
  std::string out = "file://";
  if (raw.empty() || raw[0] != '/') out += '/';
  for (unsigned char c : raw) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '~' || c == '-' || c == '/';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hx[c >> 4];
      out += hx[c & 15];
    }
  }
  if (!query.empty()) out += "?" + query;
  return out;
}

// ---------------------------------------------------------------------------------------
// SqliteDb

struct SqliteDb::Budget {
  std::chrono::nanoseconds spent{0};
  Clock::time_point step_start{};
  std::chrono::milliseconds limit{0};
  bool timed_out = false;
};

int SqliteDb::progress_cb(void* self) {
  auto* db = static_cast<SqliteDb*>(self);
  Budget* b = db->active_;
  if (!b || b->limit.count() <= 0) return 0;
  auto used = b->spent + (Clock::now() - b->step_start);
  if (used > b->limit) {
    b->timed_out = true;
    return 1;  // interrupts the statement with SQLITE_INTERRUPT
  }
  return 0;
}

std::unique_ptr<SqliteDb> SqliteDb::open(const fs::path& path, SqliteError* err) {
  return open(path, SqliteOptions{}, err);
}

std::unique_ptr<SqliteDb> SqliteDb::open(const fs::path& path, const SqliteOptions& options,
                                         SqliteError* err) {
  try {
    set_err(err, "", false);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      set_err(err, "cannot open " + path.string() + ": " + std::strerror(errno), false);
      return nullptr;
    }
    if (!S_ISREG(st.st_mode)) {
      set_err(err, path.string() + " is not a regular file", false);
      return nullptr;
    }

    std::unique_ptr<SqliteDb> self(new SqliteDb());
    self->options_ = options;
    std::string uri;
    const fs::path wal = sidecar(path, "-wal");
    if (regular_size(wal) > 0) {
      // Apply the WAL on a private copy: SQLite needs to write the wal-index (-shm), and the
      // evidence folder must never change. The -shm of the evidence is deliberately not
      // copied: SQLite rebuilds the index from the WAL itself, so a stale or inconsistent
      // device -shm cannot hide committed frames.
      auto temp = std::make_unique<TempDir>("bridle-sqlite");
      fs::path copy = temp->path() / "evidence.db";
      std::string why;
      if (!copy_private(path, copy, &why) || !copy_private(wal, sidecar(copy, "-wal"), &why)) {
        set_err(err, "cannot copy the database and its WAL to a private folder: " + why, false);
        return nullptr;
      }
      self->temp_ = std::move(temp);
      uri = sqlite_file_uri(copy, "mode=ro");
    } else {
      uri = sqlite_file_uri(path, "mode=ro&immutable=1");
    }

    // NOMUTEX: a connection is only ever used by one thread at a time (each module opens its
    // own; a shared one is guarded by its owner's lock), so SQLite's per-call locking is waste.
    int rc = sqlite3_open_v2(uri.c_str(), &self->db_,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = self->db_ ? sqlite3_errmsg(self->db_) : sqlite3_errstr(rc);
      set_err(err, "cannot open " + path.string() + ": " + msg, is_corrupt_code(rc));
      return nullptr;  // destructor closes the handle
    }
    sqlite3_busy_timeout(self->db_, options.busy_timeout_ms);
    if (!self->finish_open(path.string(), err)) return nullptr;
    return self;
  } catch (const std::exception& e) {
    set_err(err, std::string("cannot open ") + path.string() + ": " + e.what(), false);
    return nullptr;
  } catch (...) {
    set_err(err, "cannot open " + path.string(), false);
    return nullptr;
  }
}

std::unique_ptr<SqliteDb> SqliteDb::open_memory(std::string image, const std::string& label,
                                                SqliteError* err) {
  try {
    set_err(err, "", false);
    std::unique_ptr<SqliteDb> self(new SqliteDb());
    int rc = sqlite3_open_v2(":memory:", &self->db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      set_err(err, "cannot open " + label + ": " + sqlite3_errstr(rc), false);
      return nullptr;
    }
    sqlite3* db = self->db_;
    // SQLite reads the image in place (no copy: a decrypted sms.db can be hundreds of MB); it
    // is owned by this object, wiped and freed after the handle is closed.
    auto size = static_cast<sqlite3_int64>(image.size());
    if (image.empty()) image.push_back('\0');  // a valid pointer for an empty image
    self->image_ = std::move(image);
    auto* buf = reinterpret_cast<unsigned char*>(self->image_.data());
    // A database last written in WAL mode (file format bytes 18/19 == 2) cannot be opened
    // from memory; in this private image, mark it as a rollback-journal database.
    if (size >= 100 && buf[18] == 2 && buf[19] == 2) buf[18] = buf[19] = 1;
    rc = sqlite3_deserialize(db, "main", buf, size, size, SQLITE_DESERIALIZE_READONLY);
    if (rc != SQLITE_OK) {
      set_err(err, "cannot load " + label + ": " + sqlite3_errmsg(db), is_corrupt_code(rc));
      return nullptr;
    }
    if (!self->finish_open(label, err)) return nullptr;  // the same hardening as every connection
    return self;
  } catch (const std::exception& e) {
    set_err(err, "cannot open " + label + ": " + e.what(), false);
    return nullptr;
  }
}

// Every connection: hostile-database hardening (no schema-defined functions with side
// effects, defensive mode, bounded parser depths and sizes, no attachments), the query-time
// progress handler, and a first read of the schema (not a database -> error naming `label`).
bool SqliteDb::finish_open(const std::string& label, SqliteError* err) {
  sqlite3* db = db_;
  sqlite3_extended_result_codes(db, 1);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 1000);
  sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 500);
  sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 100);
  sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50'000);
  sqlite3_progress_handler(db, 10'000, &SqliteDb::progress_cb, this);
  SqliteError verr;
  std::int64_t count = -1;
  bool ok = query("SELECT count(*) FROM sqlite_master", {}, [&](const SqliteRow& row) {
    count = row.integer(0);
    return true;
  }, &verr);
  if (!ok || count < 0) {
    set_err(err, label + ": " + (verr.message.empty() ? "not a database" : verr.message), verr.corrupt);
    return false;
  }
  return true;
}

SqliteDb::~SqliteDb() {
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
  temp_.reset();  // after the handle is closed
  if (!image_.empty()) {
    OPENSSL_cleanse(image_.data(), image_.size());
    std::string().swap(image_);
  }
  if (on_close_) on_close_();
}

bool SqliteDb::query(const std::string& sql, const std::vector<std::string>& params,
                     const std::function<bool(const SqliteRow&)>& fn, SqliteError* err) {
  if (err) *err = SqliteError{};
  if (image_state_) clear_image_error();
  if (!db_) {
    set_err(err, "database is not open", false);
    return false;
  }
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr);
  if (rc != SQLITE_OK || !st) {
    std::string msg = rc == SQLITE_OK ? "empty statement" : sqlite3_errmsg(db_);
    if (std::string why = image_error(); rc != SQLITE_OK && !why.empty()) msg += ": " + why;
    set_err(err, msg, is_corrupt_code(rc));
    sqlite3_finalize(st);
    return false;
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    rc = sqlite3_bind_text64(st, static_cast<int>(i + 1), params[i].data(), params[i].size(),
                             SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK) {
      set_err(err, std::string("cannot bind parameter ") + std::to_string(i + 1) + ": " +
                       sqlite3_errmsg(db_), false);
      sqlite3_finalize(st);
      return false;
    }
  }

  Budget budget;
  budget.limit = options_.query_timeout;
  Budget* outer = active_;  // queries may nest (a query inside a row callback)
  bool ok = true;
  SqliteRow row(st);
  for (;;) {
    active_ = &budget;
    budget.step_start = Clock::now();
    rc = sqlite3_step(st);
    budget.spent += Clock::now() - budget.step_start;
    active_ = outer;
    if (rc == SQLITE_ROW) {
      bool more = true;
      try {
        more = fn(row);
      } catch (const std::exception& e) {
        set_err(err, std::string("row callback failed: ") + e.what(), false);
        ok = false;
        break;
      } catch (...) {
        set_err(err, "row callback failed", false);
        ok = false;
        break;
      }
      if (!more) break;
      continue;
    }
    if (rc == SQLITE_DONE) break;
    ok = false;
    if (budget.timed_out) {
      set_err(err, "query timed out after " + std::to_string(budget.limit.count()) + " ms", false);
    } else {
      std::string msg = sqlite3_errmsg(db_);
      if (std::string why = image_error(); !why.empty()) msg += ": " + why;
      set_err(err, msg, is_corrupt_code(rc));
    }
    break;
  }
  sqlite3_finalize(st);
  return ok;
}

bool SqliteDb::has_table(const std::string& table) {
  bool found = false;
  query("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?1 COLLATE NOCASE",
        {table}, [&](const SqliteRow&) {
          found = true;
          return false;
        });
  return found;
}

std::vector<std::string> SqliteDb::columns(const std::string& table) {
  std::vector<std::string> out;
  query("SELECT name FROM pragma_table_info(?1)", {table}, [&](const SqliteRow& row) {
    out.push_back(row.text(0));
    return true;
  });
  return out;
}

std::string SqliteDb::quick_check() {
  std::vector<std::string> lines;
  SqliteError e;
  bool ok = query("PRAGMA quick_check", [&](const SqliteRow& row) {
    lines.push_back(row.text(0));
    return lines.size() < 100;
  }, &e);
  if (!ok) return e.message.empty() ? "quick_check failed" : e.message;
  if (lines.size() == 1 && lines[0] == "ok") return "ok";
  std::string out;
  for (auto& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out.empty() ? "quick_check returned nothing" : out;
}

// ---------------------------------------------------------------------------------------
// Recovery through the sqlite3 command-line tool

namespace {

constexpr std::uint64_t kMaxRecoverOutput = 2ULL << 30;  // 2 GiB of SQL text
constexpr auto kRecoverTimeout = std::chrono::minutes(10);

std::optional<fs::path> find_sqlite3_cli() {
  if (::access("/usr/bin/sqlite3", X_OK) == 0) return fs::path("/usr/bin/sqlite3");
  const char* pathenv = std::getenv("PATH");
  if (!pathenv) return std::nullopt;
  for (const auto& dir : split(pathenv, ':')) {
    if (dir.empty() || dir[0] != '/') continue;  // only absolute PATH entries
    fs::path cand = fs::path(dir) / "sqlite3";
    if (regular_exists(cand) && ::access(cand.c_str(), X_OK) == 0) return cand;
  }
  return std::nullopt;
}

// Replays the CLI's SQL into `out`, one complete statement at a time, refusing anything that
// is not part of a plain reconstruction (ATTACH, VACUUM INTO, other pragmas...).
class Replayer {
 public:
  explicit Replayer(sqlite3* db) : db_(db) {}

  void feed(const char* data, std::size_t len) {
    for (std::size_t i = 0; i < len; ++i) {
      pending_ += data[i];
      if (data[i] == '\n') line_end();
    }
  }
  void finish() {
    if (!trim(pending_).empty()) run(pending_);
    pending_.clear();
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  }
  std::size_t executed() const { return executed_; }
  std::size_t inserts() const { return inserts_; }

 private:
  void line_end() {
    // A statement ends with ';' at the end of a line; sqlite3_complete confirms it is not
    // inside a string literal. Checking only then keeps this linear in practice.
    std::size_t e = pending_.size();
    while (e > 0 && std::isspace(static_cast<unsigned char>(pending_[e - 1]))) --e;
    if (e == 0) {
      pending_.clear();
      return;
    }
    if (pending_[e - 1] != ';') return;
    if (!sqlite3_complete(pending_.c_str())) return;
    run(pending_);
    pending_.clear();
  }

  // The statement text without leading blanks and comments ("/* CORRUPTION ERROR */").
  static std::string_view skip_comments(std::string_view s) {
    for (;;) {
      std::size_t i = 0;
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      s.remove_prefix(i);
      if (s.substr(0, 2) == "--") {
        auto nl = s.find('\n');
        s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
      } else if (s.substr(0, 2) == "/*") {
        auto end = s.find("*/", 2);
        s.remove_prefix(end == std::string_view::npos ? s.size() : end + 2);
      } else {
        return s;
      }
    }
  }

  static bool allowed(const std::string& stmt, bool* is_insert) {
    std::string s = to_lower(skip_comments(stmt).substr(0, 64));
    *is_insert = false;
    auto starts = [&](const char* p) { return s.rfind(p, 0) == 0; };
    if (starts("insert")) {
      *is_insert = true;
      return true;
    }
    if (starts("create") || starts("begin") || starts("commit") || starts("end")) return true;
    if (starts("pragma")) {
      return s.find("writable_schema") != std::string::npos ||
             s.find("foreign_keys") != std::string::npos;
    }
    return false;  // ROLLBACK ("-- due to errors"), ATTACH, VACUUM, DELETE, UPDATE, ...
  }

  void run(const std::string& text) {
    const char* tail = text.c_str();
    while (tail && *tail) {
      sqlite3_stmt* st = nullptr;
      const char* next = nullptr;
      int rc = sqlite3_prepare_v2(db_, tail, -1, &st, &next);
      if (rc != SQLITE_OK) {
        // Skip the unparsable statement.
        sqlite3_finalize(st);
        return;
      }
      if (!st) break;  // only whitespace or comments left
      bool ins = false;
      const char* text_of = sqlite3_sql(st);
      if (text_of && allowed(text_of, &ins)) {
        while (sqlite3_step(st) == SQLITE_ROW) {
        }
        if (sqlite3_reset(st) == SQLITE_OK) {
          ++executed_;
          if (ins) ++inserts_;
        }
      }
      sqlite3_finalize(st);
      if (next == tail) break;
      tail = next;
    }
  }

  sqlite3* db_;
  std::string pending_;
  std::size_t executed_ = 0;
  std::size_t inserts_ = 0;
};

int deny_attach(void*, int action, const char*, const char*, const char*, const char*) {
  return (action == SQLITE_ATTACH || action == SQLITE_DETACH) ? SQLITE_DENY : SQLITE_OK;
}

std::atomic<unsigned> g_recover_seq{0};

// Runs `cli -batch -init /dev/null <db> <command>` and streams stdout into a new database.
// Returns the number of INSERT statements replayed, or nullopt on failure.
std::optional<std::size_t> run_cli_into(const fs::path& cli, const fs::path& db,
                                        const std::string& command, const fs::path& out_db,
                                        const fs::path& err_file, int* exit_status,
                                        std::string* err) {
  sqlite3* out = nullptr;
  if (sqlite3_open_v2(out_db.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    *err = std::string("cannot create the recovery database: ") +
           (out ? sqlite3_errmsg(out) : "out of memory");
    sqlite3_close(out);
    return std::nullopt;
  }
  ::chmod(out_db.c_str(), 0600);
  sqlite3_db_config(out, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
  sqlite3_db_config(out, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(out, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_exec(out, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", nullptr, nullptr, nullptr);
  sqlite3_limit(out, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_set_authorizer(out, deny_attach, nullptr);

  // Everything the child needs is prepared before fork().
  std::string a0 = cli.string(), a1 = "-batch", a2 = "-init", a3 = "/dev/null", a4 = db.string(),
              a5 = command;
  std::array<char*, 7> argv{a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), a5.data(),
                            nullptr};
  std::array<char*, 2> envp{const_cast<char*>("LC_ALL=C"), nullptr};
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    *err = std::string("pipe failed: ") + std::strerror(errno);
    sqlite3_close(out);
    return std::nullopt;
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int errfd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(pipefd[1], 1);
    if (errfd >= 0) ::dup2(errfd, 2);
    ::closefrom(3);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  if (devnull >= 0) ::close(devnull);
  if (errfd >= 0) ::close(errfd);
  if (pid < 0) {
    *err = std::string("fork failed: ") + std::strerror(errno);
    ::close(pipefd[0]);
    sqlite3_close(out);
    return std::nullopt;
  }

  Replayer replay(out);
  std::uint64_t total = 0;
  auto deadline = Clock::now() + kRecoverTimeout;
  bool killed = false;
  std::string why;
  std::array<char, 1 << 16> buf{};
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      why = "the sqlite3 tool timed out";
      killed = true;
      break;
    }
    pollfd p{pipefd[0], POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (pr < 0 && errno != EINTR) {
      why = std::string("poll failed: ") + std::strerror(errno);
      killed = true;
      break;
    }
    if (pr <= 0) continue;
    ssize_t got = ::read(pipefd[0], buf.data(), buf.size());
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      why = std::string("read failed: ") + std::strerror(errno);
      killed = true;
      break;
    }
    if (got == 0) break;
    total += static_cast<std::uint64_t>(got);
    if (total > kMaxRecoverOutput) {
      why = "the sqlite3 tool produced more than 2 GiB of output";
      killed = true;
      break;
    }
    replay.feed(buf.data(), static_cast<std::size_t>(got));
  }
  ::close(pipefd[0]);
  if (killed) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (killed) {
    *err = why;
    sqlite3_close(out);
    return std::nullopt;
  }
  replay.finish();
  std::size_t inserts = replay.inserts();
  if (sqlite3_close(out) != SQLITE_OK) sqlite3_close_v2(out);
  if (*exit_status == 127) {
    *err = "cannot run " + cli.string();
    return std::nullopt;
  }
  return inserts;
}

}  // namespace

std::optional<fs::path> sqlite_recover_copy(const fs::path& src, TempDir& into, std::string* err) {
  std::string dummy;
  if (!err) err = &dummy;
  try {
    auto cli = find_sqlite3_cli();
    if (!cli) {
      *err = "the sqlite3 command-line tool is not installed";
      return std::nullopt;
    }
    unsigned seq = g_recover_seq.fetch_add(1);
    fs::path work = into.path() / ("recover-" + std::to_string(::getpid()) + "-" + std::to_string(seq));
    std::error_code ec;
    fs::create_directory(work, ec);
    if (ec) {
      *err = "cannot create " + work.string() + ": " + ec.message();
      return std::nullopt;
    }
    ::chmod(work.c_str(), 0700);
    fs::path copy = work / "source.db";
    std::string why;
    if (!copy_private(src, copy, &why)) {
      *err = why;
      return std::nullopt;
    }
    fs::path wal = sidecar(src, "-wal");
    if (regular_size(wal) > 0 && !copy_private(wal, sidecar(copy, "-wal"), &why)) {
      *err = why;
      return std::nullopt;
    }

    std::string last_err;
    int status = 0;
    // .recover (needs sqlite_dbpage in the CLI build) gets the most; .dump reads past damaged
    // pages by scanning tables backwards, which is what Debian's CLI can do.
    for (const char* command : {".recover", ".dump"}) {
      fs::path out_db = work / (std::string("recovered") + (command[1] == 'r' ? "" : "-dump") + ".db");
      fs::path err_file = work / "stderr.txt";
      std::string e;
      auto inserts = run_cli_into(*cli, copy, command, out_db, err_file, &status, &e);
      // .recover fails as a whole (non-zero exit) when it cannot work at all; .dump exits 0
      // or 1 after printing what it could read.
      bool usable = inserts.has_value() && (std::string(command) == ".dump" || status == 0);
      if (usable) return out_db;
      std::string child_err = read_file(err_file, 4096).value_or("");
      last_err = std::string(command) + ": " +
                 (!e.empty() ? e : trim(child_err).empty() ? "exit status " + std::to_string(status)
                                                            : trim(child_err));
      fs::remove(out_db, ec);
    }
    *err = "recovery failed: " + last_err;
    return std::nullopt;
  } catch (const std::exception& e) {
    *err = std::string("recovery failed: ") + e.what();
    return std::nullopt;
  } catch (...) {
    *err = "recovery failed";
    return std::nullopt;
  }
}

}  // namespace bridle
