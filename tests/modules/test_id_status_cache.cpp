// IDStatusCache over plist fixtures: e-mail indicators on mailto: users, NUL characters in
// user names (binary plists written byte by byte, since libplist cuts keys at NUL).
#include <gtest/gtest.h>

#include <cstring>

#include "acquisition/ios_backup.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "support/module_runner.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kStix = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"TestSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[email-addr:value='bergers.o79@gmail.com']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";

// A tiny bplist00 writer: strings are written byte-exact (NULs kept), "date:<unix>" strings
// become dates, integers 8-byte, objects dictionaries (in the given order).
class BplistWriter {
 public:
  std::string write(const Json& root) {
    std::size_t top = add(root);
    std::string out = "bplist00";
    std::vector<std::uint32_t> offsets;
    for (auto& o : objects_) {
      offsets.push_back(static_cast<std::uint32_t>(out.size()));
      out += o;
    }
    std::uint64_t table = out.size();
    for (auto off : offsets) put(out, off, 4);
    out += std::string(6, '\0');
    out += '\x04';  // offset size
    out += '\x02';  // ref size
    put(out, objects_.size(), 8);
    put(out, top, 8);
    put(out, table, 8);
    return out;
  }

 private:
  static void put(std::string& s, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
  static std::string len_marker(unsigned hi, std::size_t n) {
    std::string s;
    if (n < 15) {
      s += static_cast<char>((hi << 4) | n);
    } else {
      s += static_cast<char>((hi << 4) | 0xF);
      s += '\x13';
      put(s, n, 8);
    }
    return s;
  }
  std::size_t add(const Json& v) {
    std::size_t idx = objects_.size();
    objects_.emplace_back();
    std::string o;
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (s.rfind("date:", 0) == 0) {
        double mac = std::stod(s.substr(5)) - 978307200.0;
        std::uint64_t u;
        std::memcpy(&u, &mac, 8);
        o += '\x33';
        put(o, u, 8);
      } else {
        o = len_marker(0x5, s.size()) + s;
      }
    } else if (v.is_number_integer()) {
      o += '\x13';
      put(o, static_cast<std::uint64_t>(v.get<std::int64_t>()), 8);
    } else if (v.is_object()) {
      std::vector<std::size_t> keys, vals;
      for (auto& [k, x] : v.items()) keys.push_back(add(Json(k)));
      for (auto& [k, x] : v.items()) vals.push_back(add(x));
      o = len_marker(0xD, keys.size());
      for (auto k : keys) put(o, k, 2);
      for (auto x : vals) put(o, x, 2);
    }
    objects_[idx] = o;
    return idx;
  }
  std::vector<std::string> objects_;
};

ModuleRun run_cache(const Scratch& dir, const std::string& plist, bool with_iocs = true) {
  BackupBuilder b(dir / "backup");
  b.add_file("HomeDomain", "Library/Preferences/com.apple.identityservices.idstatuscache.plist", plist);
  b.finish();
  return run_ios_module(dir / "backup", "IDStatusCache", with_iocs ? kStix : "");
}

Json sample() {
  Json j = Json::object();
  j["com.apple.madrid"] = Json::object();
  j["com.apple.madrid"]["mailto:bergers.o79@gmail.com"] = {{"LookupDate", "date:1594000000.5"}, {"IDStatus", 1}};
  j["com.apple.madrid"]["tel:+15550001111"] = {{"LookupDate", "date:1594000100"}, {"IDStatus", 2}};
  j["com.apple.private.alloy.photostream"] = Json::object();
  j["com.apple.private.alloy.photostream"]["mailto:bergers.o79@gmail.com"] = {{"LookupDate", "date:1594000200"},
                                                                              {"IDStatus", 1}};
  j["com.apple.private.alloy.photostream"]["mailto:notbergers.o79@gmail.com"] = {{"IDStatus", 2}};
  j["LookupVersion"] = 3;  // not a dictionary of entries: skipped
  return j;
}

