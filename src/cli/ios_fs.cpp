// `bridle ios check-fs PATH`: a full-filesystem dump of an iPhone (folder, .tar, .tar.gz,
// .zip). Archives are read in place (see acquisition/ios_fs.hpp).
#include <algorithm>
#include <iostream>

#include "acquisition/ios_fs.hpp"
#include "cli/cli.hpp"
#include "core/util.hpp"

namespace bridle::cli {
namespace {

struct IosFsArgs {
  std::string path;
  CheckOptions check;
};

bool filesystem_module_runs(const CheckOptions& o) {
  if (o.modules.empty()) return true;
  return std::any_of(o.modules.begin(), o.modules.end(), [](const std::string& m) {
    auto l = to_lower(m);
    return l == "filesystem";
  });
}

void setup_check_fs(CLI::App& root) {
  auto* ios = group(root, "ios", "Check iPhone acquisitions (backups, filesystem dumps)");
  auto args = std::make_shared<IosFsArgs>();
  auto* cmd = ios->add_subcommand("check-fs", "Check a full-filesystem dump of an iPhone (folder, .tar, .tar.gz or .zip)");
  cmd->add_option("path", args->path,
                  "Dump folder or archive holding private/var/... (or var/...), possibly under one top folder");
  add_check_options(cmd, args->check);
  cmd->callback([args] {
    if (args->check.list_modules) {
      list_modules(kIosFs);
      return;
    }
    if (args->path.empty()) throw Fail{kExitCannotRun, "give the path of the filesystem dump to check"};
    std::string err;
    auto src = IosFsSource::open(args->path, &err);
    if (!src) throw Fail{kExitCannotRun, err};
    std::cerr << "Checking iOS filesystem located at: " << args->path;
    if (src->is_archive()) std::cerr << " (archive, read in place)";
    if (!src->stripped_prefix().empty()) std::cerr << " [dump root: " << src->stripped_prefix() << "]";
    std::cerr << "\n";

    auto problems = src->acquisition_problems();
    Json extra = Json::object();
    extra["acquisition"] = {{"format", src->is_archive() ? "archive" : "folder"},
                            {"root_inside_input", src->stripped_prefix()},
                            {"canonical_prefix_added", src->added_prefix()}};
    // The Filesystem module reports the acquisition's problems as its diagnostics (so they
    // reach the summary, command.log and the exit code); without it they are printed here.
    bool reported_by_module = filesystem_module_runs(args->check);
    bool unread = false;
    for (auto& d : problems) {
      unread = unread || d.unread;
      if (!reported_by_module)
        std::cerr << (d.unread ? "error: " : "warning: ") << (d.file.empty() ? "" : d.file + ": ") << d.message << "\n";
    }
    int code = run_check("ios check-fs", "ios_fs", kIosFs, args->path, src.get(), nullptr, args->check, extra);
    // Problems found while modules read the archive (e.g. damage met during a copy) and,
    // when the Filesystem module did not run, the listing problems, still make the run partial.
    if (!reported_by_module && unread && code == kExitClean) {
      std::cerr << "The acquisition could not be read completely: the result is partial.\n";
      code = kExitPartial;
    }
    exit_code() = code;
  });
}

BRIDLE_REGISTER_COMMAND(setup_check_fs);

}  // namespace
}  // namespace bridle::cli
