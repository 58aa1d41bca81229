#include "core/types.hpp"

#include <array>

namespace bridle {

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Informational: return "INFORMATIONAL";
    case Level::Low: return "LOW";
    case Level::Medium: return "MEDIUM";
    case Level::High: return "HIGH";
    case Level::Critical: return "CRITICAL";
  }
  return "UNKNOWN";
}

std::optional<Level> parse_level(std::string_view name) {
  for (Level l : {Level::Informational, Level::Low, Level::Medium, Level::High, Level::Critical})
    if (level_name(l) == name) return l;
  if (name == "INFO") return Level::Informational;
  return std::nullopt;
}

namespace {
constexpr std::array<std::string_view, kObsKindCount> kObsNames = {
    "domain", "url", "ip", "process", "file_path", "file_name",
    "email", "app_id", "file_hash", "cert_hash", "profile_id", "property"};
}

std::string_view obs_kind_name(ObsKind kind) { return kObsNames[static_cast<int>(kind)]; }

std::optional<ObsKind> parse_obs_kind(std::string_view name) {
  for (int i = 0; i < kObsKindCount; ++i)
    if (kObsNames[i] == name) return static_cast<ObsKind>(i);
  return std::nullopt;
}

}  // namespace bridle
