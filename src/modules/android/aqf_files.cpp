// AQFFiles: androidqf files.json (a JSON list, or NDJSON), file metadata and hashes. Times
// are converted to the device's local time (persist.sys.timezone; UTC when unknown). Files
// under /data/local/tmp/ (where exploits and implants are staged) are HIGH alerts.
#include <algorithm>
#include <functional>
#include <memory>
#include <string_view>

#include "core/util.hpp"
#include "modules/android/common.hpp"

namespace bridle {
namespace {

// The fields AQFFiles reads from a record, found in one pass over its members (jstr per field
// searches the object's keys each time): strings as views into the record, other non-null
// values as their JSON text (what jstr gives), missing or null ones as "".
class FileFields {
 public:
  enum Field { kPath, kContext, kMode, kSha256, kSha1, kMd5, kModified, kAccess, kChanged, kBirth, kCount };
  explicit FileFields(const Json& r) {
    if (!r.is_object()) return;
    for (auto it = r.begin(); it != r.end(); ++it) {
      int k = slot(it.key());
      if (k < 0 || it->is_null()) continue;
      if (it->is_string()) {
        v_[k] = it->get_ref<const std::string&>();
      } else {
        dumped_[k] = it->dump();
        v_[k] = dumped_[k];
      }
    }
  }
  FileFields(const FileFields&) = delete;
  FileFields& operator=(const FileFields&) = delete;
  std::string_view operator[](Field f) const { return v_[f]; }
  static int slot(std::string_view key) {
    switch (key.size()) {
      case 3: return key == "md5" ? kMd5 : -1;
      case 4: return key == "path" ? kPath : key == "mode" ? kMode : key == "sha1" ? kSha1 : -1;
      case 6: return key == "sha256" ? kSha256 : -1;
      case 7: return key == "context" ? kContext : -1;
      case 10: return key == "birth_time" ? kBirth : -1;
      case 11: return key == "access_time" ? kAccess : -1;
      case 12: return key == "changed_time" ? kChanged : -1;
      case 13: return key == "modified_time" ? kModified : -1;
      default: return -1;
    }
  }

 private:
  std::string_view v_[kCount];
  std::string dumped_[kCount];
};

// Splits a JSON list ("[ {...}, {...} ]") into its top-level elements, or NDJSON into lines
// when the text does not start with '[', fed in chunks of any size. Only the element being
// read is buffered (at most kMaxElement bytes; a longer one is skipped and counted bad), so
// memory stays bounded whatever the file size.
//   - an element ends at the ',' or the unmatched '}' / ']' at nesting depth 0 outside
//     strings; a stray '}' or ']' where an element should start is skipped and counted bad;
//   - a list that is never closed counts one bad element, unless the text ends inside an
//     element (that element is still parsed); text after the closing ']' counts one bad;
//   - NDJSON: blank lines are skipped, every other line is one element.
// on_elem(text, list_mode) returns false when the element is bad.
class JsonListSplitter {
 public:
  static constexpr std::size_t kMaxElement = 64u << 20;
  using OnElem = std::function<bool(std::string_view, bool)>;
  explicit JsonListSplitter(OnElem on_elem) : on_elem_(std::move(on_elem)) {}

  void feed(std::string_view chunk) {
    buf_.append(chunk);
    run(false);
    compact();
  }
  void finish() { run(true); }
  std::size_t bad() const { return bad_; }
  bool list_mode() const { return list_; }

 private:
  enum class S { Start, ListWs, Elem, Trail, Lines, Done };
  static bool ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  void element(std::string_view text, bool skipped) {
    if (skipped || !on_elem_(text, list_)) ++bad_;
  }

