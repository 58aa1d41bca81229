// STIX2 bundle loading: collections, indicator patterns, per-collection de-duplication.
#include <libpsl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "core/util.hpp"
#include "indicators/indicators.hpp"

namespace bridle {

namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxBundleBytes = 512ull << 20;  // 512 MiB

constexpr std::string_view kTypeKeys[kIocTypeCount] = {
    "domain", "ipv4",   "ipv6", "url",  "process", "email",      "file_name",       "file_path",
    "sha256", "sha1",   "md5",  "app_id", "app_cert", "profile_id", "android_property"};
constexpr std::string_view kBuckets[kIocTypeCount] = {
    "domains",      "domains",     "domains",   "urls",           "processes",
    "emails",       "file_names",  "file_paths", "files_sha256",  "files_sha1",
    "files_md5",    "app_ids",     "app_cert_hashes", "ios_profile_ids", "android_property_names"};

// ---------------------------------------------------------------------------------------
// STIX2 pattern parsing. Only the single-comparison form is supported:
//     [ <object-type> ':' <property-path> '=' '<string>' ]
// with optional white space everywhere, `\'` and `\\` escapes in the string, and quoted
// path components (file:hashes.'SHA-256'). Anything else (AND/OR, several comparisons,
// qualifiers, other operators or literal kinds) is reported as unsupported.
// ---------------------------------------------------------------------------------------

struct ParsedPattern {
  std::string key;    // e.g. "file:hashes.sha256" (hash/cert algorithm normalised)
  std::string value;  // unescaped string literal
};

class PatternLexer {
 public:
  explicit PatternLexer(std::string_view s) : s_(s) {}

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r'))
      ++pos_;
  }
  bool eof() const { return pos_ >= s_.size(); }
  char peek() const { return eof() ? '\0' : s_[pos_]; }
  bool consume(char c) {
    if (peek() != c || eof()) return false;
    ++pos_;
    return true;
  }
  // Identifier of an object type or property: letters, digits, '-', '_'.
  std::string_view ident() {
    std::size_t b = pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
      if (!ok) break;
      ++pos_;
    }
    return s_.substr(b, pos_ - b);
  }
  // A quoted string starting at the current position (which must be '\'').
  // Returns nullopt on an unterminated string or an invalid escape.
  std::optional<std::string> quoted(std::string* error) {
    if (!consume('\'')) {
      *error = "expected a string literal";
      return std::nullopt;
    }
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '\'') return out;
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        char e = s_[pos_++];
        if (e != '\'' && e != '\\') {
          *error = "invalid escape sequence in string literal";
          return std::nullopt;
        }
        out.push_back(e);
        continue;
      }
      out.push_back(c);
    }
    *error = "unterminated string literal";
    return std::nullopt;
  }
  std::string_view rest() const { return s_.substr(std::min(pos_, s_.size())); }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

std::string lower_strip_dash(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '\'' || c == '_') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::variant<ParsedPattern, std::string> parse_pattern(std::string_view text) {
  PatternLexer lx(text);
  lx.skip_ws();
  if (!lx.consume('[')) return std::string("pattern does not start with '['");
  lx.skip_ws();
  std::string_view type = lx.ident();
  if (type.empty()) return std::string("missing object type");
  if (!lx.consume(':')) return std::string("missing ':' after object type");
  // Property path: segments separated by '.', each an identifier or a quoted string.
  std::vector<std::string> segs;
  std::string err;
  for (;;) {
    if (lx.peek() == '\'') {
      auto q = lx.quoted(&err);
      if (!q) return err;
      segs.push_back(*q);
    } else {
      std::string_view id = lx.ident();
      if (id.empty()) return std::string("invalid property path");
      segs.emplace_back(id);
    }
    if (lx.peek() == '[') return std::string("list index in property path not supported");
    if (!lx.consume('.')) break;
  }
  lx.skip_ws();
  if (lx.peek() != '=') {
    return std::string("unsupported comparison operator");
  }
  lx.consume('=');
  lx.skip_ws();
  if (lx.peek() != '\'') return std::string("unsupported literal (only strings are supported)");
  auto value = lx.quoted(&err);
  if (!value) return err;
  lx.skip_ws();
  if (!lx.consume(']')) {
    std::string_view r = lx.rest();
    if (r.substr(0, 3) == "AND" || r.substr(0, 2) == "OR" || r.substr(0, 3) == "and" ||
        r.substr(0, 2) == "or")
      return std::string("compound pattern (AND/OR) not supported");
    return std::string("unexpected text after the comparison");
  }
  lx.skip_ws();
  if (!lx.eof()) return std::string("compound or qualified pattern not supported");

  ParsedPattern p;
  p.key.assign(type);
  p.key.push_back(':');
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (i) p.key.push_back('.');
    if (i == 1 && (segs[0] == "hashes" || segs[0] == "cert"))
      p.key += lower_strip_dash(segs[i]);
    else
      p.key += segs[i];
  }
  p.value = std::move(*value);
  return p;
}

