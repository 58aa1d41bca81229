// Unit tests of the indicator-feed index, URLs, file names, metadata, staleness and the
// export bundle verification (no network: everything here is local).
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/util.hpp"
#include "indicators/feeds.hpp"
#include "support/http_server.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;
namespace fd = bridle::feeds;

namespace {

const char* kBundle = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"UnitSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='unit-c2.example.com']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";

// Points XDG_DATA_HOME at a scratch folder for the test's lifetime.
struct DataHome {
  Scratch dir;
  std::string old;
  bool had = false;
  DataHome() {
    if (const char* v = std::getenv("XDG_DATA_HOME")) {
      old = v;
      had = true;
    }
    setenv("XDG_DATA_HOME", (dir / "xdg").string().c_str(), 1);
  }
  ~DataHome() {
    if (had) setenv("XDG_DATA_HOME", old.c_str(), 1);
    else unsetenv("XDG_DATA_HOME");
  }
};

}  // namespace

TEST(FeedIndex, GithubUrlAndDefaultBranch) {
  auto idx = fd::parse_index(R"(indicators:
  - type: github
    name: With branch
    sources: [A, B]
    references:
      - https://example.org/report
    github: {owner: AmnestyTech, repo: investigations, branch: master, path: 2021-07-18_nso/pegasus.stix2}
  - type: github
    name: Default branch
    github:
      owner: mvt-project
      repo: mvt-indicators
      path: /2022-06-23_rcs_lab/rcs.stix2
)");
  ASSERT_TRUE(idx);
  ASSERT_EQ(idx->feeds.size(), 2u);
  EXPECT_TRUE(idx->problems.empty());
  EXPECT_EQ(*fd::feed_url(idx->feeds[0]),
            "https://raw.githubusercontent.com/AmnestyTech/investigations/master/2021-07-18_nso/pegasus.stix2");
  EXPECT_EQ(idx->feeds[0].sources, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(idx->feeds[0].references.size(), 1u);
  EXPECT_EQ(idx->feeds[1].branch, "main");
  EXPECT_EQ(*fd::feed_url(idx->feeds[1]),
            "https://raw.githubusercontent.com/mvt-project/mvt-indicators/main/2022-06-23_rcs_lab/rcs.stix2");
  fd::FeedEntry e;
  e.type = "github";
  e.owner = "o";
  e.repo = "r";
  e.path = "a b/c.stix2";
  EXPECT_EQ(*fd::feed_url(e), "https://raw.githubusercontent.com/o/r/main/a%20b/c.stix2");
}

TEST(FeedIndex, OtherTypesUseDownloadUrl) {
  auto idx = fd::parse_index(R"(indicators:
  - type: url
    name: Direct
    download_url: https://example.org/feeds/spy.stix2
  - name: No type
    download_url: http://mirror.example/x.stix2
  - type: gitlab
    name: Unknown type without URL
  - type: url
    name: Not http
    download_url: file:///etc/passwd
)");
  ASSERT_TRUE(idx);
  ASSERT_EQ(idx->feeds.size(), 2u);
  EXPECT_EQ(*fd::feed_url(idx->feeds[0]), "https://example.org/feeds/spy.stix2");
  EXPECT_EQ(*fd::feed_url(idx->feeds[1]), "http://mirror.example/x.stix2");
  ASSERT_EQ(idx->problems.size(), 2u);
  EXPECT_NE(idx->problems[0].find("Unknown type without URL"), std::string::npos);
  EXPECT_NE(idx->problems[0].find("gitlab"), std::string::npos);
  EXPECT_NE(idx->problems[1].find("Not http"), std::string::npos);
}

TEST(FeedIndex, MissingFieldsAreReportedByName) {
  auto idx = fd::parse_index(R"(indicators:
  - type: github
    name: No path
    github: {owner: o, repo: r}
  - type: github
    name: Escapes
    github: {owner: o, repo: r, path: ../../etc/x.stix2}
  - type: github
    github: {owner: o, repo: r, path: ok.stix2}
  - just a string
  - type: github
    name: Bad owner
    github: {owner: a/b, repo: r, path: x.stix2}
)");
  ASSERT_TRUE(idx);
  ASSERT_EQ(idx->feeds.size(), 1u);
  EXPECT_EQ(idx->feeds[0].name, "entry #3");
  ASSERT_EQ(idx->problems.size(), 4u);
  EXPECT_NE(idx->problems[0].find("No path"), std::string::npos);
  EXPECT_NE(idx->problems[1].find("Escapes"), std::string::npos);
  EXPECT_NE(idx->problems[2].find("entry #4"), std::string::npos);
  EXPECT_NE(idx->problems[3].find("Bad owner"), std::string::npos);
}

TEST(FeedIndex, MalformedYamlIsRefused) {
  std::string err;
  EXPECT_FALSE(fd::parse_index("indicators: [\n  - {type: github", &err));
  EXPECT_NE(err.find("YAML"), std::string::npos) << err;
  EXPECT_FALSE(fd::parse_index("feeds: []\n", &err));
  EXPECT_NE(err.find("indicators"), std::string::npos) << err;
  EXPECT_FALSE(fd::parse_index("indicators: 3\n", &err));
  EXPECT_FALSE(fd::parse_index("", &err));
  EXPECT_FALSE(fd::parse_index("<html>404</html>", &err));
  auto empty = fd::parse_index("indicators: []\n", &err);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->feeds.empty());
}

