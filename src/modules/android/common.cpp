#include "modules/android/common.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

#include "core/jsonio.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"

namespace bridle {

AndroidSource* android_part(ModuleContext& ctx, const std::string& kind) {
  AndroidSource* s = ctx.android();
  if (!s) return nullptr;
  if (s->kind() == kind) return s;
  return s->nested(kind);
}

std::optional<std::string> android_read(ModuleContext& ctx, AndroidSource& src, const AndroidFile& f,
                                        std::uint64_t max_bytes) {
  std::string err;
  auto data = src.read(f, &err, max_bytes);
  if (!data) ctx.unreadable(f.path, err);
  return data;
}

bool android_read_stream(ModuleContext& ctx, AndroidSource& src, const AndroidFile& f,
                         const AndroidSource::ChunkSink& sink, std::uint64_t max_bytes) {
  std::string err;
  bool ok = src.read_stream(f, sink, &err, max_bytes);
  if (!ok) ctx.unreadable(f.path, err);
  return ok;
}

Json parse_json_exact(std::string_view text) {
  // Most elements are plain (ASCII, small integers): parsed without nlohmann's lexer.
  if (Json fast; parse_json_fast(text, fast)) return fast;
  // Quote integer literals outside strings that do not fit in 64 bits.
  std::string fixed;
  bool changed = false;
  bool in_str = false;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') { in_str = true; continue; }
    if (c != '-' && !(c >= '0' && c <= '9')) continue;
    std::size_t j = i + (c == '-' ? 1 : 0);
    std::size_t digits_start = j;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    bool integer = j > digits_start && (j >= text.size() || (text[j] != '.' && text[j] != 'e' && text[j] != 'E'));
    std::size_t ndig = j - digits_start;
    bool big = integer && (ndig > 20 || (ndig >= 19 && [&] {
                             std::string_view d = text.substr(digits_start, ndig);
                             if (ndig == 20) return d > std::string_view("18446744073709551615");
                             return c == '-' && d > std::string_view("9223372036854775808");
                           }()));
    if (big) {
      fixed.append(text.substr(copied, i - copied));
      fixed += '"';
      fixed.append(text.substr(i, j - i));
      fixed += '"';
      copied = j;
      changed = true;
    }
    i = j - 1;
  }
  if (!changed) return Json::parse(text, nullptr, false);
  fixed.append(text.substr(copied));
  return Json::parse(fixed, nullptr, false);
}

std::vector<std::pair<std::string, std::string>> parse_getprop(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& raw : split(text, '\n')) {
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // First "[name]: [value]" occurrence; name and value non-empty, lazy match.
    auto a = line.find('[');
    while (a != std::string_view::npos) {
      auto b = line.find("]: [", a + 2);
      if (b == std::string_view::npos) break;
      auto c = line.find(']', b + 5);
      if (c != std::string_view::npos && b > a + 1) {
        out.emplace_back(std::string(line.substr(a + 1, b - a - 1)), std::string(line.substr(b + 4, c - b - 4)));
        break;
      }
      a = line.find('[', a + 1);
    }
  }
  return out;
}

namespace {

bool valid_zone_name(const std::string& n) {
  if (n.empty() || n.size() > 128 || n.front() == '/') return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '+' || c == '-')) return false;
  for (auto& comp : split(n, '/'))
    if (comp.empty() || comp == "..") return false;
  return true;
}

