// `bridle ios check-backup`, `decrypt-backup`, `extract-key`.
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acquisition/ios_backup.hpp"
#include "acquisition/ios_backup_keys.hpp"
#include "acquisition/ios_crypto.hpp"
#include "cli/cli.hpp"
#include "cli/secrets.hpp"
#include "core/jsonio.hpp"
#include "core/util.hpp"

namespace bridle::cli {
namespace {

struct KeyArgs {
  std::string password;
  std::string key_file;
};

void add_key_options(CLI::App* cmd, KeyArgs& k, bool key_file_is_output = false) {
  cmd->add_option("-p,--password", k.password,
                  "Backup password (else BRIDLE_IOS_BACKUP_PASSWORD, else a prompt on a terminal)");
  if (!key_file_is_output)
    cmd->add_option("-k,--key-file", k.key_file, "File holding the derived backup key (64 hex characters)");
}

// The derived key of an encrypted backup: from --key-file, or derived from the password
// (-p, BRIDLE_IOS_BACKUP_PASSWORD, prompt). Never logged.
std::string obtain_key(const fs::path& root, KeyArgs& k) {
  std::string err;
  if (!k.key_file.empty()) {
    auto text = read_file(k.key_file, 4096, &err);
    if (!text) throw Fail{kExitCannotRun, "cannot read the key file " + k.key_file + ": " + err};
    auto key = ios::parse_key_hex(*text, &err);
    ios::cleanse(*text);
    if (!key) throw Fail{kExitCannotRun, k.key_file + ": " + err};
    return *key;
  }
  std::string pw = k.password;
  ios::cleanse(k.password);
  if (pw.empty()) {
    if (const char* env = std::getenv("BRIDLE_IOS_BACKUP_PASSWORD"); env && *env) pw = env;
  }
  if (pw.empty()) {
    auto typed = prompt_password("Password of the encrypted backup: ");
    if (!typed) throw Fail{kExitCannotRun, "encrypted backup: give --password (or --key-file, or BRIDLE_IOS_BACKUP_PASSWORD)"};
    pw = std::move(*typed);
  }
  std::cerr << "Deriving the backup key from the password (PBKDF2, a few seconds)...\n";
  auto key = derive_backup_key(root, pw, &err);
  ios::cleanse(pw);
  if (!key) throw Fail{kExitCannotRun, "cannot derive the backup key: " + err};
  return *key;
}

std::unique_ptr<BackupDecryptor> unlock(const fs::path& root, KeyArgs& k) {
  std::string key = obtain_key(root, k);
  std::string err;
  auto dec = unlock_backup(root, key, &err);
  ios::cleanse(key);
  if (!dec) {
    if (err.find("wrong password") != std::string::npos)
      throw Fail{kExitCannotRun, "wrong password or key for the encrypted backup " + root.string()};
    throw Fail{kExitCannotRun, "cannot unlock the encrypted backup: " + err};
  }
  return dec;
}

fs::path locate_or_fail(const std::string& path) {
  if (path.empty()) throw Fail{kExitCannotRun, "give the path of the backup"};
  auto loc = locate_backup(path);
  if (!loc.root) throw Fail{kExitCannotRun, loc.error};
  return *loc.root;
}

struct IosBackupArgs {
  std::string path;
  CheckOptions check;
  KeyArgs key;
};

void setup_check_backup(CLI::App& root) {
  auto* ios = group(root, "ios", "Check iPhone acquisitions (backups, filesystem dumps)");
  auto args = std::make_shared<IosBackupArgs>();
  auto* cmd = ios->add_subcommand("check-backup", "Check an iTunes/Finder backup of an iPhone (encrypted or not)");
  cmd->add_option("path", args->path, "Backup folder (with Manifest.db and Info.plist) or a folder holding exactly one");
  add_check_options(cmd, args->check);
  add_key_options(cmd, args->key);
  cmd->callback([args] {
    if (args->check.list_modules) {
      list_modules(kIosBackup);
      return;
    }
    fs::path root = locate_or_fail(args->path);
    std::unique_ptr<BackupDecryptor> dec;
    bool encrypted = backup_is_encrypted(root);
    if (encrypted) dec = unlock(root, args->key);
    std::string err;
    auto src = IosBackupSource::open(root, &err, std::move(dec));
    if (!src) throw Fail{kExitCannotRun, root.string() + ": " + err};
    std::cerr << "Checking " << (encrypted ? "encrypted " : "") << "iTunes backup located at: " << root.string()
              << (encrypted ? " (decrypted in memory)" : "") << "\n";
    Json extra = {{"encrypted", encrypted}};
    exit_code() = run_check("ios check-backup", "ios_backup", kIosBackup, root, src.get(), nullptr,
                            args->check, extra);
  });
}

struct DecryptArgs {
  std::string path, dest;
  KeyArgs key;
  bool hashes = false;
  unsigned threads = 0;
};

void setup_decrypt_backup(CLI::App& root) {
  auto* ios = group(root, "ios", "Check iPhone acquisitions (backups, filesystem dumps)");
  auto a = std::make_shared<DecryptArgs>();
  auto* cmd = ios->add_subcommand("decrypt-backup",
                                  "Write a decrypted copy of an encrypted backup (check-backup does not need it)");
  cmd->add_option("path", a->path, "Encrypted backup folder")->required();
  cmd->add_option("-d,--destination", a->dest, "Folder for the decrypted copy")->required();
  add_key_options(cmd, a->key);
  cmd->add_flag("-H,--hashes", a->hashes, "Write info.json with the sha256 of encrypted and decrypted files");
  cmd->add_option("-j,--threads", a->threads, "Files decrypted in parallel (default: all cores)");
  cmd->callback([a] {
    fs::path root = locate_or_fail(a->path);
    if (!backup_is_encrypted(root)) throw Fail{kExitCannotRun, root.string() + " is not an encrypted backup"};
    std::string key = obtain_key(root, a->key);
    std::string err;
    // Fail fast on a wrong password, before any file work.
    if (!unlock_backup(root, key, &err)) {
      ios::cleanse(key);
      throw Fail{kExitCannotRun, err.find("wrong password") != std::string::npos
                                     ? "wrong password or key for the encrypted backup " + root.string()
                                     : "cannot unlock the backup: " + err};
    }
    ios::DecryptOptions o;
    o.hashes = a->hashes;
    o.threads = a->threads;
    auto report = ios::decrypt_backup(root, key, a->dest, o, &err);
    ios::cleanse(key);
    if (!report) throw Fail{kExitCannotRun, "decryption failed: " + err};
    for (auto& m : report->messages) std::cerr << "  " << m << "\n";
    if (a->hashes) {
      std::string werr;
      if (!write_text_file(fs::path(a->dest) / "info.json", dump_mvt(report->info), &werr))
        std::cerr << "error: " << werr << "\n";
    }
    std::cout << "Decrypted " << report->files << " files into " << a->dest << " (" << report->missing
              << " listed but absent, " << report->errors << " errors)\n";
    exit_code() = report->errors ? kExitPartial : kExitClean;
  });
}

struct ExtractArgs {
  std::string path, out;
  KeyArgs key;
};

void setup_extract_key(CLI::App& root) {
  auto* ios = group(root, "ios", "Check iPhone acquisitions (backups, filesystem dumps)");
  auto a = std::make_shared<ExtractArgs>();
  auto* cmd = ios->add_subcommand("extract-key", "Derive and print the key of an encrypted backup (64 hex characters)");
  cmd->add_option("path", a->path, "Encrypted backup folder")->required();
  add_key_options(cmd, a->key, /*key_file_is_output=*/true);
  cmd->add_option("-k,--key-file", a->out, "Also write the key to this file (mode 0600)");
  cmd->callback([a] {
    fs::path root = locate_or_fail(a->path);
    if (!backup_is_encrypted(root)) throw Fail{kExitCannotRun, root.string() + " is not an encrypted backup"};
    std::string key = obtain_key(root, a->key);
    std::string err;
    if (!unlock_backup(root, key, &err)) {
      ios::cleanse(key);
      throw Fail{kExitCannotRun, "wrong password for the encrypted backup " + root.string()};
    }
    std::string hex = to_hex(reinterpret_cast<const unsigned char*>(key.data()), key.size());
    ios::cleanse(key);
    if (!a->out.empty()) {
      int fd = ::open(a->out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      bool ok = fd >= 0 && ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
      if (fd >= 0) ::close(fd);
      if (!ok) throw Fail{kExitCannotRun, "cannot write " + a->out};
      std::cerr << "Key written to " << a->out << "\n";
    }
    std::cout << hex << "\n";
    ios::cleanse(hex);
  });
}

BRIDLE_REGISTER_COMMAND(setup_check_backup);
BRIDLE_REGISTER_COMMAND(setup_decrypt_backup);
BRIDLE_REGISTER_COMMAND(setup_extract_key);

}  // namespace
}  // namespace bridle::cli
