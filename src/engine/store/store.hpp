// The observation store: what every check saw (acquisitions and their observables, never
// message bodies or other content), kept in SQLite (one machine) or PostgreSQL (an
// organisation), and hunted later against new indicators with set operations in the database.
//
// One schema, one implementation (Store) over a minimal database interface (Db) with two
// backends: sqlite_store.cpp (libsqlite3) and pg_store.cpp (libpq).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/types.hpp"

namespace bridle {
class IndicatorSet;
}

namespace bridle::store {

using Value = std::optional<std::string>;  // NULL or text
using Row = std::vector<Value>;
using Field = std::optional<std::string_view>;  // NULL or text, valid until the next row is asked for
// Fills the fields of the next row (false: no more rows).
using RowSource = std::function<bool(std::vector<Field>&)>;

// A statement prepared once and run many times (SQLite: sqlite3_stmt; the default goes through
// Db::query).
class Statement {
 public:
  virtual ~Statement() = default;
  // Runs the statement with these parameters; the first result row, if any, goes to `first`.
  // Returns whether a row came back.
  virtual bool run(const std::vector<Field>& params, Row* first = nullptr) = 0;
  // Runs it and returns every result row.
  virtual std::vector<Row> query(const std::vector<Field>& params) = 0;
};

// The little a Store needs from a database. SQL uses '?' placeholders; errors throw
// std::runtime_error.
class Db {
 public:
  virtual ~Db() = default;
  virtual std::string backend() const = 0;  // "sqlite" | "postgresql"
  virtual void exec(const std::string& sql) = 0;  // one or more statements, no parameters
  virtual std::vector<Row> query(const std::string& sql, const Row& params = {}) = 0;
  // One statement run for many parameter rows (inside the caller's transaction).
  virtual void exec_many(const std::string& sql, const std::vector<Row>& rows) = 0;
  virtual std::unique_ptr<Statement> prepare(const std::string& sql);
  // Row id of the last row inserted on this connection (SQLite only; the default throws).
  virtual std::int64_t last_insert_id();
  virtual void begin() = 0;  // a write transaction (SQLite: BEGIN IMMEDIATE)
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
  // Many rows into `table` (inside the caller's transaction): PostgreSQL uses COPY, SQLite one
  // prepared INSERT. The default sends exec_many.
  virtual void bulk_insert(const std::string& table, const std::vector<std::string>& columns,
                           const std::vector<Row>& rows);
  // The same from a row source, without materialising the rows (SQLite: one prepared INSERT
  // bound to the fields in place; PostgreSQL: one streamed COPY). The default collects Rows.
  virtual void bulk_insert(const std::string& table, const std::vector<std::string>& columns, const RowSource& next);
  // Dialect: primary key column of a table, the byte-order collation clause, and the options
  // of a table keyed by its primary key alone (SQLite: WITHOUT ROWID).
  virtual std::string id_column() const = 0;
  virtual std::string byte_collation() const = 0;
  virtual std::string clustered_table() const { return ""; }
};

std::unique_ptr<Db> open_sqlite(const std::filesystem::path& file);
std::unique_ptr<Db> open_postgres(const std::string& url);

// One observable of one acquisition, deduplicated per (cat, key, module).
struct ObservationRow {
  std::string cat, key;      // lookup key (observation_keys.hpp)
  std::string rkey;          // reversed path key of path/relpath keys, else ""
  std::string kind;          // obs_kind_name()
  std::string value;         // value as first observed
  std::string module;        // module slug
  std::string artifact;      // module class name (the artifact reader)
  std::string record_ref;    // record number within the module's output (1-based)
  std::string first_seen, last_seen;  // event times ("" when unknown)
  std::int64_t count = 0;
  Level level = Level::Critical;  // level of an indicator match
};

struct AcquisitionInfo {
  std::int64_t id = 0;       // assigned by the store
  std::string kind;          // "ios_backup", "ios_fs", "androidqf", "bugreport", "android_backup"
  std::string device;        // best human identifier (serial, device name, ...)
  Json identifiers = Json::object();  // device identifiers as found
  std::string input_path, input_sha256;
  std::string acquired_at, scanned_at;
  std::string tool_version, indicator_digest;
  std::string verdict;       // "clean" | "alerts" | "partial"
  Json summary = Json::object();  // counts per level, unread evidence, seconds taken
  std::int64_t observations = 0;  // rows stored (list/show)
};

struct HuntHit {
  std::int64_t acq_id = 0;
  std::string device, acq_kind;
  std::string obs_kind, value, module, artifact, record_ref, first_seen, last_seen;
  std::int64_t count = 0;
  Level level = Level::Critical;
  std::string ioc_type, ioc_value, collection, stix2_file;
  bool is_new = false;
};

struct HuntResult {
  std::int64_t hunt_id = 0;
  std::string digest;
  std::vector<std::string> previous_digests;  // digests of earlier hunts, newest first
  bool digest_seen_before = false;
  std::vector<HuntHit> hits;  // ordered by acquisition, module, value
  std::size_t acquisitions = 0;
};

class Store {
 public:
  // url: "postgresql://..." / "postgres://..." (PostgreSQL), "sqlite:PATH" or a file path.
  static std::unique_ptr<Store> open(const std::string& url);
  explicit Store(std::unique_ptr<Db> db);
  // The default store: user_data_dir()/store.sqlite.
  static std::string default_url();

