#include "engine/store/store.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string_view>

#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "engine/store/observation_keys.hpp"
#include "indicators/indicators.hpp"

namespace bridle::store {
namespace {

constexpr int kSchemaVersion = 3;

std::string s(const Value& v) { return v ? *v : std::string(); }
std::int64_t i64(const Value& v) { return v && !v->empty() ? std::stoll(*v) : 0; }

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t p = 0; (p = text.find(from, p)) != std::string::npos; p += to.size()) text.replace(p, from.size(), to);
  return text;
}

// Schema 3. A fleet shares most of its observables (popular domains, system processes and
// paths), so each distinct lookup key is stored once (observables) and each acquisition only
// references it (sightings: ids, provenance, times; kind/value only where they differ from the
// observable's). Hunts join the indicators to observables (small, unique (cat, key) index,
// range scans for label/component prefixes; path_suffixes, keyed by a path's reversed key,
// for suffixes and basenames), then to sightings through sightings_obs. A path's reversed key
// is also kept in its observables row (rkey, not indexed: what forget deletes by). Both are
// written in their own order: observables in key order, path_suffixes sorted by rkey (a
// secondary index on either would be written at random). Schema 2 had neither: a path was
// stored under three keys (apath, rpath, fname), which hunts still match.
const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS bridle_meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS acquisitions (
  id {ID},
  kind TEXT NOT NULL, device TEXT, identifiers TEXT,
  input_path TEXT, input_sha256 TEXT,
  acquired_at TEXT, scanned_at TEXT, tool_version TEXT, indicator_digest TEXT,
  verdict TEXT, summary TEXT);
CREATE INDEX IF NOT EXISTS acquisitions_input ON acquisitions (input_sha256);
CREATE TABLE IF NOT EXISTS observables (
  id {ID}, cat TEXT {C} NOT NULL, key TEXT {C} NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
  rkey TEXT {C}, UNIQUE (cat, key));
CREATE TABLE IF NOT EXISTS path_suffixes (
  rkey TEXT {C} NOT NULL, obs_id BIGINT NOT NULL, PRIMARY KEY (rkey, obs_id)){CLUSTERED};
CREATE TABLE IF NOT EXISTS modules (
  id {ID}, slug TEXT NOT NULL, artifact TEXT NOT NULL, UNIQUE (slug, artifact));
CREATE TABLE IF NOT EXISTS sightings (
  acq_id BIGINT NOT NULL REFERENCES acquisitions (id) ON DELETE CASCADE,
  obs_id BIGINT NOT NULL, module_id BIGINT NOT NULL,
  kind TEXT, value TEXT, record_ref TEXT, first_seen TEXT, last_seen TEXT,
  count BIGINT NOT NULL, level INTEGER NOT NULL,
  PRIMARY KEY (acq_id, obs_id, module_id)){CLUSTERED};
CREATE INDEX IF NOT EXISTS sightings_obs ON sightings (obs_id);
CREATE TABLE IF NOT EXISTS hunts (
  id {ID}, indicator_digest TEXT NOT NULL, hunted_at TEXT NOT NULL, hits BIGINT, new_hits BIGINT);
CREATE TABLE IF NOT EXISTS reported_hits (
  acq_id BIGINT NOT NULL REFERENCES acquisitions (id) ON DELETE CASCADE,
  obs_id BIGINT NOT NULL, module_id BIGINT NOT NULL,
  ioc_type TEXT NOT NULL, ioc_value TEXT {C} NOT NULL, hunt_id BIGINT,
  PRIMARY KEY (acq_id, obs_id, module_id, ioc_type, ioc_value));
CREATE TABLE IF NOT EXISTS claims (
  input_sha256 TEXT PRIMARY KEY, worker TEXT NOT NULL, claimed_at BIGINT NOT NULL);
)";

// Schema 1 (one row per acquisition and key, every text repeated) -> 2.
const char* kMigrate1to2 = R"(
INSERT INTO modules (slug, artifact)
  SELECT DISTINCT module, COALESCE(artifact, '') FROM observations_v1 WHERE 1 = 1 ON CONFLICT DO NOTHING;
INSERT INTO observables (cat, key, kind, value)
  SELECT cat, key, MIN(kind), MIN(value) FROM observations_v1 WHERE 1 = 1 GROUP BY cat, key ON CONFLICT DO NOTHING;
INSERT INTO sightings (acq_id, obs_id, module_id, kind, value, record_ref, first_seen, last_seen, count, level)
  SELECT o.acq_id, k.id, m.id, CASE WHEN o.kind = k.kind THEN NULL ELSE o.kind END,
         CASE WHEN o.value = k.value THEN NULL ELSE o.value END, o.record_ref, o.first_seen, o.last_seen, o.count, o.level
  FROM observations_v1 o JOIN observables k ON k.cat = o.cat AND k.key = o.key
  JOIN modules m ON m.slug = o.module AND m.artifact = COALESCE(o.artifact, '');
INSERT INTO reported_hits (acq_id, obs_id, module_id, ioc_type, ioc_value, hunt_id)
  SELECT r.acq_id, k.id, MIN(m.id), r.ioc_type, r.ioc_value, MIN(r.hunt_id)
  FROM reported_hits_v1 r JOIN observables k ON k.cat = r.cat AND k.key = r.key JOIN modules m ON m.slug = r.module
  WHERE 1 = 1 GROUP BY r.acq_id, k.id, r.ioc_type, r.ioc_value ON CONFLICT DO NOTHING;
DROP TABLE reported_hits_v1;
DROP TABLE observations_v1;
)";

// Staging table for one acquisition's rows (per connection, emptied after each use), kept in
// key order so that the look-ups and inserts below walk the indexes in order. Rows arrive in
// chunks (bridle_chunk, at most one chunk of one row per key) and are merged into it.
const char* kStage =
    "CREATE TEMP TABLE IF NOT EXISTS bridle_stage (cat TEXT {C}, key TEXT {C}, kind TEXT, value TEXT, module TEXT,"
    " artifact TEXT, record_ref TEXT, first_seen TEXT, last_seen TEXT, count BIGINT, level INTEGER, rkey TEXT {C},"
    " PRIMARY KEY (cat, key, module, artifact)){CLUSTERED};"
    "CREATE TEMP TABLE IF NOT EXISTS bridle_chunk (cat TEXT {C}, key TEXT {C}, kind TEXT, value TEXT, module TEXT,"
    " artifact TEXT, record_ref TEXT, first_seen TEXT, last_seen TEXT, count BIGINT, level INTEGER, rkey TEXT {C})";

