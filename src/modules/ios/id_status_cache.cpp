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

// Minimal binary plist reader (bplist00) keeping strings and keys byte-exact. Every offset is
// bounds-checked, nesting and the number of expanded nodes are capped.
class Bplist {
 public:
  explicit Bplist(std::string_view d) : d_(d) {}

  std::optional<Json> parse(std::string* err) {
    if (d_.size() < 40 || d_.substr(0, 8) != "bplist00") return fail(err, "not a binary plist");
    std::string_view t = d_.substr(d_.size() - 32);
    off_size_ = static_cast<unsigned char>(t[6]);
    ref_size_ = static_cast<unsigned char>(t[7]);
    num_objects_ = be(t.substr(8, 8));
    std::uint64_t top = be(t.substr(16, 8));
    table_ = be(t.substr(24, 8));
    if (off_size_ < 1 || off_size_ > 8 || ref_size_ < 1 || ref_size_ > 8 || num_objects_ == 0 ||
        num_objects_ > d_.size() || top >= num_objects_ || table_ >= d_.size() ||
        (d_.size() - table_) / off_size_ < num_objects_)
      return fail(err, "damaged binary plist trailer");
    Json out;
    if (!object(top, 0, out)) return fail(err, error_.empty() ? "damaged binary plist" : error_);
    return out;
  }

 private:
  static std::uint64_t be(std::string_view b) {
    std::uint64_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
    return v;
  }
  std::optional<Json> fail(std::string* err, std::string m) {
    if (err) *err = std::move(m);
    return std::nullopt;
  }
  bool bytes(std::uint64_t at, std::uint64_t n, std::string_view& out) const {
    if (at > d_.size() || n > d_.size() - at) return false;
    out = d_.substr(at, n);
    return true;
  }
  bool offset_of(std::uint64_t idx, std::uint64_t& at) const {
    std::string_view b;
    if (idx >= num_objects_ || !bytes(table_ + idx * off_size_, off_size_, b)) return false;
    at = be(b);
    return at < table_;
  }
  // Length of a container/string: low nibble, or an int object following the marker.
  bool length(std::uint64_t& at, unsigned low, std::uint64_t& n) const {
    if (low != 0xF) {
      n = low;
      return true;
    }
    std::string_view m;
    if (!bytes(at, 1, m)) return false;
    unsigned char c = static_cast<unsigned char>(m[0]);
    if ((c >> 4) != 0x1 || (c & 0xF) > 3) return false;
    std::uint64_t w = 1ull << (c & 0xF);
    std::string_view v;
    if (!bytes(at + 1, w, v)) return false;
    n = be(v);
    at += 1 + w;
    return true;
  }

  bool object(std::uint64_t idx, int depth, Json& out) {
    if (depth > 64) return error("plist nested too deeply");
    if (++nodes_ > 1'000'000) return error("plist has too many nodes");
    std::uint64_t at;
    std::string_view m;
    if (!offset_of(idx, at) || !bytes(at, 1, m)) return false;
    unsigned char c = static_cast<unsigned char>(m[0]);
    unsigned hi = c >> 4, low = c & 0xF;
    ++at;
    std::string_view v;
    switch (hi) {
      case 0x0:
        if (c == 0x08 || c == 0x09) out = (c == 0x09);
        else out = nullptr;
        return true;
      case 0x1: {
        if (low > 4 || !bytes(at, 1ull << low, v)) return false;
        std::uint64_t u = be(v.size() > 8 ? v.substr(v.size() - 8) : v);
        if (v.size() >= 8) out = static_cast<std::int64_t>(u);
        else out = u;
        return true;
      }
      case 0x2: {
        if ((low != 2 && low != 3) || !bytes(at, 1ull << low, v)) return false;
        out = real(v);
        return true;
      }
      case 0x3: {
        if (low != 3 || !bytes(at, 8, v)) return false;
        out = mac_to_iso(real(v));
        return true;
      }
      case 0x4: case 0x5: case 0x6: {
        std::uint64_t n;
        if (!length(at, low, n)) return false;
        if (hi == 0x6) {
          if (n > d_.size() / 2 || !bytes(at, n * 2, v)) return false;
          out = utf16be_to_utf8(v);
        } else {
          if (!bytes(at, n, v)) return false;
          out = hi == 0x4 ? base64_encode(v) : std::string(v);
        }
        return true;
      }
      case 0x8: {
        if (!bytes(at, low + 1, v)) return false;
        out = Json{{"CF$UID", be(v)}};
        return true;
      }
      case 0xA: case 0xC: case 0xD: {
        std::uint64_t n;
        if (!length(at, low, n)) return false;
        std::uint64_t refs = hi == 0xD ? n * 2 : n;
        if (n > num_objects_ * 2 || !bytes(at, refs * ref_size_, v)) return false;
        auto ref = [&](std::uint64_t i) { return be(v.substr(i * ref_size_, ref_size_)); };
        if (hi != 0xD) {
          out = Json::array();
          for (std::uint64_t i = 0; i < n; ++i) {
            Json x;
            if (!object(ref(i), depth + 1, x)) return false;
            out.push_back(std::move(x));
          }
          return true;
        }
        // Appended straight to the ordered map (its operator[] is a linear search, which a
        // hostile dictionary would make quadratic); a repeated key keeps its first position.
        out = Json::object();
        auto& obj = out.get_ref<Json::object_t&>();
        std::unordered_map<std::string, std::size_t> pos;
        for (std::uint64_t i = 0; i < n; ++i) {
          Json k, x;
          if (!object(ref(i), depth + 1, k) || !k.is_string()) return false;
          if (!object(ref(n + i), depth + 1, x)) return false;
          std::string key = k.get<std::string>();
          auto [it, fresh] = pos.emplace(key, obj.size());
          if (fresh) obj.emplace_back(std::move(key), std::move(x));
          else (obj.begin() + static_cast<std::ptrdiff_t>(it->second))->second = std::move(x);
        }
        return true;
      }
      default:
        return error("unsupported binary plist object");
    }
  }

  static double real(std::string_view v) {
    std::uint64_t u = be(v);
    if (v.size() == 4) {
      std::uint32_t w = static_cast<std::uint32_t>(u);
      float f;
      std::memcpy(&f, &w, 4);
      return f;
    }
    double d;
    std::memcpy(&d, &u, 8);
    return d;
  }

  static std::string utf16be_to_utf8(std::string_view v) {
    std::string out;
    for (std::size_t i = 0; i + 1 < v.size(); i += 2) {
      std::uint32_t cp = (static_cast<unsigned char>(v[i]) << 8) | static_cast<unsigned char>(v[i + 1]);
      if (cp >= 0xD800 && cp < 0xDC00 && i + 3 < v.size()) {
        std::uint32_t lo = (static_cast<unsigned char>(v[i + 2]) << 8) | static_cast<unsigned char>(v[i + 3]);
        if (lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 2;
        }
      }
      if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
      if (cp < 0x80) {
        out += static_cast<char>(cp);
      } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      }
    }
    return out;
  }

  bool error(const char* m) {
    if (error_.empty()) error_ = m;
    return false;
  }

  std::string_view d_;
  unsigned off_size_ = 0, ref_size_ = 0;
  std::uint64_t num_objects_ = 0, table_ = 0;
  std::size_t nodes_ = 0;
  std::string error_;
};

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
      std::optional<Json> data;
      if (bytes->rfind("bplist00", 0) == 0) data = Bplist(*bytes).parse(&err);
      else data = plist_to_json(*bytes, {}, &err);
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
          r["user"] = escape_nul(user);
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
