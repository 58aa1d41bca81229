// The ASCII JSON string fast path writes exactly what nlohmann's dump writes, with
// ensure_ascii (MVT's files: DEL escaped) and without (timeline.jsonl: DEL kept).
#include <gtest/gtest.h>

#include <ctime>

#include "core/jsonio.hpp"
#include "core/timeutil.hpp"

namespace bridle {
namespace {

TEST(JsonIo, AsciiStringsMatchNlohmannInBothModes) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all += static_cast<char>(c);
  for (const std::string& s : {all, std::string(), std::string("plain text"), std::string("a\"b\\c\x7f\n")}) {
    for (bool ensure_ascii : {true, false}) {
      std::string out = "x";
      ASSERT_TRUE(append_ascii_json_string(out, s, ensure_ascii));
      EXPECT_EQ(out, "x" + Json(s).dump(-1, ' ', ensure_ascii, Json::error_handler_t::replace)) << ensure_ascii;
    }
  }
  std::string out = "x";
  EXPECT_FALSE(append_ascii_json_string(out, "caf\xc3\xa9", true));
  EXPECT_EQ(out, "x");  // nothing appended: the caller falls back to nlohmann
}


// Same value and same JSON types all the way down (5 unsigned and 5 signed compare equal in
// nlohmann, but are written differently by some writers).
bool same_typed(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    auto i = a.begin();
    auto j = b.begin();
    for (; i != a.end(); ++i, ++j)
      if (i.key() != j.key() || !same_typed(i.value(), j.value())) return false;
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k)
      if (!same_typed(a[k], b[k])) return false;
    return true;
  }
  return a == b;
}

TEST(JsonIo, FastParserMatchesNlohmannOrGivesUp) {
  const std::vector<std::string> texts = {
      R"({"path":"/data/local/tmp/x","size":8270321,"mode":"-rw-rw----","user_id":0,"neg":-5,"zero":-0,"b":true,"f":false,"n":null})",
      R"(  [1, -2, "a\"b\\c\/d\b\f\n\r\t", [], {}, [[]], {"a":{"b":[1,{"c":null}]}}] )",
      "\t\r\n{\"a\" : 1 ,\n \"b\" :[ 2 , 3 ] }\n",
      "123456789012345678", "-123456789012345678", "0", "\"\"", "\"\x7f\"",
      // outside the subset or invalid: the fast parser must give up (the caller then uses nlohmann)
      "1234567890123456789", "1.5", "1e3", "01", "-", "\"\\u00e9\"", "\"caf\xc3\xa9\"", "\"a\x01\"",
      R"({"a":1,"a":2})", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "tru", "nul", "truex", "[1]x", "", "  ",
      "\xef\xbb\xbf{}", "{'a':1}", "\"unterminated", "[" + std::string(100, '[') + std::string(101, ']'),
      "{\"a\":\"\\x\"}"};
  std::size_t fast_count = 0;
  for (auto& t : texts) {
    Json fast = "untouched";
    bool ok = parse_json_fast(t, fast);
    Json ref = Json::parse(t, nullptr, false);
    if (!ok) {
      EXPECT_EQ(fast, "untouched") << t;
      continue;
    }
    ++fast_count;
    EXPECT_FALSE(ref.is_discarded()) << t;
    EXPECT_TRUE(same_typed(fast, ref)) << t << "\n" << fast.dump() << "\n" << ref.dump();
  }
  EXPECT_EQ(fast_count, 8u);
  // Every prefix of a valid document: the fast parser never accepts what nlohmann rejects.
  std::string doc = texts[0];
  for (std::size_t n = 0; n < doc.size(); ++n) {
    Json fast;
    if (parse_json_fast(doc.substr(0, n), fast)) {
      EXPECT_TRUE(same_typed(fast, Json::parse(doc.substr(0, n)))) << n;
    }
  }
}

TEST(JsonIo, UnixToIsoMatchesGmtime) {
  auto reference = [](std::int64_t whole, std::int64_t micros) {
    std::time_t t = static_cast<std::time_t>(whole);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
    return std::string(buf);
  };
  std::vector<std::int64_t> secs = {0, -1, 1, 86399, 86400, -86400, -86401, 951782400 /* 2000-02-29 */,
                                    4107542399 /* 2100-02-28 23:59:59 */, -62135596800LL, 253402300799LL,
                                    1693695816, -2208988800LL /* 1900-01-01 */};
  for (std::int64_t s = -62135596800LL; s < 253402300799LL; s += 7777777 * 3 + 12345) secs.push_back(s);
  for (std::int64_t s : secs) {
    EXPECT_EQ(unix_to_iso_int(s), reference(s, 0)) << s;
    EXPECT_EQ(unix_to_iso(static_cast<double>(s) + 0.25), reference(s, 250000)) << s;
  }
  EXPECT_EQ(unix_to_iso(-0.5), reference(-1, 500000));
  EXPECT_EQ(unix_to_iso_int(-62135596801LL), "");
  EXPECT_EQ(unix_to_iso_int(253402300800LL), "");
}

TEST(JsonIo, PythonReprOfStringsByteByByte) {
  // Python's repr rules, one byte at a time: the reference for the run-copying writer.
  auto reference = [](const std::string& s) {
    bool has_sq = s.find('\'') != std::string::npos, has_dq = s.find('"') != std::string::npos;
    char q = (has_sq && !has_dq) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
      if (c == '\\') out += "\\\\";
      else if (c == static_cast<unsigned char>(q)) out += std::string("\\") + static_cast<char>(c);
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c < 0x20 || c == 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      } else out += static_cast<char>(c);
    }
    return out + q;
  };
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string no_dq = all;
  no_dq.erase(no_dq.find('"'), 1);
  for (const std::string& s : {all, no_dq, std::string(), std::string("it's"), std::string("say \"hi\""),
                               std::string("caf\xc3\xa9 \\ end\t")}) {
    EXPECT_EQ(python_repr(Json(s)), reference(s));
    EXPECT_EQ(python_repr(Json{{"k'", s}}), "{" + reference("k'") + ": " + reference(s) + "}");
  }
}

}  // namespace
}  // namespace bridle
