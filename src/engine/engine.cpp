#include "engine/engine.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ctime>
#include <mutex>
#include <queue>
#include <set>
#include <thread>
#include <unordered_set>

#include <sys/ioctl.h>
#include <unistd.h>

#include "core/jsonio.hpp"
#include "core/spill_file.hpp"
#include "core/util.hpp"
#include "indicators/indicators.hpp"

namespace bridle {

struct TimelineRuns {
  std::unique_ptr<TempDir> dir;
  std::vector<std::filesystem::path> files;
  std::mutex mu;
  std::size_t counter = 0;
};

Json alert_json(const Alert& a) {
  Json j;
  j["level"] = level_name(a.level);
  j["module"] = a.module;
  j["message"] = a.message;
  j["event_time"] = a.event_time;
  j["event"] = a.event;
  if (a.matched)
    j["matched_indicator"] = {{"value", a.matched->value}, {"type", a.matched->type},
                              {"name", a.matched->name},
                              {"stix2_file_name", a.matched->stix2_file_name}};
  else
    j["matched_indicator"] = nullptr;
  return j;
}

namespace {

// Alerts also kept whole (with their events) in ScanResult::alerts; every alert is in the
// streams anyway, so a run with hundreds of thousands of alerts stays flat.
// BRIDLE_ALERTS_IN_MEMORY overrides it; 0 also makes the streams spill at every alert (tests).
std::size_t alerts_in_memory() {
  static const std::size_t n = [] {
    const char* e = std::getenv("BRIDLE_ALERTS_IN_MEMORY");
    long long v = e ? std::atoll(e) : -1;
    return v >= 0 ? static_cast<std::size_t>(v) : std::size_t{2'000};
  }();
  return n;
}

// A module's timeline rows are spilled to a sorted run file once they take this many bytes
// (~120k rows of a file listing), so memory stays flat however large the acquisition.
// BRIDLE_TIMELINE_SPILL_ROWS spills by row count instead (tests use a tiny value to exercise
// the merge).
std::size_t spill_rows() {
  static const std::size_t n = [] {
    const char* e = std::getenv("BRIDLE_TIMELINE_SPILL_ROWS");
    long long v = e ? std::atoll(e) : 0;
    return v > 0 ? static_cast<std::size_t>(v) : std::numeric_limits<std::size_t>::max();
  }();
  return n;
}
constexpr std::size_t kTimelineSpillBytes = std::size_t{16} << 20;
// A module's rows stay in memory for the final merge (ScanResult::timeline) only when they are
// fewer than this; otherwise they are spilled too, so the merge holds only small modules' rows.
constexpr std::size_t kTimelineKeepBytes = std::size_t{1} << 20;

void put_str(std::string& out, std::string_view s) {
  std::uint32_t n = static_cast<std::uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  out.append(s);
}

bool get_str(std::FILE* f, std::string& s) {
  std::uint32_t n = 0;
  if (std::fread(&n, 4, 1, f) != 1) return false;
  s.resize(n);
  return n == 0 || std::fread(s.data(), 1, n, f) == n;
}

// The first 24 bytes of a string (a whole "YYYY-MM-DD HH:MM:SS.ffff" timestamp but the last
// two digits) as three big-endian words, zero-padded: comparing the words orders strings as
// their bytes compare whenever the words differ (equal words: compare the strings).
struct Prefix16 {
  std::uint64_t w[3] = {0, 0, 0};
  static Prefix16 of(std::string_view s) {
    unsigned char b[24] = {};
    std::memcpy(b, s.data(), std::min<std::size_t>(24, s.size()));
    Prefix16 p;
    for (int k = 0; k < 3; ++k)
      for (int i = 0; i < 8; ++i) p.w[k] = (p.w[k] << 8) | b[k * 8 + i];
    return p;
  }
  // <0, 0 (undecided), >0
  int cmp(const Prefix16& o) const {
    for (int k = 0; k < 3; ++k)
      if (w[k] != o.w[k]) return w[k] < o.w[k] ? -1 : 1;
    return 0;
  }
};

int sv_cmp(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

// One module's timeline rows before they are sorted: the strings in one arena (no allocation
// per row), rows as offsets. The plugin is the module's name, the same for every row.
struct RowBuffer {
  struct Row {
    Prefix16 key;           // of the timestamp
    std::uint32_t off = 0;  // timestamp, event, description follow each other in the arena
    std::uint32_t ts = 0, ev = 0, desc = 0;
  };
  std::string arena;
  std::vector<Row> rows;
  std::size_t bytes() const { return arena.size() + rows.size() * sizeof(Row); }
  bool empty() const { return rows.empty(); }
  void add(const TimelineRow& r) {
    std::size_t n = r.timestamp.size() + r.event.size() + r.description.size();
    // Past 1 MiB the arena takes its full size at once (doubling would overshoot the budget).
    if (arena.size() + n > arena.capacity() && arena.size() >= (std::size_t{1} << 20) &&
        arena.capacity() < kTimelineSpillBytes)
      arena.reserve(kTimelineSpillBytes + n);
    Row row;
    row.key = Prefix16::of(r.timestamp);
    row.off = static_cast<std::uint32_t>(arena.size());
    row.ts = static_cast<std::uint32_t>(r.timestamp.size());
    row.ev = static_cast<std::uint32_t>(r.event.size());
    row.desc = static_cast<std::uint32_t>(r.description.size());
    arena += r.timestamp;
    arena += r.event;
    arena += r.description;
    rows.push_back(row);
  }
  std::string_view ts(const Row& r) const { return std::string_view(arena).substr(r.off, r.ts); }
  std::string_view ev(const Row& r) const { return std::string_view(arena).substr(r.off + r.ts, r.ev); }
  std::string_view desc(const Row& r) const { return std::string_view(arena).substr(r.off + r.ts + r.ev, r.desc); }
  // TimelineEntry order (timestamp, plugin, event, description); the plugin is shared.
  int cmp(const Row& a, const Row& b) const {
    int c = a.key.cmp(b.key);
    if (c != 0) return c;
    if ((c = sv_cmp(ts(a), ts(b))) != 0) return c;
    if ((c = sv_cmp(ev(a), ev(b))) != 0) return c;
    return sv_cmp(desc(a), desc(b));
  }
  // Sorted, duplicates dropped.
  void sort_unique() {
    std::sort(rows.begin(), rows.end(), [this](const Row& a, const Row& b) { return cmp(a, b) < 0; });
    rows.erase(std::unique(rows.begin(), rows.end(), [this](const Row& a, const Row& b) { return cmp(a, b) == 0; }),
               rows.end());
  }
  void clear() {
    rows.clear();
    arena.clear();
    if (arena.capacity() > (kTimelineSpillBytes * 2)) std::string().swap(arena);
  }
  void release() {
    std::vector<Row>().swap(rows);
    std::string().swap(arena);
  }
};

// Sorts, de-duplicates and writes rows as a run file; false on I/O failure (rows then stay).
bool spill_run(TimelineRuns& runs, RowBuffer& rows, const std::string& plugin) {
  rows.sort_unique();
  std::filesystem::path path;
  {
    std::lock_guard<std::mutex> lk(runs.mu);
    try {
      if (!runs.dir) runs.dir = std::make_unique<TempDir>("bridle-timeline");
    } catch (...) {
      return false;
    }
    path = runs.dir->path() / ("run" + std::to_string(runs.counter++));
  }
  // Spilled rows may hold decrypted evidence: the run file is encrypted (core/spill_file).
  std::FILE* f = spill_fopen(path, "wb");
  if (!f) return false;
  std::string buf;
  bool ok = true;
  for (auto& r : rows.rows) {
    put_str(buf, rows.ts(r));
    put_str(buf, plugin);
    put_str(buf, rows.ev(r));
    put_str(buf, rows.desc(r));
    if (buf.size() > (1u << 20)) {
      ok = ok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
      buf.clear();
    }
  }
  ok = ok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return false;
  {
    std::lock_guard<std::mutex> lk(runs.mu);
    runs.files.push_back(path);
  }
  rows.clear();
  return true;
}

// Reads a run file's rows through a large buffer.
class RunReader {
 public:
  bool open(const std::filesystem::path& p) {
    f_ = spill_fopen(p, "rb", 0);  // reads go through buf_
    buf_.resize(std::size_t{256} << 10);
    return f_ != nullptr;
  }
  ~RunReader() {
    if (f_) std::fclose(f_);
  }
  bool next(TimelineEntry& e) {
    return str(e.timestamp) && str(e.plugin) && str(e.event) && str(e.description);
  }
  bool failed() const { return failed_; }

 private:
  bool fill(std::size_t need) {
    if (end_ - pos_ >= need) return true;
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    if (buf_.size() < need) buf_.resize(need);
    while (end_ < need) {
      std::size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, f_);
      if (n == 0) {
        if (std::ferror(f_) || end_ != 0) failed_ = failed_ || std::ferror(f_) != 0;
        return false;
      }
      end_ += n;
    }
    return true;
  }
  bool str(std::string& s) {
    if (!fill(4)) return false;
    std::uint32_t n;
    std::memcpy(&n, buf_.data() + pos_, 4);
    pos_ += 4;
    if (!fill(n)) return false;
    s.assign(buf_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::FILE* f_ = nullptr;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  bool failed_ = false;
};

std::string log_time() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d,%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// ---- Alert streams -------------------------------------------------------------------------

// Bytes an alert stream keeps in memory before moving them to its file, and the size of the
// sorted runs of alerts_timeline.csv lines. BRIDLE_ALERTS_IN_MEMORY=0 spills every alert at
// once (tests use it to exercise the file paths).
std::size_t stream_budget() { return alerts_in_memory() == 0 ? 0 : std::size_t{1} << 20; }
std::size_t csv_run_budget() { return alerts_in_memory() == 0 ? 0 : std::size_t{4} << 20; }
// Sorted CSV runs of one merge level merged into one of the next level.
constexpr std::size_t kCsvFanIn = 16;

int level_slot(Level l) {
  int v = static_cast<int>(l) / 10;
  return v < 0 ? 0 : v > 4 ? 4 : v;
}

// Bytes appended in memory and moved to a file past a budget, read back in order. When the
// file cannot be created the bytes stay in memory (correct, only not bounded); a failed write
// makes the buffer unreadable (`broken`), which the writers report.
struct SpillBuf {
  std::string mem;
  std::FILE* f = nullptr;
  std::filesystem::path path;
  std::uint64_t in_file = 0;
  bool no_file = false, broken = false;
  bool temp = false;  // a temporary file (encrypted), not an output file
  SpillBuf() = default;
  SpillBuf(const SpillBuf&) = delete;
  SpillBuf& operator=(const SpillBuf&) = delete;
  ~SpillBuf() { close(); }
  void close() {
    if (f) std::fclose(f);
    f = nullptr;
  }
  std::uint64_t size() const { return in_file + mem.size(); }
  // An output file (e.g. <slug>_detected.json), or with `is_temp` an encrypted spill file.
  bool open(const std::filesystem::path& p, bool is_temp = false) {
    path = p;
    temp = is_temp;
    f = temp ? spill_fopen(p, "wb") : std::fopen(p.c_str(), "wb");
    if (!f) no_file = true;
    return f != nullptr;
  }
  // Writes the memory part to the file (opened at `p()` on first use) when over `budget`.
  template <class PathFn>
  void maybe_spill(std::size_t budget, PathFn&& p) {
    if (mem.size() <= budget || no_file || broken) return;
    if (!f) {
      auto np = p();
      if (!np || !open(*np, true)) {
        no_file = true;
        return;
      }
    }
    write_mem();
  }
  void write_mem() {
    if (!f || mem.empty() || broken) return;
    if (std::fwrite(mem.data(), 1, mem.size(), f) != mem.size()) broken = true;
    in_file += mem.size();
    mem.clear();
    if (mem.capacity() > (std::size_t{4} << 20)) std::string().swap(mem);
  }
  // Everything to the file (when there is one) and the file closed.
  bool finish() {
    write_mem();
    if (f && std::fclose(f) != 0) broken = true;
    f = nullptr;
    return !broken;
  }
  // fn gets the bytes [from, size() - back) in chunks; false when the file cannot be read.
  bool read(std::uint64_t from, std::uint64_t back, const std::function<void(std::string_view)>& fn) const {
    if (broken) return false;
    std::uint64_t total = size();
    if (from + back > total) return false;
    std::uint64_t end = total - back;
    if (from < in_file) {
      if (f && std::fflush(f) != 0) return false;
      std::FILE* r = temp ? spill_fopen(path, "rb") : std::fopen(path.c_str(), "rb");
      if (!r) return false;
      bool ok = fseeko(r, static_cast<off_t>(from), SEEK_SET) == 0;
      std::uint64_t left = std::min(in_file, end) - from;
      std::vector<char> buf(std::size_t{1} << 20);
      while (ok && left > 0) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
        ok = std::fread(buf.data(), 1, n, r) == n;
        if (ok) fn(std::string_view(buf.data(), n));
        left -= n;
      }
      std::fclose(r);
      if (!ok) return false;
    }
    if (end > in_file) {
      std::uint64_t b = from > in_file ? from - in_file : 0;
      fn(std::string_view(mem).substr(static_cast<std::size_t>(b), static_cast<std::size_t>(end - in_file - b)));
    }
    return true;
  }
};

// One alerts_timeline.csv line with its sort key (event time, then order of the alert).
struct CsvEntry {
  std::string time;
  std::uint64_t seq = 0;
  std::string line;
};

bool csv_less(const CsvEntry& a, const CsvEntry& b) {
  int c = a.time.compare(b.time);
  return c != 0 ? c < 0 : a.seq < b.seq;
}

void put_csv_entry(std::string& out, const CsvEntry& e) {
  put_str(out, e.time);
  out.append(reinterpret_cast<const char*>(&e.seq), 8);
  put_str(out, e.line);
}

bool read_csv_entry(std::FILE* f, CsvEntry& e) {
  return get_str(f, e.time) && std::fread(&e.seq, 8, 1, f) == 1 && get_str(f, e.line);
}

// A cursor over a sorted run file or over sorted in-memory entries.
struct CsvCursor {
  std::FILE* f = nullptr;
  const std::vector<CsvEntry>* mem = nullptr;
  std::size_t next_mem = 0;
  std::size_t stream = 0;  // module order (the merge across modules)
  CsvEntry buf;
  const CsvEntry* cur = nullptr;
  std::vector<char> vbuf;
  bool open(const std::filesystem::path& p) {
    f = spill_fopen(p, "rb", 0);
    if (!f) return false;
    vbuf.resize(std::size_t{64} << 10);
    std::setvbuf(f, vbuf.data(), _IOFBF, vbuf.size());
    return true;
  }
  bool advance() {
    if (f) {
      cur = read_csv_entry(f, buf) ? &buf : nullptr;
    } else if (mem && next_mem < mem->size()) {
      cur = &(*mem)[next_mem++];
    } else {
      cur = nullptr;
    }
    return cur != nullptr;
  }
  ~CsvCursor() {
    if (f) std::fclose(f);
  }
};

// k-way merge of cursors by (time, stream, seq); fn gets each entry once, in order.
bool merge_csv(std::vector<std::unique_ptr<CsvCursor>>& cursors, const std::function<void(const CsvEntry&, std::size_t)>& fn) {
  auto greater = [&](std::size_t a, std::size_t b) {
    const CsvEntry& x = *cursors[a]->cur;
    const CsvEntry& y = *cursors[b]->cur;
    int c = x.time.compare(y.time);
    if (c != 0) return c > 0;
    if (cursors[a]->stream != cursors[b]->stream) return cursors[a]->stream > cursors[b]->stream;
    return x.seq > y.seq;
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(greater)> heap(greater);
  for (std::size_t i = 0; i < cursors.size(); ++i)
    if (cursors[i]->advance()) heap.push(i);
  while (!heap.empty()) {
    std::size_t i = heap.top();
    heap.pop();
    fn(*cursors[i]->cur, cursors[i]->stream);
    if (cursors[i]->advance()) heap.push(i);
  }
  for (auto& c : cursors)
    if (c->f && std::ferror(c->f)) return false;
  return true;
}

// Writes CsvEntry records to a new encrypted run file through a 1 MiB buffer; close() says
// whether every byte reached the file.
class CsvRunWriter {
 public:
  explicit CsvRunWriter(const std::filesystem::path& p) : f_(spill_fopen(p, "wb")) {}
  ~CsvRunWriter() {
    if (f_) std::fclose(f_);
  }
  CsvRunWriter(const CsvRunWriter&) = delete;
  CsvRunWriter& operator=(const CsvRunWriter&) = delete;
  bool opened() const { return f_ != nullptr; }
  void put(const CsvEntry& e) {
    put_csv_entry(buf_, e);
    if (buf_.size() > (std::size_t{1} << 20)) flush();
  }
  bool close() {
    flush();
    ok_ = (std::fclose(f_) == 0) && ok_;
    f_ = nullptr;
    return ok_;
  }

 private:
  void flush() {
    ok_ = ok_ && std::fwrite(buf_.data(), 1, buf_.size(), f_) == buf_.size();
    buf_.clear();
  }
  std::FILE* f_;
  std::string buf_;
  bool ok_ = true;
};

// The alerts_timeline.csv lines of one module: sorted runs in files (merged by levels of
// kCsvFanIn, so a run with every alert spilled stays a handful of files) plus the newest
// lines in memory.
struct CsvRuns {
  std::vector<CsvEntry> mem;
  std::size_t mem_bytes = 0;
  std::vector<std::vector<std::filesystem::path>> levels;
  bool no_file = false, broken = false;

  template <class PathFn>
  void add(CsvEntry e, std::size_t budget, PathFn&& p) {
    mem_bytes += e.time.size() + e.line.size() + sizeof(CsvEntry);
    mem.push_back(std::move(e));
    if (mem_bytes > budget && !no_file && !broken) spill(p);
  }
  template <class PathFn>
  void spill(PathFn&& p) {
    std::sort(mem.begin(), mem.end(), csv_less);
    auto path = p();
    if (!path) {
      no_file = true;
      return;
    }
    CsvRunWriter w(*path);
    if (!w.opened()) {
      no_file = true;
      return;
    }
    for (auto& e : mem) w.put(e);
    if (!w.close()) {
      broken = true;
      return;
    }
    mem.clear();
    if (mem.capacity() > 65536) std::vector<CsvEntry>().swap(mem);
    mem_bytes = 0;
    add_run(0, *path, p);
  }
  template <class PathFn>
  void add_run(std::size_t level, std::filesystem::path run, PathFn&& p) {
    if (levels.size() <= level) levels.resize(level + 1);
    levels[level].push_back(std::move(run));
    if (levels[level].size() < kCsvFanIn) return;
    auto out = p();
    if (!out) return;  // left unmerged: more files, still correct
    CsvRunWriter w(*out);
    if (!w.opened()) return;
    std::vector<std::unique_ptr<CsvCursor>> cursors;
    bool ok = true;
    for (auto& r : levels[level]) {
      cursors.push_back(std::make_unique<CsvCursor>());
      ok = cursors.back()->open(r) && ok;
    }
    ok = ok && merge_csv(cursors, [&](const CsvEntry& e, std::size_t) { w.put(e); });
    ok = w.close() && ok;
    cursors.clear();
    if (!ok) {
      std::error_code ec;
      std::filesystem::remove(*out, ec);
      return;  // the level keeps its runs
    }
    for (auto& r : levels[level]) {
      std::error_code ec;
      std::filesystem::remove(r, ec);
    }
    levels[level].clear();
    add_run(level + 1, std::move(*out), p);
  }
  void sort_mem() { std::sort(mem.begin(), mem.end(), csv_less); }
};

// Brief record: level, message, event time and matched indicator (no event).
void put_brief(std::string& out, Level level, const std::string& message, const std::string& event_time,
               const std::optional<MatchedIndicator>& m) {
  out += static_cast<char>(level_slot(level));
  out += static_cast<char>(m ? 1 : 0);
  put_str(out, message);
  put_str(out, event_time);
  if (m) {
    put_str(out, m->value);
    put_str(out, m->type);
    put_str(out, m->name);
    put_str(out, m->stix2_file_name);
  }
}

// Reads brief records from chunks of bytes (records may straddle chunks).
class BriefReader {
 public:
  explicit BriefReader(Alert& a) : a_(a) {}
  template <class Fn>
  void feed(std::string_view chunk, Fn&& fn) {
    pending_.append(chunk);
    std::size_t p = 0;
    while (parse(p)) fn(a_);
    pending_.erase(0, p);
  }
  bool done() const { return pending_.empty(); }

 private:
  bool str(std::size_t& p, std::string& s) {
    if (pending_.size() - p < 4) return false;
    std::uint32_t n;
    std::memcpy(&n, pending_.data() + p, 4);
    if (pending_.size() - p - 4 < n) return false;
    s.assign(pending_, p + 4, n);
    p += 4 + n;
    return true;
  }
  bool parse(std::size_t& p) {
    std::size_t q = p;
    if (pending_.size() - q < 2) return false;
    int slot = pending_[q];
    bool has_m = pending_[q + 1] != 0;
    q += 2;
    if (!str(q, a_.message) || !str(q, a_.event_time)) return false;
    if (has_m) {
      MatchedIndicator m;
      if (!str(q, m.value) || !str(q, m.type) || !str(q, m.name) || !str(q, m.stix2_file_name)) return false;
      a_.matched = std::move(m);
    } else {
      a_.matched.reset();
    }
    a_.level = static_cast<Level>(slot * 10);
    p = q;
    return true;
  }
  Alert& a_;
  std::string pending_;
};

// The alerts.json / <slug>_detected.json element of an alert, as JsonListWriter writes
// alert_json(a) (dump_mvt at list indent), without building the JSON object.
void append_alert_element(std::string& out, Level level, const std::string& module, const std::string& message,
                          const std::string& event_time, const Json& event, const std::optional<MatchedIndicator>& m) {
  out += "    {\n        \"level\": ";
  append_mvt_string(out, level_name(level));
  out += ",\n        \"module\": ";
  append_mvt_string(out, module);
  out += ",\n        \"message\": ";
  append_mvt_string(out, message);
  out += ",\n        \"event_time\": ";
  append_mvt_string(out, event_time);
  out += ",\n        \"event\": ";
  append_mvt(out, event, 8);
  out += ",\n        \"matched_indicator\": ";
  if (m) {
    out += "{\n            \"value\": ";
    append_mvt_string(out, m->value);
    out += ",\n            \"type\": ";
    append_mvt_string(out, m->type);
    out += ",\n            \"name\": ";
    append_mvt_string(out, m->name);
    out += ",\n            \"stix2_file_name\": ";
    append_mvt_string(out, m->stix2_file_name);
    out += "\n        }";
  } else {
    out += "null";
  }
  out += "\n    }";
}

}  // namespace

struct AlertStreams::Stream {
  AlertStreams* owner = nullptr;
  std::string slug, name;
  std::size_t index = 0;    // module order
  std::size_t log_pos = 0;  // its alert log lines come after result.log[0, log_pos)
  std::size_t counts[5] = {0, 0, 0, 0, 0};
  std::size_t total = 0;
  // Elements: "[\n" + elements joined by ",\n" (+ "\n]" once closed). With an output folder
  // this is <slug>_detected.json itself.
  bool want_elements = false, want_csv = false;
  std::optional<std::filesystem::path> detected;  // the file elements go to, when set
  SpillBuf elements, brief;
  CsvRuns csv;
  bool closed = false;

  auto temp() {
    return [this] { return owner->temp_path(); };
  }

  void add(Level level, const std::string& message, const std::string& event_time, const Json& event,
           const std::optional<MatchedIndicator>& m) {
    ++counts[level_slot(level)];
    std::uint64_t seq = total++;
    put_brief(brief.mem, level, message, event_time, m);
    brief.maybe_spill(stream_budget(), temp());
    if (want_elements) {
      if (seq == 0) {
        if (detected) elements.open(*detected);
        elements.mem += "[\n";
      } else {
        elements.mem += ",\n";
      }
      append_alert_element(elements.mem, level, slug, message, event_time, event, m);
      if (detected) {
        if (elements.mem.size() > stream_budget()) elements.write_mem();
      } else {
        elements.maybe_spill(stream_budget(), temp());
      }
    }
    if (want_csv && !event_time.empty()) {
      CsvEntry e;
      e.time = event_time;
      e.seq = seq;
      append_csv_field(e.line, event_time);
      e.line += ',';
      append_csv_field(e.line, slug);
      e.line += ',';
      append_csv_field(e.line, message);
      e.line += ',';
      std::string repr;
      append_python_repr(repr, event);
      append_csv_field(e.line, repr);
      e.line += "\r\n";
      csv.add(std::move(e), csv_run_budget(), temp());
    }
  }

  // No more alerts: the elements list closed (and written out when it is the detected file).
  bool close() {
    if (closed) return true;
    closed = true;
    bool ok = true;
    if (want_elements && total > 0) {
      elements.mem += "\n]";
      if (detected) ok = elements.finish();
    }
    brief.write_mem();
    csv.sort_mem();
    return ok;
  }
};

AlertStreams::AlertStreams() = default;
AlertStreams::~AlertStreams() {
  streams_.clear();  // files closed before the folder is removed
  dir_.reset();
}

AlertStreams::Stream& AlertStreams::add_stream(const std::string& slug, const std::string& name) {
  auto s = std::make_unique<Stream>();
  s->owner = this;
  s->slug = slug;
  s->name = name;
  s->index = streams_.size();
  streams_.push_back(std::move(s));
  return *streams_.back();
}

std::optional<std::filesystem::path> AlertStreams::temp_path() {
  std::lock_guard<std::mutex> lk(mu_);
  if (no_dir_) return std::nullopt;
  if (!dir_) {
    try {
      dir_ = std::make_unique<TempDir>("bridle-alerts");
    } catch (...) {
      no_dir_ = true;
      return std::nullopt;
    }
  }
  return dir_->path() / ("s" + std::to_string(counter_++));
}

std::shared_ptr<AlertStreams> AlertStreams::from_alerts(const std::vector<Alert>& alerts) {
  auto out = std::make_shared<AlertStreams>();
  Stream* cur = nullptr;
  for (auto& a : alerts) {
    if (!cur || cur->slug != a.module) {
      if (cur) cur->close();
      cur = &out->add_stream(a.module, a.module_name);
      cur->want_elements = cur->want_csv = true;
    }
    cur->add(a.level, a.message, a.event_time, a.event, a.matched);
  }
  if (cur) cur->close();
  return out;
}

std::size_t AlertStreams::size() const {
  std::size_t n = 0;
  for (auto& s : streams_) n += s->total;
  return n;
}

std::size_t AlertStreams::count(Level level) const {
  std::size_t n = 0;
  for (auto& s : streams_) n += s->counts[level_slot(level)];
  return n;
}

bool AlertStreams::for_each_json_chunk(const std::function<void(std::string_view)>& fn) const {
  bool first = true, ok = true;
  for (auto& s : streams_) {
    if (s->total == 0) continue;
    if (!s->want_elements) return false;
    if (!first) fn(",\n");
    first = false;
    // The elements between "[\n" and "\n]".
    ok = s->elements.read(2, 2, fn) && ok;
  }
  return ok;
}

bool AlertStreams::for_each_csv_line(const std::function<void(std::string_view)>& fn) const {
  std::vector<std::unique_ptr<CsvCursor>> cursors;
  bool ok = true;
  for (auto& s : streams_) {
    if (s->total == 0) continue;
    if (!s->want_csv || s->csv.broken) return false;
    for (auto& level : s->csv.levels)
      for (auto& run : level) {
        auto c = std::make_unique<CsvCursor>();
        c->stream = s->index;
        ok = c->open(run) && ok;
        cursors.push_back(std::move(c));
      }
    if (!s->csv.mem.empty()) {
      auto c = std::make_unique<CsvCursor>();
      c->stream = s->index;
      c->mem = &s->csv.mem;
      cursors.push_back(std::move(c));
    }
  }
  if (!ok) return false;
  return merge_csv(cursors, [&](const CsvEntry& e, std::size_t) { fn(e.line); });
}

bool AlertStreams::for_each_brief(const std::function<void(const Alert&)>& fn) const {
  bool ok = true;
  for (auto& s : streams_) {
    if (s->total == 0) continue;
    Alert a;
    a.module = s->slug;
    a.module_name = s->name;
    BriefReader r(a);
    ok = s->brief.read(0, 0, [&](std::string_view chunk) { r.feed(chunk, fn); }) && ok;
    ok = ok && r.done();
  }
  return ok;
}

namespace {

// Everything one module produced, merged into the ScanResult in module order.
struct ModuleRun final : ModuleContext {
  const Engine& engine;
  Module& module;
  IosSource* ios_;
  AndroidSource* android_;
  const ScanOptions& opts;
  std::shared_ptr<TimelineRuns> runs;
  std::unique_ptr<JsonListWriter> writer;
  Json document;            // Grouped / Document shapes
  bool has_document = false;
  std::vector<Alert> alerts;  // the ones kept in memory (ScanResult::alerts)
  AlertStreams::Stream* stream = nullptr;  // every alert
  RowBuffer rows;                      // timeline rows not yet sorted
  bool spilled_rows = false;            // some went to run files
  std::vector<TimelineEntry> timeline;  // after finish(): the rows kept in memory
  std::vector<LogLine> log_lines;
  std::vector<Json> urls;
  ModuleOutcome outcome;
  std::vector<Observation> obs_buf;
  std::vector<TimelineRow> rows_buf;
  std::atomic<std::size_t>* kept_alerts = nullptr;  // alerts held in memory, whole run
  // Progress (read by the progress thread): 0 waiting, 1 running, 2 done.
  std::atomic<int> state{0};
  std::atomic<std::size_t> records_done{0};
  std::mutex artifact_mu;
  std::string artifact;  // last evidence file the module said it found
  std::mutex* progress_mu = nullptr;  // with opts.progress: guards the terminal line
  bool* progress_line_shown = nullptr;

  ModuleRun(const Engine& e, Module& m, IosSource* i, AndroidSource* a, const ScanOptions& o,
            std::shared_ptr<TimelineRuns> r, AlertStreams::Stream* st, std::atomic<std::size_t>* kept)
      : engine(e), module(m), ios_(i), android_(a), opts(o), runs(std::move(r)), stream(st), kept_alerts(kept) {
    outcome.name = m.info().name;
    outcome.slug = m.info().slug;
    if (opts.output_dir && m.info().shape == ModuleInfo::Shape::List)
      writer = std::make_unique<JsonListWriter>(*opts.output_dir / (m.info().slug + ".json"));
    if (opts.output_dir) {
      stream->want_elements = stream->want_csv = true;
      stream->detected = *opts.output_dir / (m.info().slug + "_detected.json");
    }
  }

  IosSource* ios() override { return ios_; }
  AndroidSource* android() override { return android_; }
  const ModuleOptions& options() const override { return opts.module_options; }

  // One alert: rendered into the module's stream; kept in memory too while the run's budget
  // allows (`record` is moved there when the caller gives it away).
  void add_alert(Level level, std::string message, std::string event_time, const Json& record, Json* owned,
                 std::optional<MatchedIndicator> matched) {
    stream->add(level, message, event_time, record, matched);
    if (kept_alerts->fetch_add(1, std::memory_order_relaxed) >= alerts_in_memory()) return;
    Alert a;
    a.level = level;
    a.module = module.info().slug;
    a.module_name = module.info().name;
    a.message = std::move(message);
    a.event_time = std::move(event_time);
    a.event = owned ? std::move(*owned) : record;
    a.matched = std::move(matched);
    alerts.push_back(std::move(a));
  }

  void process(const Json& record) {
    // Observations are computed once per record: for matching and for the store.
    obs_buf.clear();
    const bool matching = engine.matching();
    if (matching || opts.observations) module.observe(record, obs_buf);
    if (matching && !obs_buf.empty()) {
      std::string event_time;
      bool have_time = false;
      engine.match_observations(module, obs_buf, [&](Level level, const IocMatch& m) {
        if (!have_time) {
          event_time = module.event_time(record);
          have_time = true;
        }
        add_alert(level, m.message, event_time, record, nullptr,
                  MatchedIndicator{m.indicator->raw_value.empty() ? m.indicator->value : m.indicator->raw_value,
                                   std::string(ioc_mvt_bucket(m.indicator->type)),
                                   m.collection ? m.collection->name : "",
                                   m.collection ? m.collection->stix2_file_name : ""});
      });
    }
    rows_buf.clear();
    module.timeline(record, rows_buf);
    for (auto& r : rows_buf) rows.add(r);
    if (!rows_buf.empty() && (rows.rows.size() >= spill_rows() || rows.bytes() >= kTimelineSpillBytes)) spill_rows_now();
    if (opts.observations) {
      if (!obs_buf.empty())
        opts.observations->observe(module.info().slug, std::to_string(outcome.records), obs_buf,
                                   module.event_time(record));
    }
    ++outcome.records;
    records_done.store(outcome.records, std::memory_order_relaxed);
  }

  void emit(Json record, const std::string& group) override {
    process(record);
    switch (module.info().shape) {
      case ModuleInfo::Shape::List:
        if (writer && !writer->add(record)) {
          diag({Diagnostic::Severity::Error, "", "", writer->error(), false});
        }
        break;
      case ModuleInfo::Shape::Grouped:
        if (!has_document) { document = Json::object(); has_document = true; }
        document[group].push_back(std::move(record));
        break;
      case ModuleInfo::Shape::Document:
        break;
    }
  }

  void set_document(Json doc) override {
    document = std::move(doc);
    has_document = true;
  }

  void alert(Level level, std::string message, std::string event_time, Json record) override {
    add_alert(level, std::move(message), std::move(event_time), record, &record, std::nullopt);
  }

  void collect_url(std::string url, std::string timestamp, std::string source) override {
    Json u;
    u["url"] = std::move(url);
    u["expanded_url"] = nullptr;
    u["timestamp"] = std::move(timestamp);
    u["source"] = std::move(source);
    urls.push_back(std::move(u));
  }

  void log(Diagnostic::Severity sev, std::string message) override {
    if (opts.progress) {
      auto at = message.find(" at path: ");
      if (at != std::string::npos) {
        std::lock_guard<std::mutex> lk(artifact_mu);
        artifact = message.substr(at + 10);
      }
    }
    LogLine l{log_time(), "bridle." + module.info().slug, sev, std::move(message)};
    if (opts.on_log) {
      if (progress_line_shown) {
        // Log lines go above the progress line: erase it first (it is redrawn on the next tick).
        std::lock_guard<std::mutex> lk(*progress_mu);
        if (*progress_line_shown) {
          std::fputs("\r\033[K", stderr);
          *progress_line_shown = false;
        }
        opts.on_log(l);
      } else {
        opts.on_log(l);
      }
    }
    log_lines.push_back(std::move(l));
  }

  // The buffered rows as a sorted run file (once that failed, they stay in memory).
  void spill_rows_now() {
    if (spill_failed) return;
    if (spill_run(*runs, rows, module.info().name)) {
      spilled_rows = true;
      return;
    }
    spill_failed = true;
    diag({Diagnostic::Severity::Warning, "", "", "could not spill timeline rows to a temporary file; keeping them in memory", false});
  }
  bool spill_failed = false;

  void diag(Diagnostic d) override {
    if (d.module.empty()) d.module = module.info().name;
    std::string text = d.file.empty() ? d.message : d.file + ": " + d.message;
    log(d.severity, text);
    outcome.diagnostics.push_back(std::move(d));
  }

  void finish() {
    if (writer) {
      if (!writer->close()) diag({Diagnostic::Severity::Error, "", "", writer->error(), false});
    }
    if (opts.output_dir && has_document && module.info().shape != ModuleInfo::Shape::List) {
      std::string err;
      if (!write_text_file(*opts.output_dir / (module.info().slug + ".json"), dump_mvt(document), &err))
        diag({Diagnostic::Severity::Error, "", "", err, false});
    }
    // De-duplicate the module's timeline rows (MVT does it per module) and sort. A module
    // that spilled rows spills the rest too (they are merged from the files).
    if (!rows.empty() && (spilled_rows || rows.bytes() > kTimelineKeepBytes)) spill_rows_now();
    if (!rows.empty()) {
      rows.sort_unique();
      timeline.reserve(rows.rows.size());
      for (auto& r : rows.rows)
        timeline.push_back({std::string(rows.ts(r)), module.info().name, std::string(rows.ev(r)), std::string(rows.desc(r))});
    }
    rows.release();
    if (!stream->close()) diag({Diagnostic::Severity::Error, "", "", "cannot write " + stream->detected->string(), false});
    outcome.alerts = stream->total;
    outcome.ran = true;
  }
};

// Modules whose artifacts grow with the device's history (messages, browsing, every file of
// the backup), longest first as measured on bench/run's large acquisitions.
// Rank in that list, or -1.
int long_running_rank(const std::string& slug) {
  static const char* const kSlugs[] = {"sms", "manifest", "safari_history", "whatsapp", "chrome_history",
                                       "firefox_history", "aqf_files"};
  for (int i = 0; i < static_cast<int>(std::size(kSlugs)); ++i)
    if (slug == kSlugs[i]) return i;
  return -1;
}

// One progress line on stderr: modules done, then each running module with its records and
// the evidence file it is reading.
std::string progress_line(const std::vector<std::unique_ptr<ModuleRun>>& runs) {
  std::size_t done = 0;
  std::string running;
  for (auto& rp : runs) {
    int st = rp->state.load(std::memory_order_relaxed);
    if (st == 2) ++done;
    if (st != 1) continue;
    std::string art;
    {
      std::lock_guard<std::mutex> lk(rp->artifact_mu);
      art = rp->artifact;
    }
    if (auto slash = art.find_last_of('/'); slash != std::string::npos) art = art.substr(slash + 1);
    running += " | " + rp->module.info().name + " " + std::to_string(rp->records_done.load(std::memory_order_relaxed)) +
               " records";
    if (!art.empty()) running += " (" + art + ")";
  }
  return "modules " + std::to_string(done) + "/" + std::to_string(runs.size()) + running;
}

}  // namespace

void Module::records_of(const Json& doc, const std::function<void(const Json&)>& fn) const {
  switch (info().shape) {
    case ModuleInfo::Shape::List:
      if (doc.is_array())
        for (auto& r : doc) fn(r);
      break;
    case ModuleInfo::Shape::Grouped:
      if (doc.is_object())
        for (auto& [k, v] : doc.items())
          if (v.is_array())
            for (auto& r : v) fn(r);
      break;
    case ModuleInfo::Shape::Document:
      fn(doc);
      break;
  }
}

bool Engine::matching() const { return index_ && !index_->empty(); }

void Engine::match_observations(const Module& module, const std::vector<Observation>& obs,
                                const std::function<void(Level, const IocMatch&)>& hit) const {
  if (!matching() || obs.empty()) return;
  // One alert per observed value: the most specific matching indicator (the longest value,
  // e.g. "badbadbad.example.org" over "example.org"; ties go to the first loaded), as MVT
  // reports one indicator per finding.
  std::set<std::pair<ObsKind, std::string>> seen_many;
  const bool few = obs.size() <= 16;
  for (std::size_t i = 0; i < obs.size(); ++i) {
    const auto& o = obs[i];
    if (few) {
      bool dup = false;
      for (std::size_t j = 0; j < i && !dup; ++j) dup = obs[j].kind == o.kind && obs[j].value == o.value;
      if (dup) continue;
    } else if (!seen_many.insert({o.kind, o.value}).second) {
      continue;
    }
    auto matches = index_->match(o);
    if (matches.empty()) continue;
    const IocMatch* best = &matches.front();
    for (const auto& m : matches)
      if (m.indicator->value.size() > best->indicator->value.size()) best = &m;
    hit(o.level.value_or(module.info().ioc_level), *best);
  }
}

void Engine::match_record(const Module& module, const Json& record, std::vector<Alert>& out) const {
  if (!matching()) return;
  std::vector<Observation> obs;
  module.observe(record, obs);
  std::string event_time;
  bool have_time = false;
  match_observations(module, obs, [&](Level level, const IocMatch& m) {
    if (!have_time) {
      event_time = module.event_time(record);
      have_time = true;
    }
    Alert a;
    a.level = level;
    a.module = module.info().slug;
    a.module_name = module.info().name;
    a.message = m.message;
    a.event_time = event_time;
    a.event = record;
    a.matched = MatchedIndicator{m.indicator->raw_value.empty() ? m.indicator->value : m.indicator->raw_value,
                                 std::string(ioc_mvt_bucket(m.indicator->type)),
                                 m.collection ? m.collection->name : "",
                                 m.collection ? m.collection->stix2_file_name : ""};
    out.push_back(std::move(a));
  });
}

ScanResult Engine::run(std::vector<std::unique_ptr<Module>> modules, IosSource* ios,
                       AndroidSource* android, const ScanOptions& opts) {
  ScanResult result;
  std::vector<std::unique_ptr<ModuleRun>> runs;
  runs.reserve(modules.size());
  auto timeline_runs = std::make_shared<TimelineRuns>();
  auto alert_streams = std::make_shared<AlertStreams>();
  std::atomic<std::size_t> kept_alerts{0};
  for (auto& m : modules)
    runs.push_back(std::make_unique<ModuleRun>(*this, *m, ios, android, opts, timeline_runs,
                                               &alert_streams->add_stream(m->info().slug, m->info().name),
                                               &kept_alerts));

  unsigned threads = opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(runs.size()));
  // Start order: the modules that read the biggest artifacts of a large acquisition first
  // (longest first keeps both cores busy to the end instead of one module running alone at
  // the tail), then the rest in run order. Results still merge in run order.
  std::vector<std::size_t> order;
  order.reserve(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    auto rank = [&](std::size_t i) {
      int r = long_running_rank(runs[i]->module.info().slug);
      return r < 0 ? 1000 : r;
    };
    return rank(a) < rank(b);
  });
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      std::size_t k = next.fetch_add(1);
      if (k >= order.size()) return;
      auto& r = *runs[order[k]];
      r.state.store(1);
      r.log(Diagnostic::Severity::Info, "Running module " + r.module.info().name + "...");
      try {
        r.module.run(r);
      } catch (const std::exception& e) {
        r.diag({Diagnostic::Severity::Error, "", "", std::string("module failed: ") + e.what(), true});
      } catch (...) {
        r.diag({Diagnostic::Severity::Error, "", "", "module failed with an unknown error", true});
      }
      r.finish();
      r.state.store(2);
    }
  };
  // Progress: one line rewritten in place every half second (only asked for on a terminal).
  std::mutex progress_mu, line_mu;
  std::condition_variable progress_cv;
  bool modules_done = false, line_shown = false;
  std::thread progress;
  if (opts.progress) {
    for (auto& rp : runs) {
      rp->progress_mu = &line_mu;
      rp->progress_line_shown = &line_shown;
    }
    progress = std::thread([&] {
      std::unique_lock<std::mutex> lk(progress_mu);
      while (!progress_cv.wait_for(lk, std::chrono::milliseconds(500), [&] { return modules_done; })) {
        // Cut to the terminal's width: a wrapped line could not be erased in place.
        std::size_t width = 80;
        winsize ws{};
        if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) width = ws.ws_col;
        std::string text = progress_line(runs);
        if (text.size() > width - 1) text.resize(width - 1);
        std::string line = "\r\033[K" + text;
        std::lock_guard<std::mutex> ll(line_mu);
        std::fputs(line.c_str(), stderr);
        std::fflush(stderr);
        line_shown = true;
      }
      std::lock_guard<std::mutex> ll(line_mu);
      if (line_shown) std::fputs("\r\033[K", stderr);
      line_shown = false;
    });
  }
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (progress.joinable()) {
    {
      std::lock_guard<std::mutex> lk(progress_mu);
      modules_done = true;
    }
    progress_cv.notify_all();
    progress.join();
  }

  for (auto& rp : runs) {
    auto& r = *rp;
    for (auto& a : r.alerts) result.alerts.push_back(std::move(a));
    for (auto& d : r.outcome.diagnostics) result.diagnostics.push_back(d);
    for (auto& l : r.log_lines) result.log.push_back(std::move(l));
    r.stream->log_pos = result.log.size();
    if (result.timeline.empty()) {
      std::size_t total = 0;
      for (auto& rr : runs) total += rr->timeline.size();
      result.timeline.reserve(total);
    }
    for (auto& t : r.timeline) result.timeline.push_back(std::move(t));
    std::vector<TimelineEntry>().swap(r.timeline);
    for (auto& u : r.urls) result.urls.push_back(std::move(u));
    result.modules.push_back(std::move(r.outcome));
  }
  std::stable_sort(result.timeline.begin(), result.timeline.end());
  if (!timeline_runs->files.empty()) result.timeline_runs = timeline_runs;
  result.alert_streams = std::move(alert_streams);
  return result;
}

