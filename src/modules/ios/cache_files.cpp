// CacheFiles (check-fs): URL cache databases (every file named Cache.db in the dump),
// cfurl_cache_response rows.
//
// Records, grouped by the database's path in the dump (MVT): entry_id, version, hash_value,
// storage_policy, url (request_key), isodate (time_stamp, as stored), cache_file.
// Deviation: MVT adds cache_file only to records that matched an indicator; bridle adds it
// to every record (alerts are built from the record, and the analyst needs the database).
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

class CacheFiles final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"CacheFiles", "cache_files", kIosFs, Level::Critical, ModuleInfo::Shape::Grouped,
                              "URLs in the apps' URL caches (Cache.db)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    std::vector<std::string> paths;
    src->for_each_entry([&](const IosFsEntry& e) {
      if (!e.is_dir && !e.is_symlink) {
        auto slash = e.path.rfind('/');
        std::string name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
        if (name == "Cache.db") paths.push_back(e.path);
      }
      return true;
    });
    if (paths.empty()) {
      ctx.info("There might be no data to extract: no Cache.db file in the dump");
      return;
    }
    std::vector<IosFile> files;
    for (auto& p : paths) {
      ArtifactSpec one{{}, {p}};
      for (auto& f : src->find(one))
        if (f.relative_path == p) files.push_back(f);
    }
    src->prefetch(files);
    for (auto& f : files) {
      SqliteError err;
      auto db = src->open_sqlite(f, &err);
      if (!db) {
        ctx.unreadable(f.display, "cannot open the cache database: " + err.message);
        continue;
      }
      ctx.info("Processing cache file at path: " + f.display);
      ios::OpenedDb odb{f, std::move(db)};
      if (!odb.db->has_table("cfurl_cache_response")) {
        ctx.info(f.display + " has no cfurl_cache_response table");
        continue;
      }
      std::string key = f.relative_path;
      ios::run_query(ctx, odb, "SELECT * FROM cfurl_cache_response", [&](const SqliteRow& row) {
        if (row.columns() < 6) return false;
        Json r = Json::object();
        r["entry_id"] = row.value(0, false);
        r["version"] = row.value(1, false);
        r["hash_value"] = row.value(2, false);
        r["storage_policy"] = row.value(3, false);
        r["url"] = row.value(4, false);
        r["isodate"] = row.value(5, false);
        r["cache_file"] = key;
        ctx.emit(std::move(r), key);
        return true;
      });
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string url = jstr(r, "url");
    if (!url.empty()) out.push_back({ObsKind::Url, url, {}});
  }

  std::string event_time(const Json& r) const override { return pystr(r, "isodate"); }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({pystr(r, "isodate"), "cache_response",
                   jstr(r, "cache_file") + " recorded visit to URL " + pystr(r, "url")});
  }
};

BRIDLE_REGISTER_MODULE(CacheFiles);

}  // namespace
}  // namespace bridle