  void run(bool eof) {
    const std::size_t size = buf_.size();
    for (;;) {
      switch (state_) {
        case S::Start:
          while (p_ < size && ws(buf_[p_])) ++p_;
          if (p_ >= size) {
            if (!eof) return;
            state_ = S::Lines;
            break;
          }
          if (buf_[p_] == '[') {
            list_ = true;
            ++p_;
            state_ = S::ListWs;
          } else {
            state_ = S::Lines;
          }
          break;
        case S::ListWs:
          while (p_ < size && ws(buf_[p_])) ++p_;
          if (p_ >= size) {
            if (!eof) return;
            ++bad_;  // the list is not closed
            state_ = S::Done;
            break;
          }
          if (buf_[p_] == ']') {
            ++p_;
            state_ = S::Trail;
            break;
          }
          b_ = p_;
          depth_ = 0;
          in_str_ = false;
          oversized_ = false;
          state_ = S::Elem;
          break;
        case S::Elem: {
          bool found = false;
          for (; p_ < size; ++p_) {
            char c = buf_[p_];
            if (in_str_) {
              if (c == '\\') ++p_;
              else if (c == '"') in_str_ = false;
              continue;
            }
            if (c == '"') in_str_ = true;
            else if (c == '{' || c == '[') ++depth_;
            else if (c == '}' || c == ']') {
              if (depth_ == 0) { found = true; break; }
              --depth_;
            } else if (c == ',' && depth_ == 0) { found = true; break; }
          }
          if (!found) {
            if (!eof) {
              if (!oversized_ && std::min(p_, size) - b_ > kMaxElement) oversized_ = true;
              return;
            }
            // The text ends inside this element: it is still parsed.
            element(std::string_view(buf_).substr(b_, std::min(p_, size) - b_), oversized_);
            state_ = S::Done;
            break;
          }
          if (!oversized_ && p_ == b_) {
            // A stray '}' (or ']') where an element should start: skip it, count it bad, and
            // move on (never loop on the same byte).
            ++bad_;
            ++p_;
            state_ = S::ListWs;
            break;
          }
          element(std::string_view(buf_).substr(b_, p_ - b_), oversized_);
          if (buf_[p_] == ',') ++p_;
          state_ = S::ListWs;
          break;
        }
        case S::Trail:
          while (p_ < size && ws(buf_[p_])) ++p_;
          if (p_ < size) {
            ++bad_;  // text after the list
            state_ = S::Done;
            break;
          }
          if (!eof) return;
          state_ = S::Done;
          break;
        case S::Lines: {
          if (p_ >= size) {
            if (!eof) return;
            state_ = S::Done;
            break;
          }
          std::size_t nl = buf_.find('\n', std::max(scan_, p_));
          if (nl == std::string::npos) {
            if (!eof) {
              scan_ = size;
              if (!oversized_ && size - p_ > kMaxElement) oversized_ = true;
              return;
            }
            nl = size;
          }
          std::string_view line = std::string_view(buf_).substr(p_, nl - p_);
          if (oversized_) ++bad_;
          else if (!trim(line).empty()) element(line, false);
          oversized_ = false;
          p_ = nl + 1;
          scan_ = p_;
          break;
        }
        case S::Done:
          return;
      }
    }
  }

  // Drops the bytes before the element (or line) being read; an oversized one is dropped too.
  void compact() {
    std::size_t keep = std::min(p_, buf_.size());
    if (state_ == S::Elem && !oversized_) keep = b_;
    if (state_ == S::Lines && oversized_) keep = buf_.size();
    if (keep == 0) return;
    buf_.erase(0, keep);
    p_ = p_ >= keep ? p_ - keep : 0;
    b_ = b_ >= keep ? b_ - keep : 0;
    scan_ = scan_ >= keep ? scan_ - keep : 0;
  }

