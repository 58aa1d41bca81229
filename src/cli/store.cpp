// The observation store on the command line: recording every check (store_begin/finish),
// `bridle hunt`, `bridle store list|show|forget`, and `bridle scan` (batch mode).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <zip.h>

#include "acquisition/android_source.hpp"
#include "acquisition/ios_backup.hpp"
#include "bridle/version.hpp"
#include "cli/cli.hpp"
#include "core/jsonio.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "engine/store/store.hpp"
#include "engine/store/store_sink.hpp"
#include "formats/plist.hpp"

namespace bridle::cli {

struct StoreRecorder {
  std::unique_ptr<store::Store> store;
  store::StoreSink sink;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  explicit StoreRecorder(std::map<std::string, store::StoreSink::ModuleMeta> m) : sink(std::move(m)) {}
};

namespace {

std::string fmt_seconds(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f s", s);
  return b;
}

std::string store_url(const std::string& given) { return given.empty() ? store::Store::default_url() : given; }

std::unique_ptr<store::Store> open_store_or_fail(const std::string& given) {
  try {
    return store::Store::open(store_url(given));
  } catch (const std::exception& e) {
    throw Fail{kExitCannotRun, e.what()};
  }
}

// Device identifiers: Info.plist of an iOS backup, acquisition.json of an androidqf.
Json device_identifiers(const RunInfo& info, AndroidSource* android, std::string* device) {
  Json ids = Json::object();
  std::error_code ec;
  if (info.acquisition_kind == "ios_backup") {
    if (auto text = read_file(info.target / "Info.plist", 16u << 20))
      if (auto j = plist_to_json(*text); j && j->is_object())
        for (const char* k : {"Serial Number", "Unique Identifier", "Product Type", "Product Version", "Device Name",
                              "IMEI", "Build Version"})
          if (j->contains(k) && (*j)[k].is_string()) ids[k] = (*j)[k];
    for (const char* k : {"Serial Number", "Device Name", "Unique Identifier"})
      if (device->empty() && ids.contains(k)) *device = ids[k].get<std::string>();
  }
  if (android && android->acquisition.is_object()) {
    for (auto& [k, v] : android->acquisition.items())
      if (v.is_string() && k != "adb_host_public_key") ids[k] = v;
    for (const char* k : {"serial", "Serial", "device", "uuid", "UUID"})
      if (device->empty() && ids.contains(k)) *device = ids[k].get<std::string>();
  }
  if (device->empty()) *device = fs::absolute(info.target).lexically_normal().filename().string();
  return ids;
}

}  // namespace

std::shared_ptr<StoreRecorder> store_begin(const CheckOptions& o, const std::vector<std::unique_ptr<Module>>& modules) {
  if (o.no_store) return nullptr;
  std::map<std::string, store::StoreSink::ModuleMeta> meta;
  for (auto& m : modules) meta[m->info().slug] = {m->info().name, m->info().ioc_level};
  auto rec = std::make_shared<StoreRecorder>(std::move(meta));
  try {
    rec->store = store::Store::open(store_url(o.store));
    rec->sink.stream_to(*rec->store);  // bounded chunks to the store while the scan runs
  } catch (const std::exception& e) {
    std::cerr << "warning: observation store not used: " << e.what() << "\n";
    return nullptr;
  }
  return rec;
}

ObservationSink* store_sink(StoreRecorder* rec) { return rec ? &rec->sink : nullptr; }

std::string store_finish(StoreRecorder* rec, const ScanResult& result, const RunInfo& info, const IndicatorSet& set,
                         IosSource*, AndroidSource* android) {
  if (!rec) return {};
  std::ostringstream msg;
  try {
    store::AcquisitionInfo a;
    a.kind = info.acquisition_kind;
    a.identifiers = device_identifiers(info, android, &a.device);
    a.input_path = fs::absolute(info.target).lexically_normal().string();
    a.input_sha256 = store::input_sha256(info.target);
    a.scanned_at = now_iso_utc();
    a.tool_version = kVersion;
    a.indicator_digest = set.digest();
    int code = result.exit_code();
    a.verdict = code == 1 ? "alerts" : code == 3 ? "partial" : "clean";
    Json counts = Json::object();
    for (Level l : {Level::Informational, Level::Low, Level::Medium, Level::High, Level::Critical})
      counts[std::string(level_name(l))] = result.count(l);
    Json unread = Json::array();
    for (auto& d : result.diagnostics)
      if (d.unread) unread.push_back((d.module.empty() ? "" : d.module + ": ") + (d.file.empty() ? "" : d.file + ": ") + d.message);
    a.summary = {{"alerts", counts},
                 {"unread", unread},
                 {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - rec->started).count()},
                 {"exit_code", code}};
    auto t0 = std::chrono::steady_clock::now();
    auto thread_cpu = [] {  // the record runs on this thread
      rusage u{};
      getrusage(RUSAGE_THREAD, &u);
      return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    };
    double c0 = thread_cpu();
    std::int64_t rows = 0;
    auto id = rec->sink.record(a, &rows);
    msg << "Recorded " << rows << " observables in the store (" << rec->store->backend()
              << ", acquisition " << id << ", "
              << fmt_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) << ", CPU "
              << fmt_seconds(thread_cpu() - c0) << ")\n";
  } catch (const std::exception& e) {
    msg << "warning: could not record the acquisition in the store: " << e.what() << "\n";
  }
  return msg.str();
}