// A chunk's rows merged into the staging table: from bridle_chunk (PostgreSQL, loaded by COPY)
// or straight from the parameters (SQLite, one prepared statement).
const std::string kStageInsert =
    "INSERT INTO bridle_stage (cat, key, kind, value, module, artifact, record_ref, first_seen, last_seen, count, level,"
    " rkey)";
const std::string kStageMerge =
    " ON CONFLICT (cat, key, module, artifact) DO UPDATE SET count = bridle_stage.count + excluded.count,"
    " level = CASE WHEN excluded.level > bridle_stage.level THEN excluded.level ELSE bridle_stage.level END,"
    " first_seen = CASE WHEN bridle_stage.first_seen IS NULL OR excluded.first_seen < bridle_stage.first_seen"
    " THEN excluded.first_seen ELSE bridle_stage.first_seen END,"
    " last_seen = CASE WHEN bridle_stage.last_seen IS NULL OR excluded.last_seen > bridle_stage.last_seen"
    " THEN excluded.last_seen ELSE bridle_stage.last_seen END";
const std::string kMergeChunk = kStageInsert +
                                " SELECT cat, key, kind, value, module, artifact, record_ref, first_seen, last_seen,"
                                " count, level, rkey FROM bridle_chunk WHERE 1 = 1 ORDER BY cat, key, module, artifact" +
                                kStageMerge;
const std::string kUpsertRow = kStageInsert + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" + kStageMerge;

// PostgreSQL: records take this lock shared, removing unreferenced observables takes it
// exclusively (a concurrent record could otherwise reference an observable being removed).
constexpr const char* kGcLock = "727274002";

const char* kAcqColumns =
    "a.id, a.kind, a.device, a.identifiers, a.input_path, a.input_sha256, a.acquired_at, a.scanned_at, "
    "a.tool_version, a.indicator_digest, a.verdict, a.summary, "
    "(SELECT COUNT(*) FROM sightings o WHERE o.acq_id = a.id)";

AcquisitionInfo acq_from_row(const Row& r) {
  AcquisitionInfo a;
  a.id = i64(r[0]);
  a.kind = s(r[1]);
  a.device = s(r[2]);
  a.identifiers = Json::parse(s(r[3]).empty() ? "{}" : s(r[3]), nullptr, false);
  a.input_path = s(r[4]);
  a.input_sha256 = s(r[5]);
  a.acquired_at = s(r[6]);
  a.scanned_at = s(r[7]);
  a.tool_version = s(r[8]);
  a.indicator_digest = s(r[9]);
  a.verdict = s(r[10]);
  a.summary = Json::parse(s(r[11]).empty() ? "{}" : s(r[11]), nullptr, false);
  a.observations = i64(r[12]);
  return a;
}

// A transaction rolled back unless committed. By default the store's write transaction
// (SQLite: BEGIN IMMEDIATE); `begin_sql` = "BEGIN" for one that writes temporary tables only
// and must not lock the store.
struct Txn {
  Db& db;
  bool done = false;
  explicit Txn(Db& d, const char* begin_sql = nullptr) : db(d) {
    if (begin_sql) db.exec(begin_sql);
    else db.begin();
  }
  void commit() {
    db.commit();
    done = true;
  }
  ~Txn() {
    if (!done) db.rollback();
  }
};

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

void Db::bulk_insert(const std::string& table, const std::vector<std::string>& columns, const std::vector<Row>& rows) {
  std::string sql = "INSERT INTO " + table + " (", marks;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    sql += (i ? ", " : "") + columns[i];
    marks += i ? ", ?" : "?";
  }
  exec_many(sql + ") VALUES (" + marks + ")", rows);
}

void Db::bulk_insert(const std::string& table, const std::vector<std::string>& columns, const RowSource& next) {
  std::vector<Row> rows;
  std::vector<Field> f(columns.size());
  while (next(f)) {
    Row r;
    r.reserve(f.size());
    for (auto& v : f) r.push_back(v ? Value(std::string(*v)) : Value());
    rows.push_back(std::move(r));
  }
  bulk_insert(table, columns, rows);
}

namespace {
class QueryStatement final : public Statement {
 public:
  QueryStatement(Db& db, std::string sql) : db_(db), sql_(std::move(sql)) {}
  bool run(const std::vector<Field>& params, Row* first) override {
    auto rows = query(params);
    if (rows.empty()) return false;
    if (first) *first = std::move(rows[0]);
    return true;
  }
  std::vector<Row> query(const std::vector<Field>& params) override {
    Row p;
    p.reserve(params.size());
    for (auto& f : params) p.push_back(f ? Value(std::string(*f)) : Value());
    return db_.query(sql_, p);
  }

 private:
  Db& db_;
  std::string sql_;
};
}  // namespace

std::int64_t Db::last_insert_id() { throw std::logic_error("store: last_insert_id is not supported by " + backend()); }

std::unique_ptr<Statement> Db::prepare(const std::string& sql) { return std::make_unique<QueryStatement>(*this, sql); }

std::unique_ptr<Store> Store::open(const std::string& url) {
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0)
    return std::make_unique<Store>(open_postgres(url));
  std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) throw std::runtime_error("empty store path");
  return std::make_unique<Store>(open_sqlite(path));
}

std::string Store::default_url() { return (user_data_dir() / "store.sqlite").string(); }

Store::Store(std::unique_ptr<Db> db) : db_(std::move(db)), backend_(db_->backend()) { migrate(); }

const std::string& Store::backend() const { return backend_; }

std::string Store::dialect(const std::string& sql) const {
  return replace_all(replace_all(replace_all(sql, "{ID}", db_->id_column()), "{C}", db_->byte_collation()),
                     "{CLUSTERED}", db_->clustered_table());
}

