// End-to-end tests of `bridle download-iocs` and `bridle iocs list|export|import` through
// the real binary, against a loopback HTTP server (127.0.0.1 only) serving the mirror in
// ../shared/iocs when present, else a tiny mirror built here. The data folder is always a
// scratch XDG_DATA_HOME.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "core/util.hpp"
#include "indicators/feeds.hpp"
#include "support/backup_builder.hpp"
#include "support/http_server.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;
namespace fd = bridle::feeds;

namespace {

const char* kIndexRel = "mvt-project/mvt-indicators/main/indicators.yaml";

std::string bundle_text(const std::string& tag) {
  return R"({"type":"bundle","id":"bundle--)" + tag + R"(","objects":[
 {"type":"malware","id":"malware--)" + tag + R"(","name":"Spy )" + tag + R"("},
 {"type":"indicator","id":"indicator--)" + tag + R"(","pattern":"[domain-name:value=')" + tag +
         R"(-c2.example.com']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--)" + tag + R"(","source_ref":"indicator--)" + tag +
         R"(","target_ref":"malware--)" + tag + R"("}]})";
}

// Three feeds: two present (on two "repositories", one with the default branch), one absent.
fs::path build_tiny_mirror(const fs::path& root) {
  write_file(root / kIndexRel, R"(indicators:
  - type: github
    name: Alpha Indicators
    github: {owner: mvt-project, repo: mvt-indicators, path: alpha/alpha.stix2}
  - type: github
    name: Beta Indicators
    github: {owner: AmnestyTech, repo: investigations, branch: master, path: 2024-01-01_beta/beta.stix2}
  - type: github
    name: Gamma Indicators
    github: {owner: mvt-project, repo: mvt-indicators, branch: main, path: gamma/gamma.stix2}
)");
  write_file(root / "mvt-project/mvt-indicators/main/alpha/alpha.stix2", bundle_text("alpha"));
  write_file(root / "AmnestyTech/investigations/master/2024-01-01_beta/beta.stix2", bundle_text("beta"));
  return root;
}

struct Feed {
  std::string name;
  std::string rel;   // path under the mirror root (and the server)
  std::string file;  // installed file name
  bool present = false;
};

class Mirror {
 public:
  // BRIDLE_TEST_TINY_MIRROR=1 forces the built mirror even when ../shared is there (unless
  // the test needs the shared one).
  explicit Mirror(bool shared_only = false) {
    const char* tiny = shared_only ? nullptr : std::getenv("BRIDLE_TEST_TINY_MIRROR");
    auto s = shared_dir();
    if (s && !(tiny && *tiny == '1') && fs::is_regular_file(*s / "iocs" / kIndexRel)) root_ = *s / "iocs";
    else root_ = build_tiny_mirror(dir_ / "mirror");
    server_ = std::make_unique<HttpServer>(root_);
    auto idx = fd::parse_index(slurp(root_ / kIndexRel));
    if (!idx) throw std::runtime_error("mirror index unreadable");
    for (const auto& e : idx->feeds) {
      std::string url = *fd::feed_url(e);
      Feed f;
      f.name = e.name;
      f.rel = url.substr(std::string(fd::kGithubRawBase).size() + 1);
      f.file = fd::safe_file_name(url);
      f.present = fs::is_regular_file(root_ / f.rel);
      feeds_.push_back(f);
    }
  }
  const fs::path& root() const { return root_; }
  HttpServer& server() { return *server_; }
  const std::vector<Feed>& feeds() const { return feeds_; }
  std::vector<Feed> present() const {
    std::vector<Feed> out;
    for (auto& f : feeds_)
      if (f.present) out.push_back(f);
    return out;
  }
  std::string index_url() const { return server_->base_url() + "/" + kIndexRel; }
  std::vector<std::string> args() const {
    return {"download-iocs", "--mirror", server_->base_url(), "--index", index_url()};
  }

 private:
  Scratch dir_;
  fs::path root_;
  std::unique_ptr<HttpServer> server_;
  std::vector<Feed> feeds_;
};

