// Android SMS/MMS from an adb backup (the telephony provider's d_f/*_sms_backup and
// *_mms_backup files: zlib-compressed JSON lists). MVT's class is also called "SMS", a name
// the iOS module already has here, so this one is "BackupSMS" with MVT's slug "sms" (the two
// never run together: their acquisition kinds differ).
#include <zlib.h>

#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "modules/android/common.hpp"

namespace bridle {
namespace {

// zlib inflate, bounded. nullopt + reason on failure.
std::optional<std::string> inflate_bounded(const std::string& in, std::uint64_t max, std::string* why) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) {
    *why = "zlib init failed";
    return std::nullopt;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > max) {
      inflateEnd(&zs);
      *why = "decompressed data too large";
      return std::nullopt;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    *why = std::string("not zlib data or truncated (") + (zs.msg ? zs.msg : "zlib error") + ")";
    return std::nullopt;
  }
  return out;
}

class BackupSms final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"BackupSMS", "sms", kAndroidBackup, Level::Critical, ModuleInfo::Shape::List,
                              "SMS and MMS from an Android backup (telephony provider), links in them"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto* src = android_part(ctx, "backup");
    if (!src) return;
    std::size_t n = 0;
    for (const char* pattern : {"apps/com.android.providers.telephony/d_f/*_sms_backup",
                                "apps/com.android.providers.telephony/d_f/*_mms_backup"}) {
      for (auto& f : src->glob(pattern)) {
        auto raw = android_read(ctx, *src, f, 1ull << 30);
        if (!raw) continue;
        std::string why;
        std::optional<std::string> text;
        if (!raw->empty() && ((*raw)[0] == '[' || (*raw)[0] == '{')) text = *raw;
        else text = inflate_bounded(*raw, 1ull << 30, &why);
        if (!text) {
          ctx.unreadable(f.path, why);
          continue;
        }
        Json list = parse_json_exact(*text);
        if (!list.is_array()) {
          ctx.unreadable(f.path, "not a JSON list of messages");
          continue;
        }
        for (auto& m : list) {
          if (!m.is_object()) continue;
          if (auto it = m.find("mms_body"); it != m.end()) {
            Json body = *it;
            m.erase("mms_body");
            m["body"] = body;
          }
          std::string date = jstr(m, "date");
          std::string iso;
          try {
            std::size_t pos = 0;
            long long ms = std::stoll(date, &pos);
            if (pos == date.size()) iso = unix_to_iso(static_cast<double>(ms) / 1000.0);
          } catch (...) {
          }
          m["isodate"] = iso;
          std::string sent = jstr(m, "date_sent");
          bool is_sent = false;
          try {
            is_sent = !sent.empty() && std::stoll(sent) != 0;
          } catch (...) {
          }
          m["direction"] = is_sent ? "sent" : "received";
          std::string body = jstr(m, "body");
          auto links = extract_urls(body);
          if (!links.empty() || trim(body).empty()) m["links"] = links;
          for (auto& l : links) ctx.collect_url(l, iso, "sms");
          ctx.emit(std::move(m));
          ++n;
        }
      }
    }
    ctx.info("Extracted a total of " + std::to_string(n) + " SMS & MMS messages");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    if (auto it = r.find("links"); it != r.end() && it->is_array()) {
      for (auto& l : *it)
        if (l.is_string()) out.push_back({ObsKind::Url, l.get<std::string>(), {}});
      return;
    }
    for (auto& l : extract_urls(jstr(r, "body"))) out.push_back({ObsKind::Url, l, {}});
  }
};

BRIDLE_REGISTER_MODULE(BackupSms);

}  // namespace
}  // namespace bridle
