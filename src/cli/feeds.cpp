// `bridle download-iocs` and `bridle iocs list|export|import`: the public indicator feeds in
// the data folder. download-iocs is the only command that uses the network.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <set>

#include "cli/cli.hpp"
#include "core/util.hpp"
#include "indicators/feeds.hpp"

namespace bridle::cli {
namespace {

namespace fd = bridle::feeds;

std::atomic<bool> g_cancel{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_interrupt(int) { g_cancel.store(true); }

// SIGINT/SIGTERM set the cancel flag while alive (a second Ctrl-C kills as usual: the next
// run removes any temporary file left behind).
class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string counts_text(const fd::FeedRecord& r) {
  if (r.sha256.empty()) return "-";
  std::string s = std::to_string(r.total);
  if (!r.counts.empty()) {
    s += " (";
    bool first = true;
    for (const auto& [k, v] : r.counts) {
      if (!first) s += ", ";
      first = false;
      s += k + " " + std::to_string(v);
    }
    s += ")";
  }
  return s;
}

std::string pad(const std::string& s, std::size_t w) {
  return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' ');
}

// One feed per two lines: name, sha256 prefix, downloaded at, status; then source and counts.
void print_feed_table(std::ostream& os, const std::vector<fd::FeedRecord>& rows) {
  std::size_t w = 4;
  for (const auto& r : rows) w = std::max(w, r.name.size());
  w = std::min<std::size_t>(w, 60);
  os << pad("FEED", w) << " " << pad("SHA256", 16) << " " << pad("DOWNLOADED (UTC)", 20) << " STATUS\n";
  for (const auto& r : rows) {
    os << pad(r.name, w) << " " << pad(r.sha256.empty() ? "-" : r.sha256.substr(0, 12), 16) << " "
       << pad(r.downloaded_at.empty() ? "-" : r.downloaded_at, 20) << " " << (r.status.empty() ? "-" : r.status)
       << "\n";
    os << "    source: " << (r.source.empty() ? "-" : r.source) << "\n";
    os << "    file: " << (r.file.empty() ? "-" : r.file) << "   indicators: " << counts_text(r) << "\n";
  }
}

void setup_download_iocs(CLI::App& root) {
  struct Opts {
    std::string index;
    std::string mirror;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "download-iocs",
      "Download the public indicator feeds listed in mvt-indicators' index into the data folder "
      "(the only command that uses the network)");
  cmd->add_option("--index", o->index,
                  std::string("Index URL (indicators.yaml; http, https or file). Default: $BRIDLE_IOCS_INDEX or ") +
                      fd::kDefaultIndexUrl);
  cmd->add_option("--mirror", o->mirror,
                  "Base URL replacing https://raw.githubusercontent.com in feed URLs (air-gapped mirrors). "
                  "Default: $BRIDLE_IOCS_MIRROR");
  cmd->callback([o] {
    fd::DownloadOptions opt;
    opt.index_url = o->index.empty() ? env_or("BRIDLE_IOCS_INDEX", fd::kDefaultIndexUrl) : o->index;
    opt.mirror = o->mirror.empty() ? env_or("BRIDLE_IOCS_MIRROR", "") : o->mirror;
    opt.log = [](const std::string& line) { std::cerr << line << "\n"; };
    g_cancel.store(false);
    opt.cancel = &g_cancel;
    fd::DownloadResult res;
    {
      InterruptGuard guard;
      res = fd::download_feeds(opt);
    }
    if (!res.index_error.empty()) {
      std::cerr << "error: " << res.index_error << "\n";
      exit_code() = res.exit_code;
      return;
    }
    for (const auto& p : res.index_problems) std::cerr << "warning: index entry " << p << "\n";

    const fd::Metadata meta = fd::load_metadata();
    std::vector<fd::FeedRecord> rows;
    std::size_t ok = 0;
    for (const auto& out : res.outcomes) {
      auto it = meta.feeds.find(out.name);
      fd::FeedRecord r = it != meta.feeds.end() ? it->second : fd::FeedRecord{};
      r.name = out.name;
      if (r.source.empty()) r.source = out.url;
      if (!out.ok) r.status = "FAILED: " + out.error + (out.kept_previous ? " (previous copy kept)" : "");
      rows.push_back(std::move(r));
      if (out.ok) ++ok;
    }
    print_feed_table(std::cout, rows);
    std::cout << "\n" << ok << " of " << res.outcomes.size() << " feed(s) current in "
              << fd::indicators_dir().string() << "\n";
    std::vector<std::string> failed;
    for (const auto& out : res.outcomes)
      if (!out.ok) failed.push_back(out.name);
    if (!failed.empty()) {
      std::cerr << "error: " << failed.size() << " feed(s) could not be updated:";
      for (const auto& n : failed) std::cerr << "\n  - " << n;
      std::cerr << "\n";
    }
    if (res.interrupted) std::cerr << "error: interrupted; the remaining feeds were not downloaded\n";
    exit_code() = res.exit_code;
  });
}

void setup_iocs_feeds(CLI::App& root) {
  auto* iocs = group(root, "iocs", "Inspect and manage indicator files");

  auto json_out = std::make_shared<bool>(false);
  auto* list = iocs->add_subcommand("list", "List the feeds in the data folder and the combined indicator-set digest");
  list->add_flag("--json", *json_out, "Print JSON");
  list->callback([json_out] {
    const fd::Metadata meta = fd::load_metadata();
    const fs::path dir = fd::indicators_dir();
    std::vector<fd::FeedRecord> rows;
    std::set<std::string> files_seen;
    for (const auto& [name, r] : meta.feeds) {
      fd::FeedRecord row = r;
      std::error_code ec;
      if (!r.file.empty()) {
        files_seen.insert(r.file);
        if (!fs::is_regular_file(dir / r.file, ec)) {
          row.sha256.clear();
          row.status = "missing (" + (r.status.empty() ? std::string("-") : r.status) + ")";
        } else if (!r.sha256.empty() && sha256_file(dir / r.file).value_or("") != r.sha256) {
          row.status = "CHANGED since download (" + r.status + ")";
          row.sha256 = sha256_file(dir / r.file).value_or("");
        }
      }
      rows.push_back(std::move(row));
    }
    // *.stix2 files put there by hand.
    std::error_code ec;
    std::vector<fs::path> extra;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string n = it->path().filename().string();
      std::error_code ec2;
      if (it->is_regular_file(ec2) && it->path().extension() == ".stix2" && !files_seen.count(n))
        extra.push_back(it->path());
    }
    std::sort(extra.begin(), extra.end());
    for (const auto& p : extra) {
      IndicatorSet one;
      one.load_file(p);
      fd::FeedRecord r;
      r.name = p.filename().string();
      r.file = p.filename().string();
      r.source = "(not from download-iocs)";
      r.sha256 = sha256_file(p).value_or("");
      r.total = one.size();
      auto c = one.counts();
      for (int i = 0; i < kIocTypeCount; ++i)
        if (c[static_cast<std::size_t>(i)])
          r.counts[std::string(ioc_type_key(static_cast<IocType>(i)))] = c[static_cast<std::size_t>(i)];
      r.status = "local file";
      rows.push_back(std::move(r));
    }
    IndicatorSet all;
    for (const auto& p : default_indicator_files()) all.load_file(p);
    if (*json_out) {
      fd::Metadata shown;
      for (auto& r : rows) shown.feeds[r.name] = r;
      Json j = fd::metadata_to_json(shown);
      j["index"] = meta.index;
      j["updated_at"] = meta.updated_at;
      j["folder"] = dir.string();
      j["indicator_files"] = all.files().size();
      j["total"] = all.size();
      j["digest"] = all.digest();
      std::cout << j.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "Feeds in " << dir.string() << "\n";
      if (rows.empty()) std::cout << "  (none: run `bridle download-iocs` or `bridle iocs import`)\n";
      else print_feed_table(std::cout, rows);
      std::cout << "\nIndicator set (data folder and BRIDLE_STIX2): " << all.size()
                << " unique indicators from " << all.files().size() << " file(s), digest " << all.digest()
                << "\n";
    }
    if (auto note = fd::feeds_staleness_note(fd::max_age_days_from_env())) std::cerr << *note << "\n";
    exit_code() = kExitClean;
  });

