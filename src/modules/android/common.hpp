// Helpers shared by the Android modules: finding the part of the acquisition a module reads
// (the source itself or a nested bugreport/backup/intrusion-log part), reading members with
// problems reported, getprop parsing, and device-local time.
//
// Device-local time: MVT prints Android timestamps in the device's timezone
// (persist.sys.timezone). libstdc++ 12 has no std::chrono::tzdb and glibc's localtime_r needs
// the process-wide TZ variable (not thread-safe; modules run in parallel), so this file reads
// the system's compiled zone files itself: a small, bounded TZif (RFC 8536) reader over
// $TZDIR or /usr/share/zoneinfo, cached per zone. Instants after a zone's last listed
// transition use that transition's offset (Debian ships "fat" zone files listing transitions
// up to 2037; the POSIX-TZ footer rule is not evaluated).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acquisition/android_source.hpp"
#include "modules/module.hpp"

namespace bridle {

// The source itself when its kind() matches, else its nested part of that kind, else nullptr.
AndroidSource* android_part(ModuleContext& ctx, const std::string& kind);

// Reads a member; on failure reports it as unreadable (partial run) and returns nullopt.
std::optional<std::string> android_read(ModuleContext& ctx, AndroidSource& src, const AndroidFile& f,
                                        std::uint64_t max_bytes = 512ull << 20);

// Streams a member in bounded chunks (AndroidSource::read_stream); on failure reports it as
// unreadable (partial run) and returns false. Chunks delivered before a damage was found
// stay delivered.
bool android_read_stream(ModuleContext& ctx, AndroidSource& src, const AndroidFile& f,
                         const AndroidSource::ChunkSink& sink, std::uint64_t max_bytes = ~0ull);

// Parses JSON from evidence without losing digits: integers too large for 64 bits (e.g. APK
// certificate serial numbers) become strings with their exact digits instead of lossy
// doubles. A discarded value (is_discarded()) when the text is not JSON.
Json parse_json_exact(std::string_view text);

// getprop output lines "[name]: [value]" (MVT's regex \[(.+?)\]: \[(.+?)\], so empty names or
// values are skipped as MVT does).
std::vector<std::pair<std::string, std::string>> parse_getprop(std::string_view text);

class TimeZone {
 public:
  // "" or "UTC" -> UTC. nullptr + reason when the zone is unknown or its file is invalid.
  static std::shared_ptr<const TimeZone> load(const std::string& name, std::string* err = nullptr);
  // Offset from UTC in seconds at the instant `utc` (unix seconds).
  std::int32_t offset_at(std::int64_t utc) const;
  const std::string& name() const { return name_; }

  // Parses TZif bytes (exposed for tests).
  static std::shared_ptr<const TimeZone> parse(const std::string& name, std::string_view data,
                                               std::string* err);

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;
  std::vector<std::uint8_t> type_of_;
  std::vector<std::int32_t> offsets_;
  std::int32_t initial_ = 0;
};

// Unix seconds -> "YYYY-MM-DD HH:MM:SS.ffffff" in the zone (UTC when tz is null). "" when out
// of range.
std::string to_device_local(double unix_seconds, const TimeZone* tz);
// Same, with the acquisition's zone (source->timezone); unknown zones fall back to UTC.
std::string to_device_local(double unix_seconds, const AndroidSource& src);

}  // namespace bridle
