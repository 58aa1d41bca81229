// `bridle ios check-iocs` / `bridle android check-iocs`: re-checks the JSON results of an
// earlier run (bridle's or MVT's) against the current indicators, without the acquisition.
#include <algorithm>
#include <iostream>

#include "cli/cli.hpp"
#include "core/jsonio.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/module.hpp"

namespace bridle::cli {
namespace {

struct CheckIocsArgs {
  std::string dir;
  std::vector<std::string> iocs;
  std::vector<std::string> modules;
  std::string output;
  bool list = false;
};

int check_iocs(const std::string& platform, unsigned kinds, const CheckIocsArgs& a) {
  if (a.list) {
    list_modules(kinds);
    return kExitClean;
  }
  if (a.dir.empty()) throw Fail{kExitCannotRun, "give the folder of earlier results to re-check"};
  fs::path dir(a.dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Fail{kExitCannotRun, a.dir + " is not a results folder"};
  std::string started = now_iso_local();
  auto li = load_indicators(a.iocs);
  auto modules = ModuleRegistry::instance().create(static_cast<AcqKind>(kinds));
  std::string err;
  if (!select_modules(modules, a.modules, &err)) throw Fail{kExitCannotRun, err};
  auto out = prepare_output(a.output, dir);

  Engine engine(li.set.get(), li.index.get());
  ScanResult result;
  std::size_t files = 0;
  for (auto& m : modules) {
    fs::path p = dir / (m->info().slug + ".json");
    if (!fs::is_regular_file(p, ec)) continue;
    std::string rerr;
    auto text = read_file(p, 4ull << 30, &rerr);
    Json doc = text ? Json::parse(*text, nullptr, false) : Json();
    if (!text || doc.is_discarded()) {
      result.diagnostics.push_back({Diagnostic::Severity::Error, m->info().name, p.string(),
                                    text ? "not valid JSON" : rerr, true});
      continue;
    }
    ++files;
    ModuleOutcome oc;
    oc.name = m->info().name;
    oc.slug = m->info().slug;
    std::vector<Alert> alerts;
    m->records_of(doc, [&](const Json& r) {
      ++oc.records;
      engine.match_record(*m, r, alerts);
    });
    oc.alerts = alerts.size();
    oc.ran = true;
    std::cerr << "[" << m->info().slug << "] " << oc.records << " records re-checked, "
              << alerts.size() << " detections\n";
    if (out && !alerts.empty()) {
      Json list = Json::array();
      for (auto& al : alerts) list.push_back(alert_to_json(al));
      write_text_file(*out / (m->info().slug + "_detected.json"), dump_mvt(list));
    }
    for (auto& al : alerts) result.alerts.push_back(std::move(al));
    result.modules.push_back(std::move(oc));
  }
  if (files == 0)
    throw Fail{kExitCannotRun, "no " + platform + " module results (<module>.json) found in " + a.dir};
  std::cerr << "Re-checked " << files << " result files: produced " << result.alerts.size()
            << " detections\n";
  RunInfo info;
  info.command = platform + " check-iocs";
  info.target = dir;
  info.acquisition_kind = "results";
  info.indicators = li.set.get();
  info.started_at = started;
  if (out) {
    std::string werr;
    if (!write_run_outputs(*out, result, info, "UTC Timestamp", &werr)) std::cerr << "error: " << werr << "\n";
    else std::cerr << "Results written to " << out->string() << "\n";
  }
  print_summary(std::cout, result, info, false);
  return result.exit_code();
}

void setup(CLI::App& root, const std::string& platform, const std::string& desc, unsigned kinds) {
  auto* g = group(root, platform, desc);
  auto a = std::make_shared<CheckIocsArgs>();
  auto* cmd = g->add_subcommand("check-iocs", "Re-check the JSON results of an earlier run against the current indicators");
  cmd->add_option("folder", a->dir, "Results folder of an earlier check (bridle's or MVT's)");
  cmd->add_option("-i,--iocs", a->iocs, "STIX2 indicators file (repeatable)");
  cmd->add_option("-m,--module", a->modules, "Only this module (repeatable)");
  cmd->add_option("-o,--output", a->output, "Write the new alerts here (alerts.json, <module>_detected.json, info.json)");
  cmd->add_flag("-l,--list-modules", a->list, "List the modules and exit");
  cmd->callback([a, platform, kinds] { exit_code() = check_iocs(platform, kinds, *a); });
}

void setup_all(CLI::App& root) {
  setup(root, "ios", "Check iPhone acquisitions (backups, filesystem dumps)", kIosAny);
  setup(root, "android", "Check Android acquisitions (androidqf, bugreports, adb backups)",
        kAndroidQF | kAndroidBugreport | kAndroidBackup | kAndroidIntrusionLogs);
}

BRIDLE_REGISTER_COMMAND(setup_all);

}  // namespace
}  // namespace bridle::cli