std::optional<IocType> type_for_key(std::string_view key) {
  static const std::unordered_map<std::string_view, IocType> kMap = {
      {"domain-name:value", IocType::Domain},
      {"ipv4-addr:value", IocType::Ipv4},
      {"ipv6-addr:value", IocType::Ipv6},
      {"url:value", IocType::Url},
      {"process:name", IocType::Process},
      {"email-addr:value", IocType::Email},
      {"file:name", IocType::FileName},
      {"file:path", IocType::FilePath},
      {"file:hashes.sha256", IocType::Sha256},
      {"file:hashes.sha1", IocType::Sha1},
      {"file:hashes.md5", IocType::Md5},
      {"app:cert.md5", IocType::AppCert},
      {"app:cert.sha1", IocType::AppCert},
      {"app:cert.sha256", IocType::AppCert},
      {"app:id", IocType::AppId},
      {"configuration-profile:id", IocType::ProfileId},
      {"android-property:name", IocType::AndroidProperty},
  };
  auto it = kMap.find(key);
  if (it == kMap.end()) return std::nullopt;
  return it->second;
}

// True for names listed in the Public Suffix List (ICANN and private sections: "com",
// "co.uk", "github.io"). The implicit "*" rule is NOT applied: with it every unlisted
// single-label name counts as a public suffix, and predator.stix2's malformed
// "despachosnegocios" (no TLD) would be dropped although indexing it can only ever match
// that exact name or names under it.
bool is_public_suffix(const std::string& domain) {
  static const psl_ctx_t* psl = psl_builtin();
  if (!psl) return false;
  return psl_is_public_suffix2(psl, domain.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

bool plausible_domain(std::string_view d) {
  if (d.empty() || d.front() == '.' || d.find("..") != std::string_view::npos) return false;
  for (char c : d) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
    switch (c) {
      case '/': case '\\': case '?': case '#': case '@': case '[': case ']': case ':':
      case '<': case '>': case '"': case '\'': case '`': case '{': case '}': case '|':
      case ',': case ';':
        return false;
      default:
        break;
    }
  }
  return true;
}

// Normalises an indicator value for its type. Returns nullopt (with a reason) when the
// indicator cannot be used.
std::optional<std::string> normalize_value(IocType type, std::string_view raw, std::string* why) {
  std::string v = trim(raw);
  if (v.empty()) {
    *why = "empty value";
    return std::nullopt;
  }
  switch (type) {
    case IocType::Domain: {
      if (auto ip = normalize_ip(v)) return *ip;  // matched as an IP by the index
      std::string d = to_lower(v);
      if (d.compare(0, 2, "*.") == 0) d.erase(0, 2);  // wildcard: suffix matching covers it
      // A domain written with a path (coruna's `fgr1w2gnsdvsb.xyz/x`) or as a URL is
      // treated as URL-ish: only its host is kept, as a domain indicator.
      if (d.find_first_of("/?#@") != std::string::npos) d = url_host(d);
      while (!d.empty() && d.back() == '.') d.pop_back();
      if (auto ip = normalize_ip(d)) return *ip;
      if (!plausible_domain(d)) {
        *why = "not a valid domain name";
        return std::nullopt;
      }
      if (is_public_suffix(d)) {
        *why = fmt::format("domain \"{}\" is a public suffix; not indexed", d);
        return std::nullopt;
      }
      return d;
    }
    case IocType::Ipv4:
    case IocType::Ipv6: {
      auto ip = normalize_ip(v);
      if (!ip) {
        *why = "not an IP address (CIDR ranges are not supported)";
        return std::nullopt;
      }
      return *ip;
    }
    case IocType::Url: {
      if (auto u = normalize_url(v)) return *u;
      return v;  // scheme-less: the index tries http:// and https://
    }
    case IocType::Process:
    case IocType::FileName:
    case IocType::FilePath:
      return v;
    case IocType::Email:
    case IocType::Sha256:
    case IocType::Sha1:
    case IocType::Md5:
    case IocType::AppId:
    case IocType::AppCert:
    case IocType::ProfileId:
    case IocType::AndroidProperty:
      return to_lower(v);
  }
  *why = "unsupported type";
  return std::nullopt;
}

}  // namespace