namespace {

// ------------------------------------------------------------------------------ hunt

struct HuntArgs {
  std::string store;
  std::vector<std::string> iocs;
  std::string output;
};

Json hit_json(const store::HuntHit& h) {
  return Json{{"new", h.is_new},
              {"level", std::string(level_name(h.level))},
              {"kind", h.obs_kind},
              {"value", h.value},
              {"module", h.module},
              {"artifact", h.artifact},
              {"record", h.record_ref},
              {"first_seen", h.first_seen},
              {"last_seen", h.last_seen},
              {"count", h.count},
              {"matched_indicator",
               {{"value", h.ioc_value}, {"type", h.ioc_type}, {"name", h.collection}, {"stix2_file_name", h.stix2_file}}}};
}

void setup_hunt(CLI::App& root) {
  auto a = std::make_shared<HuntArgs>();
  auto* cmd = root.add_subcommand("hunt", "Check every stored acquisition against the current indicators");
  cmd->add_option("--store", a->store, "Store (file or postgresql://...; default: the data folder's store.sqlite)");
  cmd->add_option("-i,--iocs", a->iocs, "STIX2 indicators file (repeatable; data folder and BRIDLE_STIX2 are loaded too)");
  cmd->add_option("-o,--output", a->output, "Folder for hunt.json");
  cmd->callback([a] {
    auto li = load_indicators(a->iocs);
    if (li.set->empty()) throw Fail{kExitCannotRun, "no indicators loaded: nothing to hunt for"};
    auto st = open_store_or_fail(a->store);
    store::HuntResult res;
    try {
      res = st->hunt(*li.set);
    } catch (const std::exception& e) {
      throw Fail{kExitCannotRun, std::string("hunt failed: ") + e.what()};
    }
    std::map<std::int64_t, std::vector<const store::HuntHit*>> by_acq;
    for (auto& h : res.hits) by_acq[h.acq_id].push_back(&h);
    std::size_t fresh = 0, fresh_high = 0;
    Json acqs = Json::array();
    for (auto& [id, hits] : by_acq) {
      auto acq = st->get(id);
      Json j = {{"id", id},
                {"device", hits[0]->device},
                {"kind", hits[0]->acq_kind},
                {"input", acq ? acq->input_path : ""},
                {"scanned_at", acq ? acq->scanned_at : ""},
                {"hits", Json::array()}};
      std::size_t n_new = 0;
      for (auto* h : hits) {
        j["hits"].push_back(hit_json(*h));
        if (h->is_new) {
          ++n_new;
          ++fresh;
          if (h->level >= Level::High) ++fresh_high;
        }
      }
      j["new_hits"] = n_new;
      std::cout << "Acquisition " << id << " (" << hits[0]->acq_kind << ", " << hits[0]->device << "): "
                << hits.size() << " hit(s), " << n_new << " new\n";
      for (auto* h : hits)
        std::cout << "  " << (h->is_new ? "NEW " : "    ") << level_name(h->level) << " " << h->module << " "
                  << h->obs_kind << " " << h->value << " -> " << h->ioc_value << " (" << h->collection << ")"
                  << (h->first_seen.empty() ? "" : " first seen " + h->first_seen) << "\n";
      acqs.push_back(std::move(j));
    }
    std::cout << "Hunted " << res.acquisitions << " stored acquisition(s) with indicator-set digest "
              << res.digest.substr(0, 16) << ": " << res.hits.size() << " hit(s), " << fresh << " new\n";
    if (!a->output.empty()) {
      fs::create_directories(a->output);
      Json out = {{"hunt_id", res.hunt_id},
                  {"indicator_digest", res.digest},
                  {"indicator_digest_hunted_before", res.digest_seen_before},
                  {"previous_indicator_digests", res.previous_digests},
                  {"acquisitions_hunted", res.acquisitions},
                  {"hits", res.hits.size()},
                  {"new_hits", fresh},
                  {"acquisitions", acqs}};
      std::string err;
      if (!write_text_file(fs::path(a->output) / "hunt.json", out.dump(4) + "\n", &err))
        throw Fail{kExitCannotRun, err};
    }
    exit_code() = fresh_high ? kExitAlerts : kExitClean;
  });
}

// ------------------------------------------------------------------------------ store

struct StoreArgs {
  std::string store;
  std::int64_t id = 0;
  bool json = false;
};

Json acq_json(const store::AcquisitionInfo& a) {
  return Json{{"id", a.id},
              {"kind", a.kind},
              {"device", a.device},
              {"identifiers", a.identifiers},
              {"input", a.input_path},
              {"input_sha256", a.input_sha256},
              {"scanned_at", a.scanned_at},
              {"tool_version", a.tool_version},
              {"indicator_digest", a.indicator_digest},
              {"verdict", a.verdict},
              {"summary", a.summary},
              {"observables", a.observations}};
}

void setup_store(CLI::App& root) {
  auto* g = group(root, "store", "The observation store (list, show, forget acquisitions)");
  auto a = std::make_shared<StoreArgs>();
  auto* list = g->add_subcommand("list", "List the stored acquisitions");
  list->add_option("--store", a->store, "Store (file or postgresql://...)");
  list->add_flag("--json", a->json, "Print JSON");
  list->callback([a] {
    auto st = open_store_or_fail(a->store);
    auto all = st->list();
    if (a->json) {
      Json j = Json::array();
      for (auto& x : all) j.push_back(acq_json(x));
      std::cout << j.dump(2) << "\n";
      return;
    }
    for (auto& x : all)
      std::cout << x.id << "\t" << x.kind << "\t" << x.device << "\t" << x.verdict << "\t" << x.scanned_at << "\t"
                << x.observations << " observables\t" << x.input_path << "\n";
    std::cerr << all.size() << " acquisition(s) in " << st->backend() << " store\n";
  });
  auto* show = g->add_subcommand("show", "Show one stored acquisition and its observables");
  show->add_option("--store", a->store, "Store (file or postgresql://...)");
  show->add_option("acquisition", a->id, "Acquisition id (see store list)")->required();
  show->callback([a] {
    auto st = open_store_or_fail(a->store);
    auto x = st->get(a->id);
    if (!x) throw Fail{kExitCannotRun, "no acquisition " + std::to_string(a->id) + " in the store"};
    Json j = acq_json(*x);
    Json obs = Json::array();
    for (auto& o : st->observations(a->id))
      obs.push_back({{"kind", o.kind}, {"value", o.value}, {"module", o.module}, {"artifact", o.artifact},
                     {"record", o.record_ref}, {"first_seen", o.first_seen}, {"last_seen", o.last_seen},
                     {"count", o.count}});
    j["observations"] = obs;
    std::cout << j.dump(2) << "\n";
  });
  auto* forget = g->add_subcommand("forget", "Delete a stored acquisition and everything recorded about it");
  forget->add_option("--store", a->store, "Store (file or postgresql://...)");
  forget->add_option("acquisition", a->id, "Acquisition id (see store list)")->required();
  forget->callback([a] {
    auto st = open_store_or_fail(a->store);
    if (!st->forget(a->id)) throw Fail{kExitCannotRun, "no acquisition " + std::to_string(a->id) + " in the store"};
    std::cout << "Acquisition " << a->id << " deleted from the store\n";
  });
}

// ------------------------------------------------------------------------------ scan

struct ScanArgs {
  std::vector<std::string> inputs;
  unsigned jobs = 1;
  std::string output;
  std::string store;
  std::vector<std::string> iocs;
  bool force = false;
  int claim_ttl = 6 * 3600;
};

struct Candidate {
  fs::path path;
  std::vector<std::string> command;  // e.g. {"ios", "check-backup"}; empty: not supported
  std::string kind;
  std::string not_checked;           // reason when it is not checked
};

std::vector<std::string> zip_names(const fs::path& p) {
  std::vector<std::string> names;
  int err = 0;
  zip_t* z = zip_open(p.c_str(), ZIP_RDONLY, &err);
  if (!z) return names;
  zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n && i < 200000; ++i)
    if (const char* name = zip_get_name(z, static_cast<zip_uint64_t>(i), 0)) names.emplace_back(name);
  zip_close(z);
  return names;
}

