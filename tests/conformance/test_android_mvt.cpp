// Conformance with MVT on its own Android test acquisitions: the same record counts per
// module as MVT's result folders, every MVT alert raised (module, level, matched indicator
// value; message for heuristics), the .ab tar digests, and zip == folder.
#include <gtest/gtest.h>
#include <zip.h>

#include <map>
#include <set>

#include "acquisition/android_backup.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

// Alerts bridle raises that MVT does not, with the reason (none expected on this corpus).
const std::map<std::string, std::string> kExpectedExtras = {};

std::string key_of(const Json& a) {
  std::string m = a["matched_indicator"].is_object() ? a["matched_indicator"]["value"].get<std::string>()
                                                     : "heuristic: " + a["message"].get<std::string>();
  return a["module"].get<std::string>() + " | " + a["level"].get<std::string>() + " | " + m;
}

std::multiset<std::string> alert_keys(const fs::path& f) {
  std::multiset<std::string> out;
  if (!fs::exists(f)) return out;
  for (auto& a : Json::parse(slurp(f))) out.insert(key_of(a));
  return out;
}

bool is_module_output(const std::string& n) {
  static const std::set<std::string> skip = {"alerts.json", "info.json", "urls.json"};
  return n.size() > 5 && n.substr(n.size() - 5) == ".json" && !skip.count(n) &&
         n.find("_detected.json") == std::string::npos;
}

std::size_t count_records(const Json& j) { return j.is_array() || j.is_object() ? j.size() : 1; }

struct Case {
  std::string mvt_dir;  // corpus/mvt-results/<dir>
  std::vector<std::string> args;  // after "android"
};

void compare_with_mvt(const fs::path& shared, const Case& c) {
  SCOPED_TRACE(c.mvt_dir);
  fs::path mvt = shared / "corpus/mvt-results" / c.mvt_dir;
  Scratch out;
  std::vector<std::string> args = {"android"};
  for (auto& a : c.args) args.push_back(a);
  Json mvt_info = Json::parse(slurp(mvt / "info.json"));
  for (auto& f : mvt_info["ioc_files"]) {
    args.push_back("-i");
    args.push_back((shared / "corpus/mvt-results" / fs::path(f.get<std::string>()).filename()).string());
  }
  args.push_back("-o");
  args.push_back((out / "o").string());
  auto r = run_bridle(args, {"XDG_DATA_HOME=" + (out / "xdg").string(), "BRIDLE_STIX2=",
                             "BRIDLE_ANDROID_BACKUP_PASSWORD="});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err;
  if (::testing::Test::HasFailure()) std::cout << r.err;

  // Record counts per MVT module file.
  for (auto& e : fs::directory_iterator(mvt)) {
    std::string n = e.path().filename().string();
    if (!is_module_output(n)) continue;
    ASSERT_TRUE(fs::exists(out / "o" / n)) << "missing " << n;
    EXPECT_EQ(count_records(Json::parse(slurp(out / "o" / n))), count_records(Json::parse(slurp(e.path())))) << n;
  }
  // Module files MVT did not write.
  for (auto& e : fs::directory_iterator(out / "o")) {
    std::string n = e.path().filename().string();
    if (is_module_output(n) && !fs::exists(mvt / n)) ADD_FAILURE() << "extra module output " << n;
  }
  // Every MVT alert raised; extras listed.
  auto theirs = alert_keys(mvt / "alerts.json"), ours = alert_keys(out / "o" / "alerts.json");
  for (auto& k : theirs) {
    auto it = ours.find(k);
    if (it == ours.end()) ADD_FAILURE() << "MVT alert not raised: " << k;
    else ours.erase(it);
  }
  for (auto& k : ours) {
    auto why = kExpectedExtras.find(k);
    if (why == kExpectedExtras.end()) ADD_FAILURE() << "extra alert: " << k;
    else std::cout << "extra alert (" << why->second << "): " << k << "\n";
  }
  // urls.json as MVT.
  if (fs::exists(mvt / "urls.json")) {
    EXPECT_EQ(Json::parse(slurp(out / "o" / "urls.json")), Json::parse(slurp(mvt / "urls.json")));
  }
}

