// AQFProcesses: androidqf ps.txt (`ps -A`, optionally with an SELinux label column).
#include "core/util.hpp"
#include "modules/android/common.hpp"

namespace bridle {
namespace {

std::int64_t to_int(const std::string& s) {
  try {
    std::size_t pos = 0;
    long long v = std::stoll(s, &pos);
    return pos == s.size() ? v : 0;
  } catch (...) {
    return 0;
  }
}

class AqfProcesses final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"AQFProcesses", "aqf_processes", kAndroidQF, Level::Critical, ModuleInfo::Shape::List,
                              "Running processes (androidqf ps.txt)"};
    return i;
  }

  // One `ps` line -> record; nullopt for the header and malformed lines.
  static std::optional<Json> parse_line(std::string_view line) {
    std::vector<std::string> t;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      std::size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i) t.emplace_back(line.substr(i, j - i));
      i = j;
    }
    std::string label;
    if (!t.empty() && t[0].rfind("u:", 0) == 0 && t[0].find(':', 2) != std::string::npos) {
      label = t[0];
      t.erase(t.begin());
    }
    if (t.size() < 9 || t[0] == "USER" || t[1] == "PID") return std::nullopt;
    std::string name = t[8];
    for (std::size_t k = 9; k < t.size(); ++k) name += " " + t[k];
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    Json r;
    r["user"] = t[0];
    r["pid"] = to_int(t[1]);
    r["ppid"] = to_int(t[2]);
    r["virtual_memory_size"] = to_int(t[3]);
    r["resident_set_size"] = to_int(t[4]);
    r["wchan"] = t[5];
    r["aprocress"] = t[6];  // sic: MVT's field name
    r["stat"] = t[7];
    r["proc_name"] = name;
    r["label"] = label;
    return r;
  }

  void run(ModuleContext& ctx) override {
    auto* src = android_part(ctx, "androidqf");
    if (!src) return;
    auto f = src->first("*/ps.txt");
    if (!f) return;
    auto text = android_read(ctx, *src, *f);
    if (!text) return;
    std::size_t n = 0;
    for (auto& line : split(*text, '\n')) {
      std::string l = line;
      if (!l.empty() && l.back() == '\r') l.pop_back();
      if (auto r = parse_line(l)) {
        ctx.emit(std::move(*r));
        ++n;
      }
    }
    ctx.info("Identified " + std::to_string(n) + " running processes");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string name = jstr(r, "proc_name");
    if (name.empty()) return;
    out.push_back({ObsKind::AppId, name, {}});
    if (name != "gatekeeperd") out.push_back({ObsKind::Process, name, {}});
  }
};

BRIDLE_REGISTER_MODULE(AqfProcesses);

}  // namespace
}  // namespace bridle