  auto export_path = std::make_shared<std::string>();
  auto* exp = iocs->add_subcommand("export", "Write the feeds of the data folder and a manifest to a .tar.gz");
  exp->add_option("file", *export_path, "Bundle to write (FILE.tar.gz)")->required();
  exp->callback([export_path] {
    std::string err;
    auto n = fd::export_bundle(*export_path, &err);
    if (!n) throw Fail{kExitCannotRun, err};
    std::cout << "Exported " << *n << " feed(s) to " << *export_path << "\n";
    exit_code() = kExitClean;
  });

  auto import_path = std::make_shared<std::string>();
  auto* imp = iocs->add_subcommand(
      "import", "Install the feeds of a bundle made by `iocs export` (verified against its manifest)");
  imp->add_option("file", *import_path, "Bundle to read (FILE.tar.gz)")->required();
  imp->callback([import_path] {
    auto r = fd::import_bundle(*import_path);
    if (!r.ok) throw Fail{kExitCannotRun, "refused " + *import_path + ": " + r.error + " (nothing was installed)"};
    for (const auto& e : r.installed) std::cout << "Installed " << e.name << " -> " << e.file << "\n";
    std::cout << "Imported " << r.installed.size() << " feed(s) into " << fd::indicators_dir().string() << "\n";
    exit_code() = kExitClean;
  });
}

BRIDLE_REGISTER_COMMAND(setup_download_iocs);
BRIDLE_REGISTER_COMMAND(setup_iocs_feeds);

}  // namespace
}  // namespace bridle::cli
