// Android 16 "Intrusion Logging" exports: NDJSON lines {"<event_type>": {...}} in .txt files
// (also inside nested zips). All files are read once per source and shared by the DnsEvent,
// ConnectEvent and SecurityEvent modules; an event seen in several files is kept once
// (fingerprint = its JSON with sorted keys).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/types.hpp"

namespace bridle {

class AndroidSource;
class ModuleContext;

struct IntrusionEvents {
  std::map<std::string, std::vector<Json>> by_type;  // event type -> events, in file order
  std::vector<std::string> warnings;                  // bad lines, unknown types, bad zips
  std::vector<Diagnostic> problems;                   // unreadable members
  std::size_t files = 0, lines = 0, duplicates = 0;
};

// Parses NDJSON text into `ev` (bounded: lines over 1 MiB are skipped, nesting over 64 levels
// rejected by the parser).
void parse_intrusion_text(std::string_view text, const std::string& file, IntrusionEvents& ev,
                          std::map<std::string, bool>& seen);
// Loads every .txt (and .txt inside .zip, one level of nesting per zip) of the source.
std::shared_ptr<const IntrusionEvents> load_intrusion_events(AndroidSource& src);
// Loaded once per source (thread-safe).
std::shared_ptr<const IntrusionEvents> shared_intrusion_events(AndroidSource& src);
// For modules: the intrusion-log part of the acquisition (or nullptr), events reported once.
std::shared_ptr<const IntrusionEvents> module_intrusion_events(ModuleContext& ctx);

// Event time -> device-local "YYYY-MM-DD HH:MM:SS.ffffff" in the IANA zone `timezone` ("" or
// unknown: UTC).
std::string intrusion_time(double unix_seconds, const std::string& timezone);
// Sets r["timestamp"] from r["event_time"] (counted in 1/units_per_second seconds) as
// intrusion_time(); null when the event time is missing, not a number or 0.
void set_intrusion_timestamp(Json& r, double units_per_second, const std::string& timezone);
// For modules listing one event type (event_time in milliseconds): emits every event of `type`
// with its "timestamp", then logs "Identified N <what>".
void emit_intrusion_events(ModuleContext& ctx, const std::string& type, const std::string& what);

}  // namespace bridle