struct Data {
  Scratch dir;
  fs::path xdg = dir / "xdg";
  fs::path ind = xdg / "bridle" / "indicators";
  std::vector<std::string> env() const {
    return {"XDG_DATA_HOME=" + xdg.string(), "BRIDLE_STIX2=", "BRIDLE_IOCS_INDEX=", "BRIDLE_IOCS_MIRROR=",
            "no_proxy=127.0.0.1,localhost", "NO_PROXY=127.0.0.1,localhost", "BRIDLE_IOCS_MAX_AGE_DAYS="};
  }
  // Names of files in the data folder that are neither feeds, metadata nor the lock.
  std::vector<std::string> leftovers() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(ind, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::string n = it->path().filename().string();
      if (n == "feeds.json" || n == ".lock" || n.ends_with(".stix2")) continue;
      out.push_back(n);
    }
    return out;
  }
  std::map<std::string, std::string> stix2_hashes() const {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(ind, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      if (it->path().extension() == ".stix2")
        out[it->path().filename().string()] = sha256_file(it->path()).value_or("?");
    return out;
  }
  Json meta() const { return Json::parse(slurp(ind / "feeds.json")); }
};

void make_targz(const fs::path& out, const std::vector<std::pair<std::string, std::string>>& members) {
  struct archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
  for (const auto& [name, data] : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
    ASSERT_EQ(archive_write_data(a, data.data(), data.size()), static_cast<la_ssize_t>(data.size()));
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::vector<std::pair<std::string, std::string>> read_targz(const fs::path& in) {
  std::vector<std::pair<std::string, std::string>> out;
  struct archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, in.c_str(), 65536) != ARCHIVE_OK) return out;
  struct archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string data(static_cast<std::size_t>(archive_entry_size(e)), '\0');
    archive_read_data(a, data.data(), data.size());
    out.emplace_back(archive_entry_pathname(e), data);
  }
  archive_read_free(a);
  return out;
}

}  // namespace

