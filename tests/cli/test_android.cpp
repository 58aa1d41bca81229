// End-to-end tests of `bridle android check-androidqf|check-bugreport|check-backup`.
#include <gtest/gtest.h>
#include <zip.h>

#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kStix = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"TestSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[app:id='com.evil.spy']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[domain-name:value='evil-c2.example.com']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";

void make_zip(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  std::vector<std::unique_ptr<std::string>> keep;
  for (auto& [name, data] : entries) {
    keep.push_back(std::make_unique<std::string>(data));
    zip_source_t* s = zip_source_buffer(z, keep.back()->data(), keep.back()->size(), 0);
    ASSERT_GE(zip_file_add(z, name.c_str(), s, ZIP_FL_ENC_UTF_8), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
}

std::string sms_ab(const std::string& body) {
  std::string sms = zlib_compress(R"([{"address":"1","body":")" + body + R"(","date":"1645543781956","date_sent":"0"}])");
  return "ANDROID BACKUP\n5\n1\nnone\n" +
         zlib_compress(make_tar({{"apps/com.android.providers.telephony/d_f/000000_sms_backup", sms}}));
}

struct Env {
  Scratch dir;
  fs::path stix = dir / "t.stix2";
  Env() { write_file(stix, kStix); }
  std::vector<std::string> env() const { return {"XDG_DATA_HOME=" + (dir / "xdg").string(), "BRIDLE_STIX2=",
                                                 "BRIDLE_ANDROID_BACKUP_PASSWORD="}; }
  RunResult run(std::vector<std::string> args, std::vector<std::string> extra_env = {}) const {
    auto e = env();
    for (auto& x : extra_env) e.push_back(x);
    return run_bridle(args, e);
  }
};

void write_qf(const fs::path& root, const std::string& pkg) {
  write_file(root / "getprop.txt", "[persist.sys.timezone]: [Europe/Rome]\n[ro.build.version.sdk]: [33]\n");
  write_file(root / "packages.json", R"([{"name":")" + pkg + R"(","installer":"com.android.vending","system":false,"disabled":false,"files":[]}])");
  write_file(root / "files.json", R"([{"path":"/sdcard/a","modified_time":1593109532,"context":"c"}])");
  write_file(root / "acquisition.json", R"({"started":"2023-07-24T00:38:44Z"})");
}

TEST(AndroidCli, AndroidqfCleanAndIndicatorHit) {
  Env e;
  write_qf(e.dir / "clean", "com.good.app");
  auto r = e.run({"android", "check-androidqf", (e.dir / "clean").string(), "-i", e.stix.string(), "-o",
                  (e.dir / "o1").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto files = Json::parse(slurp(e.dir / "o1" / "aqf_files.json"));
  EXPECT_EQ(files[0]["modified_time"], "2020-06-25 20:25:32.000000");  // device-local (Rome)
  EXPECT_NE(slurp(e.dir / "o1" / "timeline.csv").find("\"Device Local Timestamp\""), std::string::npos);

  write_qf(e.dir / "bad", "com.evil.spy");
  auto r2 = e.run({"android", "check-androidqf", (e.dir / "bad").string(), "-i", e.stix.string(), "-o",
                   (e.dir / "o2").string()});
  EXPECT_EQ(r2.exit_code, 1) << r2.out << r2.err;
  auto alerts = Json::parse(slurp(e.dir / "o2" / "alerts.json"));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["module"], "aqf_packages");
  EXPECT_EQ(alerts[0]["matched_indicator"]["value"], "com.evil.spy");
}

TEST(AndroidCli, ZipAndFolderGiveIdenticalResults) {
  Env e;
  write_qf(e.dir / "acq", "com.evil.spy");
  make_zip(e.dir / "acq.zip", {{"getprop.txt", slurp(e.dir / "acq" / "getprop.txt")},
                               {"packages.json", slurp(e.dir / "acq" / "packages.json")},
                               {"files.json", slurp(e.dir / "acq" / "files.json")},
                               {"acquisition.json", slurp(e.dir / "acq" / "acquisition.json")}});
  auto a = e.run({"android", "check-androidqf", (e.dir / "acq").string(), "-i", e.stix.string(), "-o", (e.dir / "of").string()});
  auto b = e.run({"android", "check-androidqf", (e.dir / "acq.zip").string(), "-i", e.stix.string(), "-o", (e.dir / "oz").string()});
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_EQ(b.exit_code, 1) << b.err;
  for (auto n : {"aqf_packages.json", "aqf_get_prop.json", "aqf_files.json", "alerts.json", "timeline.csv"})
    EXPECT_EQ(slurp(e.dir / "of" / n), slurp(e.dir / "oz" / n)) << n;
}

TEST(AndroidCli, NestedBackupAndMissingPassword) {
  Env e;
  write_qf(e.dir / "acq", "com.good.app");
  write_file(e.dir / "acq" / "backup.ab", sms_ab("go to https://evil-c2.example.com/x"));
  auto r = e.run({"android", "check-androidqf", (e.dir / "acq").string(), "-i", e.stix.string(), "-o", (e.dir / "o").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto urls = Json::parse(slurp(e.dir / "o" / "urls.json"));
  EXPECT_EQ(urls[0]["url"], "https://evil-c2.example.com/x");
  auto info = Json::parse(slurp(e.dir / "o" / "info.json"));
  EXPECT_EQ(info["backup"]["version"], 5) << info.dump();

  // An encrypted backup.ab without a password: partial (exit 3), never a crash or "clean".
  write_file(e.dir / "acq" / "backup.ab", "ANDROID BACKUP\n5\n0\nAES-256\n00\n00\n10\n00\n00\nxxxx");
  auto r2 = e.run({"android", "check-androidqf", (e.dir / "acq").string(), "-i", e.stix.string(), "-n"});
  EXPECT_EQ(r2.exit_code, 3) << r2.out << r2.err;
  EXPECT_NE(r2.out.find("no password"), std::string::npos) << r2.out;
}

TEST(AndroidCli, HostileZipIsPartial) {
  Env e;
  make_zip(e.dir / "evil.zip", {{"acq/getprop.txt", "[a]: [b]\n"}, {"../../escape.txt", "x"}});
  auto r = e.run({"android", "check-androidqf", (e.dir / "evil.zip").string(), "-i", e.stix.string()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("escapes the archive"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(e.dir.path().parent_path() / "escape.txt"));
}

TEST(AndroidCli, NotAnAcquisitionIsExitTwo) {
  Env e;
  write_file(e.dir / "x" / "hello.txt", "hi");
  EXPECT_EQ(e.run({"android", "check-androidqf", (e.dir / "x").string()}).exit_code, 2);
  EXPECT_EQ(e.run({"android", "check-androidqf", (e.dir / "missing").string()}).exit_code, 2);
  auto b = e.run({"android", "check-bugreport", (e.dir / "x").string()});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find("no bugreport found"), std::string::npos) << b.err;
  make_zip(e.dir / "vendor.zip", {{"readme.txt", "nothing"}});
  EXPECT_EQ(e.run({"android", "check-bugreport", (e.dir / "vendor.zip").string()}).exit_code, 2);
  EXPECT_EQ(e.run({"android", "check-backup", (e.dir / "x" / "hello.txt").string()}).exit_code, 2);
  EXPECT_EQ(e.run({"android", "check-backup", (e.dir / "x").string()}).exit_code, 2);
}

TEST(AndroidCli, VendorWrappedBugreportIsFound) {
  Env e;
  Scratch tmp;
  make_zip(tmp / "bugreport-x.zip", {{"main_entry.txt", "dumpstate.txt"},
                                     {"dumpstate.txt", "== dumpstate\n------ SYSTEM PROPERTIES ------\n"
                                                       "[persist.sys.timezone]: [Europe/Rome]\n------ end\n"}});
  make_zip(e.dir / "wrapper.zip", {{"MIUI/bugreport-x.zip", slurp(tmp / "bugreport-x.zip")}, {"info.txt", "x"}});
  auto r = e.run({"android", "check-bugreport", (e.dir / "wrapper.zip").string(), "-i", e.stix.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("wrapper.zip!MIUI/bugreport-x.zip"), std::string::npos) << r.err;
}

TEST(AndroidCli, BackupFileAndFolder) {
  Env e;
  write_file(e.dir / "b.ab", sms_ab("hello https://evil-c2.example.com/"));
  auto r = e.run({"android", "check-backup", (e.dir / "b.ab").string(), "-i", e.stix.string(), "-o", (e.dir / "o").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(Json::parse(slurp(e.dir / "o" / "sms.json")).size(), 1u);
  write_file(e.dir / "f" / "apps/com.android.providers.telephony/d_f/000000_sms_backup",
             zlib_compress(R"([{"address":"1","body":"fine","date":"0","date_sent":"0"}])"));
  auto r2 = e.run({"android", "check-backup", (e.dir / "f").string(), "-i", e.stix.string()});
  EXPECT_EQ(r2.exit_code, 0) << r2.err;
  auto l = e.run({"android", "check-backup", "--list-modules"});
  EXPECT_NE(l.out.find("BackupSMS\tsms"), std::string::npos) << l.out;
}

TEST(AndroidCli, EncryptedBackupPasswords) {
  BRIDLE_REQUIRE_SHARED(shared);
  Env e;
  auto ab = (shared / "corpus/mvt/android_backup/backup2.ab").string();
  auto wrong = e.run({"android", "check-backup", ab, "-p", "nope", "-n"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("wrong backup password"), std::string::npos) << wrong.err;
  auto none = e.run({"android", "check-backup", ab, "-n"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("encrypted"), std::string::npos);
  // Not a terminal: no prompt even without -n.
  auto noprompt = run_bridle({"android", "check-backup", ab}, e.env(), "123456\n");
  EXPECT_EQ(noprompt.exit_code, 2);
  auto env = e.run({"android", "check-backup", ab, "-i", e.stix.string()}, {"BRIDLE_ANDROID_BACKUP_PASSWORD=123456"});
  EXPECT_EQ(env.exit_code, 0) << env.err;
  auto cli = e.run({"android", "check-backup", ab, "-p", "123456", "-o", (e.dir / "o").string()});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(Json::parse(slurp(e.dir / "o" / "sms.json")).size(), 1u);
}

}  // namespace
