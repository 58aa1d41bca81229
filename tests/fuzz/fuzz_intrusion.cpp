// Android intrusion-logging NDJSON (parse_intrusion_text).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <map>

#include "modules/android/intrusion_logs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  bridle::IntrusionEvents ev;
  std::map<std::string, bool> seen;
  bridle::parse_intrusion_text(s, "fuzz.txt", ev, seen);
  return 0;
}
