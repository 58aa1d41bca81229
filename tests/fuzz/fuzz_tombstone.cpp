// Tombstones (text and protobuf). The parsers are private to the module, so the module runs
// over an in-memory bug report holding the input as one tombstone.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "support/android_mem_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  bridle::test::MemAndroidSource src("bugreport");
  src.add((data[0] & 1) ? "FS/data/tombstones/tombstone_00.pb" : "FS/data/tombstones/tombstone_00",
          std::move(body), 1700000000);
  (void)bridle::test::run_module("Tombstones", src);
  return 0;
}