void Store::migrate() {
  Txn t(*db_);
  if (backend_ == "postgresql") db_->exec("SELECT pg_advisory_xact_lock(727274001)");
  db_->exec("CREATE TABLE IF NOT EXISTS bridle_meta (name TEXT PRIMARY KEY, value TEXT)");
  auto rows = db_->query("SELECT value FROM bridle_meta WHERE name = 'schema_version'");
  std::int64_t version = rows.empty() ? 0 : i64(rows[0][0]);
  if (version > kSchemaVersion)
    throw std::runtime_error("the store was written by a newer bridle (schema " + s(rows[0][0]) + ")");
  if (version == 1) {
    db_->exec("ALTER TABLE observations RENAME TO observations_v1; ALTER TABLE reported_hits RENAME TO reported_hits_v1;"
              " DROP INDEX IF EXISTS observations_key");
  }
  // 2 -> 3: observables.rkey (NULL in the rows stored before, which keep their schema 2 keys);
  // path_suffixes is created empty.
  if (version == 2) db_->exec(dialect("ALTER TABLE observables ADD COLUMN rkey TEXT {C}"));
  db_->exec(dialect(kSchema));
  if (version == 1) db_->exec(kMigrate1to2);
  if (version == 0)
    db_->query("INSERT INTO bridle_meta (name, value) VALUES ('schema_version', ?)", {std::to_string(kSchemaVersion)});
  else if (version < kSchemaVersion)
    db_->query("UPDATE bridle_meta SET value = ? WHERE name = 'schema_version'", {std::to_string(kSchemaVersion)});
  t.commit();
}

void Store::delete_acquisition(const std::string& id, bool collect) {
  // Observables only this acquisition referenced are deleted too (forget means forget).
  db_->exec("CREATE TEMP TABLE IF NOT EXISTS bridle_gone (obs_id BIGINT)");
  db_->exec("DELETE FROM bridle_gone");
  if (collect) db_->query("INSERT INTO bridle_gone SELECT DISTINCT obs_id FROM sightings WHERE acq_id = ?", {id});
  db_->query("DELETE FROM reported_hits WHERE acq_id = ?", {id});
  db_->query("DELETE FROM sightings WHERE acq_id = ?", {id});
  db_->query("DELETE FROM acquisitions WHERE id = ?", {id});
  if (collect) {
    db_->exec("DELETE FROM bridle_gone WHERE EXISTS (SELECT 1 FROM sightings s WHERE s.obs_id = bridle_gone.obs_id)");
    db_->exec("DELETE FROM path_suffixes WHERE (rkey, obs_id) IN (SELECT k.rkey, k.id FROM bridle_gone g"
              " CROSS JOIN observables k WHERE k.id = g.obs_id AND k.rkey IS NOT NULL)");
    db_->exec("DELETE FROM observables WHERE id IN (SELECT obs_id FROM bridle_gone)");
  }
  db_->exec("DELETE FROM bridle_gone");
}

void Store::stage_begin() {
  if (!staging_ready_) {
    // SQLite: a recording connection keeps a 32 MiB page cache (not the 128 MiB of hunts), so
    // that a large scan's record stays within the scan's memory budget.
    if (backend_ == "sqlite") db_->exec("PRAGMA main.cache_size=-32768");
    db_->exec(dialect(kStage));
    staging_ready_ = true;
  }
  db_->exec("DELETE FROM bridle_stage; DELETE FROM bridle_chunk");
}

void Store::stage(const std::vector<ObservationRow>& obs) {
  if (obs.empty()) return;
  if (!staging_ready_) stage_begin();
  // One transaction per chunk, deferred: only temporary tables are written, so the store
  // itself is not locked (SQLite takes no lock on the main database).
  Txn t(*db_, "BEGIN");
  std::vector<Row> params;
  params.reserve(obs.size());
  for (auto& o : obs)
    params.push_back({o.cat, o.key, o.kind, db_text(o.value), o.module, o.artifact, db_text(o.record_ref),
                      o.first_seen.empty() ? Value() : Value(db_text(o.first_seen)),
                      o.last_seen.empty() ? Value() : Value(db_text(o.last_seen)), std::to_string(o.count),
                      std::to_string(static_cast<int>(o.level)), o.rkey.empty() ? Value() : Value(o.rkey)});
  if (backend_ == "postgresql") {
    db_->bulk_insert("bridle_chunk",
                     {"cat", "key", "kind", "value", "module", "artifact", "record_ref", "first_seen", "last_seen",
                      "count", "level", "rkey"},
                     params);
    db_->exec(kMergeChunk);
    db_->exec("DELETE FROM bridle_chunk");
  } else {
    db_->exec_many(kUpsertRow, params);
  }
  t.commit();
}

std::int64_t Store::stage_sorted(const std::function<const ObservationRow*()>& next) {
  if (!staging_ready_) stage_begin();
  Txn t(*db_, "BEGIN");  // temporary tables only: no lock on the store
  std::int64_t n = 0;
  std::string value, record, first, last, count, level;
  db_->bulk_insert("bridle_stage",
                   {"cat", "key", "kind", "value", "module", "artifact", "record_ref", "first_seen", "last_seen", "count",
                    "level", "rkey"},
                   [&](std::vector<Field>& f) {
                     const ObservationRow* o = next();
                     if (!o) return false;
                     ++n;
                     value = db_text(o->value);
                     record = db_text(o->record_ref);
                     first = db_text(o->first_seen);
                     last = db_text(o->last_seen);
                     count = std::to_string(o->count);
                     level = std::to_string(static_cast<int>(o->level));
                     f[0] = o->cat;
                     f[1] = o->key;
                     f[2] = o->kind;
                     f[3] = value;
                     f[4] = o->module;
                     f[5] = o->artifact;
                     f[6] = record;
                     f[7] = first.empty() ? Field() : Field(first);
                     f[8] = last.empty() ? Field() : Field(last);
                     f[9] = count;
                     f[10] = level;
                     f[11] = o->rkey.empty() ? Field() : Field(o->rkey);
                     return true;
                   });
  t.commit();
  return n;
}