void ScanResult::for_each_timeline(const std::function<void(const TimelineEntry&)>& fn) const {
  if (!timeline_runs || timeline_runs->files.empty()) {
    for (auto& t : timeline) fn(t);
    return;
  }
  // k-way merge of the in-memory rows and every spilled run; equal consecutive rows (the same
  // module's duplicates split across runs) are written once.
  struct Cursor {
    RunReader reader;
    TimelineEntry cur;
    Prefix16 key;
  };
  std::vector<std::unique_ptr<Cursor>> cursors;
  for (auto& p : timeline_runs->files) {
    auto c = std::make_unique<Cursor>();
    if (c->reader.open(p) && c->reader.next(c->cur)) {
      c->key = Prefix16::of(c->cur.timestamp);
      cursors.push_back(std::move(c));
    }
  }
  std::size_t mem = 0;
  struct Item {
    const TimelineEntry* row;
    Prefix16 key;
    std::size_t src;  // cursor index, SIZE_MAX = memory
  };
  auto greater = [](const Item& a, const Item& b) {
    int c = b.key.cmp(a.key);
    if (c != 0) return c < 0;
    return *b.row < *a.row;
  };
  std::priority_queue<Item, std::vector<Item>, decltype(greater)> heap(greater);
  for (std::size_t i = 0; i < cursors.size(); ++i) heap.push({&cursors[i]->cur, cursors[i]->key, i});
  if (mem < timeline.size()) heap.push({&timeline[mem], Prefix16::of(timeline[mem].timestamp), SIZE_MAX});
  TimelineEntry last;
  bool have_last = false;
  while (!heap.empty()) {
    Item it = heap.top();
    heap.pop();
    if (!have_last || !(last == *it.row)) {
      fn(*it.row);
      last.timestamp.assign(it.row->timestamp);
      last.plugin.assign(it.row->plugin);
      last.event.assign(it.row->event);
      last.description.assign(it.row->description);
      have_last = true;
    }
    if (it.src == SIZE_MAX) {
      if (++mem < timeline.size()) heap.push({&timeline[mem], Prefix16::of(timeline[mem].timestamp), SIZE_MAX});
    } else {
      Cursor& c = *cursors[it.src];
      if (c.reader.next(c.cur)) {
        c.key = Prefix16::of(c.cur.timestamp);
        heap.push({&c.cur, c.key, it.src});
      }
    }
  }
}

