#include <iostream>

#include "bridle/version.hpp"
#include "cli/cli.hpp"
#include "cli/secrets.hpp"

int main(int argc, char** argv) {
  using namespace bridle::cli;
  CLI::App app{"bridle: find mercenary spyware and stalkerware traces in phone acquisitions"};
  app.name("bridle");
  app.set_version_flag("--version", std::string("bridle ") + bridle::kVersion);
  app.require_subcommand(1);
  auto* help = app.add_subcommand("help", "Show help for bridle or one of its commands");
  std::vector<std::string> help_topic;
  help->add_option("topic", help_topic, "Command to explain, e.g. `ios check-backup`");
  help->callback([&] {
    CLI::App* target = &app;
    for (auto& t : help_topic) {
      CLI::App* next = nullptr;
      try { next = target->get_subcommand(t); } catch (...) {}
      if (!next) throw Fail{kExitCannotRun, "no such command: " + t};
      target = next;
    }
    // App::help() would describe the selected subcommand ("help" itself): format directly.
    std::cout << target->get_formatter()->make_help(target, target->get_name(), CLI::AppFormatMode::Normal);
  });
  for (auto& setup : command_setups()) setup(app);
  try {
    // CLI11 copies the arguments first; then the process title loses any password.
    std::vector<std::string> args;
    for (int i = argc - 1; i > 0; --i) args.emplace_back(argv[i]);
    scrub_secret_args(argc, argv);
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitCannotRun;
  } catch (const Fail& f) {
    std::cerr << "error: " << f.message << "\n";
    return f.code;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitCannotRun;
  }
  return exit_code();
}