namespace {

// "(?, ?), (?, ?)" for rows x cols placeholders.
std::string placeholders(std::size_t rows, std::size_t cols) {
  std::string one = "(";
  for (std::size_t c = 0; c < cols; ++c) one += c ? ", ?" : "?";
  one += ")";
  std::string out;
  for (std::size_t r = 0; r < rows; ++r) out += (r ? ", " : "") + one;
  return out;
}

// Rows for a multi-row INSERT, sent kRows at a time (one statement per kRows rows: SQLite's
// per-statement work, cursors opened and closed, AUTOINCREMENT bookkeeping, is paid once per
// batch); what is left at the end goes one row per statement.
class BatchInsert {
 public:
  static constexpr std::size_t kRows = 64;
  BatchInsert(Db& db, const std::string& head, std::size_t cols)
      : cols_(cols), many_(db.prepare(head + " VALUES " + placeholders(kRows, cols))),
        one_(db.prepare(head + " VALUES " + placeholders(1, cols))), text_(kRows * cols), null_(kRows * cols),
        fields_(kRows * cols) {}
  // The next row's field c (call set or set_null for every column, then row_done()).
  void set(std::size_t c, std::string_view v) {
    text_[n_ * cols_ + c].assign(v);
    null_[n_ * cols_ + c] = false;
  }
  void set_null(std::size_t c) { null_[n_ * cols_ + c] = true; }
  void row_done() {
    if (++n_ == kRows) flush();
  }
  void flush() {
    if (n_ == kRows) {
      many_->run(fields(kRows));
    } else {
      auto all = fields(n_);
      std::vector<Field> f(cols_);
      for (std::size_t r = 0; r < n_; ++r) {
        std::copy(all.begin() + static_cast<std::ptrdiff_t>(r * cols_),
                  all.begin() + static_cast<std::ptrdiff_t>((r + 1) * cols_), f.begin());
        one_->run(f);
      }
    }
    n_ = 0;
  }

 private:
  const std::vector<Field>& fields(std::size_t rows) {
    fields_.resize(rows * cols_);
    for (std::size_t i = 0; i < rows * cols_; ++i) fields_[i] = null_[i] ? Field() : Field(text_[i]);
    return fields_;
  }
  std::size_t cols_, n_ = 0;
  std::unique_ptr<Statement> many_, one_;
  std::vector<std::string> text_;
  std::vector<char> null_;
  std::vector<Field> fields_;
};

}  // namespace