TEST(FeedIndex, RealIndexFromSharedMirror) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto text = read_file(shared / "iocs/mvt-project/mvt-indicators/main/indicators.yaml", 1 << 20);
  ASSERT_TRUE(text);
  auto idx = fd::parse_index(*text);
  ASSERT_TRUE(idx);
  EXPECT_TRUE(idx->problems.empty());
  ASSERT_EQ(idx->feeds.size(), 15u);
  EXPECT_EQ(fd::safe_file_name(*fd::feed_url(idx->feeds[2])),
            "mvt-project_mvt-indicators_main_2022-06-23_rcs_lab_rcs.stix2");
}

TEST(FeedNames, SafeFileNames) {
  EXPECT_EQ(fd::safe_file_name(
                "https://raw.githubusercontent.com/mvt-project/mvt-indicators/main/2022-06-23_rcs_lab/rcs.stix2"),
            "mvt-project_mvt-indicators_main_2022-06-23_rcs_lab_rcs.stix2");
  EXPECT_EQ(fd::safe_file_name("https://example.org/a/b.stix2?token=1#x"), "example.org_a_b.stix2");
  EXPECT_EQ(fd::safe_file_name("https://raw.githubusercontent.com/o/r/main/feed.json"), "o_r_main_feed.json.stix2");
  EXPECT_EQ(fd::safe_file_name("https://raw.githubusercontent.com/o/r/main/a%20b/c d$.stix2"), "o_r_main_a_20b_c_d_.stix2");
  EXPECT_EQ(fd::safe_file_name("https://raw.githubusercontent.com/.hidden/../x.stix2"), "_hidden_.__x.stix2");
  EXPECT_EQ(fd::safe_file_name("https://example.org/"), "example.org.stix2");
  for (auto url : {"https://a/../../etc/passwd", "https://user@h/..", "https://raw.githubusercontent.com/",
                   "https://raw.githubusercontent.com/../..", "weird"}) {
    std::string n = fd::safe_file_name(url);
    EXPECT_TRUE(fd::is_plain_file_name(n)) << url << " -> " << n;
    EXPECT_EQ(n.substr(n.size() - 6), ".stix2") << n;
  }
  EXPECT_LE(fd::safe_file_name("https://raw.githubusercontent.com/" + std::string(400, 'a') + ".stix2").size(), 255u);
}

TEST(FeedNames, PlainFileNames) {
  EXPECT_TRUE(fd::is_plain_file_name("a-b_c.1.stix2"));
  EXPECT_TRUE(fd::is_plain_file_name("manifest.json"));
  for (auto bad : {"", ".", "..", "../x.stix2", "/x.stix2", "a/b.stix2", ".hidden.stix2", "a..stix2",
                   "a b.stix2", "x\\y.stix2", "é.stix2"})
    EXPECT_FALSE(fd::is_plain_file_name(bad)) << bad;
}

