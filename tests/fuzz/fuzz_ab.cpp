// adb backup (.ab): header, optional encryption and compression, then the tar it carries.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "acquisition/android_backup.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  bridle::AbLimits lim;
  lim.max_output = 8u << 20;
  lim.max_in_memory = 8u << 20;
  lim.max_rounds = 64;  // PBKDF2 rounds: keep each run fast
  (void)bridle::looks_like_android_backup(s);
  std::optional<std::string> pw;
  if (size && (data[size - 1] & 1)) pw = "password";
  bridle::AbStatus st{};
  std::string err;
  auto src = bridle::open_android_backup_bytes(s, pw, "fuzz.ab", &st, &err, lim);
  if (src) {
    for (const auto& f : src->files()) (void)src->read(f, &err, 1u << 20);
    (void)src->problems();
  }
  return 0;
}