bool any_name(const std::vector<std::string>& names, std::initializer_list<const char*> needles) {
  for (auto& n : names)
    for (auto* s : needles) {
      std::string_view sv(s);
      auto base = n.substr(n.find_last_of('/') == std::string::npos ? 0 : n.find_last_of('/') + 1);
      if (sv.back() == '/' ? n.find(sv) != std::string::npos : base == sv) return true;
    }
  return false;
}

// Kind of an input, or nullopt when it is not an acquisition.
std::optional<Candidate> detect(const fs::path& p) {
  std::error_code ec;
  Candidate c;
  c.path = p;
  auto lower = to_lower(p.filename().string());
  auto ends = [&](const char* s) { return lower.size() >= strlen(s) && lower.compare(lower.size() - strlen(s), strlen(s), s) == 0; };
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "Manifest.db", ec) && fs::exists(p / "Info.plist", ec)) {
      c.kind = "ios_backup";
      c.command = {"ios", "check-backup"};
      if (backup_is_encrypted(p)) {
        const char* pw = std::getenv("BRIDLE_IOS_BACKUP_PASSWORD");
        if (!pw || !*pw) c.not_checked = "encrypted backup: set BRIDLE_IOS_BACKUP_PASSWORD to check it";
      }
      return c;
    }
    if (fs::is_directory(p / "private" / "var", ec) || fs::is_directory(p / "var" / "mobile", ec)) {
      c.kind = "ios_fs";
      c.command = {"ios", "check-fs"};
      return c;
    }
    if (fs::exists(p / "getprop.txt", ec) || fs::exists(p / "acquisition.json", ec) || fs::exists(p / "packages.json", ec)) {
      c.kind = "androidqf";
      c.command = {"android", "check-androidqf"};
      return c;
    }
    if (fs::exists(p / "main_entry.txt", ec) || fs::exists(p / "dumpstate_board.txt", ec)) {
      c.kind = "bugreport";
      c.command = {"android", "check-bugreport"};
      return c;
    }
    return std::nullopt;
  }
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  if (ends(".ab")) {
    c.kind = "android_backup";
    c.command = {"android", "check-backup"};
    return c;
  }
  if (ends(".tar") || ends(".tar.gz") || ends(".tgz")) {
    c.kind = "ios_fs";
    c.command = {"ios", "check-fs"};
    return c;
  }
  if (ends(".zip")) {
    auto names = zip_names(p);
    if (any_name(names, {"main_entry.txt"}) || any_name(names, {"dumpstate_board.txt"})) {
      c.kind = "bugreport";
      c.command = {"android", "check-bugreport"};
    } else if (any_name(names, {"getprop.txt", "acquisition.json", "packages.json"})) {
      c.kind = "androidqf";
      c.command = {"android", "check-androidqf"};
    } else if (any_name(names, {"private/var/", "var/mobile/"})) {
      c.kind = "ios_fs";
      c.command = {"ios", "check-fs"};
    } else {
      c.kind = "unknown";
      c.not_checked = "zip archive of an unknown kind";
    }
    return c;
  }
  return std::nullopt;
}

