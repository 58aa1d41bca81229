#include "modules/android/intrusion_logs.hpp"

#include <zip.h>

#include <mutex>

#include "acquisition/android_source.hpp"
#include "core/timeutil.hpp"
#include "modules/android/common.hpp"
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

constexpr std::size_t kMaxLine = 1u << 20;
constexpr std::uint64_t kMaxMember = 1ull << 30;
constexpr std::uint64_t kMaxZipEntry = 256ull << 20;
constexpr std::uint64_t kMaxZipTotal = 2ull << 30;

bool ends_with_icase(const std::string& s, std::string_view suf) {
  if (s.size() < suf.size()) return false;
  for (std::size_t i = 0; i < suf.size(); ++i) {
    char c = s[s.size() - suf.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suf[i]) return false;
  }
  return true;
}

// Sorted-key JSON text (fingerprint); nlohmann::json (not ordered) sorts keys.
std::string fingerprint(const Json& j) {
  nlohmann::json plain = nlohmann::json::parse(j.dump(-1, ' ', false, Json::error_handler_t::replace), nullptr, false);
  return plain.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void walk_zip(const std::string& data, const std::string& prefix, IntrusionEvents& ev,
              std::map<std::string, bool>& seen, int depth, std::uint64_t& budget) {
  // Evidence that is not examined makes the scan partial (a problem, not a warning).
  if (depth > 3) {
    ev.problems.push_back({Diagnostic::Severity::Error, "", prefix, "Skipping zip nested too deeply: " + prefix, true});
    return;
  }
  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t* zs = zip_source_buffer_create(data.data(), data.size(), 0, &zerr);
  if (!zs) { zip_error_fini(&zerr); return; }
  zip_t* za = zip_open_from_source(zs, ZIP_RDONLY, &zerr);
  if (!za) {
    zip_source_free(zs);
    zip_error_fini(&zerr);
    ev.problems.push_back({Diagnostic::Severity::Error, "", prefix, "Skipping invalid zip: " + prefix, true});
    return;
  }
  zip_int64_t n = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME)) continue;
    std::string name = st.name;
    if (name.empty() || name.back() == '/') continue;
    bool txt = ends_with_icase(name, ".txt"), zip = ends_with_icase(name, ".zip");
    if (!txt && !zip) continue;
    if (!(st.valid & ZIP_STAT_SIZE) || st.size > kMaxZipEntry || st.size > budget) {
      ev.problems.push_back({Diagnostic::Severity::Error, "", prefix + "::" + name, "zip member too large", true});
      continue;
    }
    zip_file_t* zf = zip_fopen_index(za, static_cast<zip_uint64_t>(i), 0);
    if (!zf) continue;
    std::string buf(static_cast<std::size_t>(st.size), '\0');
    zip_int64_t got = zip_fread(zf, buf.data(), st.size);
    zip_fclose(zf);
    if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) {
      ev.problems.push_back({Diagnostic::Severity::Error, "", prefix + "::" + name, "cannot be read from the zip", true});
      continue;
    }
    budget -= st.size;
    if (txt) {
      ++ev.files;
      parse_intrusion_text(buf, prefix + "::" + name, ev, seen);
    } else {
      walk_zip(buf, prefix + "::" + name, ev, seen, depth + 1, budget);
    }
  }
  zip_close(za);
  zip_error_fini(&zerr);
}

}  // namespace

