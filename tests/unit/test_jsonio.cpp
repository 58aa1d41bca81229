// The ASCII JSON string fast path writes exactly what nlohmann's dump writes, with
// ensure_ascii (MVT's files: DEL escaped) and without (timeline.jsonl: DEL kept).
#include <gtest/gtest.h>

#include "core/jsonio.hpp"

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

}  // namespace
}  // namespace bridle
