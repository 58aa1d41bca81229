// androidqf JSON/text inputs. The modules expose no parse function, so each runs over an
// in-memory androidqf folder holding the input as its file (first byte picks which).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "support/android_mem_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  struct Target { const char* module; const char* file; };
  static const Target kTargets[] = {
      {"AQFPackages", "qf/packages.json"},   {"AQFFiles", "qf/files.json"},
      {"AQFProcesses", "qf/ps.txt"},         {"AQFGetProp", "qf/getprop.txt"},
      {"AQFSettings", "qf/settings_secure.txt"}, {"AQFLogTimestamps", "qf/logs/log.txt"},
  };
  const Target& t = kTargets[data[0] % (sizeof kTargets / sizeof kTargets[0])];
  bridle::test::MemAndroidSource src("androidqf");
  src.add(t.file, std::string(reinterpret_cast<const char*>(data + 1), size - 1), 1700000000);
  (void)bridle::test::run_module(t.module, src);
  return 0;
}
