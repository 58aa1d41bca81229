// plist_to_json / nska_to_json: conversions, limits, hostile bytes, MBFile archives.
#include <plist/plist.h>

#include <cstdint>
#include <limits>
#include <map>
#include <cstdlib>
#include <random>

#include "core/util.hpp"
#include "formats/plist.hpp"
#include "formats/sqlite.hpp"
#include "support/support.hpp"

namespace bridle {
namespace {

using test::make_plist;

// Hand-built bplist00 from encoded objects (refs already encoded with ref_size bytes).
std::string raw_bplist(const std::vector<std::string>& objs, int ref_size, std::uint64_t top = 0) {
  std::string b = "bplist00";
  std::vector<std::uint64_t> offs;
  for (auto& o : objs) {
    offs.push_back(b.size());
    b += o;
  }
  std::uint64_t table = b.size();
  for (auto o : offs)
    for (int k = 3; k >= 0; --k) b += static_cast<char>((o >> (8 * k)) & 0xff);
  std::string t(32, '\0');
  t[6] = 4;
  t[7] = static_cast<char>(ref_size);
  for (int k = 0; k < 8; ++k) {
    t[8 + 7 - k] = static_cast<char>((std::uint64_t(objs.size()) >> (8 * k)) & 0xff);
    t[16 + 7 - k] = static_cast<char>((top >> (8 * k)) & 0xff);
    t[24 + 7 - k] = static_cast<char>((table >> (8 * k)) & 0xff);
  }
  return b + t;
}

std::string ref(std::uint64_t r, int size) {
  std::string s;
  for (int k = size - 1; k >= 0; --k) s += static_cast<char>((r >> (8 * k)) & 0xff);
  return s;
}

// n nested one-element arrays.
std::string deep_bplist(int n) {
  int rs = n < 256 ? 1 : n < 65536 ? 2 : 4;
  std::vector<std::string> objs;
  for (int i = 0; i < n; ++i)
    objs.push_back(i == n - 1 ? std::string(1, '\xA0') : std::string(1, '\xA1') + ref(i + 1, rs));
  return raw_bplist(objs, rs);
}

std::string deep_xml(int n) {
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\">";
  for (int i = 0; i < n; ++i) s += "<array>";
  for (int i = 0; i < n; ++i) s += "</array>";
  return s + "</plist>";
}

TEST(Plist, BinaryAndXmlConvertAlike) {
  Json in = Json::parse(R"({
    "zeta": "last-first",
    "Name": "iPhone",
    "Count": 42,
    "Negative": -7,
    "Flag": true,
    "Off": false,
    "Ratio": {"$real": 0.5},
    "Blob": {"$data": "AP9B"},
    "List": [1, "two", {"inner": [false]}],
    "Empty": {},
    "When": "date:1638560000.25",
    "Ref": {"$uid": 7}
  })");
  Json expected = Json::parse(R"({
    "zeta": "last-first",
    "Name": "iPhone",
    "Count": 42,
    "Negative": -7,
    "Flag": true,
    "Off": false,
    "Ratio": 0.5,
    "Blob": "AP9B",
    "List": [1, "two", {"inner": [false]}],
    "Empty": {},
    "When": "2021-12-03 19:33:20.250000",
    "Ref": {"CF$UID": 7}
  })");
  for (bool binary : {true, false}) {
    std::string bytes = make_plist(in, binary);
    EXPECT_EQ(plist_is_binary(bytes.data(), static_cast<uint32_t>(bytes.size())) != 0, binary);
    std::string err;
    auto j = plist_to_json(bytes, {}, &err);
    ASSERT_TRUE(j) << err;
    if (!binary) {
      // XML dates have whole seconds only; UIDs are not representable in XML by libplist's
      // writer as a UID type on read-back in every version, so compare the rest.
      (*j)["When"] = expected["When"];
    }
    EXPECT_EQ(j->dump(), expected.dump()) << (binary ? "binary" : "xml");
  }
}