TEST(FeedNames, Mirror) {
  const std::string u = "https://raw.githubusercontent.com/o/r/main/x.stix2";
  EXPECT_EQ(fd::apply_mirror(u, ""), u);
  EXPECT_EQ(fd::apply_mirror(u, "http://127.0.0.1:8080/"), "http://127.0.0.1:8080/o/r/main/x.stix2");
  EXPECT_EQ(fd::apply_mirror(u, "http://m/base"), "http://m/base/o/r/main/x.stix2");
  EXPECT_EQ(fd::apply_mirror("https://example.org/x.stix2", "http://m"), "https://example.org/x.stix2");
}

TEST(FeedMetadata, JsonRoundTripAndTimes) {
  fd::Metadata m;
  m.index = "https://x/indicators.yaml";
  m.updated_at = "2026-01-02T03:04:05Z";
  fd::FeedRecord r;
  r.name = "Feed";
  r.source = "https://x/feed.stix2";
  r.file = "x_feed.stix2";
  r.sha256 = std::string(64, 'a');
  r.downloaded_at = "2026-01-02T03:04:05Z";
  r.counts = {{"domain", 3}, {"process", 1}};
  r.total = 4;
  r.status = "ok";
  m.feeds["Feed"] = r;
  auto back = fd::metadata_from_json(Json::parse(fd::metadata_to_json(m).dump()));
  EXPECT_EQ(back.index, m.index);
  ASSERT_EQ(back.feeds.count("Feed"), 1u);
  EXPECT_EQ(back.feeds["Feed"].counts, r.counts);
  EXPECT_EQ(back.feeds["Feed"].total, 4u);
  EXPECT_EQ(back.feeds["Feed"].sha256, r.sha256);
  // A file name that is not plain is never trusted.
  Json j = fd::metadata_to_json(m);
  j["feeds"]["Feed"]["file"] = "../../x.stix2";
  EXPECT_EQ(fd::metadata_from_json(j).feeds["Feed"].file, "");
  EXPECT_EQ(fd::metadata_from_json(Json::parse("[1,2]")).feeds.size(), 0u);

  EXPECT_EQ(*fd::parse_utc_iso("1970-01-02T00:00:00Z"), 86400);
  EXPECT_FALSE(fd::parse_utc_iso("1970-01-02 00:00:00"));
  EXPECT_FALSE(fd::parse_utc_iso("garbage"));
  EXPECT_TRUE(fd::parse_utc_iso(fd::utc_now_iso()));
}

TEST(FeedStaleness, NoteWhenNeverDownloadedOrOld) {
  DataHome home;
  auto never = fd::feeds_staleness_note(7);
  ASSERT_TRUE(never);
  EXPECT_NE(never->find("were ever downloaded"), std::string::npos);
  EXPECT_NE(never->find("download-iocs"), std::string::npos);
  EXPECT_FALSE(fd::feeds_staleness_note(0));  // turned off

  write_file(fd::indicators_dir() / "x_feed.stix2", kBundle);
  fd::Metadata m;
  fd::FeedRecord r;
  r.name = "Feed";
  r.file = "x_feed.stix2";
  r.sha256 = sha256_hex(kBundle);
  r.downloaded_at = "2026-01-01T00:00:00Z";
  r.status = "ok";
  m.feeds["Feed"] = r;
  ASSERT_TRUE(fd::save_metadata(m));
  const std::int64_t t0 = *fd::parse_utc_iso("2026-01-01T00:00:00Z");
  EXPECT_FALSE(fd::feeds_staleness_note(7, t0 + 86400));
  EXPECT_FALSE(fd::feeds_staleness_note(7, t0 + 7 * 86400));
  auto old = fd::feeds_staleness_note(7, t0 + 10 * 86400);
  ASSERT_TRUE(old);
  EXPECT_NE(old->find("10 days"), std::string::npos) << *old;
  EXPECT_NE(old->find("2026-01-01T00:00:00Z"), std::string::npos) << *old;
  // A failed feed without a file does not count as downloaded.
  std::filesystem::remove(fd::indicators_dir() / "x_feed.stix2");
  auto gone = fd::feeds_staleness_note(7, t0 + 86400);
  ASSERT_TRUE(gone);
  EXPECT_NE(gone->find("were ever downloaded"), std::string::npos);
}

