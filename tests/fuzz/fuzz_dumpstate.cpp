// Bug report dumpstate splitter (Dumpstate::from_text) and every dumpsys module over it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "modules/android/dumpstate.hpp"
#include "support/android_mem_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto ds = bridle::Dumpstate::from_text(text, "dumpstate.txt");
  for (const auto& name : ds->service_names()) {
    (void)ds->service(name);
    (void)ds->extract(name);
  }
  (void)ds->system_properties();
  static const char* const kModules[] = {
      "DumpsysAccessibility", "DumpsysActivities", "DumpsysADBState", "DumpsysAppops",
      "DumpsysBatteryDaily", "DumpsysBatteryHistory", "DumpsysDBInfo", "DumpsysGetProp",
      "DumpsysPackages", "DumpsysPlatformCompat", "DumpsysReceivers", "Mounts"};
  for (const char* m : kModules) {
    bridle::test::MemAndroidSource src;
    src.dumpstate = ds;
    (void)bridle::test::run_module(m, src);
  }
  return 0;
}