std::int64_t Store::record_sorted(AcquisitionInfo acq, const std::function<const ObservationRow*()>& next,
                                  std::int64_t* nrows) {
  if (backend_ != "sqlite") {
    stage_begin();
    stage_sorted(next);
    return record_staged(std::move(acq), nrows);
  }
  Txn t(*db_);
  std::int64_t id = insert_acquisition(acq);
  const std::string acq_id = std::to_string(id);
  const std::string cols = "acq_id, obs_id, module_id, kind, value, record_ref, first_seen, last_seen, count, level";
  // Sightings of observables stored before: their ids are scattered, so they are appended to a
  // temporary table and inserted sorted by id at the end (the sightings_obs index is walked in
  // order instead of at random). Sightings of new observables are appended directly: new ids
  // are given in key order.
  db_->exec("CREATE TEMP TABLE IF NOT EXISTS bridle_later (acq_id INTEGER, obs_id INTEGER, module_id INTEGER, kind TEXT,"
            " value TEXT, record_ref TEXT, first_seen TEXT, last_seen TEXT, count INTEGER, level INTEGER);"
            " DELETE FROM temp.bridle_later");
  BatchInsert put_sighting(*db_, "INSERT INTO sightings (" + cols + ")", 10);
  BatchInsert put_later(*db_, "INSERT INTO temp.bridle_later (" + cols + ")", 10);
  auto get_module = db_->prepare("SELECT id FROM modules WHERE slug = ? AND artifact = ?");
  auto put_module = db_->prepare("INSERT INTO modules (slug, artifact) VALUES (?, ?) RETURNING id");
  std::map<std::pair<std::string, std::string>, std::string> module_ids;
  auto module_id = [&](const ObservationRow& r) -> const std::string& {
    auto key = std::make_pair(r.module, r.artifact);
    auto it = module_ids.find(key);
    if (it != module_ids.end()) return it->second;
    Row row;
    if (!get_module->run({r.module, r.artifact}, &row)) put_module->run({r.module, r.artifact}, &row);
    return module_ids.emplace(std::move(key), s(row.at(0))).first->second;
  };
  // Observables are looked up kGroups (cat, key) at a time (one statement), and the new ones
  // inserted BatchInsert::kRows at a time; a new observable gets MIN(kind), MIN(value) of its
  // rows (one per module), as record_staged's GROUP BY does.
  constexpr std::size_t kGroups = 128;
  const std::string lookup_head = "SELECT v.column1, o.id, o.kind, o.value FROM (VALUES ";
  const std::string lookup_tail = ") AS v CROSS JOIN observables o WHERE o.cat = v.column2 AND o.key = v.column3";
  std::map<std::size_t, std::unique_ptr<Statement>> lookups;  // by number of groups
  const std::size_t R = BatchInsert::kRows;
  auto put_obs_many = db_->prepare("INSERT INTO observables (cat, key, kind, value, rkey) VALUES " + placeholders(R, 5));
  auto put_obs_one = db_->prepare("INSERT INTO observables (cat, key, kind, value, rkey) VALUES (?, ?, ?, ?, ?)");
  // Reversed keys of new paths: appended here, written to path_suffixes sorted at the end.
  db_->exec("CREATE TEMP TABLE IF NOT EXISTS bridle_rk (rkey TEXT, obs_id INTEGER); DELETE FROM temp.bridle_rk");
  BatchInsert put_rk(*db_, "INSERT INTO temp.bridle_rk (rkey, obs_id)", 2);

  std::vector<ObservationRow> rows;  // rows of the current groups (reused)
  std::vector<std::string> values;   // db_text(value) of each row
  std::vector<std::size_t> starts;   // first row of each group; starts.back() = end
  struct Obs {
    std::string id;
    std::size_t kind_row = 0, value_row = 0;  // rows holding the observable's kind / value when new
    std::string kind, value;                  // when stored before
    bool existing = false;
  };
  std::vector<Obs> obs(kGroups);
  std::vector<Field> f;
  std::size_t used = 0;
  std::int64_t n = 0;
  std::string idx_text[kGroups];
  for (std::size_t g = 0; g < kGroups; ++g) idx_text[g] = std::to_string(g);

  auto flush_groups = [&]() {
    std::size_t groups = starts.size();
    if (groups == 0) return;
    starts.push_back(used);
    // Which of these observables are stored already.
    auto& look = lookups[groups];
    if (!look) look = db_->prepare(lookup_head + placeholders(groups, 3) + lookup_tail);
    f.assign(groups * 3, Field());
    for (std::size_t g = 0; g < groups; ++g) {
      const ObservationRow& r = rows[starts[g]];
      f[g * 3] = idx_text[g];
      f[g * 3 + 1] = r.cat;
      f[g * 3 + 2] = r.key;
      obs[g].existing = false;
    }
    for (auto& row : look->query(f)) {
      std::size_t g = static_cast<std::size_t>(i64(row.at(0)));
      obs[g].existing = true;
      obs[g].id = s(row[1]);
      obs[g].kind = s(row[2]);
      obs[g].value = s(row[3]);
    }
    // New observables, in key order (their ids ascend with the keys).
    std::vector<std::size_t> fresh;
    for (std::size_t g = 0; g < groups; ++g) {
      if (obs[g].existing) continue;
      std::size_t kmin = starts[g], vmin = starts[g];
      for (std::size_t i = starts[g] + 1; i < starts[g + 1]; ++i) {
        if (rows[i].kind < rows[kmin].kind) kmin = i;
        if (values[i] < values[vmin]) vmin = i;
      }
      obs[g].kind_row = kmin;
      obs[g].value_row = vmin;
      fresh.push_back(g);
    }
    for (std::size_t at = 0; at < fresh.size();) {
      std::size_t k = fresh.size() - at >= R ? R : 1;
      f.assign(k * 5, Field());
      for (std::size_t j = 0; j < k; ++j) {
        const Obs& o = obs[fresh[at + j]];
        const ObservationRow& r = rows[starts[fresh[at + j]]];
        f[j * 5] = r.cat;
        f[j * 5 + 1] = r.key;
        f[j * 5 + 2] = rows[o.kind_row].kind;
        f[j * 5 + 3] = values[o.value_row];
        if (!r.rkey.empty()) f[j * 5 + 4] = r.rkey;
      }
      (k == R ? put_obs_many : put_obs_one)->run(f);
      // One statement, one writer: the rows got consecutive ids ending at the last one.
      std::int64_t last = db_->last_insert_id();
      for (std::size_t j = 0; j < k; ++j) {
        Obs& o = obs[fresh[at + j]];
        o.id = std::to_string(last - static_cast<std::int64_t>(k - 1 - j));
        const ObservationRow& r = rows[starts[fresh[at + j]]];
        if (r.rkey.empty()) continue;
        put_rk.set(0, r.rkey);
        put_rk.set(1, o.id);
        put_rk.row_done();
      }
      at += k;
    }
    std::string count, level;
    for (std::size_t g = 0; g < groups; ++g) {
      const Obs& o = obs[g];
      std::string_view okind = o.existing ? std::string_view(o.kind) : std::string_view(rows[o.kind_row].kind);
      std::string_view ovalue = o.existing ? std::string_view(o.value) : std::string_view(values[o.value_row]);
      BatchInsert& out = o.existing ? put_later : put_sighting;
      for (std::size_t i = starts[g]; i < starts[g + 1]; ++i) {
        const ObservationRow& r = rows[i];
        out.set(0, acq_id);
        out.set(1, o.id);
        out.set(2, module_id(r));
        if (r.kind == okind) out.set_null(3);
        else out.set(3, r.kind);
        if (values[i] == ovalue) out.set_null(4);
        else out.set(4, values[i]);
        out.set(5, r.record_ref);
        if (r.first_seen.empty()) out.set_null(6);
        else out.set(6, r.first_seen);
        if (r.last_seen.empty()) out.set_null(7);
        else out.set(7, r.last_seen);
        out.set(8, std::to_string(r.count));
        out.set(9, std::to_string(static_cast<int>(r.level)));
        out.row_done();
      }
    }
    n += static_cast<std::int64_t>(used);
    used = 0;
    starts.clear();
  };
  while (const ObservationRow* r = next()) {
    bool same = used && r->cat == rows[used - 1].cat && r->key == rows[used - 1].key;
    if (!same && starts.size() == kGroups) flush_groups();
    if (!used || !same) starts.push_back(used);
    if (rows.size() <= used) {
      rows.emplace_back();
      values.emplace_back();
    }
    rows[used] = *r;
    // Text from the evidence (event times, record references) as the values: valid UTF-8, no NUL.
    to_db_text(rows[used].record_ref);
    to_db_text(rows[used].first_seen);
    to_db_text(rows[used].last_seen);
    values[used] = db_text(r->value);
    ++used;
  }
  flush_groups();
  put_sighting.flush();
  put_later.flush();
  put_rk.flush();
  // SQLite's sorter keeps runs as large as the main page cache in memory: 8 MiB for this one.
  std::string cache = s(db_->query("PRAGMA main.cache_size").at(0).at(0));
  db_->exec("PRAGMA main.cache_size=-8192");
  db_->exec("INSERT INTO path_suffixes (rkey, obs_id) SELECT rkey, obs_id FROM temp.bridle_rk WHERE 1 = 1"
            " ORDER BY rkey, obs_id ON CONFLICT DO NOTHING");
  db_->exec("PRAGMA main.cache_size=" + std::to_string(std::stoll(cache)));
  db_->exec("DELETE FROM temp.bridle_rk");
  db_->exec("INSERT INTO sightings (" + cols + ") SELECT " + cols +
            " FROM temp.bridle_later WHERE 1 = 1 ORDER BY obs_id, module_id");
  db_->exec("DELETE FROM temp.bridle_later");
  if (nrows) *nrows = n;
  t.commit();
  return id;
}