bool ScanResult::partial() const {
  for (auto& d : diagnostics)
    if (d.unread) return true;
  return false;
}

std::size_t ScanResult::alert_count() const { return alert_streams ? alert_streams->size() : alerts.size(); }

std::size_t ScanResult::count(Level l) const {
  if (alert_streams) return alert_streams->count(l);
  return static_cast<std::size_t>(std::count_if(alerts.begin(), alerts.end(),
                                                [&](const Alert& a) { return a.level == l; }));
}

void ScanResult::for_each_alert_brief(const std::function<void(const Alert&)>& fn) const {
  if (!alert_streams) {
    for (auto& a : alerts) fn(a);
    return;
  }
  alert_streams->for_each_brief(fn);
}

void ScanResult::for_each_log(const std::function<void(const LogLine&)>& fn) const {
  std::size_t next = 0;
  auto upto = [&](std::size_t end) {
    for (; next < end && next < log.size(); ++next) fn(log[next]);
  };
  if (alert_streams) {
    for (auto& s : alert_streams->streams()) {
      if (s->total == 0) continue;
      upto(s->log_pos);
      // One line per alert, as the modules' own lines: "<LEVEL> ALERT: <message>".
      Alert a;
      a.module = s->slug;
      BriefReader r(a);
      std::string logger = "bridle." + s->slug;
      s->brief.read(0, 0, [&](std::string_view chunk) {
        r.feed(chunk, [&](const Alert& b) {
          fn(LogLine{log_time(), logger,
                     b.level >= Level::High ? Diagnostic::Severity::Error : Diagnostic::Severity::Warning,
                     std::string(level_name(b.level)) + " ALERT: " + b.message});
        });
      });
    }
  }
  upto(log.size());
}

int ScanResult::exit_code() const {
  if (count(Level::High) + count(Level::Critical) > 0) return 1;
  if (partial()) return 3;
  return 0;
}

bool select_modules(std::vector<std::unique_ptr<Module>>& modules,
                    const std::vector<std::string>& names, std::string* err) {
  if (names.empty()) return true;
  std::vector<std::unique_ptr<Module>> keep;
  for (auto& n : names) {
    std::string ln = to_lower(n);
    bool found = false;
    for (auto& m : modules) {
      if (!m) continue;
      if (to_lower(m->info().name) == ln || m->info().slug == ln) {
        keep.push_back(std::move(m));
        found = true;
        break;
      }
    }
    if (!found) {
      bool dup = std::any_of(keep.begin(), keep.end(), [&](auto& k) {
        return to_lower(k->info().name) == ln || k->info().slug == ln;
      });
      if (!dup) {
        if (err) *err = "unknown module \"" + n + "\" (see --list-modules)";
        return false;
      }
    }
  }
  modules = std::move(keep);
  return true;
}

}  // namespace bridle
