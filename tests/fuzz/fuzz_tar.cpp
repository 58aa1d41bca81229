// TAR member handling (TarSource over bytes in memory, as for adb backups).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "acquisition/android_sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bridle::AndroidSourceOptions o;
  o.kind = "backup";
  o.display = "fuzz.tar";
  o.limits.max_tar_bytes = 64u << 20;
  o.limits.max_files = 10000;
  std::string err;
  auto src = bridle::TarSource::open_bytes(std::string(reinterpret_cast<const char*>(data), size), o, &err);
  if (!src) return 0;
  for (const auto& f : src->files()) (void)src->read(f, &err, 4u << 20);
  (void)src->problems();
  return 0;
}
