// Core vocabulary shared by every layer: alert levels, observables, diagnostics.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace bridle {

// Records keep MVT's field order, so they use the order-preserving JSON type.
using Json = nlohmann::ordered_json;

enum class Level : int { Informational = 0, Low = 10, Medium = 20, High = 30, Critical = 40 };

// "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL" (MVT's alerts.json spelling).
std::string_view level_name(Level level);
std::optional<Level> parse_level(std::string_view name);

// What kind of observable value a record field carries. Matching is central: modules
// say what they saw, the engine looks it up in the indicator index.
enum class ObsKind : std::uint8_t {
  Domain,     // host name (or IP literal written as a host)
  Url,        // full URL; also yields its host as a domain observable
  Ip,         // IPv4/IPv6 literal
  Process,    // process name or path of an executable (basename is used)
  FilePath,   // absolute or relative file path (also checked as file name)
  FileName,   // a bare file name
  Email,
  AppId,      // Android package / iOS bundle id
  FileHash,   // md5/sha1/sha256 chosen by length
  CertHash,   // app signing certificate hash
  ProfileId,  // iOS configuration profile UUID
  Property,   // Android system property name
};
inline constexpr int kObsKindCount = 12;
std::string_view obs_kind_name(ObsKind kind);  // "domain", "url", ...
std::optional<ObsKind> parse_obs_kind(std::string_view name);

struct Observation {
  ObsKind kind;
  std::string value;
  // Optional alert level override for this observation (else the module's IOC level).
  std::optional<Level> level{};
};

// Something the scan could not do or wants a human to know. `unread` diagnostics make
// the run "partial": the verdict can never be a plain "clean".
struct Diagnostic {
  enum class Severity { Info, Warning, Error };
  Severity severity = Severity::Warning;
  std::string module;   // module name or "" for the command itself
  std::string file;     // file concerned (path inside the acquisition) or ""
  std::string message;
  bool unread = false;  // evidence that exists could not be (fully) read
};

}  // namespace bridle
