// DumpsysDBInfo: recently executed SQL per database connection pool ("DUMP OF SERVICE dbinfo:").
#include "core/util.hpp"
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Position of the first "[YYYY-MM-DD HH:MM:SS.fff]" in s, or npos.
std::size_t find_date(std::string_view s) {
  static const char kShape[] = "[dddd-dd-dd dd:dd:dd.ddd]";
  for (std::size_t i = s.find('['); i != std::string_view::npos; i = s.find('[', i + 1)) {
    if (i + 25 > s.size()) return std::string_view::npos;
    bool ok = true;
    for (std::size_t k = 0; k < 25 && ok; ++k)
      ok = kShape[k] == 'd' ? is_digit(s[i + k]) : s[i + k] == kShape[k];
    if (ok) return i;
  }
  return std::string_view::npos;
}

// sql="..." (the last one followed by a non-empty quoted value).
std::optional<std::string_view> find_sql(std::string_view s, std::size_t from) {
  std::size_t p = s.rfind("sql=\"");
  while (p != std::string_view::npos && p >= from) {
    auto q = s.find('"', p + 6);
    if (q != std::string_view::npos) return s.substr(p + 5, q - p - 5);
    if (p == 0) break;
    p = s.rfind("sql=\"", p - 1);
  }
  return std::nullopt;
}

std::optional<Json> parse_operation(std::string_view line, const std::string& pool) {
  auto d = find_date(line);
  if (d == std::string_view::npos) return std::nullopt;
  std::string date(line.substr(d + 1, 23));
  std::size_t after = d + 25;
  Json r = Json::object();
  r["isodate"] = date;
  // With pid: "... [Pid:(N)]action ..."
  auto pid = line.find("[Pid:(", after);
  if (pid != std::string_view::npos) {
    std::size_t k = pid + 6, ds0 = k;
    while (k < line.size() && is_digit(line[k])) ++k;
    if (k > ds0 && line.substr(k, 2) == ")]") {
      std::size_t a = k + 2, a0 = a;
      while (a < line.size() && is_word(line[a])) ++a;
      if (a > a0) {
        if (auto sql = find_sql(line, a)) {
          r["pid"] = std::string(line.substr(ds0, k - ds0));
          r["action"] = std::string(line.substr(a0, a - a0));
          r["sql"] = ds::valid_utf8(*sql);
          r["path"] = pool;
          return r;
        }
      }
    }
  }
  // Without pid: "[date] action ... sql=\"...\""
  if (after < line.size() && line[after] == ' ') {
    std::size_t a = after + 1, a0 = a;
    while (a < line.size() && is_word(line[a])) ++a;
    if (a > a0) {
      if (auto sql = find_sql(line, a)) {
        r["action"] = std::string(line.substr(a0, a - a0));
        r["sql"] = ds::valid_utf8(*sql);
        r["path"] = pool;
        return r;
      }
    }
  }
  return std::nullopt;
}

Json parse_dbinfo(std::string_view text) {
  Json results = Json::array();
  std::string pool;
  bool have_pool = false, in_ops = false;
  for_each_line(text, [&](std::string_view line) {
    if (ds::starts(line, "Connection pool for ")) {
      std::string_view p = line.substr(20);
      while (!p.empty() && p.back() == ':') p.remove_suffix(1);
      pool = ds::valid_utf8(p);
      have_pool = true;
    }
    if (!have_pool) return true;
    if (ds::strip(line) == "Most recently executed operations:") { in_ops = true; return true; }
    if (!in_ops) return true;
    if (!ds::indented(line, 8)) { in_ops = false; have_pool = false; return true; }
    if (auto r = parse_operation(line, pool)) results.push_back(std::move(*r));
    return true;
  });
  return results;
}

class DumpsysDBInfo final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysDBInfo", "dbinfo", kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::List, "Recent SQL operations per database (dumpsys dbinfo)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    Json results = parse_dbinfo(d->service("dbinfo"));
    ctx.info("Extracted a total of " + std::to_string(results.size()) + " database connection pool records");
    for (auto& r : results) ctx.emit(r);
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    // Every path component may be a package name (/data/user/0/<package>/databases/...).
    for (auto& part : split(jstr(r, "path"), '/'))
      if (!part.empty()) out.push_back({ObsKind::AppId, part, {}});
  }
};

BRIDLE_REGISTER_MODULE(DumpsysDBInfo);

}  // namespace
}  // namespace bridle
