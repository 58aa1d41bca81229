// Tombstones: native crash reports (*/tombstone_*), text or protobuf (AOSP tombstone.proto).
// A crash of a process running as root, system or shell is worth a look (exploits crash).
#include <charconv>

#include "acquisition/android_source.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

constexpr std::uint64_t kMaxTombstone = 64ull << 20;
constexpr const char* kDelimiter = "*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***";

// ---- bounded protobuf wire-format reader (total on any bytes) ----
class Wire {
 public:
  explicit Wire(std::string_view b) : b_(b) {}
  bool done() const { return pos_ >= b_.size() || bad_; }
  bool bad() const { return bad_; }
  // Next field: number, wire type, and its varint value or bytes. false at end or on error.
  bool next(std::uint32_t& field, int& type, std::uint64_t& v, std::string_view& bytes) {
    if (done()) return false;
    std::uint64_t key;
    if (!varint(key)) return fail();
    field = static_cast<std::uint32_t>(key >> 3);
    type = static_cast<int>(key & 7);
    if (field == 0) return fail();
    switch (type) {
      case 0: return varint(v) || fail();
      case 1: if (b_.size() - pos_ < 8) return fail(); pos_ += 8; return true;
      case 5: if (b_.size() - pos_ < 4) return fail(); pos_ += 4; return true;
      case 2: {
        std::uint64_t len;
        if (!varint(len) || len > b_.size() - pos_) return fail();
        bytes = b_.substr(pos_, static_cast<std::size_t>(len));
        pos_ += static_cast<std::size_t>(len);
        return true;
      }
      default: return fail();  // groups (3/4) are not used by tombstone.proto
    }
  }

 private:
  bool varint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return false;
      auto c = static_cast<unsigned char>(b_[pos_++]);
      out |= static_cast<std::uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return true;
    }
    return false;
  }
  bool fail() { bad_ = true; return false; }
  std::string_view b_;
  std::size_t pos_ = 0;
  bool bad_ = false;
};

std::string str(std::string_view s) { return ds::valid_utf8(s); }

// "2023-04-12 12:32:40.518290770+0200" -> "2023-04-12 12:32:40.518290" (wall clock kept, as
// MVT, which drops the offset). "" when the date cannot be read.
std::string tombstone_time(std::string_view s) {
  s = ds::strip(s);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  static const char kShape[] = "dddd-dd-dd dd:dd:dd";
  if (s.size() < 19) return "";
  for (std::size_t i = 0; i < 19; ++i)
    if (kShape[i] == 'd' ? !digit(s[i]) : (s[i] != kShape[i] && !(i == 10 && s[i] == 'T'))) return "";
  std::string frac;
  if (s.size() > 20 && s[19] == '.')
    for (std::size_t i = 20; i < s.size() && digit(s[i]) && frac.size() < 6; ++i) frac += s[i];
  frac.resize(6, '0');
  std::string out(s.substr(0, 19));
  out[10] = ' ';
  return out + "." + frac;
}

Json empty_record(const std::string& file_name, const std::string& file_ts) {
  Json r = Json::object();
  r["file_name"] = file_name;
  r["file_timestamp"] = file_ts;
  for (const char* k : {"build_fingerprint", "revision", "arch", "timestamp", "process_uptime", "command_line", "pid",
                        "tid", "process_name", "binary_path", "selinux_label", "uid", "signal_info", "cause",
                        "causes", "abort_message", "extra"})
    r[k] = nullptr;
  return r;
}

std::optional<long long> to_ll(std::string_view s) {
  s = ds::strip(s);
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  return v;
}

std::string_view unquote(std::string_view v) {
  v = ds::strip(v);
  while (!v.empty() && v.front() == '\'') v.remove_prefix(1);
  while (!v.empty() && v.back() == '\'') v.remove_suffix(1);
  return v;
}

// "signal 6 (SIGABRT)" -> number, name ("UNKNOWN" without parentheses).
std::pair<std::optional<long long>, std::string> signal_part(std::string_view part, std::string_view prefix) {
  auto p = part.find(prefix);
  if (p == std::string_view::npos) return {std::nullopt, "UNKNOWN"};
  std::string_view m = part.substr(p + prefix.size());
  auto toks = ds::split_ws(m, 1);
  std::optional<long long> n = toks.empty() ? std::nullopt : to_ll(toks[0]);
  std::string name = "UNKNOWN";
  auto lp = m.find('(');
  if (lp != std::string_view::npos) name = str(m.substr(lp + 1, m.find(')', lp) - lp - 1));
  return {n, name};
}

