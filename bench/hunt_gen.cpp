// bridle-hunt-gen: fills an observation store with a synthetic fleet for the hunt benchmark
// (bench/hunt, README "Benchmarks").
//
//   bridle-hunt-gen --store URL --iocs DIR [--acquisitions 10000] [--observables 5000]
//                   [--seed 1] [--planted OUT.json]
//
// URL is a new (empty) store: a SQLite file or postgresql://... . Every acquisition gets
// exactly --observables stored observables (rows of the observations table, as counted by
// `bridle store list`), keyed exactly as bridle keys them (store::observation_keys). Most values
// come from shared pools with a skewed (popular-first) distribution, like a real fleet:
// popular domains and URLs, common processes, system file paths, widespread apps; about 10 %
// are a long tail of values unique to one phone. No generated value matches the indicators in
// DIR (checked with the IndicatorIndex), except a handful planted at known acquisitions: those
// are listed in --planted, and a hunt with the same indicators must report exactly them.
// Bulk loading: SQLite through prepared statements in large transactions, PostgreSQL with
// COPY (one stream per table); indexes and constraints are built after the load.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <unordered_map>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/util.hpp"
#include "engine/store/observation_keys.hpp"
#include "engine/store/store.hpp"
#include "indicators/indicators.hpp"

#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#define BRIDLE_HAVE_LIBPQ 1
#endif

using namespace bridle;
namespace fs = std::filesystem;

namespace {

struct Rng {
  std::mt19937_64 g;
  explicit Rng(std::uint64_t seed) : g(seed) {}
  std::size_t below(std::size_t n) { return n ? static_cast<std::size_t>(g() % n) : 0; }
  double unit() { return static_cast<double>(g() >> 11) * (1.0 / 9007199254740992.0); }
  // Popular-first: index in [0, n) with density falling like u^3.
  std::size_t skewed(std::size_t n) {
    double u = unit();
    return std::min(n - 1, static_cast<std::size_t>(static_cast<double>(n) * u * u * u));
  }
  std::string hex(std::size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s(n, '0');
    for (auto& c : s) c = d[g() & 15];
    return s;
  }
};

const std::vector<std::string> kWords = {
    "apple", "cloud", "media", "news", "shop", "mail", "photo", "video", "music", "game", "travel", "bank",
    "sport", "weather", "maps", "social", "chat", "stream", "store", "health", "food", "auto", "home", "city",
    "radio", "books", "learn", "jobs", "style", "tech", "data", "sync", "push", "track", "pixel", "ads",
    "static", "assets", "edge", "fast", "global", "metro", "daily", "prime", "blue", "green", "red", "north"};
const std::vector<std::string> kTlds = {"com", "net", "org", "io", "co.uk", "de", "fr", "it", "es", "nl", "info", "app"};
const std::vector<std::string> kSubs = {"www", "cdn", "api", "static", "img", "m", "mail", "login", "graph", "edge",
                                        "media", "s", "app", "push", "metrics"};
const std::vector<std::string> kPopular = {
    "apple.com", "icloud.com", "mzstatic.com", "google.com", "googleapis.com", "gstatic.com", "youtube.com",
    "whatsapp.net", "whatsapp.com", "facebook.com", "fbcdn.net", "instagram.com", "cdninstagram.com",
    "twitter.com", "twimg.com", "microsoft.com", "live.com", "office.com", "amazon.com", "amazonaws.com",
    "cloudfront.net", "akamaihd.net", "wikipedia.org", "netflix.com", "spotify.com", "telegram.org",
    "signal.org", "yahoo.com", "bing.com", "linkedin.com", "tiktok.com", "zoom.us", "dropbox.com",
    "github.com", "reddit.com", "bbc.co.uk", "nytimes.com", "theguardian.com", "booking.com", "paypal.com"};
const std::vector<std::string> kProcesses = {
    "SpringBoard", "backboardd", "mediaserverd", "locationd", "apsd", "imagent", "identityservicesd",
    "nsurlsessiond", "cloudd", "bird", "assistantd", "mobileassetd", "itunesstored", "healthd", "searchd",
    "CommCenter", "wifid", "bluetoothd", "symptomsd", "trustd", "system_server", "surfaceflinger",
    "zygote64", "com.android.phone", "com.google.android.gms", "com.android.systemui", "logd", "netd",
    "vold", "installd", "cameraserver", "audioserver", "mediaserver", "keystore2", "servicemanager"};

struct Value {
  ObsKind kind;
  std::string value;
  std::vector<store::ObsKey> keys;
};

struct Module {
  const char* slug;
  const char* artifact;
};

// Which modules report which kind, per platform.
const std::map<ObsKind, std::vector<Module>> kIosModules = {
    {ObsKind::Domain, {{"webkit_resource_load_statistics", "WebkitResourceLoadStatistics"}, {"safari_favicon", "SafariFavicon"}}},
    {ObsKind::Url, {{"safari_history", "SafariHistory"}, {"sms", "SMS"}, {"chrome_history", "ChromeHistory"}, {"whatsapp", "Whatsapp"}}},
    {ObsKind::Ip, {{"netusage", "Netusage"}}},
    {ObsKind::Process, {{"datausage", "Datausage"}, {"netusage", "Netusage"}}},
    {ObsKind::FilePath, {{"manifest", "Manifest"}}},
    {ObsKind::AppId, {{"applications", "Applications"}, {"tcc", "TCC"}}},
    {ObsKind::Email, {{"contacts", "Contacts"}, {"id_status_cache", "IDStatusCache"}}},
    {ObsKind::FileHash, {{"applications", "Applications"}}}};
const std::map<ObsKind, std::vector<Module>> kAndroidModules = {
    {ObsKind::Domain, {{"dns_event", "DnsEvent"}}},
    {ObsKind::Url, {{"sms", "BackupSMS"}, {"dumpsys_activities", "DumpsysActivities"}}},
    {ObsKind::Ip, {{"connect_event", "ConnectEvent"}}},
    {ObsKind::Process, {{"aqf_processes", "AQFProcesses"}}},
    {ObsKind::FilePath, {{"aqf_files", "AQFFiles"}}},
    {ObsKind::AppId, {{"aqf_packages", "AQFPackages"}, {"dumpsys_packages", "DumpsysPackages"}}},
    {ObsKind::Email, {{"dumpsys_accounts", "DumpsysAccounts"}}},
    {ObsKind::FileHash, {{"aqf_packages", "AQFPackages"}}}};

struct Pools {
  std::map<ObsKind, std::vector<Value>> by_kind;
};

class Gen {
 public:
  Gen(std::uint64_t seed, const IndicatorIndex& index) : rng_(seed), index_(index) {}