TEST(Plist, DataAsBackslashReplacedText) {
  std::string bytes = make_plist(Json::parse(R"({"d": {"$data": "aGk/AP8="}})"));
  PlistOptions o;
  o.data_as_base64 = false;
  auto j = plist_to_json(bytes, o);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["d"], std::string("hi?") + std::string(1, '\0') + "\\xff");
  EXPECT_EQ((*plist_to_json(bytes))["d"], "aGk/AP8=");
}

TEST(Plist, IntegersKeepTheirSign) {
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><array>"
      "<integer>-5</integer><integer>-9223372036854775808</integer>"
      "<integer>9223372036854775807</integer><integer>18446744073709551615</integer>"
      "<integer>0</integer></array></plist>";
  auto j = plist_to_json(xml);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)[0].get<std::int64_t>(), -5);
  EXPECT_EQ((*j)[1].get<std::int64_t>(), INT64_MIN);
  EXPECT_EQ((*j)[2].get<std::int64_t>(), INT64_MAX);
  EXPECT_TRUE((*j)[3].is_number_unsigned());
  EXPECT_EQ((*j)[3].get<std::uint64_t>(), UINT64_MAX);
  EXPECT_EQ(j->dump(), "[-5,-9223372036854775808,9223372036854775807,18446744073709551615,0]");
  // Same values through libplist's binary writer (8-byte signed / 16-byte unsigned ints).
  plist_t p = nullptr;
  plist_from_xml(xml.data(), static_cast<uint32_t>(xml.size()), &p);
  ASSERT_TRUE(p);
  char* bin = nullptr;
  uint32_t len = 0;
  plist_to_bin(p, &bin, &len);
  plist_free(p);
  std::string b(bin, len);
  free(bin);
  auto jb = plist_to_json(b);
  ASSERT_TRUE(jb);
  EXPECT_EQ(jb->dump(), j->dump());
}

TEST(Plist, DatesAreUtcWithMicroseconds) {
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><array>"
      "<date>2021-12-03T19:33:13Z</date><date>2001-01-01T00:00:00Z</date>"
      "<date>1999-12-31T23:59:59Z</date><date>4001-01-01T00:00:00Z</date>"
      "</array></plist>";
  auto j = plist_to_json(xml);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)[0], "2021-12-03 19:33:13.000000");
  EXPECT_EQ((*j)[1], "2001-01-01 00:00:00.000000");
  EXPECT_EQ((*j)[2], "1999-12-31 23:59:59.000000");
  // NSDate.distantFuture: beyond libplist 2.2's int32 seconds accessor.
  EXPECT_EQ((*j)[3], "4001-01-01 00:00:00.000000");

  // Negative fractional times (before 2001) keep their sign.
  plist_t a = plist_new_array();
  plist_array_append_item(a, plist_new_date(-10, -500000));
  plist_array_append_item(a, plist_new_date(0, -250000));
  plist_array_append_item(a, plist_new_date(660000000, 123456));
  char* bin = nullptr;
  uint32_t len = 0;
  plist_to_bin(a, &bin, &len);
  plist_free(a);
  std::string b(bin, len);
  free(bin);
  auto jb = plist_to_json(b);
  ASSERT_TRUE(jb);
  EXPECT_EQ((*jb)[0], "2000-12-31 23:59:49.500000");
  EXPECT_EQ((*jb)[1], "2000-12-31 23:59:59.750000");
  EXPECT_EQ((*jb)[2], "2021-11-30 21:20:00.123456");
}

TEST(Plist, InvalidUtf8StringsAreEscaped) {
  // ASCII-typed string object holding a 0xff byte, and a dict key with one.
  std::string s = raw_bplist({"\x53" "a\xff" "b"}, 1);
  auto j = plist_to_json(s);
  ASSERT_TRUE(j);
  EXPECT_EQ(*j, "a\\xffb");
  std::string d = raw_bplist({std::string("\xD1\x01\x02", 3), "\x52k\xfe", "\x51v"}, 1);
  auto jd = plist_to_json(d);
  ASSERT_TRUE(jd);
  EXPECT_EQ(jd->dump(), R"({"k\\xfe":"v"})");
}