  const std::string& backend() const;
  // Records one checked acquisition with its observations in one transaction; an earlier
  // record of the same kind and input sha256 is replaced. Returns the new id.
  std::int64_t record(AcquisitionInfo acq, const std::vector<ObservationRow>& obs);
  // The same in steps, so that a scan's observations reach the database while it runs, in
  // bounded chunks: stage_begin() empties this connection's staging table (a temporary table:
  // no transaction on the store, other writers are not blocked); stage() merges rows into it
  // (per (cat, key, module): counts add up, first/last times are min/max, the highest level,
  // the first staged kind/value/record kept); record_staged() records the acquisition with
  // the staged rows in one transaction (`rows`: how many) and empties the staging table.
  void stage_begin();
  void stage(const std::vector<ObservationRow>& rows);
  std::int64_t record_staged(AcquisitionInfo acq, std::int64_t* rows = nullptr);
  // Appends rows that are already unique per (cat, key, module, artifact) and in that order (a
  // merge of sorted runs, StoreSink::finish) to the empty staging table: no merge per row, and
  // each insert lands at the end of the staging B-tree. `next` returns nullptr at the end.
  // Returns the number of rows.
  std::int64_t stage_sorted(const std::function<const ObservationRow*()>& next);
  // Records an acquisition from rows unique per (cat, key, module, artifact) in that order (as
  // stage_sorted), in one transaction: the same result as stage_sorted + record_staged. SQLite
  // writes them straight into observables and sightings with prepared statements (new
  // observables get ids in key order, so their sightings are appended in (obs_id, module_id)
  // order; sightings of observables already stored go through a temporary table sorted by id);
  // PostgreSQL stages them (COPY) and merges with SQL.
  std::int64_t record_sorted(AcquisitionInfo acq, const std::function<const ObservationRow*()>& next,
                             std::int64_t* rows = nullptr);
  std::vector<AcquisitionInfo> list();
  std::optional<AcquisitionInfo> get(std::int64_t id);
  std::vector<ObservationRow> observations(std::int64_t id);
  bool forget(std::int64_t id);
  // The stored acquisition checked from this input with this tool version and indicator
  // digest (resumable scans), if any.
  std::optional<AcquisitionInfo> find_done(const std::string& input_sha256, const std::string& tool_version,
                                           const std::string& indicator_digest);
  // The newest stored acquisition of this input (any version, any indicators), if any.
  std::optional<AcquisitionInfo> find_input(const std::string& input_sha256);
  // Every stored acquisition against `set`, in the database; hits not reported by an
  // earlier hunt are is_new, and this hunt's hits are remembered.
  HuntResult hunt(const IndicatorSet& set);

  // Claims for parallel scan workers: true when this worker got `input_sha256` (no live
  // claim by another worker); claims older than ttl_seconds are expired and taken over.
  // Atomic on both backends: the claim is a row keyed by input_sha256, inserted with
  // ON CONFLICT DO NOTHING in a write transaction (SQLite: BEGIN IMMEDIATE, one writer at a
  // time; PostgreSQL: the primary key lets exactly one concurrent inserter win, the others see
  // the conflict once it commits).
  bool claim(const std::string& input_sha256, const std::string& worker, int ttl_seconds);
  void release(const std::string& input_sha256, const std::string& worker);

  Db& db() { return *db_; }

 private:
  void migrate();
  std::string dialect(const std::string& sql) const;  // {ID}, {C}, {CLUSTERED} for this backend
  void delete_acquisition(const std::string& id, bool collect_observables);
  // In the caller's transaction: replaces an earlier record of this input, inserts the
  // acquisition row, returns its id.
  std::int64_t insert_acquisition(AcquisitionInfo& acq);
  std::unique_ptr<Db> db_;
  std::string backend_;
  bool staging_ready_ = false;
};

// Cheap fingerprint of an input: sha256 of the file for archives; for an iOS backup folder
// sha256 over the hashes of Manifest.db and Info.plist; for other folders sha256 over the
// sorted list of "relative path, size, mtime" lines (file contents are not read).
std::string input_sha256(const std::filesystem::path& input);

}  // namespace bridle::store