TEST(FeedStaleness, MaxAgeFromEnvironment) {
  setenv("BRIDLE_IOCS_MAX_AGE_DAYS", "30", 1);
  EXPECT_EQ(fd::max_age_days_from_env(), 30);
  setenv("BRIDLE_IOCS_MAX_AGE_DAYS", "0", 1);
  EXPECT_EQ(fd::max_age_days_from_env(), 0);
  setenv("BRIDLE_IOCS_MAX_AGE_DAYS", "abc", 1);
  EXPECT_EQ(fd::max_age_days_from_env(), fd::kDefaultMaxAgeDays);
  unsetenv("BRIDLE_IOCS_MAX_AGE_DAYS");
  EXPECT_EQ(fd::max_age_days_from_env(), fd::kDefaultMaxAgeDays);
}

namespace {
std::map<std::string, std::string> good_members() {
  std::map<std::string, std::string> m;
  m["a.stix2"] = kBundle;
  m["b.stix2"] = std::string(kBundle) + " ";
  Json man;
  man["feeds"] = Json::array();
  for (auto name : {"a.stix2", "b.stix2"}) {
    Json f;
    f["name"] = std::string("Feed ") + name;
    f["file"] = name;
    f["sha256"] = sha256_hex(m[name]);
    f["downloaded_at"] = "2026-01-01T00:00:00Z";
    man["feeds"].push_back(f);
  }
  m["manifest.json"] = man.dump();
  return m;
}
}  // namespace

TEST(FeedBundle, ManifestVerification) {
  std::string err;
  auto ok = fd::verify_bundle(good_members(), &err);
  ASSERT_TRUE(ok) << err;
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].name, "Feed a.stix2");

  auto tampered = good_members();
  tampered["a.stix2"][10] ^= 1;
  EXPECT_FALSE(fd::verify_bundle(tampered, &err));
  EXPECT_NE(err.find("a.stix2"), std::string::npos) << err;

  auto missing = good_members();
  missing.erase("b.stix2");
  EXPECT_FALSE(fd::verify_bundle(missing, &err));
  EXPECT_NE(err.find("not in the bundle"), std::string::npos) << err;

  auto extra = good_members();
  extra["c.stix2"] = kBundle;
  EXPECT_FALSE(fd::verify_bundle(extra, &err));
  EXPECT_NE(err.find("not in manifest.json"), std::string::npos) << err;

  auto traversal = good_members();
  traversal["../x.stix2"] = kBundle;
  EXPECT_FALSE(fd::verify_bundle(traversal, &err));
  EXPECT_NE(err.find("plain"), std::string::npos) << err;

  auto other = good_members();
  other["notes.txt"] = "x";
  EXPECT_FALSE(fd::verify_bundle(other, &err));

  auto no_manifest = good_members();
  no_manifest.erase("manifest.json");
  EXPECT_FALSE(fd::verify_bundle(no_manifest, &err));

  auto bad_manifest_name = good_members();
  Json man = Json::parse(bad_manifest_name["manifest.json"]);
  man["feeds"][0]["file"] = "../a.stix2";
  bad_manifest_name["manifest.json"] = man.dump();
  EXPECT_FALSE(fd::verify_bundle(bad_manifest_name, &err));

  auto dup = good_members();
  man = Json::parse(dup["manifest.json"]);
  man["feeds"].push_back(man["feeds"][0]);
  dup["manifest.json"] = man.dump();
  EXPECT_FALSE(fd::verify_bundle(dup, &err));
  EXPECT_NE(err.find("twice"), std::string::npos) << err;

  auto no_sha = good_members();
  man = Json::parse(no_sha["manifest.json"]);
  man["feeds"][0].erase("sha256");
  no_sha["manifest.json"] = man.dump();
  EXPECT_FALSE(fd::verify_bundle(no_sha, &err));

  std::map<std::string, std::string> empty{{"manifest.json", R"({"feeds":[]})"}};
  EXPECT_FALSE(fd::verify_bundle(empty, &err));
  std::map<std::string, std::string> garbage{{"manifest.json", "not json"}};
  EXPECT_FALSE(fd::verify_bundle(garbage, &err));
}

