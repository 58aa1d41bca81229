// DumpsysADBState: the ADB debugging manager state ("DUMP OF SERVICE adb:"): trusted user
// keys with their fingerprints (MD5 of the decoded key, colon hex) and the keystore. In an
// androidqf acquisition, trusted keys are compared with the acquiring host's key.
#include <openssl/evp.h>

#include <charconv>

#include "acquisition/android_source.hpp"
#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

constexpr std::size_t kMaxDepth = 32;

std::string md5_colon(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    if (i) out += ':';
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// The indented "key=value" / "key={" ... "}" tree of DualDumpOutputStream. user_keys values
// continue on the following lines up to an empty line; an XML keystore likewise.
Json parse_adb_tree(std::string_view text) {
  Json root = Json::object();
  std::vector<Json*> stack{&root};
  // Skip to the opening "{" line.
  bool started = false;
  Json* multiline = nullptr;  // array or string being continued
  for_each_line(text, [&](std::string_view line) {
    std::string_view t = ds::strip(line);
    if (!started) {
      if (t == "{") started = true;
      return true;
    }
    if (multiline) {
      if (t.empty()) { multiline = nullptr; return true; }
      if (multiline->is_array()) multiline->push_back(ds::valid_utf8(t));
      else *multiline = multiline->get<std::string>() + "\n" + ds::valid_utf8(t);
      return true;
    }
    if (t.empty()) return true;
    if (t == "}") {
      if (stack.size() > 1) stack.pop_back();
      else return false;
      return true;
    }
    auto eq = t.find('=');
    std::string key = ds::valid_utf8(eq == std::string_view::npos ? t : t.substr(0, eq));
    std::string_view val = eq == std::string_view::npos ? std::string_view{} : t.substr(eq + 1);
    Json& cur = *stack.back();
    if (!cur.is_object()) return true;
    if (val == "{") {
      cur[key] = Json::object();
      if (stack.size() < kMaxDepth) stack.push_back(&cur[key]);
      return true;
    }
    if (key == "user_keys") {
      cur[key] = Json::array();
      if (!ds::strip(val).empty()) cur[key].push_back(ds::valid_utf8(ds::strip(val)));
      multiline = &cur[key];
      return true;
    }
    cur[key] = ds::valid_utf8(val);
    if (key == "keystore" && ds::starts(val, "<?xml")) multiline = &cur[key];
    return true;
  });
  return root;
}

Json key_info(std::string_view user_key, bool* valid) {
  std::string_view b64 = ds::before(user_key, ' ');
  std::string_view user = ds::after(user_key, ' ');
  Json k = Json::object();
  k["user"] = ds::valid_utf8(user);
  auto raw = base64_decode(b64);
  *valid = raw.has_value() && !raw->empty();
  k["fingerprint"] = *valid ? md5_colon(*raw) : std::string();
  k["key"] = ds::valid_utf8(b64);
  return k;
}

// lastConnection (ms) of `key` in an XML keystore, if any.
std::optional<long long> last_connection(const std::string& keystore, const std::string& key) {
  auto p = keystore.find("key=\"" + key);
  if (p == std::string::npos) return std::nullopt;
  auto lc = keystore.find("lastConnection=\"", p);
  if (lc == std::string::npos) return std::nullopt;
  lc += 16;
  long long v = 0;
  auto [ptr, ec] = std::from_chars(keystore.data() + lc, keystore.data() + keystore.size(), v);
  if (ec != std::errc() || ptr == keystore.data() + lc) return std::nullopt;
  return v;
}

class DumpsysADBState final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysADBState", "dumpsys_adb_state", kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::List, "Trusted ADB keys and their fingerprints (dumpsys adb)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    Json tree = parse_adb_tree(d->service("adb"));
    auto dm = tree.find("debugging_manager");
    if (dm == tree.end() || !dm->is_object()) {
      ctx.log(Diagnostic::Severity::Error,
              "Could not load ADB data from dumpsys. It may not be supported on this device.");
      return;
    }
    Json rec = *dm;
    Json keys = Json::array();
    std::vector<bool> valid;
    if (auto uk = rec.find("user_keys"); uk != rec.end() && uk->is_array())
      for (auto& k : *uk) {
        bool ok = false;
        keys.push_back(key_info(k.get<std::string>(), &ok));
        valid.push_back(ok);
      }
    rec["user_keys"] = keys;
    for (auto& k : keys)
      ctx.info("Found trusted ADB key for user '" + jstr(k, "user") + "' with fingerprint '" +
               jstr(k, "fingerprint") + "'");

    // Heuristics only make sense when the acquiring host is known (androidqf).
    AndroidSource* top = ctx.android();
    AndroidSource* part = bugreport_part(ctx);
    const Json* acq_p = nullptr;
    for (AndroidSource* s : {top, part})
      if (!acq_p && s && s->acquisition.is_object() && !s->acquisition.empty()) acq_p = &s->acquisition;
    if (acq_p || (top && top->kind() == "androidqf")) {
      static const Json kEmpty = Json::object();
      const Json& acq = acq_p ? *acq_p : kEmpty;
      std::string host_key = jstr(acq, "adb_host_public_key");
      if (host_key.empty()) host_key = jstr(acq, "adb_host_key");
      std::string host_b64(ds::before(ds::strip(host_key), ' '));
      std::string started = jstr(acq, "started");
      std::string keystore = jstr(rec, "keystore");
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const Json& k = keys[i];
        std::string desc = "user '" + jstr(k, "user") + "'";
        if (!valid[i]) {
          ctx.alert(Level::Low, "Trusted ADB key for " + desc + " is not valid base64", "", k);
        } else if (host_b64.empty()) {
          ctx.alert(Level::Low,
                    "Device trusts an ADB key (fingerprint " + jstr(k, "fingerprint") + ", " + desc +
                        ") that cannot be compared: the acquisition has no host key",
                    "", k);
        } else if (jstr(k, "key") != host_b64) {
          ctx.alert(Level::Low,
                    "Device trusts an ADB key (fingerprint " + jstr(k, "fingerprint") + ", " + desc +
                        ") that is not the acquiring host's key",
                    "", k);
        } else if (auto lc = last_connection(keystore, host_b64)) {
          auto start = iso_to_unix(started.substr(0, 26));
          if (start && *start - static_cast<double>(*lc) / 1000.0 >= 86400.0)
            ctx.alert(Level::Informational,
                      "The acquiring host's ADB key was already trusted and last connected on " +
                          unix_to_iso(static_cast<double>(*lc) / 1000.0) + ", over a day before the acquisition",
                      unix_to_iso(static_cast<double>(*lc) / 1000.0), k);
        }
      }
    }
    ctx.emit(std::move(rec));
  }
};

BRIDLE_REGISTER_MODULE(DumpsysADBState);

}  // namespace
}  // namespace bridle