std::vector<Candidate> collect_inputs(const std::vector<std::string>& inputs) {
  std::vector<Candidate> out;
  for (auto& in : inputs) {
    fs::path p(in);
    if (auto c = detect(p)) {
      out.push_back(*c);
      continue;
    }
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      std::cerr << "warning: " << in << " is not a supported acquisition\n";
      continue;
    }
    std::vector<fs::path> children;
    for (auto& e : fs::directory_iterator(p, ec)) children.push_back(e.path());
    std::sort(children.begin(), children.end());
    for (auto& ch : children)
      if (auto c = detect(ch)) out.push_back(*c);
  }
  return out;
}

std::string safe_name(const fs::path& p, std::set<std::string>& used) {
  std::string n = fs::absolute(p).lexically_normal().filename().string();
  if (n.empty()) n = "acquisition";
  for (auto& c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  std::string base = n;
  for (int i = 2; used.count(n); ++i) n = base + "-" + std::to_string(i);
  used.insert(n);
  return n;
}

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("bridle") : p.string();
}

struct Job {
  Candidate c;
  std::string name, sha;
  fs::path out;
  pid_t pid = -1;
  std::chrono::steady_clock::time_point started;
  double seconds = 0;
  int exit = -1;
  std::string status;  // "checked", "skipped (already in the store)", "not checked: ...", "claimed by another worker"
};

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    ::close(fd);
  }
  std::vector<char*> args;
  for (auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

void setup_scan(CLI::App& root) {
  auto a = std::make_shared<ScanArgs>();
  auto* cmd = root.add_subcommand("scan", "Check many acquisitions of any supported kind (batch mode, resumable)");
  cmd->add_option("inputs", a->inputs, "Acquisitions, or folders holding them")->required();
  cmd->add_option("-j,--jobs", a->jobs, "Acquisitions checked in parallel (one process each)");
  cmd->add_option("-o,--output", a->output, "Results folder: one folder per acquisition, fleet.json, fleet.csv")->required();
  cmd->add_option("--store", a->store, "Store (file or postgresql://...; default: the data folder's store.sqlite)");
  cmd->add_option("-i,--iocs", a->iocs, "STIX2 indicators file (repeatable)");
  cmd->add_flag("--force", a->force, "Check again acquisitions already in the store with the same input, version and indicators");
  cmd->add_option("--claim-ttl", a->claim_ttl, "Seconds after which another worker's claim on an acquisition expires");
  cmd->callback([a] {
    auto li = load_indicators(a->iocs);
    std::string digest = li.set->digest();
    std::string url = store_url(a->store);
    auto st = open_store_or_fail(url);
    fs::create_directories(a->output);
    auto cands = collect_inputs(a->inputs);
    if (cands.empty()) throw Fail{kExitCannotRun, "no acquisition found in the given inputs"};
    std::string worker = std::to_string(getpid()) + "@" + [] {
      char h[256] = {};
      gethostname(h, sizeof h - 1);
      return std::string(h);
    }();
    const std::string run_started = now_iso_utc();
    std::set<std::string> used;
    std::vector<Job> jobs;
    for (auto& c : cands) {
      Job j;
      j.c = c;
      j.name = safe_name(c.path, used);
      j.out = fs::path(a->output) / j.name;
      j.sha = store::input_sha256(c.path);
      jobs.push_back(std::move(j));
    }
    std::string exe = self_exe();
    unsigned n = std::max(1u, a->jobs);
    std::size_t next = 0, running = 0;
    std::map<pid_t, std::size_t> live;
    auto start_one = [&](Job& j) {
      if (!j.c.not_checked.empty()) {
        j.status = "not checked: " + j.c.not_checked;
        return;
      }
      if (!a->force && st->find_done(j.sha, kVersion, digest)) {
        j.status = "skipped (already in the store)";
        return;
      }
      if (!st->claim(j.sha, worker, a->claim_ttl)) {
        j.status = "claimed by another worker";
        return;
      }
      // Checked again under the claim: another worker may have recorded it and released its
      // claim between the look-up above and our claim (its result is committed before its
      // claim is released). With --force, a result recorded since this scan started counts.
      if (auto done = st->find_done(j.sha, kVersion, digest); done && (!a->force || done->scanned_at >= run_started)) {
        st->release(j.sha, worker);
        j.status = "checked by another worker";
        return;
      }
      std::error_code ec;
      fs::create_directories(j.out, ec);
      std::vector<std::string> argv = {exe};
      argv.insert(argv.end(), j.c.command.begin(), j.c.command.end());
      argv.push_back(j.c.path.string());
      argv.insert(argv.end(), {"-o", j.out.string(), "--store", url, "-j", "1"});
      for (auto& i : a->iocs) argv.insert(argv.end(), {"-i", i});
      j.started = std::chrono::steady_clock::now();
      j.pid = spawn(argv, j.out / "scan.log");
      if (j.pid < 0) {
        j.status = "failed: cannot start a worker";
        st->release(j.sha, worker);
        return;
      }
      live[j.pid] = static_cast<std::size_t>(&j - jobs.data());
      ++running;
      std::cerr << "[scan] checking " << j.c.path.string() << " (" << j.c.kind << ")\n";
    };
    while (next < jobs.size() || running > 0) {
      while (running < n && next < jobs.size()) start_one(jobs[next++]);
      if (running == 0) continue;
      int status = 0;
      pid_t pid = waitpid(-1, &status, 0);
      if (pid < 0) break;
      auto it = live.find(pid);
      if (it == live.end()) continue;
      Job& j = jobs[it->second];
      live.erase(it);
      --running;
      j.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - j.started).count();
      j.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
      j.status = j.exit == 2 || j.exit >= 100 ? "failed (exit " + std::to_string(j.exit) + ", see scan.log)" : "checked";
      st->release(j.sha, worker);
      std::cerr << "[scan] " << j.c.path.string() << ": " << j.status << " in " << j.seconds << " s\n";
    }
    // Acquisitions claimed by other workers: wait until their result is in the store or
    // their claim is gone (finished, failed or expired), so fleet.json covers every worker.
    for (auto& j : jobs) {
      if (j.status != "claimed by another worker") continue;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(1, a->claim_ttl));
      while (std::chrono::steady_clock::now() < deadline) {
        if (st->find_done(j.sha, kVersion, digest)) {
          j.status = "checked by another worker";
          break;
        }
        if (st->claim(j.sha, worker, a->claim_ttl)) {  // the other worker is gone without a result
          st->release(j.sha, worker);
          j.status = "not checked: another worker stopped without a result (run again)";
          break;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
    // fleet.json / fleet.csv from the store: includes what other workers recorded.
    Json fleet = Json::array();
    std::ofstream csv(fs::path(a->output) / "fleet.csv");
    csv << "input,device,kind,status,verdict,informational,low,medium,high,critical,unread,seconds\n";
    bool any_high = false, any_partial = false, any_failed = false;
    for (auto& j : jobs) {
      std::optional<store::AcquisitionInfo> acq = st->find_input(j.sha);
      Json row = {{"input", j.c.path.string()}, {"kind", j.c.kind}, {"status", j.status}, {"results", j.out.string()}};
      Json counts = Json::object();
      std::string unread;
      double secs = j.seconds;
      if (acq && j.status.rfind("not checked", 0) != 0) {
        row["device"] = acq->device;
        row["verdict"] = acq->verdict;
        row["store_id"] = acq->id;
        counts = acq->summary.value("alerts", Json::object());
        row["alerts"] = counts;
        row["unread"] = acq->summary.value("unread", Json::array());
        for (auto& u : row["unread"]) unread += (unread.empty() ? "" : "; ") + u.get<std::string>();
        if (secs == 0) secs = acq->summary.value("seconds", 0.0);
        if (acq->verdict == "alerts") any_high = true;
        if (acq->verdict == "partial") any_partial = true;
      } else {
        row["device"] = "";
        row["verdict"] = "not checked";
        if (j.status.rfind("not checked", 0) == 0 || j.status.rfind("failed", 0) == 0) any_failed = true;
      }
      row["seconds"] = secs;
      fleet.push_back(row);
      auto q = [](std::string s) {
        std::string o = "\"";
        for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
        return o + "\"";
      };
      auto cnt = [&](const char* l) { return std::to_string(counts.value(l, 0)); };
      csv << q(j.c.path.string()) << "," << q(row["device"].get<std::string>()) << "," << q(j.c.kind) << ","
          << q(j.status) << "," << q(row["verdict"].get<std::string>()) << "," << cnt("INFORMATIONAL") << ","
          << cnt("LOW") << "," << cnt("MEDIUM") << "," << cnt("HIGH") << "," << cnt("CRITICAL") << "," << q(unread)
          << "," << secs << "\n";
      std::cout << j.c.path.string() << "\t" << j.c.kind << "\t" << j.status << "\t" << row["verdict"].get<std::string>()
                << "\n";
    }
    std::string err;
    if (!write_text_file(fs::path(a->output) / "fleet.json", fleet.dump(4) + "\n", &err))
      throw Fail{kExitCannotRun, err};
    exit_code() = any_high ? kExitAlerts : (any_partial || any_failed) ? kExitPartial : kExitClean;
  });
}

BRIDLE_REGISTER_COMMAND(setup_hunt);
BRIDLE_REGISTER_COMMAND(setup_store);
BRIDLE_REGISTER_COMMAND(setup_scan);

}  // namespace
}  // namespace bridle::cli