Json parse_text(std::string_view text, const std::string& file_name, const std::string& file_ts) {
  Json r = empty_record(file_name, file_ts);
  bool have_pid = false;
  for_each_line(text, [&](std::string_view line) {
    if (ds::strip(line).empty() || line.find(kDelimiter) != std::string_view::npos) return true;
    auto kv = [&](std::string_view key) -> std::optional<std::string_view> {
      if (!ds::starts(line, key)) return std::nullopt;
      auto colon = line.find(':');
      if (colon == std::string_view::npos || line.substr(0, colon) != key) return std::nullopt;
      return unquote(line.substr(colon + 1));
    };
    if (auto v = kv("Build fingerprint")) r["build_fingerprint"] = str(*v);
    else if (auto v2 = kv("Revision")) r["revision"] = str(*v2);
    else if (auto v3 = kv("ABI")) r["arch"] = str(*v3);
    else if (ds::starts(line, "Timestamp")) {
      auto t = tombstone_time(ds::after(line, ':'));
      if (!t.empty()) r["timestamp"] = t;
    } else if (auto v4 = kv("Process uptime")) {
      std::string_view u = *v4;
      while (!u.empty() && u.back() == 's') u.remove_suffix(1);
      if (auto n = to_ll(u)) r["process_uptime"] = *n;
    } else if (auto v5 = kv("Cmdline")) r["command_line"] = Json::array({str(*v5)});
    else if (ds::starts(line, "pid")) {
      if (have_pid) return true;
      have_pid = true;
      std::string_view info = line, bin;
      auto arrows = line.find(">>>");
      if (arrows != std::string_view::npos) {
        info = line.substr(0, arrows);
        bin = line.substr(arrows + 3);
        bin = ds::strip(bin);
        while (!bin.empty() && (bin.back() == '<' || bin.back() == ' ')) bin.remove_suffix(1);
        r["binary_path"] = str(bin);
      }
      std::size_t pos = 0;
      while (pos <= info.size()) {
        auto comma = info.find(',', pos);
        std::string_view part = info.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        std::string_view k = ds::strip(ds::before(part, ':')), v = ds::strip(ds::after(part, ':'));
        if (k == "pid") { if (auto n = to_ll(v)) r["pid"] = *n; }
        else if (k == "tid") { if (auto n = to_ll(v)) r["tid"] = *n; }
        else if (k == "name") r["process_name"] = str(v);
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
      }
    } else if (auto v6 = kv("uid")) {
      if (auto n = to_ll(*v6)) r["uid"] = *n;
    } else if (ds::starts(line, "signal")) {
      auto comma = line.find(',');
      if (comma == std::string_view::npos) return true;
      std::string_view rest = line.substr(comma + 1);
      auto [sn, sname] = signal_part(line.substr(0, comma), "signal ");
      auto [cn, cname] = signal_part(ds::before(rest, ','), "code ");
      Json si = Json::object();
      si["code"] = cn ? Json(*cn) : Json();
      si["code_name"] = cname;
      si["name"] = sname;
      si["number"] = sn ? Json(*sn) : Json();
      r["signal_info"] = si;
    } else if (auto v7 = kv("Cause")) r["cause"] = str(*v7);
    else if (auto v8 = kv("Abort message")) r["abort_message"] = str(*v8);
    return true;
  });
  return r;
}

const char* arch_name(std::uint64_t v) {
  switch (v) {
    case 0: return "ARM32";
    case 1: return "ARM64";
    case 2: return "X86";
    case 3: return "X86_64";
    case 4: return "RISCV64";
    case 5: return "NONE";
    default: return "UNKNOWN";
  }
}

std::int64_t as_int32(std::uint64_t v) { return static_cast<std::int32_t>(static_cast<std::uint32_t>(v)); }