TEST(DownloadIocs, PresentFeedsInstallAbsentOnesAreNamed) {
  Mirror m;
  Data d;
  ASSERT_FALSE(m.present().empty());
  auto r = run_bridle(m.args(), d.env());
  const bool some_absent = m.present().size() < m.feeds().size();
  EXPECT_EQ(r.exit_code, some_absent ? 3 : 0) << r.out << r.err;
  auto meta = d.meta();
  for (const auto& f : m.feeds()) {
    SCOPED_TRACE(f.name);
    const fs::path installed = d.ind / f.file;
    if (f.present) {
      ASSERT_TRUE(fs::is_regular_file(installed));
      EXPECT_EQ(sha256_file(installed), sha256_file(m.root() / f.rel));
      EXPECT_EQ(meta["feeds"][f.name]["status"], "ok");
      EXPECT_EQ(meta["feeds"][f.name]["sha256"], *sha256_file(installed));
      EXPECT_GT(meta["feeds"][f.name]["total"].get<int>(), 0);
      EXPECT_EQ(meta["feeds"][f.name]["source"], std::string(fd::kGithubRawBase) + "/" + f.rel);
      EXPECT_TRUE(fd::parse_utc_iso(meta["feeds"][f.name]["downloaded_at"].get<std::string>()));
      EXPECT_NE(r.out.find(f.name), std::string::npos);
    } else {
      EXPECT_FALSE(fs::exists(installed));
      EXPECT_NE(r.err.find("  - " + f.name), std::string::npos) << r.err;
      EXPECT_EQ(meta["feeds"][f.name]["status"].get<std::string>().rfind("failed", 0), 0u);
    }
  }
  EXPECT_TRUE(d.leftovers().empty());
  for (const auto& req : m.server().requests()) EXPECT_EQ(req.find(".."), std::string::npos) << req;
  // The summary table shows sha256 prefixes and counts.
  const auto first = m.present().front();
  EXPECT_NE(r.out.find(sha256_file(d.ind / first.file)->substr(0, 12)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("indicators: "), std::string::npos);
}

TEST(DownloadIocs, SharedMirrorGivesElevenOfFifteen) {
  BRIDLE_REQUIRE_SHARED(shared);
  if (!fs::is_regular_file(shared / "iocs" / kIndexRel)) GTEST_SKIP() << "skipped: ../shared/iocs not found";
  Mirror m(true);
  Data d;
  auto r = run_bridle(m.args(), d.env());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(m.feeds().size(), 15u);
  EXPECT_EQ(m.present().size(), 11u);
  for (auto name : {"Stalkerware Indicators of Compromise", "NoviSpy (Serbia) Indicators of Compromise",
                    "DarkSword Indicators of Compromise", "Coruna Indicators of Compromise"})
    EXPECT_NE(r.err.find(std::string("  - ") + name), std::string::npos) << name << "\n" << r.err;
  EXPECT_TRUE(fs::is_regular_file(d.ind / "mvt-project_mvt-indicators_main_2022-06-23_rcs_lab_rcs.stix2"));
  EXPECT_TRUE(fs::is_regular_file(d.ind / "AmnestyTech_investigations_master_2021-07-18_nso_pegasus.stix2"));
  EXPECT_EQ(d.stix2_hashes().size(), 11u);
}

TEST(DownloadIocs, RunningAgainKeepsEverything) {
  Mirror m;
  Data d;
  auto r1 = run_bridle(m.args(), d.env());
  auto before = d.stix2_hashes();
  ASSERT_EQ(before.size(), m.present().size()) << r1.err;
  auto r2 = run_bridle(m.args(), d.env());
  EXPECT_EQ(r2.exit_code, r1.exit_code) << r2.err;
  EXPECT_EQ(d.stix2_hashes(), before);
  EXPECT_TRUE(d.leftovers().empty());
}

TEST(DownloadIocs, GarbageKeepsThePreviousCopy) {
  Mirror m;
  Data d;
  run_bridle(m.args(), d.env());
  auto before = d.stix2_hashes();
  const Feed f = m.present().front();
  ASSERT_TRUE(before.count(f.file));
  for (const std::string& garbage : {std::string("<html>rate limited</html>"), std::string(R"({"type":"bundle","objects":[]})")}) {
    std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(garbage.size()) +
                       "\r\nConnection: close\r\n\r\n" + garbage;
    m.server().set_raw("/" + f.rel, resp);
    auto r = run_bridle(m.args(), d.env());
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(d.stix2_hashes(), before);
    EXPECT_NE(r.err.find("  - " + f.name), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("previous copy kept"), std::string::npos) << r.out;
    auto meta = d.meta();
    EXPECT_EQ(meta["feeds"][f.name]["status"].get<std::string>().rfind("failed", 0), 0u);
    EXPECT_EQ(meta["feeds"][f.name]["sha256"], before[f.file]);  // still describes the kept copy
    EXPECT_TRUE(d.leftovers().empty());
  }
  // An HTTP error keeps it too.
  m.server().set_raw("/" + f.rel, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(run_bridle(m.args(), d.env()).exit_code, 3);
  EXPECT_EQ(d.stix2_hashes(), before);
}

TEST(DownloadIocs, TruncatedTransferLeavesNoPartialFile) {
  Mirror m;
  const Feed f = m.present().front();
  const std::string real = slurp(m.root() / f.rel);
  ASSERT_GT(real.size(), 200u);
  // Declares the full length (and more) but closes after a part of the body.
  m.server().set_raw("/" + f.rel, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(real.size() + 1000) +
                                      "\r\nConnection: close\r\n\r\n" + real.substr(0, real.size() / 2));
  {
    Data fresh;  // nothing installed before: nothing must appear
    auto r = run_bridle(m.args(), fresh.env());
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_FALSE(fs::exists(fresh.ind / f.file));
    EXPECT_TRUE(fresh.leftovers().empty());
    EXPECT_NE(r.err.find("  - " + f.name), std::string::npos) << r.err;
  }
  {
    Data d;  // an older copy is kept byte for byte
    write_file(d.ind / f.file, bundle_text("older"));
    auto r = run_bridle(m.args(), d.env());
    EXPECT_EQ(slurp(d.ind / f.file), bundle_text("older"));
    EXPECT_TRUE(d.leftovers().empty());
  }
  // The whole body, then the connection closes early with no Content-Length at all and a
  // chunked encoding cut in the middle.
  m.server().set_raw("/" + f.rel, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                  "64\r\n" + real.substr(0, 100) + "\r\n");
  Data d2;
  EXPECT_EQ(run_bridle(m.args(), d2.env()).exit_code, 3);
  EXPECT_FALSE(fs::exists(d2.ind / f.file));
  EXPECT_TRUE(d2.leftovers().empty());
}

TEST(DownloadIocs, OversizedFeedIsRefused) {
  Mirror m;
  Data d;
  const Feed f = m.present().front();
  // Declares more than 64 MiB: refused before any byte is stored.
  m.server().set_raw("/" + f.rel, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string((64u << 20) + 1) +
                                      "\r\nConnection: close\r\n\r\n{");
  auto r = run_bridle(m.args(), d.env());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("64 MiB"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.ind / f.file));
  EXPECT_TRUE(d.leftovers().empty());
}

TEST(DownloadIocs, InterruptRemovesTheTemporaryFile) {
  Mirror m;
  Data d;
  const Feed f = m.present().front();
  write_file(d.ind / f.file, bundle_text("older"));
  const std::string real = slurp(m.root() / f.rel);
  // Half of the body, then the server holds the connection open.
  m.server().set_raw("/" + f.rel, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(real.size()) +
                                      "\r\nConnection: close\r\n\r\n" + real.substr(0, real.size() / 2), 30000);
  Scratch tmp;
  auto env = d.env();
  auto args = m.args();
  pid_t pid = fork();
  if (pid == 0) {
    int o = open((tmp / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open((tmp / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, 1);
    dup2(e, 2);
    for (auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::string bin = BRIDLE_BINARY;
    std::vector<char*> argv{bin.data()};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  // Wait until the stalled transfer has started, then press Ctrl-C.
  bool started = false;
  for (int i = 0; i < 400 && !started; ++i) {
    for (auto& req : m.server().requests()) started = started || req == "/" + f.rel;
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  int status = 0;
  auto t0 = std::chrono::steady_clock::now();
  waitpid(pid, &status, 0);
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(started);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 3) << slurp(tmp / "err");
  EXPECT_LT(waited, std::chrono::seconds(10));
  EXPECT_NE(slurp(tmp / "err").find("interrupted"), std::string::npos) << slurp(tmp / "err");
  EXPECT_EQ(slurp(d.ind / f.file), bundle_text("older"));
  EXPECT_TRUE(d.leftovers().empty()) << d.leftovers().front();
}

TEST(DownloadIocs, UnreadableIndexExitsTwo) {
  Mirror m;
  Data d;
  auto r = run_bridle({"download-iocs", "--mirror", m.server().base_url(), "--index",
                       m.server().base_url() + "/no/such/indicators.yaml"}, d.env());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("index"), std::string::npos) << r.err;
  m.server().set_raw("/bad.yaml", "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nConnection: close\r\n\r\nindicators: [\n{");
  r = run_bridle({"download-iocs", "--index", m.server().base_url() + "/bad.yaml"}, d.env());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("YAML"), std::string::npos) << r.err;
  // Nothing was installed.
  EXPECT_TRUE(d.stix2_hashes().empty());
  // Feeds may not be read from local files, even when the index is local.
  Scratch local;
  write_file(local / "indicators.yaml", "indicators:\n  - type: url\n    name: Local\n    download_url: http://127.0.0.1:1/x.stix2\n"
                                        "  - type: url\n    name: File\n    download_url: file:///etc/hostname\n");
  r = run_bridle({"download-iocs", "--index", "file://" + (local / "indicators.yaml").string()}, d.env());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("File"), std::string::npos) << r.err;
  EXPECT_TRUE(d.stix2_hashes().empty());
}

TEST(DownloadIocs, EnvironmentGivesIndexAndMirror) {
  Mirror m;
  Data d;
  auto env = d.env();
  env.push_back("BRIDLE_IOCS_INDEX=" + m.index_url());
  env.push_back("BRIDLE_IOCS_MIRROR=" + m.server().base_url());
  auto r = run_bridle({"download-iocs"}, env);
  EXPECT_EQ(d.stix2_hashes().size(), m.present().size()) << r.err;
}

TEST(IocsList, ShowsFeedsAndDigest) {
  Mirror m;
  Data d;
  run_bridle(m.args(), d.env());
  write_file(d.ind / "handmade.stix2", bundle_text("hand"));
  auto r = run_bridle({"iocs", "list"}, d.env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (auto& f : m.present()) EXPECT_NE(r.out.find(f.name), std::string::npos) << f.name;
  EXPECT_NE(r.out.find("handmade.stix2"), std::string::npos);
  EXPECT_NE(r.out.find("not from download-iocs"), std::string::npos);
  auto j = run_bridle({"iocs", "list", "--json"}, d.env());
  ASSERT_EQ(j.exit_code, 0);
  auto doc = Json::parse(j.out);
  EXPECT_EQ(doc["indicator_files"], m.present().size() + 1);
  EXPECT_EQ(doc["digest"].get<std::string>().size(), 64u);
  auto stats = run_bridle({"iocs", "stats"}, d.env());  // the existing command still registers
  EXPECT_EQ(stats.exit_code, 2);
}

TEST(IocsBundle, ExportImportRoundTripRestoresIdenticalFiles) {
  Mirror m;
  Data d;
  run_bridle(m.args(), d.env());
  auto before = d.stix2_hashes();
  ASSERT_FALSE(before.empty());
  Scratch out;
  auto bundle = out / "feeds.tar.gz";
  auto e = run_bridle({"iocs", "export", bundle.string()}, d.env());
  ASSERT_EQ(e.exit_code, 0) << e.err;
  auto members = read_targz(bundle);
  ASSERT_EQ(members.size(), before.size() + 1);
  EXPECT_EQ(members[0].first, "manifest.json");
  auto manifest = Json::parse(members[0].second);
  EXPECT_EQ(manifest["feeds"].size(), before.size());
  EXPECT_FALSE(manifest["bridle_version"].get<std::string>().empty());

  Data fresh;
  auto i = run_bridle({"iocs", "import", bundle.string()}, fresh.env());
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_EQ(fresh.stix2_hashes(), before);
  EXPECT_TRUE(fresh.leftovers().empty());
  auto meta = fresh.meta();
  for (auto& f : m.present()) {
    EXPECT_EQ(meta["feeds"][f.name]["status"], "imported") << f.name;
    EXPECT_EQ(meta["feeds"][f.name]["downloaded_at"], d.meta()["feeds"][f.name]["downloaded_at"]);
  }
  // Importing over existing feeds works too.
  EXPECT_EQ(run_bridle({"iocs", "import", bundle.string()}, d.env()).exit_code, 0);
  EXPECT_EQ(d.stix2_hashes(), before);
}

TEST(IocsBundle, TamperedOrUnsafeBundlesAreRefused) {
  Mirror m;
  Data d;
  run_bridle(m.args(), d.env());
  Scratch out;
  auto bundle = out / "feeds.tar.gz";
  ASSERT_EQ(run_bridle({"iocs", "export", bundle.string()}, d.env()).exit_code, 0);
  auto members = read_targz(bundle);
  ASSERT_GE(members.size(), 2u);

  auto refused = [&](const std::vector<std::pair<std::string, std::string>>& ms, const std::string& what) {
    SCOPED_TRACE(what);
    auto path = out / (what + ".tar.gz");
    make_targz(path, ms);
    Data target;
    write_file(target.ind / "existing.stix2", bundle_text("existing"));
    auto before = target.stix2_hashes();
    auto r = run_bridle({"iocs", "import", path.string()}, target.env());
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
    EXPECT_EQ(target.stix2_hashes(), before);  // nothing installed
    EXPECT_TRUE(target.leftovers().empty());
    EXPECT_FALSE(fs::exists(target.dir / "x.stix2"));
    EXPECT_FALSE(fs::exists(target.xdg / "bridle" / "x.stix2"));
    return r.err;
  };

  auto tampered = members;
  tampered[1].second[tampered[1].second.size() / 2] ^= 0x20;
  EXPECT_NE(refused(tampered, "tampered").find(tampered[1].first), std::string::npos);

  auto traversal = members;
  traversal.emplace_back("../x.stix2", bundle_text("evil"));
  refused(traversal, "traversal");

  auto absolute = members;
  absolute.emplace_back("/tmp/x.stix2", bundle_text("evil"));
  refused(absolute, "absolute");

  auto missing = members;
  missing.pop_back();
  refused(missing, "missing");

  auto unlisted = members;
  unlisted.emplace_back("x.stix2", bundle_text("evil"));
  EXPECT_NE(refused(unlisted, "unlisted").find("x.stix2"), std::string::npos);

  auto no_manifest = std::vector<std::pair<std::string, std::string>>(members.begin() + 1, members.end());
  refused(no_manifest, "no_manifest");

  // A member that matches the manifest but is not a STIX2 bundle.
  Json man;
  man["feeds"] = Json::array({Json{{"name", "x"}, {"file", "x.stix2"}, {"sha256", sha256_hex("junk")}}});
  refused({{"manifest.json", man.dump()}, {"x.stix2", "junk"}}, "not_stix");

  write_file(out / "junk.tar.gz", "this is not a tar.gz");
  Data target;
  EXPECT_EQ(run_bridle({"iocs", "import", (out / "junk.tar.gz").string()}, target.env()).exit_code, 2);
}

TEST(IocsBundle, ExportWithoutFeedsFails) {
  Data d;
  Scratch out;
  auto r = run_bridle({"iocs", "export", (out / "x.tar.gz").string()}, d.env());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(out / "x.tar.gz"));
}

TEST(StalenessNote, CheckCommandsSayWhenFeedsAreMissingOrOld) {
  Mirror m;
  Data d;
  Scratch s;
  BackupBuilder b(s / "backup");
  b.add_file("HomeDomain", "Library/Preferences/x.plist", "x");
  b.finish();
  auto check = [&] { return run_bridle({"ios", "check-backup", (s / "backup").string()}, d.env()); };
  auto r = check();
  EXPECT_NE(r.err.find("no indicator feeds were ever downloaded"), std::string::npos) << r.err;
  const auto requests = m.server().requests().size();

  run_bridle(m.args(), d.env());
  r = check();
  EXPECT_EQ(r.err.find("note:"), std::string::npos) << r.err;

  // Make the newest download 30 days old.
  auto meta = d.meta();
  for (auto& [name, f] : meta["feeds"].items())
    if (!f["downloaded_at"].get<std::string>().empty()) f["downloaded_at"] = "2020-01-01T00:00:00Z";
  write_file(d.ind / "feeds.json", meta.dump(2));
  r = check();
  EXPECT_NE(r.err.find("last downloaded"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2020-01-01T00:00:00Z"), std::string::npos) << r.err;
  auto env = d.env();
  env.push_back("BRIDLE_IOCS_MAX_AGE_DAYS=0");
  r = run_bridle({"ios", "check-backup", (s / "backup").string()}, env);
  EXPECT_EQ(r.err.find("note:"), std::string::npos) << r.err;
  // Checks never touch the network: only download-iocs made requests.
  const auto after_download = m.server().requests().size();
  EXPECT_GT(after_download, requests);
  check();
  EXPECT_EQ(m.server().requests().size(), after_download);
}
