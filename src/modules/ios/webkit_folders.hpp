// Shared code of the WebKit website-data folder modules (WebkitIndexedDB,
// WebkitLocalStorage, WebkitSafariViewService): every child of the folder whose name starts
// with "http" names an origin ("https_example.com_0" -> "https://example.com").
//
// Records (MVT): folder (the folder's path in the dump), url, isodate (the folder's mtime,
// as MVT: the parent's, not the child's).
#pragma once
#include <string>
#include <vector>

#include "acquisition/source.hpp"
#include "core/timeutil.hpp"
#include "modules/module.hpp"

namespace bridle::ios {

inline std::string webkit_origin_url(std::string name) {
  auto replace = [&](const std::string& from, const std::string& to) {
    for (std::size_t pos = 0; (pos = name.find(from, pos)) != std::string::npos; pos += to.size())
      name.replace(pos, from.size(), to);
  };
  // MVT replaces "http_" first, then "https_" (the order matters only for odd names).
  replace("http_", "http://");
  replace("https_", "https://");
  return name.substr(0, name.find('_'));
}

// Emits one record per origin folder/file under every folder matching `globs`.
inline void webkit_folders_run(ModuleContext& ctx, const std::vector<std::string>& globs, const std::string& what) {
  IosSource* src = ctx.ios();
  if (!src) return;
  std::size_t n = 0;
  for (auto& g : globs) {
    for (auto& dir : src->fs_glob(g)) {
      if (!dir.is_dir) continue;
      ctx.info("Found " + what + " folder at path: " + dir.path);
      std::string iso = dir.mtime ? unix_to_iso(*dir.mtime) : std::string();
      for (auto& child : src->fs_glob(dir.path + "/http*")) {
        auto slash = child.path.rfind('/');
        std::string name = child.path.substr(slash + 1);
        Json r = Json::object();
        r["folder"] = dir.path;
        r["url"] = webkit_origin_url(name);
        r["isodate"] = iso;
        ctx.emit(std::move(r));
        ++n;
      }
    }
  }
  ctx.info("Extracted a total of " + std::to_string(n) + " " + what + " records");
}

inline void webkit_folders_observe(const Json& r, std::vector<Observation>& out) {
  std::string url = jstr(r, "url");
  if (!url.empty()) out.push_back({ObsKind::Url, url, {}});
}

}  // namespace bridle::ios
