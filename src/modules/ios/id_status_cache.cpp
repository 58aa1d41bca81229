// IDStatusCache: Apple identity-services lookups (is this e-mail/phone an iMessage/FaceTime
// user?). Pegasus operators looked up their own iCloud accounts minutes before an
// infection, so mailto: entries are checked against e-mail indicators.
//
// Structure: {service: {"mailto:<acct>"|"tel:<number>": {LookupDate, IDStatus}}}.
//
// Keys can hold NUL characters (MVT writes them as "\x00" and flags "\x00\x00" as
// suspicious). libplist, which the shared plist reader uses, cuts dictionary keys at the
// first NUL, so binary plists are read here with a small bounded reader that keeps keys
// byte-exact; XML plists (which cannot carry NUL) go through the shared reader.
#include <cstring>
#include <map>
#include <unordered_map>

#include "core/timeutil.hpp"
#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& idstatus_spec() {
  static const ArtifactSpec s{
      {{"HomeDomain", "Library/Preferences/com.apple.identityservices.idstatuscache.plist", false}},
      {"private/var/mobile/Library/Preferences/com.apple.identityservices.idstatuscache.plist",
       "private/var/mobile/Library/IdentityServices/idstatuscache.plist"}};
  return s;
}

// libplist hands dictionary keys over as C strings, so a key holding NUL characters (the
// "\x00\x00" pattern MVT looks for) arrives cut at its first NUL. The raw bytes still hold
// the whole key: where a key is followed there by NUL bytes, the rest of it is recovered
// from the raw data (up to the next byte that cannot be part of a bplist ASCII string).
std::string full_key(std::string_view raw, const std::string& key) {
  if (key.empty()) return key;
  std::string needle = key + std::string(1, '\0');
  for (auto pos = raw.find(needle); pos != std::string_view::npos; pos = raw.find(needle, pos + 1)) {
    // The length of a bplist ASCII string sits in the bytes just before it: 0x5N (N < 15),
    // or 0x5F followed by an integer marker 0x1k and 2^k big-endian length bytes.
    std::size_t len = 0;
    auto at = [&](std::size_t back) { return static_cast<unsigned char>(raw[pos - back]); };
    if (pos >= 1 && (at(1) & 0xF0) == 0x50 && (at(1) & 0x0F) < 15) {
      len = at(1) & 0x0F;
    } else {
      for (unsigned k = 0; k < 4 && !len; ++k) {
        std::size_t n = std::size_t{1} << k;
        if (pos < n + 2 || at(n + 2) != 0x5F || at(n + 1) != (0x10 | k)) continue;
        std::uint64_t v = 0;
        for (std::size_t i = n; i >= 1; --i) v = (v << 8) | at(i);
        len = v > (1u << 20) ? 0 : static_cast<std::size_t>(v);
      }
    }
    if (len > key.size() && pos + len <= raw.size()) return std::string(raw.substr(pos, len));
  }
  return key;
}

// NUL characters as the four characters \x00 (MVT's representation).
std::string escape_nul(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\0') out += "\\x00";
    else out += c;
  }
  return out;
}

class IDStatusCache final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"IDStatusCache", "id_status_cache", kIosAny, Level::Critical,
                              ModuleInfo::Shape::List,
                              "Identity-services lookups of e-mail addresses and numbers (iMessage/FaceTime)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    auto files = src->find(idstatus_spec());
    if (files.empty()) {
      ctx.info("There might be no data to extract: unable to find the ID status cache");
      return;
    }
    for (auto& f : files) {
      std::string err;
      auto bytes = src->read(f, &err, 256ull << 20);
      if (!bytes) {
        ctx.unreadable(f.display, "cannot read the ID status cache: " + err);
        continue;
      }
      std::optional<Json> data = plist_to_json(*bytes, {}, &err);
      if (!data || !data->is_object()) {
        ctx.unreadable(f.display, "not a readable ID status cache: " + (data ? "not a dictionary" : err));
        continue;
      }
      std::vector<Json> entries;
      std::map<std::string, std::int64_t> count;
      for (auto& [app, users] : data->items()) {
        if (!users.is_object()) continue;
        for (auto& [user, status] : users.items()) {
          Json r = Json::object();
          r["package"] = app;
          r["user"] = escape_nul(full_key(*bytes, user));
          Json date = status.is_object() && status.contains("LookupDate") ? status["LookupDate"] : Json();
          r["isodate"] = date.is_string() ? date.get<std::string>() : "";
          r["idstatus"] = status.is_object() && status.contains("IDStatus") ? status["IDStatus"] : Json("");
          ++count[r["user"].get<std::string>()];
          entries.push_back(std::move(r));
        }
      }
      for (auto& r : entries) {
        std::string user = r["user"].get<std::string>();
        r["occurrences"] = count[user];
        // MVT only runs this check when indicators are loaded; it needs none, so it
        // always runs here.
        if (user.find("\\x00\\x00") != std::string::npos)
          ctx.alert(Level::High,
                    "Found an ID Status Cache entry with suspicious patterns (\\x00\\x00): " + user,
                    jstr(r, "isodate"), r);
        ctx.emit(std::move(r));
      }
      ctx.info("Extracted a total of " + std::to_string(entries.size()) + " ID Status Cache entries");
    }
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string user = jstr(r, "user");
    if (user.rfind("mailto:", 0) != 0) return;
    std::string email = user.substr(7);
    // Quotes around the address are not part of it.
    while (!email.empty() && email.front() == '\'') email.erase(0, 1);
    while (!email.empty() && email.back() == '\'') email.pop_back();
    if (!email.empty()) out.push_back({ObsKind::Email, email, {}});
  }

  void timeline(const Json& r, std::vector<TimelineRow>& out) const override {
    out.push_back({jstr(r, "isodate"), "lookup",
                   "Lookup of " + pystr(r, "user") + " within " + pystr(r, "package") + " (Status " +
                       pystr(r, "idstatus") + ")"});
  }
};

BRIDLE_REGISTER_MODULE(IDStatusCache);

}  // namespace
}  // namespace bridle