TEST(AndroidMvt, AbTarDigests) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto vectors = Json::parse(slurp(shared / "corpus/mvt-results/android_ab_vectors.json"));
  ASSERT_GE(vectors.size(), 4u);
  for (auto& [rel, v] : vectors.items()) {
    SCOPED_TRACE(rel);
    std::optional<std::string> pw;
    if (v.contains("password")) pw = v["password"].get<std::string>();
    auto r = decode_android_backup_file(shared / rel, pw);
    ASSERT_EQ(r.status, AbStatus::Ok) << r.message;
    EXPECT_EQ(r.header.version, v["version"].get<int>());
    EXPECT_EQ(r.header.compressed, v["compressed"].get<bool>());
    EXPECT_EQ(r.header.encryption, v["encryption"].get<std::string>());
    EXPECT_EQ(r.tar_size, v["tar_bytes"].get<std::uint64_t>());
    EXPECT_EQ(r.tar_sha256, v["tar_sha256"].get<std::string>());
    if (pw) {
      EXPECT_TRUE(r.checksum_mangled);  // version 5: Java-mangled master-key checksum
      EXPECT_EQ(decode_android_backup_file(shared / rel, std::string("654321")).status, AbStatus::WrongPassword);
    }
  }
}

TEST(AndroidMvt, CheckAndroidqf) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto c = shared / "corpus/mvt";
  compare_with_mvt(shared, {"android_check_androidqf", {"check-androidqf", (c / "androidqf").string(), "-n"}});
  compare_with_mvt(shared, {"android_check_androidqf_zip", {"check-androidqf", (c / "androidqf.zip").string(), "-n"}});
  compare_with_mvt(shared, {"android_check_androidqf_encrypted",
                            {"check-androidqf", (c / "androidqf_encrypted").string(), "-p", "123456"}});
}

TEST(AndroidMvt, CheckBackup) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto c = shared / "corpus/mvt/android_backup";
  for (auto n : {"backup.ab", "backup2.ab", "backup3.ab"})
    compare_with_mvt(shared, {std::string("android_check_backup_") + n,
                              {"check-backup", (c / n).string(), "-p", "123456", "-n"}});
  compare_with_mvt(shared, {"android_check_backup_folder", {"check-backup", c.string(), "-n"}});
}

// MVT gives different results for a zip and the folder it was made from (MVT #931); bridle
// must not.
TEST(AndroidMvt, ZipEqualsFolder) {
  BRIDLE_REQUIRE_SHARED(shared);
  Scratch d;
  fs::path folder = shared / "corpus/mvt/androidqf";
  int err = 0;
  zip_t* z = zip_open((d / "androidqf.zip").c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  std::vector<std::unique_ptr<std::string>> keep;
  for (auto& e : fs::directory_iterator(folder)) {
    keep.push_back(std::make_unique<std::string>(slurp(e.path())));
    zip_source_t* s = zip_source_buffer(z, keep.back()->data(), keep.back()->size(), 0);
    ASSERT_GE(zip_file_add(z, ("androidqf/" + e.path().filename().string()).c_str(), s, 0), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
  auto stix = (shared / "corpus/mvt-results/demo.stix2").string();
  std::vector<std::string> env = {"XDG_DATA_HOME=" + (d / "xdg").string(), "BRIDLE_STIX2="};
  auto a = run_bridle({"android", "check-androidqf", folder.string(), "-i", stix, "-o", (d / "of").string(), "-n"}, env);
  auto b = run_bridle({"android", "check-androidqf", (d / "androidqf.zip").string(), "-i", stix, "-o",
                       (d / "oz").string(), "-n"}, env);
  EXPECT_EQ(a.exit_code, b.exit_code) << b.err;
  std::set<std::string> names;
  for (auto& e : fs::directory_iterator(d / "of")) names.insert(e.path().filename().string());
  std::set<std::string> znames;
  for (auto& e : fs::directory_iterator(d / "oz")) znames.insert(e.path().filename().string());
  EXPECT_EQ(names, znames);
  for (auto& n : names) {
    if (n == "info.json" || n == "command.log") continue;
    EXPECT_EQ(slurp(d / "of" / n), slurp(d / "oz" / n)) << n;
  }
}

}  // namespace
