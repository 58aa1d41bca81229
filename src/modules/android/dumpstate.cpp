#include "modules/android/dumpstate.hpp"

#include <map>
#include <mutex>

#include "acquisition/android_source.hpp"
#include "core/util.hpp"
#include "modules/android/common.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

constexpr std::size_t kSeparatorDashes = 78;
constexpr std::uint64_t kMaxDumpstate = 1ull << 31;  // 2 GiB

std::string_view strip(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

bool is_separator(std::string_view trimmed) {
  if (trimmed.size() < kSeparatorDashes) return false;
  for (std::size_t i = 0; i < kSeparatorDashes; ++i)
    if (trimmed[i] != '-') return false;
  return true;
}

}  // namespace

std::shared_ptr<const Dumpstate> Dumpstate::from_text(std::string text, std::string path) {
  std::shared_ptr<Dumpstate> d(new Dumpstate());
  d->buf_ = std::move(text);
  d->path_ = std::move(path);
  const std::string_view all(d->buf_);
  constexpr std::string_view kHeader = "DUMP OF SERVICE ";
  constexpr std::string_view kProps = "------ SYSTEM PROPERTIES";

  // Open section: name, start offset of its content, end offset of its last line so far.
  bool in_section = false;
  std::string_view cur_name;
  std::size_t cur_start = 0, cur_end = 0;
  bool in_props = false;
  std::size_t props_start = 0, props_end = 0;

  auto close_section = [&] {
    if (!in_section) return;
    bool dup = false;
    for (auto& s : d->sections_)
      if (s.first == cur_name) { dup = true; break; }
    if (!dup) d->sections_.emplace_back(cur_name, all.substr(cur_start, cur_end - cur_start));
    in_section = false;
  };

  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t nl = all.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? all.size() : nl;
    std::size_t next = nl == std::string_view::npos ? all.size() : nl + 1;
    std::string_view line = all.substr(pos, end - pos);
    std::size_t content_end = end;
    if (!line.empty() && line.back() == '\r') { line.remove_suffix(1); --content_end; }
    std::string_view t = strip(line);

    if (in_props) {
      if (t.substr(0, 6) == "------") {
        d->props_ = all.substr(props_start, props_end - props_start);
        d->has_props_ = true;
        in_props = false;
      } else {
        props_end = content_end;
      }
    } else if (!d->has_props_ && t.substr(0, kProps.size()) == kProps) {
      in_props = true;
      props_start = next;
      props_end = next;
    }

    if (t.size() > kHeader.size() + 1 && t.substr(0, kHeader.size()) == kHeader && t.back() == ':') {
      close_section();
      in_section = true;
      cur_name = t.substr(kHeader.size(), t.size() - kHeader.size() - 1);
      cur_start = next;
      cur_end = next;
    } else if (in_section) {
      if (is_separator(t)) close_section();
      else cur_end = content_end;
    }
    pos = next;
  }
  close_section();
  if (in_props) {
    d->props_ = all.substr(props_start, props_end - props_start);
    d->has_props_ = true;
  }
  return d;
}

std::string_view Dumpstate::service(std::string_view name) const {
  for (auto& s : sections_)
    if (s.first == name) return s.second;
  return {};
}

bool Dumpstate::has_service(std::string_view name) const {
  for (auto& s : sections_)
    if (s.first == name) return true;
  return false;
}

std::string Dumpstate::extract(std::string_view name) const {
  std::string out;
  std::string_view v = service(name);
  bool first = true;
  if (v.empty()) return out;
  for_each_line(v, [&](std::string_view line) {
    if (!first) out += '\n';
    out.append(line);
    first = false;
    return true;
  }, std::string_view::npos);
  // A view ending in a line end means its last line was empty (kept by MVT's join).
  if (v.back() == '\n') out += '\n';
  return out;
}

std::vector<std::string> Dumpstate::service_names() const {
  std::vector<std::string> out;
  for (auto& s : sections_) out.emplace_back(s.first);
  return out;
}

std::shared_ptr<const Dumpstate> load_dumpstate(AndroidSource& src, std::string* err) {
  if (err) err->clear();
  std::optional<AndroidFile> target;
  if (auto me = src.first("main_entry.txt")) {
    std::string e;
    auto content = src.read(*me, &e, 4096);
    if (content) {
      std::string name = trim(*content);
      for (auto& f : src.files())
        if (!name.empty() && (f.path == name || (f.path.size() > name.size() &&
                                                 f.path.compare(f.path.size() - name.size(), name.size(), name) == 0 &&
                                                 f.path[f.path.size() - name.size() - 1] == '/'))) {
          target = f;
          break;
        }
    }
  }
  if (!target) target = src.first("dumpState_*.log");
  if (!target) target = src.first("*/dumpsys.txt");
  if (!target) return nullptr;
  std::string e;
  auto text = src.read(*target, &e, kMaxDumpstate);
  if (!text) {
    if (err) *err = target->path + ": " + (e.empty() ? "cannot be read" : e);
    return nullptr;
  }
  return Dumpstate::from_text(std::move(*text), target->path);
}

namespace {
struct CacheEntry {
  std::once_flag once;
  std::shared_ptr<const Dumpstate> value;
  std::string err;
};
}  // namespace

std::shared_ptr<const Dumpstate> shared_dumpstate(AndroidSource& src, std::string* err) {
  if (src.dumpstate) return src.dumpstate;
  static std::mutex mu;
  static std::map<std::pair<const AndroidSource*, std::string>, std::shared_ptr<CacheEntry>> cache;
  std::shared_ptr<CacheEntry> entry;
  {
    std::lock_guard<std::mutex> lk(mu);
    auto& slot = cache[{&src, src.display()}];
    if (!slot) slot = std::make_shared<CacheEntry>();
    entry = slot;
  }
  std::call_once(entry->once, [&] { entry->value = load_dumpstate(src, &entry->err); });
  if (err) *err = entry->err;
  return entry->value;
}

AndroidSource* bugreport_part(ModuleContext& ctx) {
  return android_part(ctx, "bugreport");
}

std::shared_ptr<const Dumpstate> module_dumpstate(ModuleContext& ctx) {
  AndroidSource* src = bugreport_part(ctx);
  if (!src) return nullptr;
  std::string err;
  auto d = shared_dumpstate(*src, &err);
  if (!d) {
    if (!err.empty()) ctx.unreadable(src->display(), "dumpstate: " + err);
    else ctx.warn("No dumpstate file was found in the bug report");
  }
  return d;
}

namespace ds {

std::string_view strip(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_ws(std::string_view s, std::size_t max_parts) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (i < s.size() && out.size() < max_parts) {
    while (i < s.size() && ws(s[i])) ++i;
    if (i >= s.size()) break;
    std::size_t j = i;
    while (j < s.size() && !ws(s[j])) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string_view before(std::string_view s, char c) {
  auto p = s.find(c);
  return p == std::string_view::npos ? s : s.substr(0, p);
}

std::string_view after(std::string_view s, char c) {
  auto p = s.find(c);
  return p == std::string_view::npos ? std::string_view{} : s.substr(p + 1);
}

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool indented(std::string_view line, std::size_t n) {
  if (line.size() < n) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (line[i] != ' ') return false;
  return true;
}

std::string valid_utf8(std::string_view s) {
  std::string str(s);
  return is_valid_utf8(str) ? str : utf8_backslashreplace(str);
}

}  // namespace ds

}  // namespace bridle