std::string_view ioc_type_key(IocType t) {
  auto i = static_cast<std::size_t>(t);
  return i < static_cast<std::size_t>(kIocTypeCount) ? kTypeKeys[i] : std::string_view("unknown");
}

std::string_view ioc_mvt_bucket(IocType t) {
  auto i = static_cast<std::size_t>(t);
  return i < static_cast<std::size_t>(kIocTypeCount) ? kBuckets[i] : std::string_view("unknown");
}

bool IndicatorSet::load_file(const std::filesystem::path& path) {
  std::string err;
  std::optional<std::string> text;
  try {
    text = read_file(path, kMaxBundleBytes, &err);
  } catch (const std::exception& e) {
    err = e.what();
  }
  if (!text) {
    warnings_.push_back(fmt::format("{}: cannot read indicators file: {}", path.string(), err));
    return false;
  }
  return load_bundle(*text, path.string());
}

// Read access to the bundle's objects, the same for both JSON parsers (simdjson, with
// nlohmann::json as the fallback for anything simdjson refuses): a member is found by its
// unescaped key, the LAST one winning when a key is repeated (as nlohmann's DOM does).
namespace {

struct NlohmannAccess {
  using Elem = json;
  static bool is_object(const json& o) { return o.is_object(); }
  static const json* member(const json& o, std::string_view key) {
    auto it = o.find(std::string(key));
    return it == o.end() ? nullptr : &*it;
  }
  static std::optional<std::string_view> str(const json& o, std::string_view key) {
    const json* m = member(o, key);
    if (!m || !m->is_string()) return std::nullopt;
    return std::string_view(*m->get_ptr<const std::string*>());
  }
  static bool has(const json& o, std::string_view key) { return member(o, key) != nullptr; }
  template <class F>
  static void strings_of(const json& o, std::string_view key, F&& f) {
    const json* m = member(o, key);
    if (!m || !m->is_array()) return;
    for (const json& r : *m)
      if (r.is_string()) f(std::string_view(*r.get_ptr<const std::string*>()));
  }
};

struct SimdAccess {
  using Elem = simdjson::dom::element;
  static bool is_object(const Elem& o) { return o.is_object(); }
  static bool member(const Elem& o, std::string_view key, Elem& out) {
    simdjson::dom::object obj;
    if (o.get_object().get(obj)) return false;
    bool found = false;
    for (auto field : obj)
      if (field.key == key) {
        out = field.value;
        found = true;
      }
    return found;
  }
  static std::optional<std::string_view> str(const Elem& o, std::string_view key) {
    Elem m;
    std::string_view v;
    if (!member(o, key, m) || m.get_string().get(v)) return std::nullopt;
    return v;
  }
  static bool has(const Elem& o, std::string_view key) {
    Elem m;
    return member(o, key, m);
  }
  template <class F>
  static void strings_of(const Elem& o, std::string_view key, F&& f) {
    Elem m;
    simdjson::dom::array arr;
    if (!member(o, key, m) || m.get_array().get(arr)) return;
    for (Elem r : arr) {
      std::string_view v;
      if (!r.get_string().get(v)) f(v);
    }
  }
};

}  // namespace

