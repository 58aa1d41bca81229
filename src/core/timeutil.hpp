// Timestamp conversions, all producing MVT's "YYYY-MM-DD HH:MM:SS.ffffff" UTC strings.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace bridle {

inline constexpr double kMacEpochOffset = 978307200.0;  // 2001-01-01 - 1970-01-01

// Unix seconds (fractional) -> "YYYY-MM-DD HH:MM:SS.ffffff" (UTC). Microseconds are rounded
// half-to-even like Python's datetime.utcfromtimestamp. Returns "" when out of range.
std::string unix_to_iso(double seconds);
std::string unix_to_iso_int(std::int64_t seconds);
// Cocoa/Mac absolute time (seconds since 2001-01-01). An integer with exactly 18 digits is
// nanoseconds (sms.db); MVT keeps only its first 9 digits. 0 gives "".
std::string mac_to_iso(double seconds);
std::string mac_to_iso_int(std::int64_t value);
// Chrome/WebKit time: microseconds since 1601-01-01.
std::string chrome_to_iso(std::int64_t micros);
// Current time, local or UTC, in the same format.
std::string now_iso_local();
std::string now_iso_utc();
// Parse "YYYY-MM-DD HH:MM:SS[.ffffff]" as UTC; nullopt when malformed.
std::optional<double> iso_to_unix(const std::string& iso);

}  // namespace bridle