void parse_intrusion_text(std::string_view text, const std::string& file, IntrusionEvents& ev,
                          std::map<std::string, bool>& seen) {
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = ds::strip(text.substr(pos, end - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    ++ev.lines;
    if (line.size() > kMaxLine) {
      ev.problems.push_back({Diagnostic::Severity::Error, "", file,
                             "Skipping over-long line " + std::to_string(line_no) + " in " + file, true});
      continue;
    }
    // Depth is bounded: reject deeply nested input before parsing (nlohmann recurses).
    int depth = 0, max_depth = 0;
    bool in_str = false, esc = false;
    for (char c : line) {
      if (in_str) {
        if (esc) esc = false;
        else if (c == '\\') esc = true;
        else if (c == '"') in_str = false;
        continue;
      }
      if (c == '"') in_str = true;
      else if (c == '{' || c == '[') max_depth = std::max(max_depth, ++depth);
      else if (c == '}' || c == ']') --depth;
    }
    if (max_depth > 64) {
      ev.problems.push_back({Diagnostic::Severity::Error, "", file,
                             "Skipping line " + std::to_string(line_no) + " in " + file + ": nested too deeply", true});
      continue;
    }
    Json entry = Json::parse(line.begin(), line.end(), nullptr, false);
    if (entry.is_discarded() || !entry.is_object()) {
      ev.warnings.push_back("Failed to parse JSON on line " + std::to_string(line_no) + " in " + file);
      continue;
    }
    for (auto& [type, data] : entry.items()) {
      if (!data.is_object()) continue;
      std::string fp = fingerprint(data);
      if (seen.count(fp)) { ++ev.duplicates; continue; }
      seen.emplace(std::move(fp), true);
      ev.by_type[type].push_back(data);
    }
  }
}

std::shared_ptr<const IntrusionEvents> load_intrusion_events(AndroidSource& src) {
  auto ev = std::make_shared<IntrusionEvents>();
  std::map<std::string, bool> seen;
  std::uint64_t budget = kMaxZipTotal;
  for (auto& f : src.files()) {
    bool txt = ends_with_icase(f.path, ".txt"), zip = ends_with_icase(f.path, ".zip");
    if (!txt && !zip) continue;
    std::string err;
    auto data = src.read(f, &err, kMaxMember);
    if (!data) {
      ev->problems.push_back({Diagnostic::Severity::Error, "", f.path, err.empty() ? "cannot be read" : err, true});
      continue;
    }
    if (txt) {
      ++ev->files;
      parse_intrusion_text(*data, f.path, *ev, seen);
    } else {
      walk_zip(*data, f.path, *ev, seen, 1, budget);
    }
  }
  static const char* const kKnown[] = {"dns_event", "connect_event", "security_event"};
  for (auto& [type, list] : ev->by_type) {
    bool known = false;
    for (auto* k : kKnown) known = known || type == k;
    if (!known)
      ev->warnings.push_back("Unknown intrusion log event type '" + type + "' (" + std::to_string(list.size()) +
                             " events)");
  }
  return ev;
}

namespace {
struct EvEntry {
  std::once_flag once;
  std::shared_ptr<const IntrusionEvents> value;
  std::once_flag reported;
};
std::shared_ptr<EvEntry> ev_entry(AndroidSource& src) {
  static std::mutex mu;
  static std::map<std::pair<const AndroidSource*, std::string>, std::shared_ptr<EvEntry>> cache;
  std::lock_guard<std::mutex> lk(mu);
  auto& slot = cache[{&src, src.display()}];
  if (!slot) slot = std::make_shared<EvEntry>();
  return slot;
}
}  // namespace

std::shared_ptr<const IntrusionEvents> shared_intrusion_events(AndroidSource& src) {
  auto e = ev_entry(src);
  std::call_once(e->once, [&] { e->value = load_intrusion_events(src); });
  return e->value;
}

std::shared_ptr<const IntrusionEvents> module_intrusion_events(ModuleContext& ctx) {
  AndroidSource* src = ctx.android();
  if (!src) return nullptr;
  src = android_part(ctx, "intrusion_logs");
  if (!src) return nullptr;
  auto e = ev_entry(*src);
  auto ev = shared_intrusion_events(*src);
  // Loader problems are reported by the first module that runs (once).
  std::call_once(e->reported, [&] {
    for (auto& w : ev->warnings) ctx.warn(w);
    for (auto& p : ev->problems) ctx.diag(p);
    if (ev->duplicates)
      ctx.info("Removed " + std::to_string(ev->duplicates) + " duplicate event(s) seen across multiple log files");
  });
  return ev;
}

std::string intrusion_time(double unix_seconds, const std::string& timezone) {
  // Unknown zones fall back to UTC (as MVT, which warns and uses UTC).
  auto tz = timezone.empty() ? nullptr : TimeZone::load(timezone);
  return to_device_local(unix_seconds, tz.get());
}

void set_intrusion_timestamp(Json& r, double units_per_second, const std::string& timezone) {
  auto t = r.find("event_time");
  if (t != r.end() && t->is_number() && t->get<double>() != 0)
    r["timestamp"] = intrusion_time(t->get<double>() / units_per_second, timezone);
  else
    r["timestamp"] = nullptr;
}

void emit_intrusion_events(ModuleContext& ctx, const std::string& type, const std::string& what) {
  auto ev = module_intrusion_events(ctx);
  if (!ev) return;
  std::string tz = ctx.android() ? ctx.android()->timezone : "";
  std::size_t n = 0;
  if (auto it = ev->by_type.find(type); it != ev->by_type.end())
    for (Json r : it->second) {
      set_intrusion_timestamp(r, 1000.0, tz);
      ctx.emit(std::move(r));
      ++n;
    }
  ctx.info("Identified " + std::to_string(n) + " " + what);
}

}  // namespace bridle
