// URL / host / IP / path normalisers (applied to every observable from evidence and to every
// indicator value).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "indicators/indicators.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  (void)bridle::normalize_host(s);
  if (auto u = bridle::normalize_url(s)) {
    // A normalised URL normalises to itself and has a host.
    auto again = bridle::normalize_url(*u);
    (void)again;
  }
  (void)bridle::url_host(s);
  if (auto ip = bridle::normalize_ip(s)) (void)bridle::normalize_ip(*ip);
  (void)bridle::normalize_path(s);
  return 0;
}
