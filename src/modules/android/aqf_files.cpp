// AQFFiles: androidqf files.json (a JSON list, or NDJSON), file metadata and hashes. Times
// are converted to the device's local time (persist.sys.timezone; UTC when unknown). Files
// under /data/local/tmp/ (where exploits and implants are staged) are HIGH alerts.
#include <algorithm>
#include <set>
#include <string_view>

#include "core/util.hpp"
#include "modules/android/common.hpp"

namespace bridle {
namespace {

constexpr const char* kTimeFields[] = {"changed_time", "modified_time", "access_time", "birth_time"};

class AqfFiles final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"AQFFiles", "aqf_files", kAndroidQF, Level::Critical, ModuleInfo::Shape::List,
                              "File listing (androidqf files.json): paths, hashes, suspicious locations"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto* src = android_part(ctx, "androidqf");
    if (!src) return;
    auto f = src->first("*/files.json");
    if (!f) return;
    auto text = android_read(ctx, *src, *f);
    if (!text) return;
    std::string tzerr;
    auto tz = TimeZone::load(src->timezone, &tzerr);
    if (src->timezone.empty()) ctx.warn("Unable to determine device timezone, using UTC");
    else if (!tz) ctx.warn(tzerr + "; using UTC");
    // Parse element by element (never the whole file as one document) so memory stays flat
    // however many entries the listing has: each element is parsed, emitted and dropped.
    std::size_t n = 0;
    auto handle = [&](Json e) {
      if (!e.is_object()) return;
      for (const char* k : kTimeFields) {
        auto it = e.find(k);
        if (it != e.end() && it->is_number()) *it = to_device_local(it->get<double>(), tz.get());
      }
      std::string path = jstr(e, "path");
      if (path.rfind("/data/local/tmp/", 0) == 0 && path.rfind("/data/local/tmp/collector", 0) != 0) {
        bool exec = jstr(e, "mode").find('x') != std::string::npos;
        ctx.alert(Level::High,
                  std::string("Found ") + (exec ? "executable " : "") + "file at suspicious path \"" + path + "\"",
                  jstr(e, "modified_time"), e);
      }
      ctx.emit(std::move(e));
      ++n;
    };
    std::string_view t = *text;
    auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    std::size_t p = 0;
    while (p < t.size() && is_ws(t[p])) ++p;
    if (p < t.size() && t[p] == '[') {
      std::size_t bad = 0;
      bool closed = false, truncated = false;
      ++p;
      while (p < t.size()) {
        while (p < t.size() && is_ws(t[p])) ++p;
        if (p >= t.size()) break;
        if (t[p] == ']') { closed = true; ++p; break; }
        // One top-level element: up to the ',' or ']' at nesting depth 0 outside strings.
        std::size_t b = p;
        int depth = 0;
        bool in_str = false;
        for (; p < t.size(); ++p) {
          char c = t[p];
          if (in_str) {
            if (c == '\\') ++p;
            else if (c == '"') in_str = false;
            continue;
          }
          if (c == '"') in_str = true;
          else if (c == '{' || c == '[') ++depth;
          else if (c == '}' || c == ']') {
            if (depth == 0) break;
            --depth;
          } else if (c == ',' && depth == 0) break;
        }
        if (p == b) {
          // A stray '}' (or ']') where an element should start: skip it, count it bad, and
          // move on (never loop on the same byte).
          ++bad;
          ++p;
          continue;
        }
        if (p >= t.size()) truncated = true;  // the text ends inside this element
        std::string_view elem = t.substr(b, std::min(p, t.size()) - b);
        Json e = parse_json_exact(elem);
        if (e.is_discarded()) ++bad;
        else handle(std::move(e));
        if (p < t.size() && t[p] == ',') ++p;
      }
      if (!closed && !truncated) ++bad;
      else {
        while (p < t.size() && is_ws(t[p])) ++p;
        if (p < t.size()) ++bad;
      }
      if (bad) ctx.unreadable(f->path, std::to_string(bad) + " elements of the JSON list are not valid JSON");
    } else {
      std::size_t bad = 0;
      while (p < t.size()) {
        std::size_t nl = t.find('\n', p);
        if (nl == std::string_view::npos) nl = t.size();
        std::string_view line = t.substr(p, nl - p);
        p = nl + 1;
        if (trim(line).empty()) continue;
        Json e = parse_json_exact(line);
        if (e.is_object()) handle(std::move(e));
        else ++bad;
      }
      if (bad) ctx.unreadable(f->path, std::to_string(bad) + " lines are not JSON objects");
    }
    ctx.info("Found a total of " + std::to_string(n) + " files");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string p = jstr(r, "path");
    if (!p.empty()) out.push_back({ObsKind::FilePath, p, {}});
    for (const char* k : {"sha256", "sha1", "md5"}) {
      std::string h = jstr(r, k);
      if (!h.empty()) out.push_back({ObsKind::FileHash, h, {}});
    }
  }

  // MACB-style rows: one per distinct timestamp, with the letters of the times equal to it.
  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string m = jstr(r, "modified_time"), a = jstr(r, "access_time"), c = jstr(r, "changed_time"),
                b = jstr(r, "birth_time");
    std::set<std::string> times;
    for (auto* t : {&m, &a, &c, &b})
      if (!t->empty()) times.insert(*t);
    std::string desc = jstr(r, "path") + " (" + jstr(r, "context") + ")";
    for (auto& t : times) {
      std::string ev;
      ev += m == t ? 'M' : '-';
      ev += a == t ? 'A' : '-';
      ev += c == t ? 'C' : '-';
      ev += b == t ? 'B' : '-';
      out.push_back({t, ev, desc});
    }
  }
};

BRIDLE_REGISTER_MODULE(AqfFiles);

}  // namespace
}  // namespace bridle
