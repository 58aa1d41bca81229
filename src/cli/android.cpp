// `bridle android ...` commands: check-androidqf, check-bugreport, check-backup.
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "acquisition/android_backup.hpp"
#include "acquisition/android_sources.hpp"
#include "cli/cli.hpp"
#include "core/util.hpp"
#include "modules/android/common.hpp"
#include "modules/android/dumpstate.hpp"


namespace bridle::cli {
namespace {

constexpr const char* kTimelineHeader = "Device Local Timestamp";
constexpr std::uint64_t kMaxNestedBytes = 4ull << 30;

struct AndroidArgs {
  std::string path;
  CheckOptions check;
  std::string password;
  bool non_interactive = false;
};

// -------------------------------------------------------------------- password

std::string prompt_password(const std::string& what) {
  std::cerr << "Enter the password of " << what << ": " << std::flush;
  termios old{};
  bool restore = tcgetattr(0, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    tcsetattr(0, TCSAFLUSH, &quiet);
  }
  std::string pw;
  std::getline(std::cin, pw);
  if (restore) tcsetattr(0, TCSAFLUSH, &old);
  std::cerr << "\n";
  return pw;
}

// -p, then BRIDLE_ANDROID_BACKUP_PASSWORD, then a prompt (only on a terminal, never with -n).
std::optional<std::string> backup_password(const AndroidArgs& a, const std::string& what) {
  if (!a.password.empty()) return a.password;
  if (const char* e = std::getenv("BRIDLE_ANDROID_BACKUP_PASSWORD"); e && *e) return std::string(e);
  if (!a.non_interactive && isatty(0) == 1) return prompt_password(what);
  return std::nullopt;
}

// -------------------------------------------------------------------- acquisition metadata

std::string timezone_from_props(const std::vector<std::pair<std::string, std::string>>& props) {
  for (auto& [k, v] : props)
    if (k == "persist.sys.timezone") return v;
  return "";
}

void set_timezone(AndroidSource& src, const std::string& tz) {
  src.timezone = tz;
  if (tz.empty()) return;
  std::string err;
  if (!TimeZone::load(tz, &err))
    std::cerr << "warning: device timezone \"" << tz << "\": " << err << "; times are shown in UTC\n";
}

void load_androidqf_metadata(AndroidSource& src) {
  std::string err;
  if (auto f = src.first("*/getprop.txt"))
    if (auto t = src.read(*f, &err, 64ull << 20)) set_timezone(src, timezone_from_props(parse_getprop(*t)));
  if (auto f = src.first("*/acquisition.json")) {
    if (auto t = src.read(*f, &err, 16ull << 20)) {
      Json j = Json::parse(*t, nullptr, false);
      if (j.is_object()) src.acquisition = std::move(j);
      else src.add_problem({Diagnostic::Severity::Warning, "", f->path, "acquisition.json is not a JSON object", false});
    }
  }
  if (!src.acquisition.contains("adb_host_public_key"))
    if (auto f = src.first("*/adb_host_key.pub"))
      if (auto t = src.read(*f, &err, 1 << 20)) src.acquisition["adb_host_public_key"] = trim(*t);
}

// -------------------------------------------------------------------- bugreport

// The dumpstate text of a bugreport, in MVT's order of preference.
std::optional<AndroidFile> dumpstate_file(AndroidSource& br) {
  std::string err;
  if (auto me = br.first("main_entry.txt"))
    if (auto name = br.read(*me, &err, 4096))
      if (auto f = br.first(trim(*name))) return f;
  if (auto f = br.first("dumpState_*.log")) return f;
  if (auto f = br.first("*/dumpsys.txt")) return f;
  for (auto& f : br.files()) {
    auto base = f.path.substr(f.path.find_last_of('/') + 1);
    if (f.path.find('/') == std::string::npos &&
        (base.rfind("bugreport-", 0) == 0 || base.rfind("dumpstate", 0) == 0) && base.size() > 4 &&
        base.compare(base.size() - 4, 4, ".txt") == 0)
      return f;
  }
  return std::nullopt;
}

bool is_bugreport(AndroidSource& s) {
  return s.first("main_entry.txt") || s.first("dumpState_*.log") || dumpstate_file(s).has_value();
}

// Finds the real bugreport in `outer`: itself, a single top folder, or a zip inside it
// (vendor wrappers). nullptr when none is recognisable.
std::unique_ptr<AndroidSource> locate_bugreport(std::unique_ptr<AndroidSource> outer, const fs::path& path,
                                                int depth, std::string* why) {
  if (is_bugreport(*outer)) return outer;
  // One top folder holding the bugreport.
  if (auto me = outer->first("*/main_entry.txt")) {
    std::string top = me->path.substr(0, me->path.find_last_of('/'));
    std::string err;
    AndroidSourceOptions o;
    o.kind = "bugreport";
    o.display = outer->display();
    o.subdir = top;
    std::unique_ptr<AndroidSource> inner;
    if (fs::is_directory(path)) inner = FolderSource::open(path, o, &err);
    else if (!path.empty()) inner = ZipSource::open(path, o, &err);
    if (inner && is_bugreport(*inner)) return inner;
  }
  if (depth >= 2) return nullptr;
  for (auto& f : outer->files()) {
    if (f.path.size() < 4 || to_lower(f.path.substr(f.path.size() - 4)) != ".zip") continue;
    std::string err;
    auto bytes = outer->read(f, &err, kMaxNestedBytes);
    if (!bytes) {
      if (why) *why += f.path + ": " + err + "; ";
      continue;
    }
    AndroidSourceOptions o;
    o.kind = "bugreport";
    o.display = outer->display() + "!" + f.path;
    auto inner = ZipSource::open_bytes(std::move(*bytes), o, &err);
    if (!inner) continue;
    if (auto found = locate_bugreport(std::move(inner), {}, depth + 1, why)) return found;
  }
  return nullptr;
}

void prepare_bugreport(AndroidSource& br, const std::string& fallback_tz) {
  std::string err;
  std::string tz;
  br.dumpstate = load_dumpstate(br, &err);
  if (br.dumpstate) {
    if (br.dumpstate->has_system_properties())
      tz = timezone_from_props(parse_getprop(br.dumpstate->system_properties()));
  } else if (!err.empty()) {
    br.add_problem({Diagnostic::Severity::Error, "", "", "dumpstate cannot be read: " + err, true});
  }
  set_timezone(br, tz.empty() ? fallback_tz : tz);
}

// -------------------------------------------------------------------- backup

std::unique_ptr<AndroidSource> open_backup_file(const fs::path& path, const AndroidArgs& a, Json& info,
                                                AbStatus* status, std::string* err) {
  std::string herr;
  auto h = read_ab_header_file(path, &herr);
  if (!h) {
    if (status) *status = AbStatus::NotBackup;
    *err = path.string() + ": " + herr;
    return nullptr;
  }
  std::optional<std::string> pw;
  if (h->encrypted()) {
    pw = backup_password(a, path.filename().string());
    if (!pw) {
      if (status) *status = AbStatus::NeedPassword;
      *err = "the backup is encrypted: give its password with -p/--backup-password (or BRIDLE_ANDROID_BACKUP_PASSWORD)";
      return nullptr;
    }
  }
  auto r = decode_android_backup_file(path, pw);
  info = {{"version", r.header.version}, {"compressed", r.header.compressed},
          {"encryption", r.header.encryption}, {"tar_bytes", r.tar_size}, {"tar_sha256", r.tar_sha256}};
  if (status) *status = r.status;
  if (r.status != AbStatus::Ok) {
    *err = r.message;
    return nullptr;
  }
  AndroidSourceOptions o;
  o.kind = "backup";
  o.display = path.string();
  return TarSource::open_bytes(std::move(r.tar), o, err);
}

// -------------------------------------------------------------------- commands

void warn_password_on_cli(const AndroidArgs& a) {
  if (!a.password.empty())
    std::cerr << "warning: a password given on the command line may be visible in the process table; "
                 "prefer BRIDLE_ANDROID_BACKUP_PASSWORD or the prompt\n";
}

void add_password_options(CLI::App* cmd, AndroidArgs& a) {
  cmd->add_option("-p,--backup-password", a.password,
                  "Password of an encrypted backup.ab (or BRIDLE_ANDROID_BACKUP_PASSWORD; else a prompt on a terminal)");
  cmd->add_flag("-n,--non-interactive", a.non_interactive, "Never prompt for a password");
}

void print_problems(const AndroidSource& s) {
  for (auto& p : s.problems())
    std::cerr << "warning: " << s.display() << (p.file.empty() ? "" : "!" + p.file) << ": " << p.message << "\n";
}

void setup_android(CLI::App& root) {
  auto* android = group(root, "android", "Check Android acquisitions (androidqf, bugreport, adb backup)");

  // ---- check-androidqf
  {
    auto args = std::make_shared<AndroidArgs>();
    auto* cmd = android->add_subcommand("check-androidqf", "Check an androidqf acquisition (folder or zip)");
    cmd->add_option("path", args->path, "androidqf acquisition folder or zip");
    add_check_options(cmd, args->check);
    add_password_options(cmd, *args);
    cmd->callback([args] {
      constexpr unsigned mask = kAndroidQF | kAndroidBugreport | kAndroidBackup | kAndroidIntrusionLogs;
      if (args->check.list_modules) {
        list_modules(mask);
        return;
      }
      if (args->path.empty()) throw Fail{kExitCannotRun, "give the path of the androidqf acquisition to check"};
      warn_password_on_cli(*args);
      fs::path path(args->path);
      AndroidSourceOptions o;
      o.kind = "androidqf";
      o.parent_relative = true;
      std::string err;
      auto src = open_android(path, o, &err);
      if (!src) throw Fail{kExitCannotRun, err};
      static const char* known[] = {"*/getprop.txt", "*/packages.json", "*/acquisition.json", "*/ps.txt",
                                    "*/backup.ab", "*bugreport.zip", "*/dumpsys.txt", "*/files.json",
                                    "*/settings_*.txt", "*/processes.json", "*/root_binaries.json",
                                    "*/mounts.json", "*/intrusion_logs/*"};
      bool recognised = false;
      for (auto* k : known) recognised = recognised || src->first(k).has_value();
      if (!recognised) {
        print_problems(*src);
        throw Fail{kExitCannotRun, args->path + ": not an androidqf acquisition (none of its files were found)"};
      }
      load_androidqf_metadata(*src);
      Json extra = Json::object();

      // Nested bugreport.
      if (auto f = src->first("*bugreport.zip")) {
        std::string e;
        std::unique_ptr<AndroidSource> br;
        std::string why;
        AndroidSourceOptions bo;
        bo.kind = "bugreport";
        bo.display = src->display() + "!" + f->path;
        // Read in place when the acquisition is a folder (never loaded whole).
        auto z = src->open_nested_zip(*f, bo, &e, kMaxNestedBytes);
        if (z) br = locate_bugreport(std::move(z), {}, 0, &why);
        else why = e;
        if (br) {
          prepare_bugreport(*br, src->timezone);
          std::cerr << "Checking the bugreport inside the acquisition: " << f->path << "\n";
          src->add_nested(std::move(br));
        } else {
          src->add_problem({Diagnostic::Severity::Error, "", f->path,
                            "the nested bugreport could not be checked" + (why.empty() ? std::string() : ": " + why), true});
        }
      } else {
        std::cerr << "No bugreport.zip in the acquisition: bugreport modules are skipped\n";
      }

      // Nested backup.ab.
      if (auto f = src->first("*/backup.ab")) {
        std::string e;
        auto bytes = src->read(*f, &e, kMaxNestedBytes);
        if (!bytes) {
          src->add_problem({Diagnostic::Severity::Error, "", f->path, "backup.ab cannot be read: " + e, true});
        } else {
          std::string herr;
          std::istringstream hs(bytes->substr(0, 8192));
          auto h = read_ab_header(hs, &herr);
          std::optional<std::string> pw;
          if (h && h->encrypted()) pw = backup_password(*args, f->path);
          if (h && h->encrypted() && !pw) {
            src->add_problem({Diagnostic::Severity::Error, "", f->path,
                              "backup.ab is encrypted and no password was given (-p/--backup-password or "
                              "BRIDLE_ANDROID_BACKUP_PASSWORD): its SMS were not checked",
                              true});
          } else if (!h) {
            src->add_problem({Diagnostic::Severity::Error, "", f->path, "backup.ab is not readable: " + herr, true});
          } else {
            auto r = decode_android_backup_bytes(*bytes, pw);
            extra["backup"] = {{"file", f->path}, {"version", r.header.version}, {"compressed", r.header.compressed},
                               {"encryption", r.header.encryption}, {"tar_bytes", r.tar_size},
                               {"tar_sha256", r.tar_sha256}};
            if (r.status == AbStatus::WrongPassword) throw Fail{kExitCannotRun, f->path + ": wrong backup password"};
            if (r.status != AbStatus::Ok) {
              src->add_problem({Diagnostic::Severity::Error, "", f->path, "backup.ab cannot be decoded: " + r.message, true});
            } else {
              AndroidSourceOptions bo;
              bo.kind = "backup";
              bo.display = src->display() + "!" + f->path;
              auto tar = TarSource::open_bytes(std::move(r.tar), bo, &e);
              if (tar) src->add_nested(std::move(tar));
              else src->add_problem({Diagnostic::Severity::Error, "", f->path, "backup tar: " + e, true});
            }
          }
        }
      }

      // Nested intrusion logs.
      if (auto f = src->first("*/intrusion_logs/*")) {
        std::string prefix = f->path.substr(0, f->path.find("/intrusion_logs/") + 15);
        auto il = std::make_unique<SubdirSource>(*src, prefix, "intrusion_logs");
        il->timezone = src->timezone;
        src->add_nested(std::move(il));
      }

      print_problems(*src);
      std::cerr << "Checking AndroidQF acquisition at path: " << args->path << "\n";
      exit_code() = run_check("android check-androidqf", "androidqf", mask, path, nullptr, src.get(), args->check,
                              extra, kTimelineHeader);
      std::cerr << "Please disable Developer Options and ADB (Android Debug Bridge) on the device once finished "
                   "with the acquisition.\n";
    });
  }

  // ---- check-bugreport
  {
    auto args = std::make_shared<AndroidArgs>();
    auto* cmd = android->add_subcommand("check-bugreport", "Check an Android bugreport (zip or folder)");
    cmd->add_option("path", args->path, "bugreport zip (also a vendor zip wrapping one) or unzipped folder");
    add_check_options(cmd, args->check);
    cmd->callback([args] {
      if (args->check.list_modules) {
        list_modules(kAndroidBugreport);
        return;
      }
      if (args->path.empty()) throw Fail{kExitCannotRun, "give the path of the bugreport to check"};
      fs::path path(args->path);
      AndroidSourceOptions o;
      o.kind = "bugreport";
      std::string err;
      auto outer = open_android(path, o, &err);
      if (!outer) throw Fail{kExitCannotRun, err.empty() ? "Invalid bugreport archive" : err};
      print_problems(*outer);
      std::string why;
      auto br = locate_bugreport(std::move(outer), path, 0, &why);
      if (!br)
        throw Fail{kExitCannotRun, args->path + ": no bugreport found (no main_entry.txt, dumpstate or dumpsys.txt, "
                                                "also not in a zip inside it)" + (why.empty() ? "" : ": " + why)};
      prepare_bugreport(*br, "");
      std::cerr << "Checking Android bug report at path: " << br->display() << "\n";
      exit_code() = run_check("android check-bugreport", "bugreport", kAndroidBugreport, path, nullptr, br.get(),
                              args->check, Json::object(), kTimelineHeader);
    });
  }

  // ---- check-backup
  {
    auto args = std::make_shared<AndroidArgs>();
    auto* cmd = android->add_subcommand("check-backup", "Check an Android adb backup (.ab file or extracted folder)");
    cmd->add_option("path", args->path, "backup.ab file, or a folder with the extracted apps/ tree");
    add_check_options(cmd, args->check);
    add_password_options(cmd, *args);
    cmd->callback([args] {
      if (args->check.list_modules) {
        list_modules(kAndroidBackup);
        return;
      }
      if (args->path.empty()) throw Fail{kExitCannotRun, "give the path of the backup to check"};
      warn_password_on_cli(*args);
      fs::path path(args->path);
      std::error_code ec;
      std::unique_ptr<AndroidSource> src;
      Json extra = Json::object();
      std::string err;
      if (fs::is_directory(path, ec)) {
        AndroidSourceOptions o;
        o.kind = "backup";
        src = FolderSource::open(path, o, &err);
        if (!src) throw Fail{kExitCannotRun, err};
        if (!src->first("apps/*"))
          throw Fail{kExitCannotRun, args->path + ": not an extracted Android backup (no apps/ folder)"};
      } else if (fs::is_regular_file(path, ec)) {
        AbStatus st = AbStatus::IoError;
        Json abinfo;
        src = open_backup_file(path, *args, abinfo, &st, &err);
        if (!src) {
          if (st == AbStatus::WrongPassword) throw Fail{kExitCannotRun, "wrong backup password"};
          throw Fail{kExitCannotRun, err};
        }
        extra["backup"] = abinfo;
      } else {
        throw Fail{kExitCannotRun, args->path + ": not found"};
      }
      print_problems(*src);
      std::cerr << "Checking Android backup at path: " << args->path << "\n";
      exit_code() = run_check("android check-backup", "android_backup", kAndroidBackup, path, nullptr, src.get(),
                              args->check, extra, kTimelineHeader);
    });
  }
}

BRIDLE_REGISTER_COMMAND(setup_android);

}  // namespace
}  // namespace bridle::cli