  std::string word() { return kWords[rng_.below(kWords.size())]; }
  std::string host() {
    return kSubs[rng_.below(kSubs.size())] + "." + word() + std::to_string(rng_.below(5000)) + "." +
           kTlds[rng_.below(kTlds.size())];
  }
  std::string ipv4() {
    return std::to_string(1 + rng_.below(223)) + "." + std::to_string(rng_.below(256)) + "." +
           std::to_string(rng_.below(256)) + "." + std::to_string(1 + rng_.below(254));
  }
  std::string fresh(ObsKind k, const Pools& p) {
    auto pick = [&](ObsKind kind) -> const std::string& {
      auto& v = p.by_kind.at(kind);
      return v[rng_.skewed(v.size())].value;
    };
    switch (k) {
      case ObsKind::Domain: return rng_.below(4) == 0 ? rng_.hex(8) + "." + pick(ObsKind::Domain) : host();
      case ObsKind::Url:
        return "https://" + (rng_.below(2) ? pick(ObsKind::Domain) : host()) + "/" + word() + "/" + rng_.hex(12) +
               (rng_.below(3) == 0 ? "?id=" + rng_.hex(16) : "");
      case ObsKind::Ip:
        return rng_.below(8) == 0 ? "2001:db8:" + rng_.hex(4) + "::" + rng_.hex(4) : ipv4();
      case ObsKind::Process:
        return rng_.below(2) ? word() + "d" + std::to_string(rng_.below(100000))
                             : "com." + word() + "." + word() + std::to_string(rng_.below(100000));
      case ObsKind::FilePath:
        switch (rng_.below(4)) {
          case 0: return "/private/var/mobile/Library/" + word() + "/" + word() + rng_.hex(6) + ".db";
          case 1: return "/private/var/mobile/Media/DCIM/100APPLE/IMG_" + std::to_string(rng_.below(100000)) + ".HEIC";
          case 2: return "/sdcard/Download/" + word() + "_" + rng_.hex(8) + ".pdf";
          default: return "/data/data/com." + word() + "." + word() + "/files/" + rng_.hex(10);
        }
      case ObsKind::AppId: return "com." + word() + "." + word() + std::to_string(rng_.below(1000000));
      case ObsKind::Email: return word() + "." + word() + std::to_string(rng_.below(100000)) + "@" + pick(ObsKind::Domain);
      case ObsKind::FileHash: return rng_.hex(64);
      default: return rng_.hex(16);
    }
  }

