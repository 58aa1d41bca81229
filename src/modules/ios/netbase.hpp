// Shared logic of the per-process network usage databases (CoreData stores with ZPROCESS and
// ZLIVEUSAGE tables): DataUsage.sqlite (Datausage, backups and fs dumps) and netusage.sqlite
// (Netusage, fs dumps). A module derives from NetBase and only supplies info(), the
// artifact spec and a label for messages.
//
// Records (MVT's field order): first_isodate, isodate, proc_name, bundle_id, proc_id,
// wifi_in, wifi_out, wwan_in, wwan_out, live_id, live_proc_id, live_isodate — one per
// ZLIVEUSAGE row (left-joined to its ZPROCESS row) plus one per ZPROCESS row that no
// ZLIVEUSAGE row references, sorted by first_isodate.
//
// Heuristics raised in run():
//  - fs dumps without --fast: a process without a bundle id whose name is no file name in
//    the dump -> MEDIUM "Could not find the binary associated with the process with name X";
//  - ZLIVEUSAGE rows whose ZPROCESS row was deleted (an anti-forensic trace of Pegasus) ->
//    the record is renamed "MANIPULATED [process record deleted]" and one HIGH alert is
//    raised per deleted process;
//  - gaps in the ZPROCESS.Z_PK sequence -> LOW "Missing process N. Previous process at ..."
//    and a placeholder record "MISSING [follows <previous name>]";
//  - a process named BackupAgent (Kaspersky's exact Operation Triangulation detection) ->
//    CRITICAL.
#pragma once
#include <string>
#include <vector>

#include "acquisition/source.hpp"
#include "modules/module.hpp"

namespace bridle::ios {

class NetBase : public Module {
 public:
  void run(ModuleContext& ctx) override;
  // proc_name (and bundle_id when it differs from proc_name's basename) as processes.
  void observe(const Json& record, std::vector<Observation>& out) const override;
  // live_usage, and first_usage/current_usage for rows with a live ZPROCESS entry.
  void timeline(const Json& record, std::vector<TimelineRow>& out) const override;
  // Indicator alerts are dated with the process's first_isodate (as MVT's alerts timeline).
  std::string event_time(const Json& record) const override;

 protected:
  // Where the database is.
  virtual const ArtifactSpec& spec() const = 0;
  // Human name of the database ("DataUsage", "netusage"), used in messages.
  virtual std::string what() const = 0;
};

// True when a process name (as stored in ZPROCNAME: "name" or "name/bundle") is the
// BackupAgent process of Operation Triangulation (not Apple's BackupAgent2).
bool is_triangulation_backup_agent(const std::string& proc_name);

}  // namespace bridle::ios
