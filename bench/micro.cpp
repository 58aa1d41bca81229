// Micro-benchmarks: indicator lookups by kind (public feeds, 1M synthetic indicators), STIX2
// load time of all feeds, plist / NSKeyedArchiver decode, the dumpstate section splitter.
// Run: build-perf/bench_micro [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <plist/plist.h>

#include "core/types.hpp"
#include "formats/plist.hpp"
#include "indicators/indicators.hpp"
#include "modules/android/dumpstate.hpp"
#include "acquisition/ios_crypto.hpp"

#include <openssl/evp.h>

using namespace bridle;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> feed_files() {
  std::vector<fs::path> out;
  fs::path root = fs::path(BRIDLE_SHARED_DIR) / "iocs";
  std::error_code ec;
  if (!fs::exists(root, ec)) return out;
  for (auto& e : fs::recursive_directory_iterator(root, ec))
    if (e.is_regular_file() && e.path().extension() == ".stix2") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// A STIX2 bundle with n synthetic indicators of several kinds (mostly domains).
std::string synthetic_bundle(std::size_t n) {
  std::string s = R"({"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[)"
                  R"({"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000001","name":"Synthetic","is_family":false})";
  char buf[256];
  for (std::size_t i = 0; i < n; ++i) {
    const char* pat;
    char val[96];
    switch (i % 10) {
      case 0: pat = "process:name"; std::snprintf(val, sizeof val, "synproc%zu", i); break;
      case 1: pat = "app:id"; std::snprintf(val, sizeof val, "com.syn.app%zu", i); break;
      case 2: pat = "email-addr:value"; std::snprintf(val, sizeof val, "u%zu@syn%zu.example.net", i, i % 1000); break;
      default: pat = "domain-name:value"; std::snprintf(val, sizeof val, "c2-%zu.syn%zu.example.com", i, i % 5000); break;
    }
    std::snprintf(buf, sizeof buf,
                  R"(,{"type":"indicator","spec_version":"2.1","id":"indicator--%08zx-0000-4000-8000-000000000000","pattern":"[%s = '%s']","pattern_type":"stix"})",
                  i, pat, val);
    s += buf;
  }
  s += "]}";
  return s;
}

struct Feeds {
  IndicatorSet set;
  std::unique_ptr<IndicatorIndex> index;
  std::size_t files = 0;
  Feeds() {
    for (auto& f : feed_files()) { set.load_file(f); ++files; }
    index = std::make_unique<IndicatorIndex>(set);
  }
};
Feeds& feeds() { static Feeds f; return f; }

struct Synthetic {
  IndicatorSet set;
  std::unique_ptr<IndicatorIndex> index;
  Synthetic() {
    set.load_bundle(synthetic_bundle(1'000'000), "synthetic.stix2");
    index = std::make_unique<IndicatorIndex>(set);
  }
};
Synthetic& synthetic() { static Synthetic s; return s; }

// Observables: mostly misses (as on a real phone), 1 in 64 a hit when hits are given.
std::vector<Observation> observables(ObsKind kind, const std::vector<std::string>& hits, std::size_t n) {
  std::mt19937_64 g(42);
  std::vector<Observation> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string v;
    if (!hits.empty() && i % 64 == 0) v = hits[g() % hits.size()];
    else switch (kind) {
      case ObsKind::Domain: v = "host" + std::to_string(g() % 100000) + ".cdn.example.org"; break;
      case ObsKind::Url: v = "https://www" + std::to_string(g() % 1000) + ".news.example.com/a/b?c=" + std::to_string(i); break;
      case ObsKind::Process: v = "proc" + std::to_string(g() % 100000); break;
      case ObsKind::AppId: v = "com.vendor.app" + std::to_string(g() % 100000); break;
      case ObsKind::Email: v = "someone" + std::to_string(g() % 100000) + "@mail.example.org"; break;
      case ObsKind::FilePath: v = "/private/var/mobile/Library/x" + std::to_string(g() % 100000) + ".plist"; break;
      default: v = "x"; break;
    }
    out.push_back({kind, v, {}});
  }
  return out;
}

std::vector<std::string> hits_of(const IndicatorSet& set, IocType t, std::size_t max = 1000) {
  std::vector<std::string> out;
  for (auto& i : set.indicators())
    if (i.type == t && out.size() < max) out.push_back(i.value);
  return out;
}

