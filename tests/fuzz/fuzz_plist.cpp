// plist_to_json (binary and XML plists from backups and file systems) and nska_to_json
// (the NSKeyedArchiver `file` blobs of Manifest.db).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/plist.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte picks the options; the rest is the plist.
  std::uint8_t sel = data[0];
  std::string_view s(reinterpret_cast<const char*>(data + 1), size - 1);
  bridle::PlistOptions o;
  o.data_as_base64 = sel & 1;
  if (sel & 2) o.max_depth = 16;
  if (sel & 4) o.max_nodes = 1000;
  std::string err;
  if (auto j = bridle::plist_to_json(s, o, &err)) (void)j->dump(-1, ' ', false, bridle::Json::error_handler_t::replace);
  err.clear();
  if (auto j = bridle::nska_to_json(s, o, &err)) (void)j->dump(-1, ' ', false, bridle::Json::error_handler_t::replace);
  return 0;
}