// The bundle's objects, whichever parser read them.
template <class A, class Objects>
bool IndicatorSet::load_objects(const Objects& objects, std::string_view json_text, const std::string& path) {
  const std::string file_name = std::filesystem::path(path).filename().string();
  auto string_or = [](const typename A::Elem& o, std::string_view key, std::string_view dflt = {}) {
    auto v = A::str(o, key);
    return std::string(v ? *v : dflt);
  };

  // Work on local copies: the set only changes when the whole file went through.
  std::vector<Collection> colls;
  std::vector<Indicator> inds;
  std::vector<std::string> warns;
  std::size_t skipped = 0;
  const auto base = static_cast<std::uint32_t>(collections_.size());

  // Pass 1: collections (malware, report) and report membership.
  std::unordered_map<std::string, std::uint32_t> malware_coll;  // malware id -> local index
  std::unordered_map<std::string, std::uint32_t> report_of;     // indicator id -> local index
  for (const auto& o : objects) {
    if (!A::is_object(o)) continue;
    auto type = A::str(o, "type");
    if (!type || (*type != "malware" && *type != "report")) continue;
    Collection c;
    c.id = string_or(o, "id");
    c.name = string_or(o, "name");
    c.description = string_or(o, "description");
    c.stix2_file_name = file_name;
    c.stix2_file_path = path;
    auto idx = static_cast<std::uint32_t>(colls.size());
    if (*type == "malware") {
      malware_coll.emplace(c.id, idx);  // first definition wins
    } else {
      A::strings_of(o, "object_refs", [&](std::string_view r) { report_of.emplace(std::string(r), idx); });
    }
    colls.push_back(std::move(c));
  }
  // Pass 2: the first relationship from an indicator to a known malware.
  std::unordered_map<std::string, std::uint32_t> rel_of;  // indicator id -> local index
  for (const auto& o : objects) {
    if (!A::is_object(o)) continue;
    auto type = A::str(o, "type");
    if (!type || *type != "relationship") continue;
    auto src = A::str(o, "source_ref");
    auto dst = A::str(o, "target_ref");
    if (!src || !dst) continue;
    auto m = malware_coll.find(std::string(*dst));
    if (m == malware_coll.end()) continue;  // relationship to an absent object: ignored
    rel_of.emplace(std::string(*src), m->second);
  }

  // Pass 3: indicators.
  std::optional<std::uint32_t> default_coll;
  std::unordered_set<std::string> seen;  // "<coll>\x1f<bucket>\x1f<value>"
  std::string key;
  for (const auto& o : objects) {
    if (!A::is_object(o)) continue;
    auto type = A::str(o, "type");
    if (!type || *type != "indicator") continue;
    const std::string id = string_or(o, "id", "<no id>");
    auto skip = [&](std::string_view why) {
      ++skipped;
      warns.push_back(fmt::format("{}: indicator {}: {}; skipped", path, id, why));
    };
    if (A::has(o, "pattern_type")) {
      auto pt = A::str(o, "pattern_type");
      if (!pt || *pt != "stix") {
        skip("pattern_type is not \"stix\"");
        continue;
      }
    }
    auto pattern = A::str(o, "pattern");
    if (!pattern) {
      skip("no pattern");
      continue;
    }
    auto parsed = parse_pattern(*pattern);
    if (auto* e = std::get_if<std::string>(&parsed)) {
      skip(fmt::format("{} in pattern {}", *e, *pattern));
      continue;
    }
    auto& pp = std::get<ParsedPattern>(parsed);
    auto itype = type_for_key(pp.key);
    if (!itype) {
      skip(fmt::format("unsupported indicator type \"{}\"", pp.key));
      continue;
    }
    std::string why;
    auto value = normalize_value(*itype, pp.value, &why);
    if (!value) {
      skip(why);
      continue;
    }
    std::uint32_t coll;
    if (auto r = report_of.find(id); r != report_of.end()) {
      coll = r->second;
    } else if (auto m = rel_of.find(id); m != rel_of.end()) {
      coll = m->second;
    } else {
      if (!default_coll) {
        Collection c;
        c.id = "0";
        c.name = "Default collection";  // MVT's name; stix2_file_name says which file
        c.description = "Default collection";
        c.stix2_file_name = file_name;
        c.stix2_file_path = path;
        default_coll = static_cast<std::uint32_t>(colls.size());
        colls.push_back(std::move(c));
      }
      coll = *default_coll;
    }
    key = std::to_string(coll);
    key.push_back('\x1f');
    key += ioc_mvt_bucket(*itype);
    key.push_back('\x1f');
    key += *value;
    if (!seen.insert(key).second) continue;  // unique per collection
    Indicator ind;
    ind.value = std::move(*value);
    ind.raw_value = std::move(pp.value);
    ind.type = *itype;
    ind.collection = base + coll;
    ind.stix_id = id;
    inds.push_back(std::move(ind));
  }

  LoadedFile lf;
  lf.path = path;
  lf.sha256 = sha256_hex(json_text);
  lf.indicators = inds.size();

  collections_.insert(collections_.end(), std::make_move_iterator(colls.begin()),
                      std::make_move_iterator(colls.end()));
  indicators_.insert(indicators_.end(), std::make_move_iterator(inds.begin()),
                     std::make_move_iterator(inds.end()));
  warnings_.insert(warnings_.end(), std::make_move_iterator(warns.begin()),
                   std::make_move_iterator(warns.end()));
  skipped_ += skipped;
  files_.push_back(std::move(lf));
  return true;
}

