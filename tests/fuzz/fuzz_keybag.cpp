// Backup keybag TLV parser (ios::parse_keybag) and the MBFile decoder (ios::decode_mbfile).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "acquisition/ios_crypto.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view s(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string err;
  if (data[0] & 1) {
    (void)bridle::ios::decode_mbfile(s, &err);
  } else if (auto kb = bridle::ios::parse_keybag(s, &err)) {
    // Unlocking with a dummy key exercises the class-key walk (unwrap fails fast).
    std::string key(32, '\x01');
    (void)bridle::ios::BackupKeys::unlock(*kb, key, &err);
  }
  return 0;
}