TEST(IDStatusCache, RecordsOccurrencesAndEmailIndicator) {
  // Our byte-exact writer, libplist's binary writer (read by the module's own reader) and XML.
  for (int variant : {0, 1, 2}) {
    bool binary = variant != 2;
    Scratch d;
    auto r = run_cache(d, variant == 0 ? BplistWriter().write(sample()) : make_plist(sample(), binary));
    ASSERT_EQ(r.records.size(), 4u) << binary;
    // (XML plist dates have whole seconds.)
    Json expected = Json::parse(R"({"package": "com.apple.madrid", "user": "mailto:bergers.o79@gmail.com",
        "isodate": "2020-07-06 01:46:40.500000", "idstatus": 1, "occurrences": 2})");
    if (!binary) expected["isodate"] = "2020-07-06 01:46:40.000000";
    EXPECT_EQ(r.records[0], expected) << binary;
    EXPECT_EQ(r.records[1]["occurrences"], 1);
    EXPECT_EQ(r.records[3]["isodate"], "");
    EXPECT_EQ(r.records[3]["idstatus"], 2);
    ASSERT_EQ(r.result.alerts.size(), 2u);
    for (auto& a : r.result.alerts) {
      EXPECT_EQ(a.level, Level::Critical);
      EXPECT_EQ(a.message,
                "Found a known suspicious email address \"bergers.o79@gmail.com\" matching indicators from \"TestSpy\"");
    }
    ASSERT_EQ(r.result.timeline.size(), 4u);
    EXPECT_EQ(r.result.timeline[0].event, "lookup");
    EXPECT_EQ(r.result.timeline[1].description,
              "Lookup of mailto:bergers.o79@gmail.com within com.apple.madrid (Status 1)");
  }
}

TEST(IDStatusCache, NulCharactersInUserAreKeptAndFlagged) {
  Json j = Json::object();
  j["com.apple.madrid"] = Json::object();
  j["com.apple.madrid"][std::string("mailto:x@example.com\0\0\0", 23)] = {{"LookupDate", "date:1594000000"},
                                                                         {"IDStatus", 1}};
  j["com.apple.madrid"]["mailto:other@example.com"] = {{"IDStatus", 1}};
  Scratch d;
  // No indicators loaded: the NUL heuristic still runs. (libplist hands keys over as C
  // strings; the module recovers the part after the NUL from the raw bytes. Two keys that
  // differ only after a NUL would be merged by libplist: a known limitation.)
  auto r = run_cache(d, BplistWriter().write(j), false);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0]["user"], "mailto:x@example.com\\x00\\x00\\x00");
  EXPECT_EQ(r.records[1]["user"], "mailto:other@example.com");
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].level, Level::High);
  EXPECT_EQ(r.result.alerts[0].message,
            "Found an ID Status Cache entry with suspicious patterns (\\x00\\x00): mailto:x@example.com\\x00\\x00\\x00");
  EXPECT_EQ(r.result.alerts[0].event_time, "2020-07-06 01:46:40.000000");
}

TEST(IDStatusCache, DamagedPlistsAreUnreadable) {
  Scratch d;
  std::string good = BplistWriter().write(sample());
  auto r = run_cache(d, good.substr(0, good.size() - 10));
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
  // An offset table pointing outside the file.
  Scratch d2;
  std::string bad = good;
  bad[bad.size() - 1] = '\x7f';
  auto r2 = run_cache(d2, bad);
  EXPECT_TRUE(r2.result.partial());
  // A root that is not a dictionary.
  Scratch d3;
  auto r3 = run_cache(d3, make_plist(Json::array({1, 2}), true));
  EXPECT_TRUE(r3.result.partial());
}

TEST(IDStatusCache, SelfReferencingPlistIsRefused) {
  // A dictionary whose value is itself: the depth cap stops it.
  std::string s = "bplist00";
  std::uint32_t o0 = static_cast<std::uint32_t>(s.size());
  s += "\xD1";        // dict, 1 entry
  s += std::string("\x00\x01\x00\x00", 4);  // key -> object 1, value -> object 0
  std::uint32_t o1 = static_cast<std::uint32_t>(s.size());
  s += "\x51k";
  std::uint64_t table = s.size();
  for (auto off : {o0, o1})
    for (int i = 3; i >= 0; --i) s += static_cast<char>((off >> (8 * i)) & 0xFF);
  s += std::string(6, '\0');
  s += "\x04\x02";
  auto put = [&](std::uint64_t v) {
    for (int i = 7; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  put(2);
  put(0);
  put(table);
  Scratch d;
  auto r = run_cache(d, s);
  EXPECT_TRUE(r.result.partial());
}

}  // namespace