TEST(Plist, DeepNestingFailsCleanly) {
  for (bool binary : {false, true}) {
    std::string bytes = binary ? deep_bplist(100'000) : deep_xml(100'000);
    std::string err;
    EXPECT_FALSE(plist_to_json(bytes, {}, &err)) << binary;
    EXPECT_NE(err.find("deeper"), std::string::npos) << err;
    EXPECT_FALSE(nska_to_json(bytes, {}, &err));
  }
  // Exactly at the limit is fine, one more is not.
  PlistOptions o;
  o.max_depth = 5;
  EXPECT_TRUE(plist_to_json(deep_xml(5), o));
  EXPECT_FALSE(plist_to_json(deep_xml(6), o));
  EXPECT_TRUE(plist_to_json(deep_bplist(5), o));
  EXPECT_FALSE(plist_to_json(deep_bplist(6), o));
  // A huge configured limit is still capped (no stack overflow).
  o.max_depth = 10'000'000;
  EXPECT_FALSE(plist_to_json(deep_xml(200'000), o));
  EXPECT_FALSE(plist_to_json(deep_bplist(200'000), o));
  // Comments cannot hide nesting from the guard.
  EXPECT_FALSE(plist_to_json("<plist><!-- </array></array> -->" + deep_xml(100'000).substr(38)));
}

TEST(Plist, NodeLimits) {
  Json arr = Json::array();
  for (int i = 0; i < 100; ++i) arr.push_back(i);
  PlistOptions o;
  o.max_nodes = 50;
  std::string err;
  EXPECT_FALSE(plist_to_json(make_plist(arr), o, &err));
  EXPECT_NE(err.find("nodes"), std::string::npos);
  EXPECT_FALSE(plist_to_json(make_plist(arr, false), o, &err));
  o.max_nodes = 101;
  EXPECT_TRUE(plist_to_json(make_plist(arr), o));

  // Shared references (each level references the next twice): 2^60 nodes once expanded.
  std::vector<std::string> objs;
  for (int i = 0; i < 60; ++i) objs.push_back(std::string(1, '\xA2') + ref(i + 1, 1) + ref(i + 1, 1));
  objs.push_back(std::string(1, '\x10') + std::string(1, '\x01'));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(plist_to_json(raw_bplist(objs, 1), {}, &err));
  EXPECT_NE(err.find("nodes"), std::string::npos) << err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  // A reference cycle is refused.
  EXPECT_FALSE(plist_to_json(raw_bplist({std::string(1, '\xA1') + ref(0, 1)}, 1), {}, &err));
}

TEST(Plist, GarbageTruncationAndMutationNeverCrash) {
  Json in = Json::parse(R"({"a": [1, 2.5, "x", {"$data": "AAEC"}, {"$uid": 3}, "date:1600000000"],
                           "b": {"c": true, "d": "long string with ünïcode"}})");
  std::string bin = make_plist(in), xml = make_plist(in, false);
  for (const std::string& valid : {bin, xml}) {
    for (std::size_t n = 0; n < valid.size(); ++n) (void)plist_to_json(valid.substr(0, n));
    std::mt19937 rng(1234);
    for (int iter = 0; iter < 3000; ++iter) {
      std::string m = valid;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) m[rng() % m.size()] = static_cast<char>(rng() & 0xff);
      (void)plist_to_json(m);
      (void)nska_to_json(m);
    }
  }
  std::string err;
  for (std::string junk : {std::string(), std::string("bplist00"), std::string("bplist00") + std::string(40, '\xff'),
                           std::string("<plist><dict><key>a</key>"), std::string("\x00\x01\x02", 3),
                           std::string(1000, '<'), std::string("<?xml version=\"1.0\"?><plist><array><integer>1")}) {
    err.clear();
    EXPECT_FALSE(plist_to_json(junk, {}, &err));
    EXPECT_FALSE(err.empty());
  }
}

// An MBFile record as stored in Manifest.db Files.file.
Json mbfile_archive(const std::string& key_b64) {
  Json a = Json::object();
  a["$version"] = 100000;
  a["$archiver"] = "NSKeyedArchiver";
  a["$top"] = Json::parse(R"({"root": {"$uid": 1}})");
  Json objs = Json::array();
  objs.push_back("$null");
  Json mb = Json::object();
  mb["LastModified"] = 1600000000;
  mb["Birth"] = 1590000000;
  mb["LastStatusChange"] = 1600000001;
  mb["Mode"] = 33188;
  mb["UserID"] = 501;
  mb["GroupID"] = 501;
  mb["InodeNumber"] = 123456;
  mb["Size"] = 4096;
  mb["Flags"] = 0;
  mb["ProtectionClass"] = 4;
  mb["RelativePath"] = Json::parse(R"({"$uid": 2})");
  mb["EncryptionKey"] = Json::parse(R"({"$uid": 3})");
  mb["$class"] = Json::parse(R"({"$uid": 5})");
  objs.push_back(mb);
  objs.push_back("Library/SMS/sms.db");
  Json key = Json::object();
  key["NS.data"] = Json::object({{"$data", key_b64}});
  key["$class"] = Json::parse(R"({"$uid": 4})");
  objs.push_back(key);
  objs.push_back(Json::parse(R"({"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData", "NSObject"]})"));
  objs.push_back(Json::parse(R"({"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]})"));
  a["$objects"] = objs;
  return a;
}

TEST(Nska, MBFileRecord) {
  std::string key(44, '\0');
  for (int i = 0; i < 44; ++i) key[i] = static_cast<char>(i * 7 + 4);
  std::string b64 = base64_encode(key);
  for (bool binary : {true, false}) {
    std::string err;
    auto j = nska_to_json(make_plist(mbfile_archive(b64), binary), {}, &err);
    ASSERT_TRUE(j) << err;
    Json expected = Json::object();
    expected["LastModified"] = 1600000000;
    expected["Birth"] = 1590000000;
    expected["LastStatusChange"] = 1600000001;
    expected["Mode"] = 33188;
    expected["UserID"] = 501;
    expected["GroupID"] = 501;
    expected["InodeNumber"] = 123456;
    expected["Size"] = 4096;
    expected["Flags"] = 0;
    expected["ProtectionClass"] = 4;
    expected["RelativePath"] = "Library/SMS/sms.db";
    expected["EncryptionKey"] = b64;
    EXPECT_EQ(j->dump(), expected.dump()) << (binary ? "binary" : "xml");
  }
  PlistOptions raw;
  raw.data_as_base64 = false;
  auto j = nska_to_json(make_plist(mbfile_archive(base64_encode("ab\xff"))), raw);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["EncryptionKey"], "ab\\xff");
}

// nska_root_members must give exactly nska_to_json's members (or fail exactly when it does
// or when the root is not an object), whether it takes its direct path or not.
void expect_root_members_match(const std::string& bytes, const PlistOptions& o = {}) {
  static const std::initializer_list<const char*> keys = {"Birth", "LastModified", "Mode", "Size",
                                                          "RelativePath", "num", "when", "missing"};
  auto full = nska_to_json(bytes, o);
  auto part = nska_root_members(bytes, keys, o);
  if (!full || !full->is_object()) {
    EXPECT_FALSE(part) << (full ? full->dump() : "nska_to_json failed");
    return;
  }
  ASSERT_TRUE(part) << full->dump();
  Json expected = Json::object();
  for (const char* k : keys)
    if (auto it = full->find(k); it != full->end()) expected[k] = *it;
  std::map<std::string, std::string> want, got;
  for (auto& [k, v] : expected.items()) want[k] = v.dump();
  for (auto& [k, v] : part->items()) got[k] = v.dump();
  EXPECT_EQ(got, want);
}

TEST(Nska, RootMembersMatchFullResolution) {
  std::string b64 = base64_encode("0123456789abcdef0123456789abcdef0123456789ab");
  for (bool binary : {true, false}) expect_root_members_match(make_plist(mbfile_archive(b64), binary));
  // Integers of every width and sign, repeated keys, a member referring to the root itself.
  Json a = mbfile_archive(b64);
  a["$objects"][1]["Size"] = -5;
  a["$objects"][1]["Birth"] = std::numeric_limits<std::uint64_t>::max();
  a["$objects"][1]["Mode"] = Json::parse(R"({"$uid": 1})");
  expect_root_members_match(make_plist(a));
  a["$objects"][1]["Mode"] = Json::parse(R"({"$uid": 77})");
  a["$objects"][1]["LastModified"] = 1.5;
  expect_root_members_match(make_plist(a));
  // A wanted member that is a reference, a container member, a Foundation root class.
  a = mbfile_archive(b64);
  a["$objects"][1]["Size"] = Json::parse(R"({"$uid": 2})");
  expect_root_members_match(make_plist(a));
  a = mbfile_archive(b64);
  a["$objects"][1]["Extra"] = Json::array({1, 2});
  expect_root_members_match(make_plist(a));
  a = mbfile_archive(b64);
  a["$objects"][5]["$classname"] = "NSDictionary";
  expect_root_members_match(make_plist(a));
  a = mbfile_archive(b64);
  a["$archiver"] = "Other";
  expect_root_members_match(make_plist(a));
  a = mbfile_archive(b64);
  a["$top"] = Json::parse(R"({"root": {"$uid": 2}})");  // root resolves to a string
  expect_root_members_match(make_plist(a));
  expect_root_members_match("not a plist");
  expect_root_members_match(make_plist(Json::parse(R"({"a": 1})")));
  PlistOptions tiny;
  tiny.max_nodes = 10;
  expect_root_members_match(make_plist(mbfile_archive(b64)), tiny);
}

TEST(Nska, FoundationClassesCyclesAndNulls) {
  Json a = Json::parse(R"({
    "$archiver": "NSKeyedArchiver", "$version": 100000,
    "$top": {"root": {"$uid": 1}},
    "$objects": [
      "$null",
      {"$class": {"$uid": 2}, "name": {"$uid": 3}, "items": {"$uid": 4}, "map": {"$uid": 6},
       "self": {"$uid": 1}, "nothing": {"$uid": 0}, "when": {"$uid": 8}, "dangling": {"$uid": 99},
       "num": 3},
      {"$classname": "Holder", "$classes": ["Holder", "NSObject"]},
      {"NS.string": "mutable text", "$class": {"$uid": 10}},
      {"NS.objects": [{"$uid": 5}, {"$uid": 1}, {"$uid": 0}], "$class": {"$uid": 7}},
      "element",
      {"NS.keys": [{"$uid": 5}, {"$uid": 11}], "NS.objects": [{"$uid": 3}, {"$uid": 4}], "$class": {"$uid": 9}},
      {"$classname": "NSMutableArray", "$classes": ["NSMutableArray", "NSArray", "NSObject"]},
      {"NS.time": 660000000.5, "$class": {"$uid": 12}},
      {"$classname": "NSDictionary", "$classes": ["NSDictionary", "NSObject"]},
      {"$classname": "NSMutableString", "$classes": ["NSMutableString", "NSString", "NSObject"]},
      "list",
      {"$classname": "NSDate", "$classes": ["NSDate", "NSObject"]}
    ]})");
  std::string err;
  auto j = nska_to_json(make_plist(a), {}, &err);
  ASSERT_TRUE(j) << err;
  Json expected = Json::parse(R"({
    "name": "mutable text",
    "items": ["element", null, null],
    "map": {"element": "mutable text", "list": ["element", null, null]},
    "self": null,
    "nothing": null,
    "when": "2021-11-30 21:20:00.500000",
    "dangling": null,
    "num": 3
  })");
  EXPECT_EQ(j->dump(), expected.dump());
  expect_root_members_match(make_plist(a));
  // $top without "root": the first entry is used.
  a["$top"] = Json::parse(R"({"other": {"$uid": 5}})");
  auto j2 = nska_to_json(make_plist(a));
  ASSERT_TRUE(j2);
  EXPECT_EQ(*j2, "element");
}

TEST(Nska, RejectsNonArchivesAndBombs) {
  std::string err;
  EXPECT_FALSE(nska_to_json(make_plist(Json::parse(R"({"a": 1})")), {}, &err));
  EXPECT_FALSE(err.empty());
  EXPECT_FALSE(nska_to_json(make_plist(Json::parse(R"([1, 2])")), {}, &err));
  EXPECT_FALSE(nska_to_json(
      make_plist(Json::parse(R"({"$archiver": "Other", "$top": {"root": {"$uid": 0}}, "$objects": ["x"]})")),
      {}, &err));
  EXPECT_FALSE(nska_to_json("not a plist", {}, &err));

  // Each object is an array referencing the next one twice: exponential once resolved.
  Json a = Json::parse(R"({"$archiver": "NSKeyedArchiver", "$top": {"root": {"$uid": 1}}})");
  Json objs = Json::array({"$null"});
  for (int i = 1; i <= 40; ++i)
    objs.push_back(Json::array({Json::object({{"$uid", i + 1}}), Json::object({{"$uid", i + 1}})}));
  objs.push_back("leaf");
  a["$objects"] = objs;
  PlistOptions o;
  o.max_nodes = 100'000;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(nska_to_json(make_plist(a), o, &err));
  EXPECT_NE(err.find("nodes"), std::string::npos) << err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));

  // A long UID chain is bounded by max_depth.
  Json chain = Json::parse(R"({"$archiver": "NSKeyedArchiver", "$top": {"root": {"$uid": 1}}})");
  Json cobjs = Json::array({"$null"});
  for (int i = 1; i <= 2000; ++i) cobjs.push_back(Json::object({{"next", Json::object({{"$uid", i + 1}})}}));
  cobjs.push_back("end");
  chain["$objects"] = cobjs;
  EXPECT_FALSE(nska_to_json(make_plist(chain), {}, &err));
  EXPECT_NE(err.find("deeper"), std::string::npos) << err;
}

TEST(Nska, RealManifestDb) {
  BRIDLE_REQUIRE_SHARED(shared);
  fs::path manifest = shared / "corpus" / "mvt" / "ios_backup" / "Manifest.db";
  if (!fs::exists(manifest)) GTEST_SKIP() << "skipped: " << manifest << " not found";
  auto before = test::tree_hashes(manifest.parent_path());
  SqliteError serr;
  auto db = SqliteDb::open(manifest, &serr);
  ASSERT_TRUE(db) << serr.message;
  int rows = 0, ok = 0;
  std::string first_fail;
  ASSERT_TRUE(db->query("SELECT fileID, relativePath, file FROM Files", [&](const SqliteRow& r) {
    ++rows;
    std::string err;
    auto j = nska_to_json(r.blob(2), {}, &err);
    expect_root_members_match(r.blob(2));
    if (j && j->is_object() && (*j)["Mode"].is_number_integer() && (*j)["Size"].is_number_integer() &&
        (*j)["RelativePath"] == r.text(1)) {
      ++ok;
    } else if (first_fail.empty()) {
      first_fail = r.text(0) + ": " + (j ? j->dump() : err);
    }
    return true;
  }, &serr)) << serr.message;
  EXPECT_EQ(rows, 3721);
  EXPECT_EQ(ok, rows) << first_fail;
  EXPECT_EQ(test::tree_hashes(manifest.parent_path()), before);
}

}  // namespace
}  // namespace bridle