TEST(FeedBundle, ExportImportRoundTrip) {
  DataHome home;
  write_file(fd::indicators_dir() / "one.stix2", kBundle);
  write_file(fd::indicators_dir() / "two.stix2", std::string(kBundle) + "\n");
  auto before = tree_hashes(fd::indicators_dir());
  std::string err;
  auto bundle = home.dir / "feeds.tar.gz";
  auto n = fd::export_bundle(bundle, &err);
  ASSERT_TRUE(n) << err;
  EXPECT_EQ(*n, 2u);
  std::filesystem::remove_all(fd::indicators_dir());
  auto r = fd::import_bundle(bundle);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.installed.size(), 2u);
  auto after = tree_hashes(fd::indicators_dir());
  for (auto& [k, v] : before) EXPECT_EQ(after[k], v) << k;
  auto meta = fd::load_metadata();
  EXPECT_EQ(meta.feeds.size(), 2u);
  EXPECT_EQ(meta.feeds["one"].status, "imported");
  EXPECT_EQ(meta.feeds["one"].total, 1u);
  // No temporary files remain.
  for (auto& e : std::filesystem::directory_iterator(fd::indicators_dir()))
    EXPECT_EQ(e.path().filename().string().rfind(".bridle-tmp-", 0), std::string::npos) << e.path();

  EXPECT_FALSE(fd::import_bundle(home.dir / "missing.tar.gz").ok);
  write_file(home.dir / "junk.tar.gz", "not an archive");
  EXPECT_FALSE(fd::import_bundle(home.dir / "junk.tar.gz").ok);
}

TEST(FeedBundle, ExportWithoutFeedsFails) {
  DataHome home;
  std::string err;
  EXPECT_FALSE(fd::export_bundle(home.dir / "x.tar.gz", &err));
  EXPECT_NE(err.find("download-iocs"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(home.dir / "x.tar.gz"));
}

TEST(FeedFetch, LimitsProtocolsAndRedirects) {
  setenv("no_proxy", "127.0.0.1", 1);
  Scratch root;
  write_file(root / "ok.txt", "hello");
  HttpServer server(root.path());
  std::string err;
  auto ok = fd::fetch_to_string(server.base_url() + "/ok.txt", 100, false, nullptr, &err);
  ASSERT_TRUE(ok) << err;
  EXPECT_EQ(*ok, "hello");
  // No Content-Length: the write callback stops at the limit.
  server.set_raw("/big", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(5000, 'x'));
  EXPECT_FALSE(fd::fetch_to_string(server.base_url() + "/big", 1000, false, nullptr, &err));
  EXPECT_NE(err.find("larger than 1000 bytes"), std::string::npos) << err;
  EXPECT_TRUE(fd::fetch_to_string(server.base_url() + "/big", 10000, false, nullptr, &err)) << err;
  // file:// only where allowed (the index), never through a redirect.
  write_file(root / "local.txt", "local");
  const std::string file_url = "file://" + (root / "local.txt").string();
  EXPECT_FALSE(fd::fetch_to_string(file_url, 100, false, nullptr, &err));
  EXPECT_TRUE(fd::fetch_to_string(file_url, 100, true, nullptr, &err)) << err;
  server.set_raw("/redirect", "HTTP/1.1 302 Found\r\nLocation: " + file_url +
                                  "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(fd::fetch_to_string(server.base_url() + "/redirect", 100, true, nullptr, &err));
  server.set_raw("/loop", "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(fd::fetch_to_string(server.base_url() + "/loop", 100, false, nullptr, &err));
  EXPECT_LE(server.requests().size(), 3u + 2u + 6u + 2u);
  // Other schemes are refused outright.
  EXPECT_FALSE(fd::fetch_to_string("ftp://127.0.0.1/x", 100, true, nullptr, &err));
  // A cancelled fetch stops.
  std::atomic<bool> cancel{true};
  EXPECT_FALSE(fd::fetch_to_string(server.base_url() + "/ok.txt", 100, false, &cancel, &err));
  EXPECT_EQ(err, "interrupted");
}