// The observed values are copied, in turn, from one contiguous buffer into a reused
// Observation: as in a scan, where the value was just built by a module and is in cache.
// (Matching each value where it was allocated measured the heap layout instead: after the
// 1M-indicator load the 65k small strings are scattered over a fragmented heap, and the
// first read of each one was a cache miss costing more than the lookup itself.)
void run_lookups(benchmark::State& st, const IndicatorIndex& idx, const std::vector<Observation>& obs) {
  std::string arena;
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (auto& o : obs) {
    spans.emplace_back(arena.size(), o.value.size());
    arena += o.value;
  }
  Observation cur{obs.front().kind, std::string(256, ' '), {}};
  std::size_t i = 0, found = 0;
  for (auto _ : st) {
    cur.value.assign(arena, spans[i].first, spans[i].second);
    auto m = idx.match(cur);
    found += m.size();
    benchmark::DoNotOptimize(m);
    if (++i == obs.size()) i = 0;
  }
  st.counters["lookups/s"] = benchmark::Counter(static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
  st.counters["hits"] = static_cast<double>(found);
}

void BM_FeedsLookup(benchmark::State& st, ObsKind kind, IocType type) {
  auto& f = feeds();
  if (f.files == 0) { st.SkipWithError("../shared/iocs not found"); return; }
  auto obs = observables(kind, hits_of(f.set, type), 1 << 16);
  run_lookups(st, *f.index, obs);
}
void BM_SyntheticLookup(benchmark::State& st, ObsKind kind, IocType type) {
  auto& s = synthetic();
  auto obs = observables(kind, hits_of(s.set, type), 1 << 16);
  run_lookups(st, *s.index, obs);
}

// Worst case for the suffix walk: hosts under the synthetic indicators' own parents
// ("hostN.synK.example.com"; "com", "example.com" and "synK.example.com" all exist), so every
// lookup probes four suffixes and the last one at a random place in the table.
void BM_SyntheticLookupDeep(benchmark::State& st) {
  auto& s = synthetic();
  std::mt19937_64 g(7);
  std::vector<Observation> obs;
  for (std::size_t i = 0; i < (1u << 16); ++i)
    obs.push_back({ObsKind::Domain, "host" + std::to_string(g() % 1000000) + ".syn" + std::to_string(g() % 5000) + ".example.com", {}});
  run_lookups(st, *s.index, obs);
}
BENCHMARK(BM_SyntheticLookupDeep);

BENCHMARK_CAPTURE(BM_FeedsLookup, domain, ObsKind::Domain, IocType::Domain);
BENCHMARK_CAPTURE(BM_FeedsLookup, url, ObsKind::Url, IocType::Domain);
BENCHMARK_CAPTURE(BM_FeedsLookup, process, ObsKind::Process, IocType::Process);
BENCHMARK_CAPTURE(BM_FeedsLookup, app_id, ObsKind::AppId, IocType::AppId);
BENCHMARK_CAPTURE(BM_FeedsLookup, email, ObsKind::Email, IocType::Email);
BENCHMARK_CAPTURE(BM_FeedsLookup, file_path, ObsKind::FilePath, IocType::FilePath);
BENCHMARK_CAPTURE(BM_SyntheticLookup, domain_1M, ObsKind::Domain, IocType::Domain);
BENCHMARK_CAPTURE(BM_SyntheticLookup, url_1M, ObsKind::Url, IocType::Domain);
BENCHMARK_CAPTURE(BM_SyntheticLookup, process_1M, ObsKind::Process, IocType::Process);
BENCHMARK_CAPTURE(BM_SyntheticLookup, app_id_1M, ObsKind::AppId, IocType::AppId);
BENCHMARK_CAPTURE(BM_SyntheticLookup, email_1M, ObsKind::Email, IocType::Email);

// Loading every public feed and building the index (what a scan pays at start-up).
void BM_LoadAllFeeds(benchmark::State& st) {
  auto files = feed_files();
  if (files.empty()) { st.SkipWithError("../shared/iocs not found"); return; }
  std::size_t n = 0;
  for (auto _ : st) {
    IndicatorSet set;
    for (auto& f : files) set.load_file(f);
    IndicatorIndex idx(set);
    n = set.size();
    benchmark::DoNotOptimize(idx);
  }
  st.counters["files"] = static_cast<double>(files.size());
  st.counters["indicators"] = static_cast<double>(n);
}
BENCHMARK(BM_LoadAllFeeds)->Unit(benchmark::kMillisecond);

void BM_LoadSynthetic1M(benchmark::State& st) {
  std::string text = synthetic_bundle(1'000'000);
  for (auto _ : st) {
    IndicatorSet set;
    set.load_bundle(text, "synthetic.stix2");
    IndicatorIndex idx(set);
    benchmark::DoNotOptimize(idx);
  }
}
BENCHMARK(BM_LoadSynthetic1M)->Unit(benchmark::kMillisecond)->Iterations(2);

// An MBFile NSKeyedArchiver record as found in every Manifest.db row.
std::string mbfile_blob() {
  plist_t root = plist_new_dict();
  plist_dict_set_item(root, "$archiver", plist_new_string("NSKeyedArchiver"));
  plist_dict_set_item(root, "$version", plist_new_uint(100000));
  plist_t top = plist_new_dict();
  plist_dict_set_item(top, "root", plist_new_uid(1));
  plist_dict_set_item(root, "$top", top);
  plist_t objs = plist_new_array();
  plist_array_append_item(objs, plist_new_string("$null"));
  plist_t f = plist_new_dict();
  const char* ints[] = {"LastModified", "LastStatusChange", "Birth", "Mode", "UserID", "GroupID",
                        "InodeNumber", "Size", "Flags", "ProtectionClass"};
  for (auto* k : ints) plist_dict_set_item(f, k, plist_new_uint(1650000000));
  plist_dict_set_item(f, "RelativePath", plist_new_uid(2));
  plist_dict_set_item(f, "$class", plist_new_uid(3));
  plist_array_append_item(objs, f);
  plist_array_append_item(objs, plist_new_string("Library/Preferences/com.apple.springboard.plist"));
  plist_t cls = plist_new_dict();
  plist_dict_set_item(cls, "$classname", plist_new_string("MBFile"));
  plist_t classes = plist_new_array();
  plist_array_append_item(classes, plist_new_string("MBFile"));
  plist_array_append_item(classes, plist_new_string("NSObject"));
  plist_dict_set_item(cls, "$classes", classes);
  plist_array_append_item(objs, cls);
  plist_dict_set_item(root, "$objects", objs);
  char* out = nullptr;
  uint32_t len = 0;
  plist_to_bin(root, &out, &len);
  std::string s(out, len);
  free(out);
  plist_free(root);
  return s;
}

void BM_NskaMBFile(benchmark::State& st) {
  std::string blob = mbfile_blob();
  PlistOptions po;
  for (auto _ : st) {
    auto j = nska_to_json(blob, po);
    benchmark::DoNotOptimize(j);
  }
  st.counters["records/s"] = benchmark::Counter(static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_NskaMBFile);

void BM_PlistMBFile(benchmark::State& st) {
  std::string blob = mbfile_blob();
  for (auto _ : st) {
    auto j = plist_to_json(blob);
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_PlistMBFile);

// A dumpstate of `mb` MiB: a large log block with service sections interleaved.
std::string dumpstate_text(std::size_t mb) {
  std::string s = "------ SYSTEM PROPERTIES (getprop) ------\n[ro.x]: [1]\n------ 0.01s ------\n";
  std::string dashes(79, '-');
  std::size_t line = 0;
  while (s.size() < (mb << 20)) {
    ++line;
    s += "11-15 10:00:00.000  1000  1000  1000 I tag: some log message text with several words " +
         std::to_string(line) + "\n";
    if (line % 20000 == 0) s += dashes + "\nDUMP OF SERVICE svc" + std::to_string(line) + ":\ncontent\n";
  }
  s += dashes + "\nDUMP OF SERVICE package:\nPackages:\n  Package [com.x] (1):\n" + dashes + "\n";
  return s;
}

// What a scan does: the text fed in 1 MiB chunks (as read from the zip member), only the
// sections modules read kept.
void BM_DumpstateSplit(benchmark::State& st) {
  std::string text = dumpstate_text(static_cast<std::size_t>(st.range(0)));
  for (auto _ : st) {
    Dumpstate::Builder b([](std::string_view name) { return name == "package" || name == "appops"; });
    for (std::size_t i = 0; i < text.size(); i += 1u << 20) b.feed(std::string_view(text).substr(i, 1u << 20));
    auto d = b.finish();
    benchmark::DoNotOptimize(d->has_service("package"));
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_DumpstateSplit)->Arg(16)->Arg(200)->Unit(benchmark::kMillisecond);

// Every section kept (Dumpstate::from_text, as the tests use it).
void BM_DumpstateSplitKeepAll(benchmark::State& st) {
  std::string text = dumpstate_text(static_cast<std::size_t>(st.range(0)));
  for (auto _ : st) {
    auto d = Dumpstate::from_text(text);
    benchmark::DoNotOptimize(d->has_service("package"));
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_DumpstateSplitKeepAll)->Arg(16)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

// ---------------------------------------------------------------------------------------
// Encrypted-backup file decryption: AES-256-CBC with PKCS#7 check, the per-file work of
// check-backup/decrypt-backup on an encrypted backup. Reports bytes/s on one core (the
// command runs one such stream per core).
static void BM_DecryptBackupFile(benchmark::State& state) {
  const std::size_t size = static_cast<std::size_t>(state.range(0)) << 20;
  std::string key(32, '\x42');
  std::string plain(size, '\0');
  std::mt19937_64 rng(7);
  for (auto& c : plain) c = static_cast<char>(rng());
  // Encrypt once with the library's own primitives' counterpart (OpenSSL EVP).
  std::string cipher(size + 16, '\0');
  {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    unsigned char iv[16] = {0};
    int n1 = 0, n2 = 0;
    EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, reinterpret_cast<const unsigned char*>(key.data()), iv);
    EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(cipher.data()), &n1,
                      reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
    EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(cipher.data()) + n1, &n2);
    cipher.resize(static_cast<std::size_t>(n1 + n2));
    EVP_CIPHER_CTX_free(ctx);
  }
  for (auto _ : state) {
    std::string err;
    auto out = bridle::ios::decrypt_cbc(key, cipher, /*strip_padding=*/true, &err);
    if (!out || out->size() != plain.size()) state.SkipWithError("decryption failed");
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(cipher.size()));
}
BENCHMARK(BM_DecryptBackupFile)->Arg(64)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------
// Encrypted spill files (core/spill_file.hpp) against plain stdio: a 256 MiB spill written
// and read back in chunks of range(1) bytes; range(0) = 0 std::fopen, 1 spill_fopen. Through
// the page cache (the file fits), so this is the CPU cost a scan pays per spilled byte.
// BM_SpillApply: the raw AES-256-CTR keystream (SpillCipher::apply) on one core.
#include "core/spill_file.hpp"

namespace {
constexpr std::size_t kSpillBenchBytes = std::size_t{256} << 20;

fs::path spill_bench_path(bool encrypted) {
  return fs::temp_directory_path() / (encrypted ? "bridle-bench-spill.enc" : "bridle-bench-spill.plain");
}

std::FILE* spill_bench_open(bool encrypted, const fs::path& p, const char* mode) {
  return encrypted ? bridle::spill_fopen(p, mode) : std::fopen(p.c_str(), mode);
}
}  // namespace

static void BM_SpillWrite(benchmark::State& state) {
  const bool encrypted = state.range(0) != 0;
  const std::size_t chunk = static_cast<std::size_t>(state.range(1));
  std::string data(chunk, '\0');
  std::mt19937_64 rng(9);
  for (auto& c : data) c = static_cast<char>(rng());
  fs::path p = spill_bench_path(encrypted);
  for (auto _ : state) {
    std::FILE* f = spill_bench_open(encrypted, p, "wb");
    if (!f) {
      state.SkipWithError("cannot create the spill file");
      break;
    }
    for (std::size_t done = 0; done < kSpillBenchBytes; done += chunk)
      if (std::fwrite(data.data(), 1, chunk, f) != chunk) state.SkipWithError("write failed");
    if (std::fclose(f) != 0) state.SkipWithError("close failed");
  }
  std::error_code ec;
  fs::remove(p, ec);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kSpillBenchBytes));
  state.SetLabel(encrypted ? "spill_fopen" : "fopen");
}
BENCHMARK(BM_SpillWrite)->ArgsProduct({{0, 1}, {4096, 1 << 20}})->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_SpillRead(benchmark::State& state) {
  const bool encrypted = state.range(0) != 0;
  const std::size_t chunk = static_cast<std::size_t>(state.range(1));
  std::string data(std::size_t{1} << 20, '\0');
  std::mt19937_64 rng(10);
  for (auto& c : data) c = static_cast<char>(rng());
  fs::path p = spill_bench_path(encrypted);
  {
    std::FILE* f = spill_bench_open(encrypted, p, "wb");
    if (!f) {
      state.SkipWithError("cannot create the spill file");
      return;
    }
    for (std::size_t done = 0; done < kSpillBenchBytes; done += data.size()) std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
  }
  std::string buf(chunk, '\0');
  for (auto _ : state) {
    std::FILE* f = spill_bench_open(encrypted, p, "rb");
    if (!f) {
      state.SkipWithError("cannot open the spill file");
      break;
    }
    std::size_t total = 0, got;
    while ((got = std::fread(buf.data(), 1, chunk, f)) > 0) total += got;
    std::fclose(f);
    if (total != kSpillBenchBytes) state.SkipWithError("short read");
    benchmark::DoNotOptimize(buf.data());
  }
  std::error_code ec;
  fs::remove(p, ec);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kSpillBenchBytes));
  state.SetLabel(encrypted ? "spill_fopen" : "fopen");
}
BENCHMARK(BM_SpillRead)->ArgsProduct({{0, 1}, {4096, 1 << 20}})->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_SpillApply(benchmark::State& state) {
  std::string buf(static_cast<std::size_t>(state.range(0)), '\0');
  bridle::SpillCipher c;
  std::uint64_t off = 3;
  for (auto _ : state) {
    c.apply(off, buf.data(), buf.size());
    off += buf.size();
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SpillApply)->Arg(4096)->Arg(256 << 10)->Arg(1 << 20);
