// ShutdownLog (check-fs): clients still running when the device shut down, from
// private/var/db/diagnostics/shutdown.log and iOS 26's rotated shutdown.N.log.
//
// Records (MVT): isodate (the SIGTERM time of that shutdown), pid, client, delay (seconds
// waited so far in that shutdown), times_delayed. Observables: the client as a file path and
// each of its path components as a process name; iOS 26 appends "/<UUID>" to client paths,
// which is removed before matching.
//
// Heuristics (Kaspersky's iShutdown, reimplemented from its documented behaviour):
//  - a shutdown delayed by 3 or more "these clients are still here" waits -> MEDIUM;
//  - a client running from /private/var/db/ or /private/var/tmp/ at shutdown (where
//    Pegasus, Reign and Predator ran) -> HIGH, once per client and shutdown.
#include <algorithm>
#include <cctype>
#include <set>

#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/ios/common.hpp"
#include "modules/ios/shutdown_log.hpp"

namespace bridle {
namespace {

const ArtifactSpec& spec() {
  static const ArtifactSpec s{{},
                              {"private/var/db/diagnostics/shutdown.log",
                               "private/var/db/diagnostics/shutdown.*.log"}};
  return s;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

// "/path/to/client/<UUID>" -> "/path/to/client" (iOS 26).
std::string strip_uuid_suffix(const std::string& client) {
  auto slash = client.rfind('/');
  if (slash == std::string::npos || slash == 0) return client;
  if (is_uuid(std::string_view(client).substr(slash + 1))) return client.substr(0, slash);
  return client;
}

bool unusual_location(const std::string& client) {
  for (const char* p : {"/private/var/db/", "/private/var/tmp/", "/var/db/", "/var/tmp/"})
    if (client.rfind(p, 0) == 0) return true;
  return client.find("/private/var/db/") != std::string::npos || client.find("/private/var/tmp/") != std::string::npos;
}

// The SIGTERM line's unix time: "SIGTERM: [1700000000]" or "... @1700000000...".
std::int64_t sigterm_time(const std::string& line) {
  auto lb = line.find('['), rb = line.find(']');
  if (lb != std::string::npos && rb != std::string::npos && rb > lb + 1) {
    std::string v = line.substr(lb + 1, rb - lb - 1);
    if (!v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
        v.size() < 18)
      return std::stoll(v);
  }
  auto at = line.find(" @");
  if (at != std::string::npos && at + 12 <= line.size()) {
    std::string v = line.substr(at + 2, 10);
    if (std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return std::stoll(v);
  }
  return 0;
}

}  // namespace

ShutdownLogParse parse_shutdown_log(std::string_view text) {
  ShutdownLogParse out;
  ShutdownLogParse::Shutdown cur;  // clients of the shutdown in progress
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line = trim(std::string(text.substr(pos, nl - pos)));
    pos = nl + 1;
    if (line.rfind("remaining client pid:", 0) == 0) {
      auto p = line.find("pid: ");
      auto lp = line.find(" (");
      auto op = line.find('(');
      auto cp = line.rfind(')');
      ShutdownLogParse::Client c;
      if (p != std::string::npos && lp != std::string::npos && lp > p + 5) c.pid = line.substr(p + 5, lp - p - 5);
      if (op != std::string::npos && cp != std::string::npos && cp > op) c.client = line.substr(op + 1, cp - op - 1);
      c.delay = cur.delay;
      c.times_delayed = cur.times_delayed;
      cur.clients.push_back(std::move(c));
    } else if (line.rfind("After ", 0) == 0) {
      // "After 1.72s, these clients are still here:"
      std::string num;
      for (std::size_t i = 6; i < line.size() && (std::isdigit(static_cast<unsigned char>(line[i])) || line[i] == '.'); ++i)
        num += line[i];
      try {
        if (!num.empty()) cur.delay += std::stod(num);
      } catch (...) {
      }
      ++cur.times_delayed;
    } else if (line.rfind("SIGTERM: ", 0) == 0 || line == "SIGTERM:") {
      cur.isodate = unix_to_iso_int(sigterm_time(line));
      out.shutdowns.push_back(std::move(cur));
      cur = {};
    }
  }
  out.trailing_clients = cur.clients.size();
  return out;
}

namespace {

class ShutdownLog final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"ShutdownLog", "shutdown_log", kIosFs, Level::Critical, ModuleInfo::Shape::List,
                              "Processes running at shutdown (shutdown.log), iShutdown delay and location checks"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    auto files = src->find(spec());
    if (files.empty()) {
      ctx.info("There might be no data to extract: unable to find shutdown.log");
      return;
    }
    std::vector<Json> records;
    for (auto& f : files) {
      std::string err;
      auto data = src->read(f, &err, 256ull << 20);
      if (!data) {
        ctx.unreadable(f.display, "cannot read the shutdown log: " + err);
        continue;
      }
      ctx.info("Found shutdown log at path: " + f.display);
      auto parsed = parse_shutdown_log(*data);
      for (auto& sd : parsed.shutdowns) {
        std::vector<Json> clients;
        for (auto& c : sd.clients) {
          Json r = Json::object();
          r["isodate"] = "";
          r["pid"] = c.pid;
          r["client"] = c.client;
          r["delay"] = c.delay;
          r["times_delayed"] = c.times_delayed;
          clients.push_back(std::move(r));
        }
        check_shutdown(ctx, f, sd.isodate, clients, sd.delay, sd.times_delayed);
        for (auto& r : clients) {
          r["isodate"] = sd.isodate;
          records.push_back(std::move(r));
        }
      }
      if (parsed.trailing_clients)
        ctx.info(f.display + ": " + std::to_string(parsed.trailing_clients) +
                 " client lines after the last SIGTERM line (not attributed to a shutdown)");
      ctx.info(f.display + ": " + std::to_string(parsed.shutdowns.size()) + " shutdowns recorded");
    }
    std::stable_sort(records.begin(), records.end(),
                     [](const Json& a, const Json& b) { return jstr(a, "isodate") < jstr(b, "isodate"); });
    for (auto& r : records) ctx.emit(std::move(r));
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string client = jstr(r, "client");
    if (client.empty()) return;
    std::string c = strip_uuid_suffix(client);
    out.push_back({ObsKind::FilePath, c, {}});
    for (auto& part : split(c, '/'))
      if (!part.empty()) out.push_back({ObsKind::Process, part, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "shutdown",
                   "Client " + pystr(r, "client") + " with PID " + pystr(r, "pid") +
                       " was running when the device was shut down"});
  }