std::optional<Json> parse_protobuf(std::string_view data, const std::string& file_name, const std::string& file_ts) {
  Json r = empty_record(file_name, file_ts);
  std::string fingerprint, revision, timestamp, selinux, abort_message;
  std::uint64_t arch = 0, pid = 0, tid = 0, uid = 0, uptime = 0;
  Json cmd = Json::array(), causes = Json::array();
  Json si = Json::object();
  si["code"] = 0; si["code_name"] = ""; si["name"] = ""; si["number"] = 0;
  std::vector<std::pair<std::int64_t, std::string>> threads;
  Wire w(data);
  std::uint32_t f; int t; std::uint64_t v = 0; std::string_view b;
  while (w.next(f, t, v, b)) {
    switch (f) {
      case 1: if (t == 0) arch = v; break;
      case 2: if (t == 2) fingerprint = str(b); break;
      case 3: if (t == 2) revision = str(b); break;
      case 4: if (t == 2) timestamp = std::string(b); break;
      case 5: if (t == 0) pid = v; break;
      case 6: if (t == 0) tid = v; break;
      case 7: if (t == 0) uid = v; break;
      case 8: if (t == 2) selinux = str(b); break;
      case 9: if (t == 2 && cmd.size() < 4096) cmd.push_back(str(b)); break;
      case 20: if (t == 0) uptime = v; break;
      case 14: if (t == 2) abort_message = str(b); break;
      case 10:
        if (t == 2) {
          Wire s(b);
          std::uint32_t sf; int st; std::uint64_t sv = 0; std::string_view sb;
          while (s.next(sf, st, sv, sb)) {
            if (sf == 1 && st == 0) si["number"] = as_int32(sv);
            else if (sf == 2 && st == 2) si["name"] = str(sb);
            else if (sf == 3 && st == 0) si["code"] = as_int32(sv);
            else if (sf == 4 && st == 2) si["code_name"] = str(sb);
          }
        }
        break;
      case 15:
        if (t == 2 && causes.size() < 4096) {
          Wire c(b);
          std::uint32_t cf; int ct; std::uint64_t cv = 0; std::string_view cb;
          Json cause = Json::object();
          cause["human_readable"] = "";
          while (c.next(cf, ct, cv, cb))
            if (cf == 1 && ct == 2) cause["human_readable"] = str(cb);
          causes.push_back(std::move(cause));
        }
        break;
      case 16:  // map<uint32, Thread>: entry {1: key, 2: Thread{1: id, 2: name}}
        if (t == 2 && threads.size() < 65536) {
          Wire e(b);
          std::uint32_t ef; int et; std::uint64_t ev = 0; std::string_view eb;
          while (e.next(ef, et, ev, eb)) {
            if (ef != 2 || et != 2) continue;
            Wire th(eb);
            std::uint32_t hf; int ht; std::uint64_t hv = 0; std::string_view hb;
            std::int64_t id = 0; std::string name;
            while (th.next(hf, ht, hv, hb)) {
              if (hf == 1 && ht == 0) id = as_int32(hv);
              else if (hf == 2 && ht == 2) name = str(hb);
            }
            threads.emplace_back(id, name);
          }
        }
        break;
      default: break;
    }
  }
  if (w.bad()) return std::nullopt;
  r["build_fingerprint"] = fingerprint;
  r["revision"] = revision;
  r["arch"] = arch_name(arch);
  r["timestamp"] = tombstone_time(timestamp);
  r["process_uptime"] = static_cast<std::uint32_t>(uptime);
  r["command_line"] = cmd;
  r["pid"] = static_cast<std::uint32_t>(pid);
  r["tid"] = static_cast<std::uint32_t>(tid);
  std::string pname = "Unknown";
  for (auto& [id, name] : threads)
    if (id == static_cast<std::int64_t>(static_cast<std::uint32_t>(tid)) && !name.empty()) { pname = name; break; }
  r["process_name"] = pname;
  r["selinux_label"] = selinux;
  r["uid"] = static_cast<std::uint32_t>(uid);
  r["signal_info"] = si;
  r["causes"] = causes;
  r["abort_message"] = abort_message;
  return r;
}

std::string basename_of(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

class Tombstones final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Tombstones", "tombstones", kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::List, "Native crash reports (tombstones, text and protobuf)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    AndroidSource* src = bugreport_part(ctx);
    if (!src) return;
    std::size_t n = 0;
    for (auto& f : src->glob("*/tombstone_*")) {
      std::string err;
      auto data = src->read(f, &err, kMaxTombstone);
      if (!data) { ctx.unreadable(f.path, err.empty() ? "cannot be read" : err); continue; }
      std::string name = basename_of(f.path);
      std::string file_ts = unix_to_iso_int(f.mtime);
      std::optional<Json> rec;
      if (f.path.size() > 3 && f.path.compare(f.path.size() - 3, 3, ".pb") == 0) {
        rec = parse_protobuf(*data, name, file_ts);
        if (!rec) { ctx.warn("Failed to parse protobuf tombstone " + f.path); continue; }
      } else {
        rec = parse_text(*data, name, file_ts);
      }
      if (!rec->contains("pid") || (*rec)["pid"].is_null() || (*rec)["uid"].is_null() ||
          (*rec)["signal_info"].is_null()) {
        ctx.warn("Incomplete tombstone " + f.path + " (missing pid, uid or signal)");
      }
      auto uid = jint(*rec, "uid", -1);
      if ((uid == 0 || uid == 1000 || uid == 2000) && !(*rec)["uid"].is_null())
        ctx.alert(Level::Medium,
                  "Potentially suspicious crash in process '" + pystr(*rec, "process_name") + "' running as UID '" +
                      std::to_string(uid) + "' in tombstone '" + name + "' at " + jstr(*rec, "timestamp"),
                  "", *rec);  // MVT 2026.7.29 leaves event_time empty
      ctx.emit(std::move(*rec));
      ++n;
    }
    ctx.info("Extracted a total of " + std::to_string(n) + " tombstone files");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string p = jstr(r, "process_name");
    if (!p.empty()) out.push_back({ObsKind::Process, p, {}});
    if (auto it = r.find("command_line"); it != r.end() && it->is_array() && !it->empty() && (*it)[0].is_string()) {
      std::string c = basename_of((*it)[0].get<std::string>());
      if (!c.empty()) out.push_back({ObsKind::Process, c, {}});
    }
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    const Json& si = r.contains("signal_info") && r["signal_info"].is_object() ? r["signal_info"] : Json::object();
    out.push_back({jstr(r, "timestamp"), "Tombstone",
                   "Crash in '" + pystr(r, "process_name") + "' process running as UID '" + pystr(r, "uid") +
                       "' in file '" + pystr(r, "file_name") + "' Crash type '" + pystr(si, "name") +
                       "' with code '" + pystr(si, "code_name") + "'"});
  }
};

BRIDLE_REGISTER_MODULE(Tombstones);

}  // namespace
}  // namespace bridle