  // A value with its keys, or nothing when it would match an indicator.
  std::optional<Value> make(ObsKind k, std::string v) {
    Observation o{k, v};
    if (index_.first(o)) {
      ++rejected_;
      return std::nullopt;
    }
    Value out{k, std::move(v), {}};
    store::observation_keys(Observation{k, out.value}, out.keys);
    if (out.keys.empty()) return std::nullopt;
    return out;
  }

  Pools pools() {
    Pools p;
    auto fill = [&](ObsKind k, std::size_t n, auto&& make_value) {
      auto& v = p.by_kind[k];
      std::set<std::string> seen;
      for (std::size_t tries = 0; v.size() < n && tries < n * 4; ++tries) {
        std::string s = make_value(v.size());
        if (!seen.insert(s).second) continue;
        if (auto x = make(k, s)) v.push_back(std::move(*x));
      }
    };
    fill(ObsKind::Domain, 30000, [&](std::size_t i) {
      if (i < kPopular.size()) return kPopular[i];
      if (i < kPopular.size() * (kSubs.size() + 1))
        return kSubs[i / kPopular.size() - 1] + "." + kPopular[i % kPopular.size()];
      return host();
    });
    fill(ObsKind::Url, 60000, [&](std::size_t) {
      auto& d = p.by_kind[ObsKind::Domain];
      return "https://" + d[rng_.skewed(d.size())].value + "/" + word() + "/" + word() + std::to_string(rng_.below(1000)) +
             (rng_.below(4) == 0 ? ".html" : "");
    });
    fill(ObsKind::Ip, 15000, [&](std::size_t) { return ipv4(); });
    fill(ObsKind::Process, 2000, [&](std::size_t i) {
      if (i < kProcesses.size()) return kProcesses[i];
      return rng_.below(2) ? word() + "d" : "com." + word() + "." + word() + std::to_string(rng_.below(100));
    });
    fill(ObsKind::FilePath, 40000, [&](std::size_t) {
      switch (rng_.below(5)) {
        case 0: return "/private/var/mobile/Library/Preferences/com." + word() + "." + word() + ".plist";
        case 1: return "/private/var/containers/Bundle/Application/" + rng_.hex(8) + "/" + word() + ".app/Info.plist";
        case 2: return "/system/lib64/lib" + word() + std::to_string(rng_.below(50)) + ".so";
        case 3: return "/data/app/com." + word() + "." + word() + "-" + rng_.hex(6) + "/base.apk";
        default: return "/private/var/mobile/Library/Caches/com." + word() + "." + word() + "/Cache.db";
      }
    });
    fill(ObsKind::AppId, 8000, [&](std::size_t) { return "com." + word() + "." + word() + std::to_string(rng_.below(200)); });
    fill(ObsKind::Email, 20000, [&](std::size_t) {
      auto& d = p.by_kind[ObsKind::Domain];
      return word() + std::to_string(rng_.below(10000)) + "@" + d[rng_.skewed(std::min<std::size_t>(d.size(), 200))].value;
    });
    fill(ObsKind::FileHash, 8000, [&](std::size_t) { return rng_.hex(64); });
    return p;
  }

  Rng& rng() { return rng_; }
  std::size_t rejected() const { return rejected_; }