 private:
  // iShutdown's checks on one shutdown.
  static void check_shutdown(ModuleContext& ctx, const IosFile& f, const std::string& iso,
                             const std::vector<Json>& clients, double delay, int times_delayed) {
    if (times_delayed >= 3) {
      Json ev = Json::object();
      ev["isodate"] = iso;
      ev["delay"] = delay;
      ev["times_delayed"] = times_delayed;
      Json names = Json::array();
      std::set<std::string> seen;
      for (auto& c : clients)
        if (seen.insert(jstr(c, "client")).second) names.push_back(jstr(c, "client"));
      ev["clients"] = names;
      ev["shutdown_log"] = f.display;
      ctx.alert(Level::Medium,
                "Shutdown at " + iso + " was delayed " + std::to_string(times_delayed) +
                    " times by clients that did not exit (iShutdown delay anomaly)",
                iso, ev);
    }
    std::set<std::string> reported;
    for (auto& c : clients) {
      std::string client = jstr(c, "client");
      if (!unusual_location(client) || !reported.insert(client).second) continue;
      ctx.alert(Level::High,
                "Process running from an unusual location at shutdown: " + client + " (PID " + jstr(c, "pid") +
                    ") at " + iso,
                iso, [&] {
                  Json r = c;
                  r["isodate"] = iso;
                  return r;
                }());
    }
  }
};

BRIDLE_REGISTER_MODULE(ShutdownLog);

}  // namespace
}  // namespace bridle
