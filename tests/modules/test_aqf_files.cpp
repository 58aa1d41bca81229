#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

TEST(AqfFiles, ArrayLocalTimesAndSuspiciousPaths) {
  MemAndroidSource src("androidqf");
  src.add("qf/files.json",
          R"([{"path":"/data/local/tmp/implant","mode":"-rwxr-xr-x","changed_time":1593109532,"modified_time":1593109532,"access_time":1593109532,"context":"c","sha256":"ab"},
              {"path":"/data/local/tmp/collector","mode":"-rwxr-xr-x","modified_time":0},
              {"path":"/sdcard/x","mode":"-rw-------","changed_time":1550155672,"modified_time":1593109532,"access_time":1593109532,"context":"c"}])");
  src.timezone = "Europe/Rome";
  auto cap = run_module("AQFFiles", src);
  ASSERT_EQ(cap.records.size(), 3u);
  // 2020-06-25 18:25:32 UTC is 20:25:32 in Rome (CEST).
  EXPECT_EQ(cap.records[0]["modified_time"], "2020-06-25 20:25:32.000000");
  EXPECT_EQ(cap.records[2]["changed_time"], "2019-02-14 15:47:52.000000");
  ASSERT_EQ(cap.count_level(Level::High), 1u);
  EXPECT_EQ(cap.alerts[0].message, "Found executable file at suspicious path \"/data/local/tmp/implant\"");
  auto m = make_module("AQFFiles");
  std::vector<TimelineRow> rows;
  m->timeline(cap.records[2], rows);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].event, "--C-");
  EXPECT_EQ(rows[1].event, "MA--");
  EXPECT_EQ(rows[1].description, "/sdcard/x (c)");
  std::vector<Observation> obs;
  m->observe(cap.records[0], obs);
  ASSERT_EQ(obs.size(), 2u);
  EXPECT_EQ(obs[0].kind, ObsKind::FilePath);
  EXPECT_EQ(obs[1].kind, ObsKind::FileHash);
}

TEST(AqfFiles, NdjsonAndUtc) {
  MemAndroidSource src("androidqf");
  src.add("qf/files.json", "{\"path\":\"/a\",\"modified_time\":0}\n\n{\"path\":\"/b\",\"modified_time\":86400}\n");
  auto cap = run_module("AQFFiles", src);
  ASSERT_EQ(cap.records.size(), 2u);
  EXPECT_EQ(cap.records[1]["modified_time"], "1970-01-02 00:00:00.000000");
  EXPECT_TRUE(cap.logged("timezone"));
}

// A source delivering members in tiny chunks: files.json's splitter must give the same
// records and the same count of bad elements whatever the chunk boundaries.
class ChunkedSource : public MemAndroidSource {
 public:
  ChunkedSource(std::size_t step) : MemAndroidSource("androidqf"), step_(step) {}
  bool read_stream(const AndroidFile& f, const ChunkSink& sink, std::string* err, std::uint64_t max_bytes) override {
    auto data = read(f, err, max_bytes);
    if (!data) return false;
    for (std::size_t i = 0; i < data->size(); i += step_)
      if (!sink(std::string_view(*data).substr(i, step_))) break;
    return true;
  }

 private:
  std::size_t step_;
};

TEST(AqfFiles, SameResultWhateverTheChunks) {
  const std::vector<std::string> inputs = {
      R"( [ {"path":"/a\"},]\\","mode":"x","n":[1,{"k":"}"}]} , {"path":"/b"} ] )",
      R"([{"path":"/a"}, }, {"path":"/b"}, ])",     // stray '}', trailing ','
      R"([{"path":"/a"}, {"path":"/b"})",           // never closed: the last element still parsed
      R"([{"path":"/a"}, {"path":"/b"}, )",         // never closed after ','
      R"([{"path":"/a"}, {"pa)",                    // truncated inside an element
      R"([{"path":"/a"}, {"path":"/b\)",           // truncated inside an escape
      R"([{"path":"/a"}] trailing)",                // text after the list
      R"([{"path":"/a"}, nope, {"path":"/b"}])",    // a bad element
      "{\"path\":\"/a\"}\r\n\n  \n{\"path\":\"/b\"}\nnot json\n{\"path\":\"/c\"}",  // NDJSON
      "  \n\t ",                                      // blank
      "",
  };
  for (const auto& in : inputs) {
    ChunkedSource whole(1 << 20);
    whole.add("qf/files.json", in);
    auto ref = run_module("AQFFiles", whole);
    for (std::size_t step : {1u, 2u, 3u, 5u, 11u}) {
      ChunkedSource src(step);
      src.add("qf/files.json", in);
      auto cap = run_module("AQFFiles", src);
      ASSERT_EQ(cap.records.size(), ref.records.size()) << in << " step " << step;
      for (std::size_t i = 0; i < cap.records.size(); ++i) EXPECT_EQ(cap.records[i], ref.records[i]) << in;
      ASSERT_EQ(cap.diags.size(), ref.diags.size()) << in << " step " << step;
      for (std::size_t i = 0; i < cap.diags.size(); ++i) EXPECT_EQ(cap.diags[i].message, ref.diags[i].message) << in;
    }
  }
  // Expected counts on a few of them (against the whole-text splitter's rules).
  auto bad_of = [](const std::string& in) {
    ChunkedSource s(3);
    s.add("qf/files.json", in);
    auto cap = run_module("AQFFiles", s);
    std::string bad;
    for (auto& d : cap.diags)
      if (d.message.find("not valid JSON") != std::string::npos || d.message.find("not JSON objects") != std::string::npos)
        bad = d.message.substr(0, d.message.find(' '));
    return std::make_pair(cap.records.size(), bad);
  };
  EXPECT_EQ(bad_of(inputs[0]), std::make_pair(std::size_t{2}, std::string()));
  EXPECT_EQ(bad_of(inputs[1]), std::make_pair(std::size_t{2}, std::string("2")));  // "}" and the "," after it
  EXPECT_EQ(bad_of(inputs[2]), std::make_pair(std::size_t{2}, std::string()));
  EXPECT_EQ(bad_of(inputs[3]), std::make_pair(std::size_t{2}, std::string("1")));
  EXPECT_EQ(bad_of(inputs[6]), std::make_pair(std::size_t{1}, std::string("1")));
  EXPECT_EQ(bad_of(inputs[7]), std::make_pair(std::size_t{2}, std::string("1")));
  EXPECT_EQ(bad_of(inputs[8]), std::make_pair(std::size_t{3}, std::string("1")));
}

}  // namespace
}  // namespace bridle::test
