// `bridle iocs ...` commands.
#include <iostream>

#include "cli/cli.hpp"
#include "core/jsonio.hpp"

namespace bridle::cli {
namespace {

void setup_iocs_stats(CLI::App& root) {
  auto* iocs = group(root, "iocs", "Inspect and manage indicator files");
  auto files = std::make_shared<std::vector<std::string>>();
  auto* cmd = iocs->add_subcommand("stats", "Print, as JSON, what was loaded from STIX2 files");
  cmd->add_option("files", *files, "STIX2 files")->required();
  cmd->callback([files] {
    IndicatorSet set;
    std::size_t ok = 0;
    for (auto& f : *files)
      if (set.load_file(f)) ++ok;
    Json j;
    j["files"] = ok;
    j["collections"] = set.collections().size();
    Json counts = Json::object();
    auto c = set.counts();
    for (int i = 0; i < kIocTypeCount; ++i)
      counts[std::string(ioc_type_key(static_cast<IocType>(i)))] = c[static_cast<std::size_t>(i)];
    j["indicators"] = counts;
    j["total"] = set.size();
    j["skipped"] = set.skipped();
    j["warnings"] = set.warnings();
    j["digest"] = set.digest();
    std::cout << j.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    exit_code() = ok == files->size() ? kExitClean : kExitCannotRun;
  });
}

BRIDLE_REGISTER_COMMAND(setup_iocs_stats);

}  // namespace
}  // namespace bridle::cli
