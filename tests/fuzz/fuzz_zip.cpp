// ZIP member handling (ZipSource over bytes in memory): names, limits, reads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "acquisition/android_sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  bridle::AndroidSourceOptions o;
  o.kind = (data[0] & 1) ? "androidqf" : "bugreport";
  o.parent_relative = data[0] & 1;
  o.display = "fuzz.zip";
  o.limits.max_total_uncompressed = 64u << 20;
  o.limits.max_files = 10000;
  std::string err;
  auto src = bridle::ZipSource::open_bytes(
      std::string(reinterpret_cast<const char*>(data + 1), size - 1), o, &err);
  if (!src) return 0;
  for (const auto& f : src->files()) (void)src->read(f, &err, 4u << 20);
  (void)src->problems();
  return 0;
}
