// PostgreSQL backend of the observation store (an organisation): libpq, parameters sent as
// text, batched multi-row INSERTs, byte-order ("C") collation on keys so that prefix ranges
// match label/component boundaries exactly as in SQLite.
#include <algorithm>
#include <stdexcept>

#include "engine/store/store.hpp"

#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#define BRIDLE_HAVE_LIBPQ 1
#endif

namespace bridle::store {

#ifdef BRIDLE_HAVE_LIBPQ
namespace {

// '?' placeholders -> $1, $2, ... (outside quoted literals).
std::string number_placeholders(const std::string& sql, int first = 1) {
  std::string out;
  bool quoted = false;
  int n = first;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted) out += "$" + std::to_string(n++);
    else out.push_back(c);
  }
  return out;
}

class PgDb final : public Db {
 public:
  explicit PgDb(const std::string& url) {
    conn_ = PQconnectdb(url.c_str());
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      std::string e = conn_ ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      throw std::runtime_error("cannot connect to the PostgreSQL store: " + e);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    exec("SET client_encoding = 'UTF8'");
  }
  ~PgDb() override { PQfinish(conn_); }

  std::string backend() const override { return "postgresql"; }
  std::string id_column() const override { return "BIGSERIAL PRIMARY KEY"; }
  std::string byte_collation() const override { return "COLLATE \"C\""; }

  void exec(const std::string& sql) override {
    PGresult* r = PQexec(conn_, sql.c_str());
    check(r);
    PQclear(r);
  }

  std::vector<Row> query(const std::string& sql, const Row& params) override {
    std::string q = number_placeholders(sql);
    std::vector<const char*> values;
    for (auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* r = PQexecParams(conn_, q.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                               nullptr, 0);
    check(r);
    std::vector<Row> out;
    int rows = PQntuples(r), cols = PQnfields(r);
    out.reserve(static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i) {
      Row row;
      for (int c = 0; c < cols; ++c) {
        if (PQgetisnull(r, i, c)) row.emplace_back();
        else row.emplace_back(std::string(PQgetvalue(r, i, c), static_cast<std::size_t>(PQgetlength(r, i, c))));
      }
      out.push_back(std::move(row));
    }
    PQclear(r);
    return out;
  }

  // "INSERT ... VALUES (?, ...)" for many rows: sent as multi-row VALUES batches.
  void exec_many(const std::string& sql, const std::vector<Row>& rows) override {
    if (rows.empty()) return;
    auto at = sql.rfind("VALUES");
    if (at == std::string::npos) {
      for (auto& r : rows) query(sql, r);
      return;
    }
    std::string head = sql.substr(0, at + 6), tuple = sql.substr(at + 6);
    std::size_t ncols = rows[0].size();
    std::size_t per = std::max<std::size_t>(1, std::min<std::size_t>(1000, 30000 / std::max<std::size_t>(1, ncols)));
    for (std::size_t start = 0; start < rows.size(); start += per) {
      std::size_t end = std::min(rows.size(), start + per);
      std::string q = head;
      Row params;
      for (std::size_t i = start; i < end; ++i) {
        if (i > start) q += ",";
        q += tuple;
        params.insert(params.end(), rows[i].begin(), rows[i].end());
      }
      query(q, params);
    }
  }

  // COPY ... FROM STDIN in text format (tab-separated, \N for NULL, backslash escapes).
  using Db::bulk_insert;
  void bulk_insert(const std::string& table, const std::vector<std::string>& columns,
                   const std::vector<Row>& rows) override {
    if (rows.empty()) return;
    std::size_t i = 0;
    bulk_insert(table, columns, [&](std::vector<Field>& f) {
      if (i == rows.size()) return false;
      auto& row = rows[i++];
      for (std::size_t c = 0; c < f.size(); ++c) f[c] = row[c] ? Field(*row[c]) : Field();
      return true;
    });
  }

  void bulk_insert(const std::string& table, const std::vector<std::string>& columns, const RowSource& next) override {
    std::vector<Field> row(columns.size());
    if (!next(row)) return;
    std::string sql = "COPY " + table + " (";
    for (std::size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + columns[i];
    sql += ") FROM STDIN";
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_COPY_IN) {
      check(r);
      PQclear(r);
      throw std::runtime_error("store: COPY did not start");
    }
    PQclear(r);
    std::string buf;
    bool sent = true;
    try {
    do {
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (c) buf += '\t';
        if (!row[c]) {
          buf += "\\N";
          continue;
        }
        for (char ch : *row[c]) {
          switch (ch) {
            case '\\': buf += "\\\\"; break;
            case '\t': buf += "\\t"; break;
            case '\n': buf += "\\n"; break;
            case '\r': buf += "\\r"; break;
            default: buf += ch;
          }
        }
      }
      buf += '\n';
      if (buf.size() >= (1u << 20)) {
        sent = sent && PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) == 1;
        buf.clear();
      }
    } while (next(row));
    } catch (...) {
      PQputCopyEnd(conn_, "bridle: reading rows failed");
      while (PGresult* res = PQgetResult(conn_)) PQclear(res);
      throw;
    }
    if (!buf.empty()) sent = sent && PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) == 1;
    PQputCopyEnd(conn_, sent ? nullptr : "bridle: sending rows failed");
    std::string err;
    while (PGresult* res = PQgetResult(conn_)) {
      if (PQresultStatus(res) != PGRES_COMMAND_OK && err.empty()) err = PQresultErrorMessage(res);
      PQclear(res);
    }
    if (!sent && err.empty()) err = PQerrorMessage(conn_);
    if (!err.empty()) throw std::runtime_error("store: " + err);
  }

  void begin() override { exec("BEGIN"); }
  void commit() override { exec("COMMIT"); }
  void rollback() noexcept override {
    PGresult* r = PQexec(conn_, "ROLLBACK");
    PQclear(r);
  }

 private:
  void check(PGresult* r) {
    auto st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return;
    std::string e = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
    PQclear(r);
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    throw std::runtime_error("store: " + e);
  }
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<Db> open_postgres(const std::string& url) { return std::make_unique<PgDb>(url); }

#else

std::unique_ptr<Db> open_postgres(const std::string&) {
  throw std::runtime_error("this bridle was built without PostgreSQL support (libpq)");
}

#endif

}  // namespace bridle::store
