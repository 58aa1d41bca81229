// iOS shutdown.log (ShutdownLog module's parser, sysdiagnose / check-fs).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modules/ios/shutdown_log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = bridle::parse_shutdown_log(std::string_view(reinterpret_cast<const char*>(data), size));
  std::size_t clients = parsed.trailing_clients;
  for (auto& s : parsed.shutdowns) clients += s.clients.size();
  // Every client line is counted once, attributed to a shutdown or trailing.
  if (clients > size) __builtin_trap();
  return 0;
}
