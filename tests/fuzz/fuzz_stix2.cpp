// STIX2 bundle loader (IndicatorSet::load_bundle) and the index built from what loaded.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "indicators/indicators.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bridle::IndicatorSet set;
  set.load_bundle(text, "fuzz.stix2");
  (void)set.counts();
  (void)set.digest();
  bridle::IndicatorIndex index(set);
  // Every loaded value looked up as itself, and the raw input as each kind of observable.
  std::size_t n = 0;
  for (const auto& ind : set.indicators()) {
    if (++n > 64) break;
    (void)index.match({bridle::ObsKind::Domain, ind.value, {}});
    (void)index.match({bridle::ObsKind::Url, ind.raw_value, {}});
  }
  std::string probe(text.substr(0, 4096));
  for (auto k : {bridle::ObsKind::Domain, bridle::ObsKind::Url, bridle::ObsKind::Ip,
                 bridle::ObsKind::Process, bridle::ObsKind::FilePath, bridle::ObsKind::FileName})
    (void)index.match({k, probe, {}});
  return 0;
}