std::int64_t Store::record(AcquisitionInfo acq, const std::vector<ObservationRow>& obs) {
  // Unique rows (a sink's) are recorded in key order straight away; others are merged first.
  std::vector<const ObservationRow*> order;
  order.reserve(obs.size());
  for (auto& o : obs) order.push_back(&o);
  auto key = [](const ObservationRow* o) { return std::tie(o->cat, o->key, o->module, o->artifact); };
  std::sort(order.begin(), order.end(), [&](auto* a, auto* b) { return key(a) < key(b); });
  bool unique = std::adjacent_find(order.begin(), order.end(), [&](auto* a, auto* b) { return key(a) == key(b); }) ==
                order.end();
  if (unique) {
    std::size_t i = 0;
    return record_sorted(std::move(acq), [&]() -> const ObservationRow* { return i < order.size() ? order[i++] : nullptr; });
  }
  stage_begin();
  constexpr std::size_t kChunk = 50000;
  for (std::size_t start = 0; start < obs.size(); start += kChunk)
    stage(std::vector<ObservationRow>(obs.begin() + static_cast<std::ptrdiff_t>(start),
                                      obs.begin() + static_cast<std::ptrdiff_t>(std::min(obs.size(), start + kChunk))));
  return record_staged(std::move(acq));
}

std::int64_t Store::insert_acquisition(AcquisitionInfo& acq) {
  bool pg = backend_ == "postgresql";
  std::vector<Row> old;
  if (!acq.input_sha256.empty())
    old = db_->query("SELECT id FROM acquisitions WHERE kind = ? AND input_sha256 = ?", {acq.kind, acq.input_sha256});
  // SQLite: BEGIN IMMEDIATE already serialises writers. PostgreSQL: an earlier record of this
  // input is replaced under the exclusive lock (its unreferenced observables are removed).
  if (pg) db_->exec(std::string("SELECT pg_advisory_xact_lock") + (old.empty() ? "_shared(" : "(") + kGcLock + ")");
  if (!old.empty() || !pg) {
    old = acq.input_sha256.empty() ? std::vector<Row>{}
                                   : db_->query("SELECT id FROM acquisitions WHERE kind = ? AND input_sha256 = ?",
                                                {acq.kind, acq.input_sha256});
    for (auto& r : old) delete_acquisition(s(r[0]), true);
  }
  auto rows = db_->query(
      "INSERT INTO acquisitions (kind, device, identifiers, input_path, input_sha256, acquired_at, scanned_at,"
      " tool_version, indicator_digest, verdict, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {db_text(acq.kind), db_text(acq.device), acq.identifiers.dump(-1, ' ', false, Json::error_handler_t::replace),
       db_text(acq.input_path), db_text(acq.input_sha256), db_text(acq.acquired_at),
       acq.scanned_at.empty() ? now_iso_utc() : db_text(acq.scanned_at), db_text(acq.tool_version),
       db_text(acq.indicator_digest), db_text(acq.verdict),
       acq.summary.dump(-1, ' ', false, Json::error_handler_t::replace)});
  std::int64_t id = i64(rows.at(0).at(0));
  return id;
}

std::int64_t Store::record_staged(AcquisitionInfo acq, std::int64_t* nrows) {
  if (!staging_ready_) stage_begin();
  Txn t(*db_);
  std::int64_t id = insert_acquisition(acq);
  // New dictionary entries in key order (concurrent PostgreSQL writers lock them in the same
  // order: no deadlock), then this acquisition's sightings by a join.
  db_->exec("INSERT INTO modules (slug, artifact) SELECT DISTINCT module, artifact FROM bridle_stage WHERE 1 = 1"
            " ORDER BY module, artifact ON CONFLICT DO NOTHING");
  db_->exec("INSERT INTO observables (cat, key, kind, value, rkey) SELECT cat, key, MIN(kind), MIN(value), MIN(rkey)"
            " FROM bridle_stage WHERE 1 = 1 GROUP BY cat, key ORDER BY cat, key ON CONFLICT DO NOTHING");
  db_->exec("INSERT INTO path_suffixes (rkey, obs_id) SELECT DISTINCT k.rkey, k.id FROM bridle_stage x"
            " CROSS JOIN observables k WHERE x.rkey IS NOT NULL AND k.cat = x.cat AND k.key = x.key"
            " AND k.rkey IS NOT NULL ORDER BY k.rkey, k.id ON CONFLICT DO NOTHING");
  db_->query(
      "INSERT INTO sightings (acq_id, obs_id, module_id, kind, value, record_ref, first_seen, last_seen, count, level)"
      " SELECT CAST(? AS BIGINT), k.id, m.id, CASE WHEN x.kind = k.kind THEN NULL ELSE x.kind END,"
      " CASE WHEN x.value = k.value THEN NULL ELSE x.value END, x.record_ref, x.first_seen, x.last_seen, x.count,"
      " x.level FROM bridle_stage x CROSS JOIN observables k CROSS JOIN modules m"
      " WHERE k.cat = x.cat AND k.key = x.key AND m.slug = x.module AND m.artifact = x.artifact"
      " ORDER BY k.id, m.id",
      {std::to_string(id)});
  if (nrows) *nrows = i64(db_->query("SELECT COUNT(*) FROM bridle_stage").at(0).at(0));
  db_->exec("DELETE FROM bridle_stage");
  t.commit();
  return id;
}

std::vector<AcquisitionInfo> Store::list() {
  std::vector<AcquisitionInfo> out;
  for (auto& r : db_->query(std::string("SELECT ") + kAcqColumns + " FROM acquisitions a ORDER BY a.id"))
    out.push_back(acq_from_row(r));
  return out;
}

std::optional<AcquisitionInfo> Store::get(std::int64_t id) {
  auto rows = db_->query(std::string("SELECT ") + kAcqColumns + " FROM acquisitions a WHERE a.id = ?", {std::to_string(id)});
  if (rows.empty()) return std::nullopt;
  return acq_from_row(rows[0]);
}