  OnElem on_elem_;
  std::string buf_;
  S state_ = S::Start;
  std::size_t p_ = 0, b_ = 0, scan_ = 0;
  int depth_ = 0;
  bool in_str_ = false, oversized_ = false, list_ = false;
  std::size_t bad_ = 0;
};

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
    // The time zone is looked up once the file turned out readable (as when it was read whole).
    std::shared_ptr<const TimeZone> tz;
    bool started = false;
    auto start = [&] {
      if (started) return;
      started = true;
      std::string tzerr;
      tz = TimeZone::load(src->timezone, &tzerr);
      if (src->timezone.empty()) ctx.warn("Unable to determine device timezone, using UTC");
      else if (!tz) ctx.warn(tzerr + "; using UTC");
    };
    // Streamed from the file (or zip member) in bounded chunks and split element by element
    // (never the whole file, never one document) so memory stays flat however many entries
    // the listing has: each element is parsed, emitted and dropped.
    std::size_t n = 0;
    auto handle = [&](Json e) {
      if (!e.is_object()) return;
      for (auto it = e.begin(); it != e.end(); ++it) {
        int k = FileFields::slot(it.key());
        if (k >= FileFields::kModified && it->is_number()) *it = to_device_local(it->get<double>(), tz.get());
      }
      FileFields f(e);
      std::string_view path = f[FileFields::kPath];
      if (path.starts_with("/data/local/tmp/") && !path.starts_with("/data/local/tmp/collector")) {
        bool exec = f[FileFields::kMode].find('x') != std::string_view::npos;
        ctx.alert(Level::High,
                  std::string("Found ") + (exec ? "executable " : "") + "file at suspicious path \"" +
                      std::string(path) + "\"",
                  std::string(f[FileFields::kModified]), e);
      }
      ctx.emit(std::move(e));
      ++n;
    };
    JsonListSplitter split([&](std::string_view elem, bool list) {
      Json e = parse_json_exact(elem);
      if (list) {
        if (e.is_discarded()) return false;
        handle(std::move(e));
        return true;
      }
      if (!e.is_object()) return false;
      handle(std::move(e));
      return true;
    });
    bool ok = android_read_stream(ctx, *src, *f, [&](std::string_view chunk) {
      start();
      split.feed(chunk);
      return true;
    });
    if (!ok && !started) return;  // nothing read: reported as unreadable
    start();
    split.finish();
    if (split.bad())
      ctx.unreadable(f->path, std::to_string(split.bad()) + (split.list_mode() ? " elements of the JSON list are not valid JSON"
                                                                                 : " lines are not JSON objects"));
    ctx.info("Found a total of " + std::to_string(n) + " files");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    FileFields f(r);
    if (!f[FileFields::kPath].empty()) out.push_back({ObsKind::FilePath, std::string(f[FileFields::kPath]), {}});
    for (auto k : {FileFields::kSha256, FileFields::kSha1, FileFields::kMd5})
      if (!f[k].empty()) out.push_back({ObsKind::FileHash, std::string(f[k]), {}});
  }

  // MACB-style rows: one per distinct timestamp, with the letters of the times equal to it.
  // (Rows in time order; at most four times, so no set.)
  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    FileFields f(r);
    const std::string_view t[4] = {f[FileFields::kModified], f[FileFields::kAccess], f[FileFields::kChanged],
                                   f[FileFields::kBirth]};
    int order[4], n = 0;
    for (int i = 0; i < 4; ++i) {
      if (t[i].empty()) continue;
      bool seen = false;
      for (int k = 0; k < n && !seen; ++k) seen = t[order[k]] == t[i];
      if (seen) continue;
      int at = n++;
      for (; at > 0 && t[i] < t[order[at - 1]]; --at) order[at] = order[at - 1];
      order[at] = i;
    }
    if (n == 0) return;
    std::string desc;
    desc.reserve(f[FileFields::kPath].size() + f[FileFields::kContext].size() + 3);
    desc.append(f[FileFields::kPath]).append(" (").append(f[FileFields::kContext]).append(")");
    for (int j = 0; j < n; ++j) {
      std::string_view ts = t[order[j]];
      std::string ev = "----";
      for (int k = 0; k < 4; ++k)
        if (t[k] == ts) ev[k] = "MACB"[k];
      out.push_back({std::string(ts), std::move(ev), desc});
    }
  }
};

BRIDLE_REGISTER_MODULE(AqfFiles);

}  // namespace
}  // namespace bridle
