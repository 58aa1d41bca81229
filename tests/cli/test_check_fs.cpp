// End-to-end tests of `bridle ios check-fs` through the real binary: exit codes, archives,
// truncated archives, evidence left untouched.
#include <gtest/gtest.h>

#include "core/util.hpp"
#include "support/fs_dump.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

struct Fixture {
  Scratch dir;
  Scratch xdg;
  fs::path dump = dir / "dump";
  fs::path stix = dir / "iocs.stix2";
  std::vector<std::string> env() const { return {"XDG_DATA_HOME=" + (xdg / "x").string(), "BRIDLE_STIX2="}; }
  explicit Fixture(const std::string& client) {
    write_file(dump / "private/var/db/diagnostics/shutdown.log",
               "remaining client pid: 7 (" + client + ")\nSIGTERM: [1700000000]\n");
    write_file(dump / "private/var/mobile/Library/x.txt", "x");
    write_file(stix, stix_bundle({"[process:name='evilbin']"}));
  }
  RunResult check(const fs::path& target, const std::string& out, const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"ios", "check-fs", target.string(), "-i", stix.string()};
    if (!out.empty()) {
      args.push_back("-o");
      args.push_back((xdg / out).string());
    }
    for (auto& e : extra) args.push_back(e);
    return run_bridle(args, env());
  }
};

TEST(CheckFs, CleanDumpExitsZeroAndHitExitsOne) {
  Fixture clean("/usr/libexec/nsurlsessiond");
  auto r = clean.check(clean.dump, "out");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(clean.xdg / "out" / "filesystem.json"));
  EXPECT_TRUE(fs::exists(clean.xdg / "out" / "shutdown_log.json"));
  Fixture hit("/usr/bin/evilbin");
  auto r2 = hit.check(hit.dump, "out");
  EXPECT_EQ(r2.exit_code, 1) << r2.out << r2.err;
  auto alerts = Json::parse(slurp(hit.xdg / "out" / "alerts.json"));
  EXPECT_FALSE(alerts.empty());
}

TEST(CheckFs, ArchivesAreCheckedInPlace) {
  Fixture hit("/usr/bin/evilbin");
  write_archive(hit.dir / "d.tar.gz", members_of(hit.dump, "phone/"), ArchiveFormat::TarGz);
  write_archive(hit.dir / "d.zip", members_of(hit.dump), ArchiveFormat::Zip);
  auto before = tree_hashes(hit.dir.path());
  for (auto* a : {"d.tar.gz", "d.zip"}) {
    auto r = hit.check(hit.dir / a, std::string("out-") + a, {"-H"});
    EXPECT_EQ(r.exit_code, 1) << a << r.out << r.err;
    auto info = Json::parse(slurp(hit.xdg / (std::string("out-") + a) / "info.json"));
    EXPECT_FALSE(info["files_read"].empty()) << a;
  }
  EXPECT_EQ(before, tree_hashes(hit.dir.path()));
}

TEST(CheckFs, TruncatedArchiveIsPartial) {
  Fixture clean("/usr/libexec/nsurlsessiond");
  std::vector<ArchiveMember> m = members_of(clean.dump);
  for (int i = 0; i < 30; ++i) {
    std::string noise(32 * 1024, '\0');
    unsigned x = 12345u + static_cast<unsigned>(i);
    for (auto& c : noise) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 16);
    m.push_back(mfile("private/var/mobile/blob" + std::to_string(i), noise));
  }
  write_archive(clean.dir / "full.tar.gz", m, ArchiveFormat::TarGz);
  auto bytes = slurp(clean.dir / "full.tar.gz");
  write_file(clean.dir / "cut.tar.gz", bytes.substr(0, bytes.size() / 2));
  auto r = clean.check(clean.dir / "cut.tar.gz", "out");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  // Only one module selected (not Filesystem): still partial.
  auto r2 = clean.check(clean.dir / "cut.tar.gz", "", {"-m", "ShutdownLog"});
  EXPECT_EQ(r2.exit_code, 3) << r2.out << r2.err;
  EXPECT_NE(r2.err.find("truncated"), std::string::npos) << r2.err;
}

TEST(CheckFs, NotADumpIsExitTwo) {
  Scratch d;
  write_file(d / "notes" / "a.txt", "x");
  write_file(d / "b.txt", "x");
  auto r = run_bridle({"ios", "check-fs", d.path().string()}, {"XDG_DATA_HOME=" + (d / "xdg").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not an iOS filesystem dump"), std::string::npos) << r.err;
  write_file(d / "bad.tar.gz", std::string(1000, 'Q'));
  auto r2 = run_bridle({"ios", "check-fs", (d / "bad.tar.gz").string()}, {"XDG_DATA_HOME=" + (d / "xdg").string()});
  EXPECT_EQ(r2.exit_code, 2);
  EXPECT_NE(r2.err.find("cannot read"), std::string::npos) << r2.err;
  auto r3 = run_bridle({"ios", "check-fs", (d / "missing").string()});
  EXPECT_EQ(r3.exit_code, 2);
  auto l = run_bridle({"ios", "check-fs", "--list-modules"});
  EXPECT_EQ(l.exit_code, 0);
  EXPECT_NE(l.out.find("ShutdownLog\tshutdown_log"), std::string::npos);
  EXPECT_EQ(l.out.find("Manifest\tmanifest"), std::string::npos);
}

}  // namespace

namespace {

// The "binary not found" check (processes without a bundle id in DataUsage) must look inside
// archives too: a binary present in a .tar.gz dump is found, a missing one is reported.
TEST(CheckFs, BinaryInventoryWorksOnArchives) {
  Scratch d, xdg;
  fs::path dump = d / "dump";
  make_sqlite(dump / "private/var/wireless/Library/Databases/DataUsage.sqlite",
              "CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, ZFIRSTTIMESTAMP FLOAT, ZTIMESTAMP FLOAT,"
              " ZBUNDLENAME TEXT, ZPROCNAME TEXT);"
              "CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY, ZHASPROCESS INTEGER, ZTIMESTAMP FLOAT,"
              " ZWIFIIN FLOAT, ZWIFIOUT FLOAT, ZWWANIN FLOAT, ZWWANOUT FLOAT);"
              "INSERT INTO ZPROCESS VALUES (1, 600000000, 600000001, NULL, 'presentd');"
              "INSERT INTO ZPROCESS VALUES (2, 600000000, 600000001, NULL, 'ghostd');");
  write_file(dump / "private/var/containers/Bundle/Application/X/presentd.app/presentd", "\x7f" "ELF");
  write_archive(d / "dump.tar.gz", members_of(dump), ArchiveFormat::TarGz);
  for (auto target : {dump, d / "dump.tar.gz"}) {
    auto out = xdg / ("o" + std::to_string(std::hash<std::string>{}(target.string())));
    auto r = run_bridle({"ios", "check-fs", target.string(), "-m", "Datausage", "-o", out.string()},
                        {"XDG_DATA_HOME=" + (xdg / "x").string(), "BRIDLE_STIX2="});
    ASSERT_EQ(r.exit_code, 0) << target << r.out << r.err;
    auto alerts = Json::parse(slurp(out / "alerts.json"));
    std::vector<std::string> missing;
    for (auto& a : alerts)
      if (a["level"] == "MEDIUM") missing.push_back(a["event"]["proc_name"].get<std::string>());
    EXPECT_EQ(missing, std::vector<std::string>{"ghostd"}) << target;
  }
}

}  // namespace