std::vector<ObservationRow> Store::observations(std::int64_t id) {
  std::vector<ObservationRow> out;
  for (auto& r : db_->query("SELECT k.cat, k.key, COALESCE(o.kind, k.kind) AS kind, COALESCE(o.value, k.value) AS value,"
                            " m.slug, m.artifact, o.record_ref, o.first_seen, o.last_seen, o.count, o.level,"
                            " k.rkey"
                            " FROM sightings o JOIN observables k ON k.id = o.obs_id JOIN modules m ON m.id = o.module_id"
                            " WHERE o.acq_id = ? ORDER BY m.slug, kind, value",
                            {std::to_string(id)})) {
    ObservationRow o;
    o.cat = s(r[0]);
    o.key = s(r[1]);
    o.kind = s(r[2]);
    o.value = s(r[3]);
    o.module = s(r[4]);
    o.artifact = s(r[5]);
    o.record_ref = s(r[6]);
    o.first_seen = s(r[7]);
    o.last_seen = s(r[8]);
    o.count = i64(r[9]);
    o.level = static_cast<Level>(i64(r[10]));
    o.rkey = s(r[11]);
    out.push_back(std::move(o));
  }
  return out;
}

bool Store::forget(std::int64_t id) {
  Txn t(*db_);
  if (backend_ == "postgresql") db_->exec(std::string("SELECT pg_advisory_xact_lock(") + kGcLock + ")");
  std::string sid = std::to_string(id);
  auto rows = db_->query("SELECT id FROM acquisitions WHERE id = ?", {sid});
  if (rows.empty()) return false;
  delete_acquisition(sid, true);
  t.commit();
  return true;
}

std::optional<AcquisitionInfo> Store::find_done(const std::string& sha, const std::string& version,
                                                const std::string& digest) {
  auto rows = db_->query(std::string("SELECT ") + kAcqColumns +
                             " FROM acquisitions a WHERE a.input_sha256 = ? AND a.tool_version = ? AND"
                             " a.indicator_digest = ? ORDER BY a.id DESC",
                         {sha, version, digest});
  if (rows.empty()) return std::nullopt;
  return acq_from_row(rows[0]);
}

std::optional<AcquisitionInfo> Store::find_input(const std::string& sha) {
  if (sha.empty()) return std::nullopt;
  auto rows = db_->query(std::string("SELECT ") + kAcqColumns +
                             " FROM acquisitions a WHERE a.input_sha256 = ? ORDER BY a.id DESC LIMIT 1",
                         {sha});
  if (rows.empty()) return std::nullopt;
  return acq_from_row(rows[0]);
}

