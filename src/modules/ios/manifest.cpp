// Manifest: every file the backup lists (Manifest.db Files), with MBFile metadata.
#include <cstdio>
#include <set>

#include "acquisition/source.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "formats/plist.hpp"
#include "indicators/psl.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

std::string py_oct(std::int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0o%llo", static_cast<unsigned long long>(v));
  return buf;
}

class Manifest final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Manifest", "manifest", kIosBackup, Level::High,
                              ModuleInfo::Shape::List, "Files listed in the backup's Manifest.db"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    std::size_t n = 0, undecoded = 0;
    std::string err;
    PlistOptions po;
    bool ok = src->for_each_manifest_row(
        [&](const std::string& id, const std::string& domain, const std::string& rel,
            std::int64_t flags, std::string_view blob) {
          Json r;
          r["file_id"] = id;
          r["domain"] = domain;
          r["relative_path"] = rel;
          r["flags"] = flags;
          std::optional<Json> mb;
          if (!blob.empty())
            mb = nska_root_members(blob, {"Birth", "LastModified", "LastStatusChange", "Mode", "UserID", "Size"}, po);
          if (mb && mb->is_object()) {
            auto ts = [&](const char* k) -> std::string {
              auto v = jint(*mb, k, 0);
              return unix_to_iso_int(v);
            };
            r["created"] = ts("Birth");
            r["modified"] = ts("LastModified");
            r["status_changed"] = ts("LastStatusChange");
            r["mode"] = py_oct(jint(*mb, "Mode", 0));
            r["owner"] = jint(*mb, "UserID", 0);
            r["size"] = jint(*mb, "Size", 0);
          } else {
            if (!blob.empty()) ++undecoded;
            r["created"] = "";
            r["modified"] = "";
            r["status_changed"] = "";
            r["mode"] = nullptr;
            r["owner"] = nullptr;
            r["size"] = nullptr;
          }
          // A file row whose fileID is not 40 lower-case hex digits ("../../etc/passwd") names
          // no file of the backup: it is never opened, and the run says so (partial).
          if (flags == 1 && (id.size() != 40 || id.find_first_not_of("0123456789abcdef") != std::string::npos))
            ctx.unreadable(domain + "/" + rel,
                           "Manifest.db gives it the invalid fileID '" + utf8_backslashreplace(id.substr(0, 200)) +
                               "' (outside the backup layout): not read");
          ctx.emit(std::move(r));
          ++n;
        },
        &err);
    if (!ok) ctx.unreadable("Manifest.db", "could not read the Files table: " + err);
    if (undecoded)
      ctx.diag({Diagnostic::Severity::Warning, "", "Manifest.db",
                std::to_string(undecoded) + " file records could not be decoded (metadata missing)", false});
    ctx.info("Extracted a total of " + std::to_string(n) + " file metadata items");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string rel = jstr(r, "relative_path");
    if (rel.empty()) return;
    out.push_back({ObsKind::FilePath, "/" + rel, {}});
    // Domains mentioned in file names, e.g. WebKit "https_evil.com_0.localstorage".
    std::string lower = to_lower(rel);
    for (auto& part : split(lower, '_')) {
      std::string host = part.substr(0, part.find('/'));
      if (host.find('.') != std::string::npos && has_registrable_domain(host))
        out.push_back({ObsKind::Domain, host, {}});
    }
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    std::string c = jstr(r, "created"), m = jstr(r, "modified"), s = jstr(r, "status_changed");
    std::set<std::string> times;
    for (auto* t : {&c, &m, &s})
      if (!t->empty()) times.insert(*t);
    std::string desc = jstr(r, "relative_path") + " - " + jstr(r, "domain");
    for (auto& t : times) {
      std::string macb;
      macb += (m == t) ? 'M' : '-';
      macb += '-';
      macb += (s == t) ? 'C' : '-';
      macb += (c == t) ? 'B' : '-';
      out.push_back({t, macb, desc});
    }
  }
};

BRIDLE_REGISTER_MODULE(Manifest);

}  // namespace
}  // namespace bridle
