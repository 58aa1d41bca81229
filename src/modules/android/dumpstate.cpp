#include "modules/android/dumpstate.hpp"

#include <cstring>
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

// The services some module reads (Dumpstate::service): only these sections are kept when a
// bug report's dumpstate is loaded. A module reading another service must add it here.
constexpr std::string_view kModuleServices[] = {
    "accessibility",   // dumpsys_accessibility, stalkerware_view
    "adb",             // dumpsys_adb_state
    "appops",          // dumpsys_appops
    "batterystats",    // dumpsys_battery_daily, dumpsys_battery_history
    "dbinfo",          // dumpsys_dbinfo
    "device_policy",   // stalkerware_view
    "notification",    // stalkerware_view
    "package",         // dumpsys_packages, dumpsys_activities, dumpsys_receivers, stalkerware_view
    "platform_compat", // dumpsys_platform_compat
};

bool is_module_service(std::string_view name) {
  for (auto s : kModuleServices)
    if (s == name) return true;
  return false;
}

}  // namespace

Dumpstate::Builder::Builder(std::function<bool(std::string_view)> keep)
    : keep_(std::move(keep)), d_(new Dumpstate()) {}

Dumpstate::Builder::~Builder() = default;

void Dumpstate::Builder::feed(std::string_view chunk) {
  d_->size_ += chunk.size();
  while (!chunk.empty()) {
    const void* nlp = std::memchr(chunk.data(), '\n', chunk.size());
    if (!nlp) {
      partial_.append(chunk);
      return;
    }
    std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(nlp) - chunk.data());
    if (partial_.empty()) {
      line(chunk.substr(0, nl), true);
    } else {
      partial_.append(chunk.substr(0, nl));
      line(partial_, true);
      partial_.clear();
    }
    chunk.remove_prefix(nl + 1);
  }
}

void Dumpstate::Builder::close_section() {
  if (!in_section_) return;
  if (seen_.insert(cur_name_).second) {
    Section s;
    s.name = cur_name_;
    s.retained = retained_;
    if (retained_) {
      cur_.resize(cur_len_);
      s.content = std::move(cur_);
    }
    d_->sections_.push_back(std::move(s));
  }
  cur_.clear();
  cur_len_ = 0;
  in_section_ = false;
}

// One line of the text, without its '\n' (had_newline: it had one).
void Dumpstate::Builder::line(std::string_view raw, bool had_newline) {
  constexpr std::string_view kHeader = "DUMP OF SERVICE ";
  constexpr std::string_view kProps = "------ SYSTEM PROPERTIES";
  std::string_view line = raw;
  bool cr = !line.empty() && line.back() == '\r';
  if (cr) line.remove_suffix(1);
  std::string_view t = strip(line);
  // Content of an accepted line: its raw bytes and line end; the line end of the last
  // accepted line (and its '\r') is cut when the block closes.
  auto accept = [&](std::string& into, std::size_t& len) {
    into.append(raw);
    if (had_newline) into.push_back('\n');
    len = into.size() - (had_newline ? 1 : 0) - (cr ? 1 : 0);
  };

  if (in_props_) {
    if (t.substr(0, 6) == "------") {
      props_.resize(props_len_);
      d_->props_ = std::move(props_);
      d_->has_props_ = true;
      in_props_ = false;
    } else {
      accept(props_, props_len_);
    }
  } else if (!d_->has_props_ && t.substr(0, kProps.size()) == kProps) {
    in_props_ = true;
    props_.clear();
    props_len_ = 0;
  }

  if (t.size() > kHeader.size() + 1 && t.substr(0, kHeader.size()) == kHeader && t.back() == ':') {
    close_section();
    in_section_ = true;
    cur_name_.assign(t.substr(kHeader.size(), t.size() - kHeader.size() - 1));
    retained_ = !seen_.count(cur_name_) && (!keep_ || keep_(cur_name_));
    cur_.clear();
    cur_len_ = 0;
  } else if (in_section_) {
    if (is_separator(t)) close_section();
    else if (retained_) accept(cur_, cur_len_);
  }
}

std::shared_ptr<const Dumpstate> Dumpstate::Builder::finish(std::string path) {
  if (!partial_.empty()) {
    line(partial_, false);
    partial_.clear();
  }
  close_section();
  if (in_props_) {
    props_.resize(props_len_);
    d_->props_ = std::move(props_);
    d_->has_props_ = true;
    in_props_ = false;
  }
  d_->path_ = std::move(path);
  std::shared_ptr<const Dumpstate> out = std::move(d_);
  d_.reset(new Dumpstate());
  return out;
}

std::shared_ptr<const Dumpstate> Dumpstate::from_text(std::string_view text, std::string path) {
  Builder b;
  b.feed(text);
  return b.finish(std::move(path));
}

std::string_view Dumpstate::service(std::string_view name) const {
  for (auto& s : sections_)
    if (s.name == name) return s.content;
  return {};
}

bool Dumpstate::has_service(std::string_view name) const {
  for (auto& s : sections_)
    if (s.name == name) return true;
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
  for (auto& s : sections_) out.push_back(s.name);
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
  Dumpstate::Builder b([](std::string_view name) { return is_module_service(name); });
  if (!src.read_stream(*target, [&](std::string_view chunk) { b.feed(chunk); return true; }, &e, kMaxDumpstate)) {
    if (err) *err = target->path + ": " + (e.empty() ? "cannot be read" : e);
    return nullptr;
  }
  return b.finish(target->path);
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
