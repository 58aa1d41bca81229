// `bridle ios ...` commands.
#include <iostream>

#include "acquisition/ios_backup.hpp"
#include "cli/cli.hpp"

namespace bridle::cli {
namespace {

struct IosBackupArgs {
  std::string path;
  CheckOptions check;
  std::string password;
  std::string key_file;
};

void setup_check_backup(CLI::App& root) {
  auto* ios = group(root, "ios", "Check iPhone acquisitions (backups, filesystem dumps)");
  auto args = std::make_shared<IosBackupArgs>();
  auto* cmd = ios->add_subcommand("check-backup", "Check an iTunes/Finder backup of an iPhone");
  cmd->add_option("path", args->path, "Backup folder (with Manifest.db and Info.plist) or a folder holding exactly one");
  add_check_options(cmd, args->check);
  cmd->add_option("-p,--password", args->password, "Password of an encrypted backup (or BRIDLE_IOS_BACKUP_PASSWORD)");
  cmd->add_option("-k,--key-file", args->key_file, "File with the derived backup key (64 hex characters)");
  cmd->callback([args] {
    if (args->check.list_modules) {
      list_modules(kIosBackup);
      return;
    }
    if (args->path.empty()) throw Fail{kExitCannotRun, "give the path of the backup to check"};
    auto loc = locate_backup(args->path);
    if (!loc.root) throw Fail{kExitCannotRun, loc.error};
    if (backup_is_encrypted(*loc.root))
      throw Fail{kExitCannotRun, "encrypted backup: give --password (or --key-file) to check it"};
    std::string err;
    auto src = IosBackupSource::open(*loc.root, &err);
    if (!src) throw Fail{kExitCannotRun, loc.root->string() + ": " + err};
    std::cerr << "Checking iTunes backup located at: " << loc.root->string() << "\n";
    exit_code() = run_check("ios check-backup", "ios_backup", kIosBackup, *loc.root, src.get(),
                            nullptr, args->check);
  });
}

BRIDLE_REGISTER_COMMAND(setup_check_backup);

}  // namespace
}  // namespace bridle::cli
