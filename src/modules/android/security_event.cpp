// SecurityEvent: Android SecurityLog events (210001..210046) from intrusion logs.
#include <array>

#include "acquisition/android_source.hpp"
#include "core/jsonio.hpp"
#include "core/util.hpp"
#include "modules/android/intrusion_logs.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

// The 46 SecurityLog tags (android.app.admin.SecurityLog), 210001 + index.
constexpr std::array<const char*, 46> kTags = {
    "adb_shell_interactive", "adb_shell_cmd", "adb_sync_recv_file", "adb_sync_send_file",
    "app_process_start", "keyguard_dismissed", "keyguard_dismiss_auth_attempt", "keyguard_secured",
    "os_startup", "os_shutdown", "logging_started", "logging_stopped", "media_mount", "media_unmount",
    "log_buffer_size_critical", "password_expiration_set", "password_complexity_set",
    "password_history_length_set", "max_screen_lock_timeout_set", "max_password_attempts_set",
    "keyguard_disabled_features_set", "remote_lock", "wipe_failure", "key_generated", "key_import",
    "key_destruction", "user_restriction_added", "user_restriction_removed", "cert_authority_installed",
    "cert_authority_removed", "crypto_self_test_completed", "key_integrity_violation",
    "cert_validation_failure", "camera_policy_set", "password_complexity_required", "password_changed",
    "wifi_connection", "wifi_disconnection", "bluetooth_connection", "bluetooth_disconnection",
    "package_installed", "package_updated", "package_uninstalled", "backup_service_toggled", "nfc_enabled",
    "nfc_disabled"};

bool is_metadata(const std::string& k) {
  return k == "event_id" || k == "event_time" || k == "event_type" || k == "timestamp";
}

// The tag key of an event (first non-metadata key), "" when none.
std::string tag_of(const Json& r) {
  if (!r.is_object()) return "";
  for (auto& [k, v] : r.items())
    if (!is_metadata(k)) return k;
  return "";
}

// SecurityLog "success" fields are ints (1/0) or booleans; missing counts as success.
bool succeeded(const Json& payload) {
  if (!payload.is_object()) return true;
  auto it = payload.find("success");
  if (it == payload.end() || it->is_null()) return true;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number()) return it->get<double>() != 0;
  if (it->is_string()) return it->get<std::string>() == "true" || it->get<std::string>() == "1";
  return true;
}

std::string field(const Json& r, const char* tag, const char* key) {
  auto it = r.find(tag);
  return it != r.end() && it->is_object() ? jstr(*it, key) : "";
}

class SecurityEvent final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"SecurityEvent", "security_event", kAndroidIntrusionLogs, Level::Critical,
                              ModuleInfo::Shape::List, "SecurityLog events from Android intrusion logs"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto ev = module_intrusion_events(ctx);
    if (!ev) return;
    std::string tz = ctx.android() ? ctx.android()->timezone : "";
    std::map<std::string, std::size_t> counts;
    std::size_t n = 0;
    auto it = ev->by_type.find("security_event");
    if (it != ev->by_type.end())
      for (Json r : it->second) {
        set_intrusion_timestamp(r, 1e9, tz);  // SecurityLog event times are nanoseconds
        std::string tag = tag_of(r);
        ++counts[tag];
        bool known = false;
        for (auto* k : kTags) known = known || tag == k;
        if (!known && !tag.empty() && counts[tag] == 1) ctx.warn("Unknown security event tag '" + tag + "'");
        heuristics(ctx, r, tag);
        ctx.emit(std::move(r));
        ++n;
      }
    ctx.info("Identified " + std::to_string(n) + " security events");
  }

  void heuristics(ModuleContext& ctx, const Json& r, const std::string& tag) {
    std::string ts = jstr(r, "timestamp");
    const Json payload = r.contains(tag) ? r[tag] : Json();
    if (tag == "cert_validation_failure")
      ctx.alert(Level::Medium, "Certificate validation failure detected: " + pystr(payload), ts, r);
    else if (tag == "key_integrity_violation")
      ctx.alert(Level::Medium, "Key integrity violation detected: " + pystr(payload), ts, r);
    else if (tag == "cert_authority_installed" && succeeded(payload))
      ctx.alert(Level::Medium,
                "Certificate authority installed (possible interception): " + field(r, tag.c_str(), "subject"), ts, r);
    else if (tag == "wipe_failure")
      ctx.alert(Level::Medium, "Device wipe failure detected", ts, r);
    else if (tag == "crypto_self_test_completed" && !succeeded(payload))
      ctx.alert(Level::Medium, "Cryptographic self test failed", ts, r);
    else if (tag == "key_generated" && !succeeded(payload)) {
      std::string key = field(r, "key_generated", "key_id");
      if (!(key == "PinStorage_crossReboot_key" && jint(payload, "uid", -1) == 1001))
        ctx.warn("Failed key generation detected for key_id: " + (key.empty() ? "unknown" : key));
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string proc = field(r, "app_process_start", "process");
    if (!proc.empty()) {
      out.push_back({ObsKind::AppId, proc, {}});
      // Components after the first ':' (e.g. "pkg:sandboxed_process0:...").
      auto parts = split(proc, ':');
      for (std::size_t i = 1; i < parts.size(); ++i)
        if (!parts[i].empty()) out.push_back({ObsKind::AppId, parts[i], {}});
    }
    for (const char* t : {"package_installed", "package_updated", "package_uninstalled"}) {
      std::string p = field(r, t, "package_name");
      if (!p.empty()) out.push_back({ObsKind::AppId, p, {}});
    }
    std::string cmd = field(r, "adb_shell_cmd", "command");
    if (!cmd.empty()) out.push_back({ObsKind::AppId, cmd, {}});
    for (const char* t : {"adb_sync_recv_file", "adb_sync_send_file"}) {
      std::string p = field(r, t, "path");
      if (!p.empty()) out.push_back({ObsKind::FilePath, p, {}});
    }
  }

  std::string event_time(const Json& r) const override { return jstr(r, "timestamp"); }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "timestamp"), tag_of(r), python_repr(r)});
  }
};

BRIDLE_REGISTER_MODULE(SecurityEvent);

}  // namespace
}  // namespace bridle
