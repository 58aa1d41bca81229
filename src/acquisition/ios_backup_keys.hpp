// Unlocking encrypted iOS backups: password -> derived key -> class keys -> in-memory
// decryption of Manifest.db and of each file (see ios_crypto.hpp for the primitives).
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "acquisition/ios_backup.hpp"

namespace bridle {

// Iteration counts above these are refused as implausible (a hostile keybag could otherwise
// make key derivation run for hours). Real backups use DPIC 10,000,000 and ITER 10,000.
inline constexpr std::uint32_t kMaxDpic = 100'000'000;
inline constexpr std::uint32_t kMaxIter = 10'000'000;

// PBKDF2 key derivation from the password (costs what the backup's iteration counts cost).
std::optional<std::string> derive_backup_key(const fs::path& root, std::string_view password,
                                             std::string* err);
// Checks the derived key against the keybag (fails fast on the first class key unwrap) and
// returns a decryptor; err "wrong password or key" when it does not fit.
std::unique_ptr<BackupDecryptor> unlock_backup(const fs::path& root, std::string_view derived_key,
                                               std::string* err);

}  // namespace bridle