HuntResult Store::hunt(const IndicatorSet& set) {
  HuntResult res;
  res.digest = set.digest();
  Txn t(*db_);
  std::string C = db_->byte_collation();
  db_->exec("DROP TABLE IF EXISTS hunt_ind; DROP TABLE IF EXISTS hunt_obs; DROP TABLE IF EXISTS hunt_hits;");
  db_->exec("CREATE TEMP TABLE hunt_ind (cat TEXT " + C + " NOT NULL, key TEXT " + C + " NOT NULL, hi TEXT " + C +
            ", ioc_idx BIGINT, ioc_type TEXT, ioc_value TEXT " + C + ", ioc_ref TEXT " + C +
            ", collection TEXT, stix2_file TEXT)");
  std::vector<Row> rows;
  std::vector<IndKey> keys;
  const auto& inds = set.indicators();
  for (std::size_t i = 0; i < inds.size(); ++i) {
    keys.clear();
    indicator_keys(inds[i], keys);
    const auto& col = set.collections()[inds[i].collection];
    // ioc_ref: the indicator value as reported_hits keys it (bounded like a stored key).
    std::string value = db_text(inds[i].value), ref = bounded_key(value);
    for (auto& k : keys)
      rows.push_back({k.cat, k.key, k.prefix ? Value(k.upper.empty() ? prefix_upper(k.key) : k.upper) : Value(),
                      std::to_string(i), std::string(ioc_mvt_bucket(inds[i].type)), value, ref, db_text(col.name),
                      db_text(col.stix2_file_name)});
  }
  db_->bulk_insert("hunt_ind",
                   {"cat", "key", "hi", "ioc_idx", "ioc_type", "ioc_value", "ioc_ref", "collection", "stix2_file"}, rows);
  if (backend_ == "postgresql") {
    // The indicator keys drive the joins: each is an index look-up (equality) or range scan
    // (prefix) into observables, each match an index look-up into sightings. Hash and merge
    // joins would read whole tables instead; PostgreSQL's estimate for the range condition
    // cannot tell, so they are off for this transaction.
    db_->exec("ANALYZE hunt_ind; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off");
  }
  // Indicator keys -> observables (exact keys by equality, label/component prefixes by range
  // scans on the unique (cat, key) index) -> sightings of every acquisition (sightings_obs).
  // CROSS JOIN fixes this join order in SQLite, which has no statistics to find it (it would
  // scan every sighting); PostgreSQL plans CROSS JOIN ... WHERE like an inner join.
  // Two steps, so that the second is planned knowing how few observables matched.
  db_->exec(
      "CREATE TEMP TABLE hunt_obs AS"
      " SELECT k.id AS obs_id, k.kind, k.value, i.ioc_idx, i.ioc_type, i.ioc_value, i.ioc_ref, i.collection,"
      " i.stix2_file FROM hunt_ind i CROSS JOIN observables k WHERE k.cat = i.cat AND k.key = i.key AND i.hi IS NULL"
      " UNION SELECT k.id, k.kind, k.value, i.ioc_idx, i.ioc_type, i.ioc_value, i.ioc_ref, i.collection, i.stix2_file"
      " FROM hunt_ind i CROSS JOIN observables k WHERE k.cat = i.cat AND k.key >= i.key AND k.key < i.hi"
      " AND i.hi IS NOT NULL"
      " UNION SELECT k.id, k.kind, k.value, i.ioc_idx, i.ioc_type, i.ioc_value, i.ioc_ref, i.collection, i.stix2_file"
      " FROM hunt_ind i CROSS JOIN path_suffixes p CROSS JOIN observables k WHERE i.cat = '" + std::string(kRkey) +
      "' AND p.rkey >= i.key AND p.rkey < i.hi AND k.id = p.obs_id");
  if (backend_ == "postgresql") db_->exec("ANALYZE hunt_obs");
  db_->exec(
      "CREATE TEMP TABLE hunt_hits AS"
      " SELECT o.acq_id, o.obs_id, o.module_id, COALESCE(o.kind, mk.kind) AS kind, COALESCE(o.value, mk.value) AS value,"
      " m.slug AS module, m.artifact, o.record_ref, o.first_seen, o.last_seen, o.count, o.level, mk.ioc_idx,"
      " mk.ioc_type, mk.ioc_value, mk.ioc_ref, mk.collection, mk.stix2_file"
      " FROM hunt_obs mk CROSS JOIN sightings o CROSS JOIN modules m WHERE o.obs_id = mk.obs_id AND m.id = o.module_id");
  for (auto& r : db_->query(
           "SELECT h.acq_id, a.device, a.kind, h.kind, h.value, h.module, h.artifact, h.record_ref, h.first_seen,"
           " h.last_seen, h.count, h.level, h.ioc_type, h.ioc_value, h.collection, h.stix2_file,"
           " CASE WHEN r.acq_id IS NULL THEN 1 ELSE 0 END"
           " FROM hunt_hits h CROSS JOIN acquisitions a"
           " LEFT JOIN reported_hits r ON r.acq_id = h.acq_id AND r.obs_id = h.obs_id AND"
           " r.module_id = h.module_id AND r.ioc_type = h.ioc_type AND r.ioc_value = h.ioc_ref"
           " WHERE a.id = h.acq_id ORDER BY h.acq_id, h.module, h.value, h.ioc_value, h.collection")) {
    HuntHit h;
    h.acq_id = i64(r[0]);
    h.device = s(r[1]);
    h.acq_kind = s(r[2]);
    h.obs_kind = s(r[3]);
    h.value = s(r[4]);
    h.module = s(r[5]);
    h.artifact = s(r[6]);
    h.record_ref = s(r[7]);
    h.first_seen = s(r[8]);
    h.last_seen = s(r[9]);
    h.count = i64(r[10]);
    h.level = static_cast<Level>(i64(r[11]));
    h.ioc_type = s(r[12]);
    h.ioc_value = s(r[13]);
    h.collection = s(r[14]);
    h.stix2_file = s(r[15]);
    h.is_new = i64(r[16]) != 0;
    res.hits.push_back(std::move(h));
  }
  for (auto& r : db_->query("SELECT DISTINCT indicator_digest, id FROM hunts ORDER BY id DESC")) {
    std::string d = s(r[0]);
    if (d == res.digest) res.digest_seen_before = true;
    if (std::find(res.previous_digests.begin(), res.previous_digests.end(), d) == res.previous_digests.end())
      res.previous_digests.push_back(d);
  }
  std::size_t fresh = std::count_if(res.hits.begin(), res.hits.end(), [](auto& h) { return h.is_new; });
  auto hid = db_->query("INSERT INTO hunts (indicator_digest, hunted_at, hits, new_hits) VALUES (?, ?, ?, ?) RETURNING id",
                        {res.digest, now_iso_utc(), std::to_string(res.hits.size()), std::to_string(fresh)});
  res.hunt_id = i64(hid.at(0).at(0));
  db_->query("INSERT INTO reported_hits (acq_id, obs_id, module_id, ioc_type, ioc_value, hunt_id)"
             " SELECT DISTINCT acq_id, obs_id, module_id, ioc_type, ioc_ref, CAST(? AS BIGINT) FROM hunt_hits WHERE 1 = 1"
             " ON CONFLICT DO NOTHING",
             {std::to_string(res.hunt_id)});
  res.acquisitions = static_cast<std::size_t>(i64(db_->query("SELECT COUNT(*) FROM acquisitions").at(0).at(0)));
  db_->exec("DROP TABLE IF EXISTS hunt_ind; DROP TABLE IF EXISTS hunt_obs; DROP TABLE IF EXISTS hunt_hits;");
  t.commit();
  return res;
}

bool Store::claim(const std::string& sha, const std::string& worker, int ttl_seconds) {
  Txn t(*db_);
  std::int64_t now = now_unix();
  // Expired claims are taken over; a live claim of another worker is respected.
  db_->query("DELETE FROM claims WHERE input_sha256 = ? AND claimed_at < ?", {sha, std::to_string(now - ttl_seconds)});
  auto rows = db_->query(
      "INSERT INTO claims (input_sha256, worker, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING worker",
      {sha, worker, std::to_string(now)});
  t.commit();
  return !rows.empty();
}

void Store::release(const std::string& sha, const std::string& worker) {
  Txn t(*db_);
  db_->query("DELETE FROM claims WHERE input_sha256 = ? AND worker = ?", {sha, worker});
  t.commit();
}

std::string input_sha256(const std::filesystem::path& input) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(input, ec)) return sha256_file_shared(input).value_or("");
  if (!fs::is_directory(input, ec)) return "";
  if (fs::is_regular_file(input / "Manifest.db", ec) && fs::is_regular_file(input / "Info.plist", ec))
    return sha256_hex("ios-backup\n" + sha256_file_shared(input / "Manifest.db").value_or("") + "\n" +
                      sha256_file_shared(input / "Info.plist").value_or(""));
  std::vector<std::string> lines;
  for (auto it = fs::recursive_directory_iterator(input, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    if (!it->is_regular_file(e2)) continue;
    auto size = it->file_size(e2);
    auto mtime = it->last_write_time(e2).time_since_epoch().count();
    lines.push_back(fs::relative(it->path(), input, e2).generic_string() + "\t" + std::to_string(size) + "\t" +
                    std::to_string(mtime));
  }
  std::sort(lines.begin(), lines.end());
  std::string all = "folder\n";
  for (auto& l : lines) all += l + "\n";
  return sha256_hex(all);
}

}  // namespace bridle::store