 private:
  Rng rng_;
  const IndicatorIndex& index_;
  std::size_t rejected_ = 0;
};

// Share of observed values per kind (of the values drawn; URLs and paths give several keys).
const std::vector<std::pair<ObsKind, int>> kMix = {
    {ObsKind::Domain, 25}, {ObsKind::Url, 25}, {ObsKind::Ip, 8},    {ObsKind::Process, 7},
    {ObsKind::FilePath, 15}, {ObsKind::AppId, 7}, {ObsKind::Email, 8}, {ObsKind::FileHash, 5}};

struct Row {
  std::int64_t obs_id, module_id;
  std::string kind, value;  // empty: the observable's own (stored as NULL)
  std::string record_ref, first_seen, last_seen;
  std::int64_t count;
  int level;
  bool operator<(const Row& o) const { return std::tie(obs_id, module_id) < std::tie(o.obs_id, o.module_id); }
};

struct Acq {
  std::int64_t id;
  std::string kind, device, sha, scanned_at;
};

std::string ts(Rng& r) {
  char b[40];
  std::snprintf(b, sizeof b, "20%02zu-%02zu-%02zu %02zu:%02zu:%02zu.000000", 24 + r.below(3), 1 + r.below(12),
                1 + r.below(28), r.below(24), r.below(60), r.below(60));
  return b;
}

// ------------------------------------------------------------------------------ writers
// Same tables as store.cpp's schema 2 (created by Store::open); ids are assigned here.

struct Writer {
  virtual ~Writer() = default;
  virtual void begin_load() = 0;
  virtual void module(std::int64_t id, const std::string& slug, const std::string& artifact) = 0;
  virtual void observable(std::int64_t id, const std::string& cat, const std::string& key, const std::string& kind,
                          const std::string& value, const std::string& rkey) = 0;
  virtual void acquisition(const Acq& a) = 0;
  virtual void sightings(std::int64_t acq_id, const std::vector<Row>& rows) = 0;
  virtual void end_load() = 0;
};

class SqliteWriter final : public Writer {
 public:
  explicit SqliteWriter(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + path);
    exec("PRAGMA synchronous=OFF; PRAGMA cache_size=-1500000; PRAGMA foreign_keys=OFF;");
  }
  ~SqliteWriter() override {
    for (auto* s : {acq_, obs_, key_, mod_, suf_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  void begin_load() override {
    exec("DROP INDEX IF EXISTS sightings_obs; BEGIN");
    prep(&acq_,
         "INSERT INTO acquisitions (id, kind, device, identifiers, input_path, input_sha256, acquired_at, scanned_at,"
         " tool_version, indicator_digest, verdict, summary) VALUES (?, ?, ?, '{}', ?, ?, '', ?, 'bench', 'bench',"
         " 'clean', '{\"alerts\":{}}')");
    prep(&obs_,
         "INSERT INTO sightings (acq_id, obs_id, module_id, kind, value, record_ref, first_seen, last_seen, count, level)"
         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    prep(&key_, "INSERT INTO observables (id, cat, key, kind, value, rkey) VALUES (?, ?, ?, ?, ?, ?)");
    prep(&suf_, "INSERT INTO path_suffixes (rkey, obs_id) VALUES (?, ?)");
    prep(&mod_, "INSERT INTO modules (id, slug, artifact) VALUES (?, ?, ?)");
  }
  void module(std::int64_t id, const std::string& slug, const std::string& artifact) override {
    sqlite3_bind_int64(mod_, 1, id);
    text(mod_, 2, slug);
    text(mod_, 3, artifact);
    step(mod_);
  }
  void observable(std::int64_t id, const std::string& cat, const std::string& key, const std::string& kind,
                  const std::string& value, const std::string& rkey) override {
    sqlite3_bind_int64(key_, 1, id);
    text(key_, 2, cat);
    text(key_, 3, key);
    text(key_, 4, kind);
    text(key_, 5, value);
    if (rkey.empty()) sqlite3_bind_null(key_, 6);
    else text(key_, 6, rkey);
    step(key_);
    if (!rkey.empty()) {
      text(suf_, 1, rkey);
      sqlite3_bind_int64(suf_, 2, id);
      step(suf_);
    }
  }
  void acquisition(const Acq& a) override {
    sqlite3_bind_int64(acq_, 1, a.id);
    text(acq_, 2, a.kind);
    text(acq_, 3, a.device);
    text(acq_, 4, "/fleet/" + a.device);
    text(acq_, 5, a.sha);
    text(acq_, 6, a.scanned_at);
    step(acq_);
  }
  void sightings(std::int64_t id, const std::vector<Row>& rows) override {
    for (auto& r : rows) {
      sqlite3_bind_int64(obs_, 1, id);
      sqlite3_bind_int64(obs_, 2, r.obs_id);
      sqlite3_bind_int64(obs_, 3, r.module_id);
      text_or_null(obs_, 4, r.kind);
      text_or_null(obs_, 5, r.value);
      text(obs_, 6, r.record_ref);
      text_or_null(obs_, 7, r.first_seen);
      text_or_null(obs_, 8, r.last_seen);
      sqlite3_bind_int64(obs_, 9, r.count);
      sqlite3_bind_int(obs_, 10, r.level);
      step(obs_);
    }
    if (++n_ % 200 == 0) exec("COMMIT; BEGIN");
  }
  void end_load() override {
    exec("COMMIT");
    auto t0 = std::chrono::steady_clock::now();
    exec("CREATE INDEX sightings_obs ON sightings (obs_id)");
    std::cerr << "index built in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  }

 private:
  void exec(const char* sql) {
    char* e = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &e) != SQLITE_OK) {
      std::string m = e ? e : "?";
      sqlite3_free(e);
      throw std::runtime_error("sqlite: " + m);
    }
  }
  void prep(sqlite3_stmt** s, const char* sql) {
    if (sqlite3_prepare_v2(db_, sql, -1, s, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db_));
  }
  static void text(sqlite3_stmt* s, int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  static void text_or_null(sqlite3_stmt* s, int i, const std::string& v) {
    if (v.empty()) sqlite3_bind_null(s, i);
    else text(s, i, v);
  }
  void step(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt *acq_ = nullptr, *obs_ = nullptr, *key_ = nullptr, *mod_ = nullptr, *suf_ = nullptr;
  std::size_t n_ = 0;
};

#ifdef BRIDLE_HAVE_LIBPQ
// One COPY stream on its own connection.
class PgCopy {
 public:
  PgCopy(const std::string& url, const std::string& sql) {
    c_ = PQconnectdb(url.c_str());
    if (PQstatus(c_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c_));
    PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(c_, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    std::string e = PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) throw std::runtime_error("postgresql: " + e);
  }
  ~PgCopy() { PQfinish(c_); }
  std::string& buf() { return buf_; }
  void field(const std::string& s, bool null_if_empty = false) {
    if (null_if_empty && s.empty()) {
      buf_ += "\\N";
      return;
    }
    for (char c : s) {
      switch (c) {
        case '\\': buf_ += "\\\\"; break;
        case '\t': buf_ += "\\t"; break;
        case '\n': buf_ += "\\n"; break;
        case '\r': buf_ += "\\r"; break;
        default: buf_ += c;
      }
    }
  }
  void maybe_flush() {
    if (buf_.size() > (1u << 20)) flush();
  }
  void finish() {
    flush();
    if (PQputCopyEnd(c_, nullptr) != 1) throw std::runtime_error(PQerrorMessage(c_));
    std::string e;
    while (PGresult* r = PQgetResult(c_)) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK) e = PQresultErrorMessage(r);
      PQclear(r);
    }
    if (!e.empty()) throw std::runtime_error("postgresql COPY: " + e);
  }

 private:
  void flush() {
    if (!buf_.empty() && PQputCopyData(c_, buf_.data(), static_cast<int>(buf_.size())) != 1)
      throw std::runtime_error(std::string("postgresql: ") + PQerrorMessage(c_));
    buf_.clear();
  }
  PGconn* c_ = nullptr;
  std::string buf_;
};

class PgWriter final : public Writer {
 public:
  explicit PgWriter(std::string url) : url_(std::move(url)) {
    c_ = PQconnectdb(url_.c_str());
    if (PQstatus(c_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c_));
    PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
  }
  ~PgWriter() override { PQfinish(c_); }
  void begin_load() override {
    // Indexes and constraints are rebuilt after the load (much faster than row by row).
    exec("ALTER TABLE sightings DROP CONSTRAINT IF EXISTS sightings_pkey;"
         "ALTER TABLE sightings DROP CONSTRAINT IF EXISTS sightings_acq_id_fkey;"
         "ALTER TABLE observables DROP CONSTRAINT IF EXISTS observables_cat_key_key;"
         "ALTER TABLE path_suffixes DROP CONSTRAINT IF EXISTS path_suffixes_pkey;"
         "DROP INDEX IF EXISTS sightings_obs");
    acq_ = std::make_unique<PgCopy>(url_, "COPY acquisitions (id, kind, device, identifiers, input_path, input_sha256,"
                                          " acquired_at, scanned_at, tool_version, indicator_digest, verdict, summary)"
                                          " FROM STDIN");
    mod_ = std::make_unique<PgCopy>(url_, "COPY modules (id, slug, artifact) FROM STDIN");
    key_ = std::make_unique<PgCopy>(url_, "COPY observables (id, cat, key, kind, value, rkey) FROM STDIN");
    suf_ = std::make_unique<PgCopy>(url_, "COPY path_suffixes (rkey, obs_id) FROM STDIN");
    obs_ = std::make_unique<PgCopy>(url_, "COPY sightings (acq_id, obs_id, module_id, kind, value, record_ref,"
                                          " first_seen, last_seen, count, level) FROM STDIN");
  }
  void module(std::int64_t id, const std::string& slug, const std::string& artifact) override {
    mod_->buf() += std::to_string(id) + "\t";
    mod_->field(slug);
    mod_->buf() += "\t";
    mod_->field(artifact);
    mod_->buf() += "\n";
  }
  void observable(std::int64_t id, const std::string& cat, const std::string& key, const std::string& kind,
                  const std::string& value, const std::string& rkey) override {
    auto& b = key_->buf();
    b += std::to_string(id);
    for (auto* f : {&cat, &key, &kind, &value}) {
      b += '\t';
      key_->field(*f);
    }
    b += '\t';
    key_->field(rkey, true);  // NULL when empty
    b += '\n';
    key_->maybe_flush();
    if (!rkey.empty()) {
      suf_->field(rkey);
      suf_->buf() += "\t" + std::to_string(id) + "\n";
      suf_->maybe_flush();
    }
  }
  void acquisition(const Acq& a) override {
    acq_->buf() += std::to_string(a.id) + "\t" + a.kind + "\t" + a.device + "\t{}\t/fleet/" + a.device + "\t" + a.sha +
                   "\t\t" + a.scanned_at + "\tbench\tbench\tclean\t{\"alerts\":{}}\n";
    acq_->maybe_flush();
  }
  void sightings(std::int64_t id, const std::vector<Row>& rows) override {
    std::string sid = std::to_string(id);
    auto& b = obs_->buf();
    for (auto& r : rows) {
      b += sid + "\t" + std::to_string(r.obs_id) + "\t" + std::to_string(r.module_id) + "\t";
      obs_->field(r.kind, true);
      b += '\t';
      obs_->field(r.value, true);
      b += '\t';
      obs_->field(r.record_ref);
      b += '\t';
      obs_->field(r.first_seen, true);
      b += '\t';
      obs_->field(r.last_seen, true);
      b += '\t' + std::to_string(r.count) + '\t' + std::to_string(r.level) + '\n';
    }
    obs_->maybe_flush();
  }
  void end_load() override {
    for (auto* c : {acq_.get(), mod_.get(), key_.get(), obs_.get(), suf_.get()}) c->finish();
    suf_.reset();
    acq_.reset();
    mod_.reset();
    key_.reset();
    obs_.reset();
    auto t0 = std::chrono::steady_clock::now();
    exec("SET maintenance_work_mem = '1GB'");
    exec("ALTER TABLE observables ADD CONSTRAINT observables_cat_key_key UNIQUE (cat, key)");
    exec("ALTER TABLE path_suffixes ADD PRIMARY KEY (rkey, obs_id)");
    exec("ALTER TABLE sightings ADD PRIMARY KEY (acq_id, obs_id, module_id)");
    exec("CREATE INDEX sightings_obs ON sightings (obs_id)");
    exec("ALTER TABLE sightings ADD FOREIGN KEY (acq_id) REFERENCES acquisitions (id) ON DELETE CASCADE");
    for (auto* t : {"acquisitions", "observables", "modules"})
      exec(std::string("SELECT setval(pg_get_serial_sequence('") + t + "', 'id'), (SELECT MAX(id) FROM " + t + "))");
    exec("VACUUM ANALYZE");
    std::cerr << "constraints, indexes and ANALYZE in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  }

 private:
  void exec(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    auto st = PQresultStatus(r);
    std::string e = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error("postgresql: " + e);
  }
  std::string url_;
  PGconn* c_ = nullptr;
  std::unique_ptr<PgCopy> acq_, mod_, key_, obs_, suf_;
};
#endif

}  // namespace

int main(int argc, char** argv) {
  std::string url, iocs, planted_out;
  std::size_t n_acq = 10000, n_obs = 5000;
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--store") url = val();
    else if (a == "--iocs") iocs = val();
    else if (a == "--planted") planted_out = val();
    else if (a == "--acquisitions") n_acq = std::stoul(val());
    else if (a == "--observables") n_obs = std::stoul(val());
    else if (a == "--seed") seed = std::stoull(val());
    else {
      std::cerr << "usage: bridle-hunt-gen --store URL --iocs DIR [--acquisitions N] [--observables M] [--seed S]"
                   " [--planted OUT.json]\n";
      return 2;
    }
  }
  if (url.empty() || iocs.empty()) {
    std::cerr << "bridle-hunt-gen: --store and --iocs are required\n";
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  IndicatorSet set;
  std::vector<fs::path> files;
  for (auto& e : fs::recursive_directory_iterator(iocs))
    if (e.is_regular_file() && e.path().extension() == ".stix2") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (auto& f : files) set.load_file(f);
  IndicatorIndex index(set);
  std::cerr << "loaded " << set.size() << " indicators from " << files.size() << " files\n";

  bool pg = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  {
    auto st = store::Store::open(url);  // creates the schema
    if (!st->db().query("SELECT id FROM acquisitions LIMIT 1").empty()) {
      std::cerr << "bridle-hunt-gen: the store is not empty\n";
      return 2;
    }
  }
  std::unique_ptr<Writer> w;
  if (pg) {
#ifdef BRIDLE_HAVE_LIBPQ
    w = std::make_unique<PgWriter>(url);
#else
    std::cerr << "built without libpq\n";
    return 2;
#endif
  } else {
    w = std::make_unique<SqliteWriter>(url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url);
  }

  Gen gen(seed, index);
  Pools pools = gen.pools();
  std::cerr << "pools built (" << gen.rejected() << " values rejected as matching an indicator) at " << elapsed() << " s\n";

  // Planted values: the first indicator of each kind (sorted by value) that an observation can
  // match, as a value a phone would show (a domain as a sub-domain in a URL, ...).
  struct Plant {
    std::int64_t acq;
    ObsKind kind;
    std::string value, indicator, ioc_type;
  };
  std::vector<Plant> plants;
  {
    std::map<IocType, const Indicator*> first;
    for (auto& ind : set.indicators()) {
      auto it = first.find(ind.type);
      if (it == first.end() || ind.value < it->second->value) first[ind.type] = &ind;
    }
    std::vector<std::pair<ObsKind, std::string>> cand;
    for (auto& [type, ind] : first) {
      const std::string& v = ind->value;
      switch (type) {
        case IocType::Domain: cand.push_back({ObsKind::Url, "https://px7." + v + "/track?c=1"}); break;
        case IocType::Ipv4: cand.push_back({ObsKind::Ip, v}); break;
        case IocType::Url: cand.push_back({ObsKind::Url, v}); break;
        case IocType::Process: cand.push_back({ObsKind::Process, v}); break;
        case IocType::Email: cand.push_back({ObsKind::Email, v}); break;
        case IocType::FilePath: cand.push_back({ObsKind::FilePath, v}); break;
        case IocType::AppId: cand.push_back({ObsKind::AppId, v}); break;
        case IocType::Sha256: cand.push_back({ObsKind::FileHash, v}); break;
        default: break;
      }
    }
    // Also one domain indicator observed exactly (DNS), from the largest feed's last value.
    const Indicator* last_domain = nullptr;
    for (auto& ind : set.indicators())
      if (ind.type == IocType::Domain && (!last_domain || ind.value > last_domain->value)) last_domain = &ind;
    if (last_domain) cand.push_back({ObsKind::Domain, last_domain->value});
    std::size_t k = 0;
    for (auto& [kind, v] : cand) {
      auto m = index.first(Observation{kind, v});
      if (!m) {
        std::cerr << "note: planted candidate does not match, skipped: " << v << "\n";
        continue;
      }
      std::int64_t acq = 1 + static_cast<std::int64_t>((k * 1237 + 311) % n_acq);
      ++k;
      plants.push_back({acq, kind, v, m->indicator->value, std::string(ioc_type_key(m->indicator->type))});
    }
  }

  w->begin_load();
  std::unordered_map<std::string, std::pair<std::int64_t, std::string>> dict;  // cat\x1fkey -> id, value
  std::map<std::string, std::int64_t> module_ids;
  std::vector<Row> rows;
  std::unordered_set<std::string> seen;
  int total_weight = 0;
  for (auto& [k, wgt] : kMix) total_weight += wgt;
  auto& rng = gen.rng();
  std::size_t stored_rows = 0;
  for (std::size_t i = 1; i <= n_acq; ++i) {
    bool ios = i % 2 == 1;
    Acq a{static_cast<std::int64_t>(i), ios ? "ios_backup" : "androidqf",
          (ios ? "IPHONE-" : "ANDROID-") + std::to_string(100000 + i), sha256_hex("bench-acq-" + std::to_string(i)),
          ts(rng)};
    w->acquisition(a);
    auto& mods = ios ? kIosModules : kAndroidModules;
    rows.clear();
    seen.clear();
    auto add = [&](const Value& v, const Module& m, bool planted) {
      auto mit = module_ids.find(m.slug);
      if (mit == module_ids.end()) {
        mit = module_ids.emplace(m.slug, static_cast<std::int64_t>(module_ids.size() + 1)).first;
        w->module(mit->second, m.slug, m.artifact);
      }
      std::string kind(obs_kind_name(v.kind));
      std::string value = store::db_text(v.value);
      for (auto& key : v.keys) {
        if (rows.size() >= n_obs && !planted) return;
        std::string dk = key.cat + '\x1f' + key.key;
        if (!seen.insert(dk + '\x1f' + m.slug).second) continue;
        auto [it, fresh] = dict.try_emplace(dk, static_cast<std::int64_t>(dict.size() + 1), kind + '\x1f' + value);
        if (fresh) w->observable(it->second.first, key.cat, key.key, kind, value, key.rkey);
        Row r;
        r.obs_id = it->second.first;
        r.module_id = mit->second;
        if (it->second.second != kind + '\x1f' + value) {
          r.kind = kind;
          r.value = value;
        }
        r.record_ref = std::to_string(1 + rng.below(20000));
        if (rng.below(10) != 0) {
          r.first_seen = ts(rng);
          r.last_seen = ts(rng);
          if (r.last_seen < r.first_seen) std::swap(r.first_seen, r.last_seen);
        }
        r.count = 1 + static_cast<std::int64_t>(rng.skewed(200));
        r.level = static_cast<int>(Level::Critical);
        rows.push_back(std::move(r));
      }
    };
    for (auto& p : plants)
      if (p.acq == a.id) {
        Value v{p.kind, p.value, {}};
        store::observation_keys(Observation{p.kind, p.value}, v.keys);
        add(v, mods.at(p.kind)[0], true);
      }
    while (rows.size() < n_obs) {
      int r = static_cast<int>(rng.below(static_cast<std::size_t>(total_weight)));
      ObsKind kind = kMix[0].first;
      for (auto& [k, wgt] : kMix) {
        if (r < wgt) {
          kind = k;
          break;
        }
        r -= wgt;
      }
      auto& ms = mods.at(kind);
      const Module& m = ms[rng.below(ms.size())];
      if (rng.below(10) == 0) {  // long tail: unique to this phone
        if (auto v = gen.make(kind, gen.fresh(kind, pools))) add(*v, m, false);
      } else {
        auto& pool = pools.by_kind.at(kind);
        add(pool[rng.skewed(pool.size())], m, false);
      }
    }
    std::sort(rows.begin(), rows.end());  // primary-key order: appends
    stored_rows += rows.size();
    w->sightings(a.id, rows);
    if (i % 1000 == 0)
      std::cerr << "  " << i << " acquisitions, " << stored_rows << " sightings, " << dict.size() << " observables at "
                << elapsed() << " s\n";
  }
  std::cerr << "rows written at " << elapsed() << " s\n";
  w->end_load();
  std::cerr << "done in " << elapsed() << " s (" << gen.rejected() << " generated values rejected as matching)\n";

  Json j = {{"acquisitions", n_acq},       {"observables_per_acquisition", n_obs},
            {"sightings", stored_rows},    {"distinct_observables", dict.size()},
            {"seed", seed},                {"seconds", elapsed()},
            {"planted", Json::array()}};
  std::set<std::int64_t> ids;
  for (auto& p : plants) {
    j["planted"].push_back({{"acquisition", p.acq}, {"kind", std::string(obs_kind_name(p.kind))}, {"value", p.value},
                            {"indicator", p.indicator}, {"ioc_type", p.ioc_type}});
    ids.insert(p.acq);
  }
  j["planted_acquisitions"] = ids;
  if (!planted_out.empty()) {
    std::ofstream(planted_out) << j.dump(2) << "\n";
  } else {
    std::cout << j.dump(2) << "\n";
  }
  return 0;
}