std::int64_t be(std::string_view d, std::size_t off, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(d[off + static_cast<std::size_t>(i)]);
  if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::parse(const std::string& name, std::string_view d, std::string* err) {
  auto bad = [&](const char* m) -> std::shared_ptr<const TimeZone> {
    if (err) *err = std::string("invalid zone file for ") + name + ": " + m;
    return nullptr;
  };
  auto header = [&](std::size_t off, std::uint32_t c[6]) {
    if (d.size() < off + 44 || d.substr(off, 4) != "TZif") return false;
    for (int i = 0; i < 6; ++i) c[i] = static_cast<std::uint32_t>(be(d, off + 20 + 4 * static_cast<std::size_t>(i), 4));
    return true;
  };
  std::uint32_t c[6];
  if (!header(0, c)) return bad("no TZif header");
  char version = d[4];
  // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  auto block_len = [&](const std::uint32_t k[6], int tsize) -> std::uint64_t {
    return std::uint64_t(k[3]) * static_cast<std::uint64_t>(tsize) + k[3] + std::uint64_t(k[4]) * 6 + k[5] +
           std::uint64_t(k[2]) * static_cast<std::uint64_t>(tsize + 4) + k[1] + k[0];
  };
  std::size_t off = 44;
  int tsize = 4;
  if (version >= '2') {
    std::uint64_t skip = block_len(c, 4);
    if (off + skip > d.size()) return bad("truncated");
    off += static_cast<std::size_t>(skip);
    if (!header(off, c)) return bad("no second header");
    off += 44;
    tsize = 8;
  }
  if (c[3] > 100000 || c[4] == 0 || c[4] > 256 || c[5] > 100000 || c[2] > 100000) return bad("implausible counts");
  if (off + block_len(c, tsize) > d.size()) return bad("truncated");
  auto tz = std::make_shared<TimeZone>();
  tz->name_ = name;
  for (std::uint32_t i = 0; i < c[3]; ++i) tz->transitions_.push_back(be(d, off + i * static_cast<std::size_t>(tsize), tsize));
  off += c[3] * static_cast<std::size_t>(tsize);
  for (std::uint32_t i = 0; i < c[3]; ++i) {
    auto t = static_cast<std::uint8_t>(d[off + i]);
    if (t >= c[4]) return bad("bad type index");
    tz->type_of_.push_back(t);
  }
  off += c[3];
  for (std::uint32_t i = 0; i < c[4]; ++i) {
    auto o = be(d, off + i * 6, 4);
    if (o < -26 * 3600 || o > 26 * 3600) return bad("implausible offset");
    tz->offsets_.push_back(static_cast<std::int32_t>(o));
  }
  if (!std::is_sorted(tz->transitions_.begin(), tz->transitions_.end())) return bad("unsorted transitions");
  // Before the first transition: the first type (RFC 8536 3.2: type 0).
  tz->initial_ = tz->offsets_[0];
  return tz;
}

std::int32_t TimeZone::offset_at(std::int64_t utc) const {
  if (transitions_.empty()) return initial_;
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (it == transitions_.begin()) return initial_;
  return offsets_[type_of_[static_cast<std::size_t>(it - transitions_.begin() - 1)]];
}

std::shared_ptr<const TimeZone> TimeZone::load(const std::string& name, std::string* err) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const TimeZone>> cache;
  if (name.empty() || name == "UTC" || name == "Etc/UTC" || name == "GMT") {
    static auto utc = [] {
      auto t = std::make_shared<TimeZone>();
      t->name_ = "UTC";
      t->offsets_ = {0};
      return std::shared_ptr<const TimeZone>(t);
    }();
    return utc;
  }
  if (!valid_zone_name(name)) {
    if (err) *err = "invalid timezone name \"" + name + "\"";
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> lk(mu);
    if (auto it = cache.find(name); it != cache.end()) {
      if (!it->second && err) *err = "unknown timezone \"" + name + "\"";
      return it->second;
    }
  }
  const char* dir = std::getenv("TZDIR");
  fs::path p = fs::path(dir && *dir ? dir : "/usr/share/zoneinfo") / name;
  std::string rerr;
  std::shared_ptr<const TimeZone> tz;
  if (auto data = read_file(p, 1 << 20, &rerr)) tz = parse(name, *data, err);
  else if (err) *err = "unknown timezone \"" + name + "\"";
  std::lock_guard<std::mutex> lk(mu);
  cache[name] = tz;
  return tz;
}

std::string to_device_local(double unix_seconds, const TimeZone* tz) {
  if (!(unix_seconds == unix_seconds)) return "";
  if (unix_seconds > 253402300799.0 || unix_seconds < -62135596800.0) return "";
  std::int32_t off = tz ? tz->offset_at(static_cast<std::int64_t>(unix_seconds)) : 0;
  return unix_to_iso(unix_seconds + off);
}

std::string to_device_local(double unix_seconds, const AndroidSource& src) {
  auto tz = TimeZone::load(src.timezone);
  return to_device_local(unix_seconds, tz.get());
}

}  // namespace bridle
