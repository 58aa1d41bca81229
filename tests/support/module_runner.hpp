// Test helper shared by the iOS module tests: runs one module through the engine over a
// backup folder or a filesystem dump (or an opened IosSource) and collects what it wrote
// (<slug>.json) and what the engine reported (alerts, timeline, diagnostics).
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acquisition/source.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/support.hpp"

namespace bridle::test {

struct ModuleRun {
  ScanResult result;
  Json records = Json::array();  // <slug>.json (an empty array when the module wrote none)
  std::filesystem::path out_dir;  // where the engine wrote its files
  std::shared_ptr<Scratch> scratch;  // owns out_dir when the caller gave none
  std::vector<const Alert*> alerts(std::optional<Level> l = std::nullopt) const;
  // Timeline rows (of this event when not empty).
  std::vector<const TimelineEntry*> rows(const std::string& event = "") const;
};

struct ModuleRunOptions {
  bool fs_dump = false;  // the source is a filesystem dump (check-fs) rather than a backup
  bool fast = false;     // ModuleOptions::fast
  // Output folder; when empty, a fresh folder kept alive by the ModuleRun.
  std::filesystem::path out_dir;
  // Indicators loaded by the caller, used instead of the `stix` bundle when set.
  const IndicatorSet* indicators = nullptr;
};

// Runs module `module` (class name) over the backup / dump at `source` with the STIX2 bundle
// `stix` (none when empty).
ModuleRun run_ios_module(const std::filesystem::path& source, const std::string& module,
                         const std::string& stix = "", bool fs_dump = false);
ModuleRun run_ios_module(const std::filesystem::path& source, const std::string& module,
                         const std::string& stix, const ModuleRunOptions& opts);
// The same over an opened source (backup modules when src.is_backup(), check-fs ones otherwise).
ModuleRun run_ios_module(IosSource& src, const std::string& module, const std::string& stix = "",
                         const ModuleRunOptions& opts = {});

// Whether the run's timeline has a row with exactly these timestamp, event and description.
bool has_timeline_row(const ScanResult& r, const std::string& ts, const std::string& event,
                      const std::string& desc);
// A STIX2 bundle with one indicator `pattern`, from malware "Spy".
std::string stix_with(const std::string& pattern);

}  // namespace bridle::test