bool IndicatorSet::load_bundle(std::string_view json_text, const std::string& path) {
  try {
    // simdjson first (several times faster than a DOM of std::maps); whatever it refuses
    // (invalid JSON, a BOM, numbers beyond 64 bits, extreme nesting) goes through
    // nlohmann::json exactly as before, so the outcome and the warnings do not change.
    {
      simdjson::dom::parser parser;
      simdjson::padded_string padded(json_text);
      simdjson::dom::element doc;
      simdjson::dom::array objects;
      if (!parser.parse(padded).get(doc) && doc.is_object()) {
        simdjson::dom::element objs;
        if (SimdAccess::member(doc, "objects", objs) && !objs.get_array().get(objects))
          return load_objects<SimdAccess>(objects, json_text, path);
        warnings_.push_back(fmt::format("{}: not a STIX2 bundle (no \"objects\" list); file skipped", path));
        return false;
      }
    }
    json doc = json::parse(json_text.begin(), json_text.end(), nullptr, false);
    if (doc.is_discarded()) {
      warnings_.push_back(fmt::format("{}: not valid JSON; file skipped", path));
      return false;
    }
    if (!doc.is_object() || !doc.contains("objects") || !doc["objects"].is_array()) {
      warnings_.push_back(fmt::format("{}: not a STIX2 bundle (no \"objects\" list); file skipped", path));
      return false;
    }
    return load_objects<NlohmannAccess>(doc["objects"], json_text, path);
  } catch (const std::exception& e) {
    warnings_.push_back(fmt::format("{}: cannot load indicators: {}", path, e.what()));
    return false;
  } catch (...) {
    warnings_.push_back(fmt::format("{}: cannot load indicators", path));
    return false;
  }
}

std::array<std::size_t, kIocTypeCount> IndicatorSet::counts() const {
  std::array<std::size_t, kIocTypeCount> out{};
  // indicators_ is already unique per collection and kind.
  for (const auto& ind : indicators_) ++out[static_cast<std::size_t>(ind.type)];
  return out;
}

std::string IndicatorSet::digest() const {
  std::vector<std::string> hashes;
  hashes.reserve(files_.size());
  for (const auto& f : files_) hashes.push_back(f.sha256);
  std::sort(hashes.begin(), hashes.end());
  std::string joined;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (i) joined.push_back('\n');
    joined += hashes[i];
  }
  return sha256_hex(joined);
}

std::vector<std::filesystem::path> default_indicator_files() {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  std::unordered_set<std::string> seen;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(p, ec);
    std::string key = ec ? p.lexically_normal().string() : canon.string();
    if (seen.insert(key).second) out.push_back(p);
  };
  auto stix2_in = [](const fs::path& dir, bool recursive) {
    std::vector<fs::path> found;
    std::error_code ec;
    auto consider = [&](const fs::directory_entry& e) {
      std::error_code ec2;
      if (e.is_regular_file(ec2) && e.path().extension() == ".stix2") found.push_back(e.path());
    };
    if (recursive) {
      fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
      for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) consider(*it);
    } else {
      fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
      for (; !ec && it != fs::directory_iterator(); it.increment(ec)) consider(*it);
    }
    std::sort(found.begin(), found.end());
    return found;
  };
  try {
    std::error_code ec;
    fs::path dir = user_data_dir() / "indicators";
    if (fs::is_directory(dir, ec))
      for (auto& p : stix2_in(dir, false)) add(p);
    if (const char* env = std::getenv("BRIDLE_STIX2")) {
      for (const auto& entry : split(env, ':')) {
        if (entry.empty()) continue;
        fs::path p(entry);
        if (fs::is_directory(p, ec)) {
          for (auto& f : stix2_in(p, true)) add(f);
        } else {
          add(p);  // a file as is; a missing one gives a warning when loaded
        }
      }
    }
  } catch (...) {
    // Allocation failure or a broken environment: return what was found so far.
  }
  return out;
}

}  // namespace bridle
