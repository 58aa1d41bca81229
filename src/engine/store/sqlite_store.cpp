// SQLite backend of the observation store (one machine): WAL, busy timeout for parallel
// writers, statements prepared with libsqlite3.
#include <sqlite3.h>

#include <stdexcept>

#include "engine/store/store.hpp"

namespace bridle::store {
namespace {

class SqliteDb final : public Db {
  struct Stmt {
    sqlite3_stmt* s = nullptr;
    Stmt(sqlite3* db, const std::string& sql) {
      if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string("store: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(s); }
  };

 public:
  explicit SqliteDb(const std::filesystem::path& file) {
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      std::string e = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw std::runtime_error("cannot open the store " + file.string() + ": " + e);
    }
    sqlite3_busy_timeout(db_, 60000);
    // 128 MiB page cache (at most; pages are allocated as used; a recording connection lowers
    // it to 32 MiB, Store::stage_begin). Temporary tables (staging of a record, hunt tables)
    // live in a 32 MiB cache that spills to an unlinked temporary file: a large scan's staged
    // observations do not all stay in memory. A new store gets 16 KiB pages (a large record
    // writes a quarter of the pages, syscalls and WAL frames of 4 KiB pages: ~25 % less
    // time); an existing store keeps its page size (the pragma is ignored then).
    exec("PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-131072;"
         " PRAGMA temp_store=FILE; PRAGMA temp.cache_size=-32768;");
  }
  ~SqliteDb() override { sqlite3_close_v2(db_); }

  std::string backend() const override { return "sqlite"; }
  std::string id_column() const override { return "INTEGER PRIMARY KEY AUTOINCREMENT"; }
  std::string byte_collation() const override { return "COLLATE BINARY"; }
  std::string clustered_table() const override { return " WITHOUT ROWID"; }

  void exec(const std::string& sql) override {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string e = msg ? msg : "error";
      sqlite3_free(msg);
      throw std::runtime_error("store: " + e);
    }
  }

  std::vector<Row> query(const std::string& sql, const Row& params) override {
    Stmt st(db_, sql);
    bind(st.s, params);
    std::vector<Row> out;
    step_all(st.s, &out);
    return out;
  }

  void exec_many(const std::string& sql, const std::vector<Row>& rows) override {
    Stmt st(db_, sql);
    for (auto& r : rows) {
      bind(st.s, r);
      step_all(st.s, nullptr);
      sqlite3_reset(st.s);
      sqlite3_clear_bindings(st.s);
    }
  }

  class SqliteStatement final : public Statement {
   public:
    SqliteStatement(SqliteDb& db, const std::string& sql) : db_(db), st_(db.db_, sql) {}
    bool run(const std::vector<Field>& params, Row* first) override {
      bool got = false;
      step(params, [&](sqlite3_stmt* s) {
        if (!got && first) read_row(s, *first);
        got = true;
      });
      return got;
    }
    std::vector<Row> query(const std::vector<Field>& params) override {
      std::vector<Row> out;
      step(params, [&](sqlite3_stmt* s) {
        out.emplace_back();
        read_row(s, out.back());
      });
      return out;
    }

   private:
    static void read_row(sqlite3_stmt* s, Row& row) {
      int n = sqlite3_column_count(s);
      row.resize(static_cast<std::size_t>(n));
      for (int c = 0; c < n; ++c) {
        auto& v = row[static_cast<std::size_t>(c)];
        if (sqlite3_column_type(s, c) == SQLITE_NULL) v.reset();
        else
          v.emplace(reinterpret_cast<const char*>(sqlite3_column_text(s, c)),
                    static_cast<std::size_t>(sqlite3_column_bytes(s, c)));
      }
    }
    template <class F>
    void step(const std::vector<Field>& params, F&& on_row) {
      sqlite3_stmt* s = st_.s;
      for (std::size_t i = 0; i < params.size(); ++i) {
        int idx = static_cast<int>(i + 1);
        int rc = params[i] ? sqlite3_bind_text(s, idx, params[i]->data(), static_cast<int>(params[i]->size()),
                                               SQLITE_STATIC)
                           : sqlite3_bind_null(s, idx);
        if (rc != SQLITE_OK) throw std::runtime_error(std::string("store: ") + sqlite3_errmsg(db_.db_));
      }
      for (;;) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) {
          std::string e = sqlite3_errmsg(db_.db_);
          sqlite3_reset(s);
          throw std::runtime_error("store: " + e);
        }
        on_row(s);
      }
      sqlite3_reset(s);
    }

    SqliteDb& db_;
    Stmt st_;
  };
  std::int64_t last_insert_id() override { return sqlite3_last_insert_rowid(db_); }
  std::unique_ptr<Statement> prepare(const std::string& sql) override {
    return std::make_unique<SqliteStatement>(*this, sql);
  }

  using Db::bulk_insert;
  void bulk_insert(const std::string& table, const std::vector<std::string>& columns, const RowSource& next) override {
    std::string sql = "INSERT INTO " + table + " (", marks;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      sql += (i ? ", " : "") + columns[i];
      marks += i ? ", ?" : "?";
    }
    Stmt st(db_, sql + ") VALUES (" + marks + ")");
    std::vector<Field> f(columns.size());
    while (next(f)) {
      for (std::size_t i = 0; i < f.size(); ++i) {
        int idx = static_cast<int>(i + 1);
        int rc = f[i] ? sqlite3_bind_text(st.s, idx, f[i]->data(), static_cast<int>(f[i]->size()), SQLITE_STATIC)
                      : sqlite3_bind_null(st.s, idx);
        if (rc != SQLITE_OK) throw std::runtime_error(std::string("store: ") + sqlite3_errmsg(db_));
      }
      step_all(st.s, nullptr);
      sqlite3_reset(st.s);
    }
  }

  void begin() override { exec("BEGIN IMMEDIATE"); }
  void commit() override { exec("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

 private:
  void bind(sqlite3_stmt* s, const Row& params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = params[i] ? sqlite3_bind_text(s, idx, params[i]->data(), static_cast<int>(params[i]->size()),
                                             SQLITE_TRANSIENT)
                         : sqlite3_bind_null(s, idx);
      if (rc != SQLITE_OK) throw std::runtime_error(std::string("store: ") + sqlite3_errmsg(db_));
    }
  }

  void step_all(sqlite3_stmt* s, std::vector<Row>* out) {
    for (;;) {
      int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) return;
      if (rc != SQLITE_ROW) throw std::runtime_error(std::string("store: ") + sqlite3_errmsg(db_));
      if (!out) continue;
      Row r;
      int n = sqlite3_column_count(s);
      for (int c = 0; c < n; ++c) {
        if (sqlite3_column_type(s, c) == SQLITE_NULL) r.emplace_back();
        else {
          auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
          r.emplace_back(std::string(t, static_cast<std::size_t>(sqlite3_column_bytes(s, c))));
        }
      }
      out->push_back(std::move(r));
    }
  }

  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<Db> open_sqlite(const std::filesystem::path& file) { return std::make_unique<SqliteDb>(file); }

}  // namespace bridle::store
