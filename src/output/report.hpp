// Writers for a finished scan: MVT-compatible files and the human summary.
#pragma once
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace bridle {

class IndicatorSet;

struct RunInfo {
  std::string command;            // e.g. "ios check-backup"
  std::filesystem::path target;   // as given by the user
  std::string acquisition_kind;   // "ios_backup", ...
  const IndicatorSet* indicators = nullptr;
  bool hash_all = false;          // -H: sha256 of every file under the target
  std::vector<std::filesystem::path> files_read;  // evidence files opened
  std::string started_at;         // local time
  Json extra = Json::object();    // merged into info.json (device, encryption, ...)
  bool progress = false;          // live "writing timeline: N rows" line on stderr (a terminal)
};

// Writes alerts.json, alerts_timeline.csv, timeline.csv, urls.json, info.json and
// command.log into dir. `timeline_header` is "UTC Timestamp" (iOS) or
// "Device Local Timestamp" (Android). Returns false and *err when a file can't be written.
bool write_run_outputs(const std::filesystem::path& dir, const ScanResult& result,
                       const RunInfo& info, const std::string& timeline_header, std::string* err);

Json alert_to_json(const Alert& a);
Json build_info_json(const ScanResult& result, const RunInfo& info);

// The short human summary printed at the end of a check.
void print_summary(std::ostream& os, const ScanResult& result, const RunInfo& info,
                   bool color);

}  // namespace bridle
