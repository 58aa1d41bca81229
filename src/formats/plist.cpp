#include "formats/plist.hpp"

#include <plist/plist.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <unordered_map>
#include <vector>

#include "core/timeutil.hpp"
#include "core/util.hpp"

// Notes on libplist 2.2 (Debian bookworm) that shaped this file:
//  * Its binary parser and plist_free() recurse once per nesting level without any limit,
//    so a deeply nested input (100k arrays, a few hundred KB) overflows the stack. Before
//    libplist sees the bytes, a structural pre-scan (below) measures the nesting depth and,
//    for binary plists, the number of nodes after expansion (libplist re-parses an object for
//    every reference to it, so shared references are a memory bomb). This is a guard, not a
//    parser: values are only ever read by libplist.
//  * Integers are stored as uint64 plus an internal width. A negative integer comes back from
//    plist_get_uint_val() as a value >= 2^63; so does a genuine unsigned value >= 2^63
//    (stored as a 16-byte integer in bplist, or a big XML literal). The only public way to
//    tell them apart is libplist's own XML writer, which prints the signed form unless the
//    node is a 128-bit one; we ask it for values >= 2^63 only.
//  * plist_get_date_val() truncates the stored double to int32 seconds (garbage past 2038
//    after the 2001 epoch, e.g. NSDate.distantFuture) and loses the sign of the fraction.
//    The exact double is read back from libplist's own binary serialisation of the node.

namespace bridle {

namespace {

// Nesting beyond this is always refused, whatever the options say: libplist recursion and
// our own converters must stay far from the stack limit even on small thread stacks.
constexpr std::size_t kHardDepthCap = 4096;

std::size_t depth_limit(const PlistOptions& o) { return std::min(o.max_depth, kHardDepthCap); }

void set_error(std::string* error, std::string msg) {
  if (error) *error = std::move(msg);
}

// ---------------------------------------------------------------------------------------
// Structural pre-scan of XML: nesting of <array>/<dict>, comments and CDATA skipped.

bool prescan_xml(std::string_view s, std::size_t max_depth, std::string* error) {
  std::size_t depth = 0, i = 0;
  auto skip_to = [&](std::size_t from, std::string_view end) {
    auto p = s.find(end, from);
    return p == std::string_view::npos ? s.size() : p + end.size();
  };
  auto is_name_end = [&](std::size_t p) {
    if (p >= s.size()) return true;
    char c = s[p];
    return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  auto name_is = [&](std::size_t p, std::string_view name) {
    return s.substr(p, name.size()) == name && is_name_end(p + name.size());
  };
  while (i < s.size()) {
    std::size_t lt = s.find('<', i);
    if (lt == std::string_view::npos) break;
    std::string_view rest = s.substr(lt);
    if (rest.substr(0, 4) == "<!--") {
      i = skip_to(lt + 4, "-->");
    } else if (rest.substr(0, 9) == "<![CDATA[") {
      i = skip_to(lt + 9, "]]>");
    } else if (rest.substr(0, 2) == "<?") {
      i = skip_to(lt + 2, "?>");
    } else if (rest.substr(0, 2) == "<!") {
      i = skip_to(lt + 2, ">");
    } else if (rest.substr(0, 2) == "</") {
      if ((name_is(lt + 2, "array") || name_is(lt + 2, "dict")) && depth > 0) --depth;
      i = skip_to(lt + 2, ">");
    } else {
      bool container = name_is(lt + 1, "array") || name_is(lt + 1, "dict");
      std::size_t gt = s.find('>', lt + 1);
      if (gt == std::string_view::npos) break;
      bool self_closing = gt > lt && s[gt - 1] == '/';
      if (container && !self_closing && ++depth > max_depth) {
        set_error(error, "plist nesting deeper than " + std::to_string(max_depth));
        return false;
      }
      i = gt + 1;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Structural pre-scan of bplist00: object graph depth and expanded node count.

std::uint64_t be_uint(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < n; ++k) v = (v << 8) | p[k];
  return v;
}

bool prescan_bin(std::string_view s, std::size_t max_depth, std::size_t max_nodes,
                 std::string* error) {
  auto fail = [&](const std::string& m) {
    set_error(error, "malformed binary plist: " + m);
    return false;
  };
  const auto* d = reinterpret_cast<const unsigned char*>(s.data());
  const std::uint64_t n = s.size();
  if (n < 8 + 32) return fail("too short");
  const unsigned char* t = d + n - 32;
  const std::uint64_t off_size = t[6], ref_size = t[7];
  const std::uint64_t num = be_uint(t + 8, 8), top = be_uint(t + 16, 8),
                      table = be_uint(t + 24, 8);
  if (off_size < 1 || off_size > 8 || ref_size < 1 || ref_size > 8) return fail("bad trailer");
  if (num == 0 || top >= num) return fail("bad object count");
  if (table < 8 || table > n - 32 || num > (n - 32 - table) / off_size)
    return fail("offset table out of range");

  auto offset_of = [&](std::uint64_t idx) { return be_uint(d + table + idx * off_size, off_size); };
  // Children of container object idx (empty for scalars); false when out of range.
  auto children = [&](std::uint64_t idx, std::vector<std::uint64_t>& out) -> bool {
    out.clear();
    std::uint64_t o = offset_of(idx);
    if (o < 8 || o >= n - 32) return false;
    unsigned marker = d[o];
    unsigned hi = marker >> 4;
    if (hi != 0xA && hi != 0xC && hi != 0xD) return true;
    std::uint64_t count = marker & 0xF, p = o + 1;
    if (count == 0xF) {
      if (p >= n - 32) return false;
      unsigned im = d[p];
      if ((im >> 4) != 0x1 || (im & 0xF) > 3) return false;
      std::uint64_t w = 1ULL << (im & 0xF);
      if (p + 1 + w > n - 32) return false;
      count = be_uint(d + p + 1, static_cast<std::size_t>(w));
      p += 1 + w;
    }
    std::uint64_t refs = hi == 0xD ? count * 2 : count;
    if (count > n || refs > (n - 32 - p) / ref_size) return false;
    out.reserve(static_cast<std::size_t>(refs));
    for (std::uint64_t k = 0; k < refs; ++k) {
      std::uint64_t r = be_uint(d + p + k * ref_size, static_cast<std::size_t>(ref_size));
      if (r >= num) return false;
      out.push_back(r);
    }
    return true;
  };

  // Iterative DFS: longest container path and expanded size (saturating), memoised.
  const std::size_t cnt = static_cast<std::size_t>(num);
  std::vector<std::uint8_t> state(cnt, 0);  // 0 new, 1 on stack, 2 done
  std::vector<std::uint32_t> depth(cnt, 0);
  std::vector<std::uint64_t> size(cnt, 0);
  const std::uint64_t node_cap = static_cast<std::uint64_t>(max_nodes) + 1;
  struct Frame {
    std::uint64_t idx;
    std::vector<std::uint64_t> kids;
    std::size_t next = 0;
    bool container = false;
  };
  std::vector<Frame> stack;
  // A dictionary key must be a string without NUL characters: libplist (2.2) aborts on an
  // assert in plist_get_key_val for a UTF-16 key holding U+0000 (found by fuzz_plist).
  // ASCII keys are cut at their first NUL by libplist itself (see id_status_cache.cpp).
  std::string key_problem;
  auto key_ok = [&](std::uint64_t idx) -> bool {
    std::uint64_t o = offset_of(idx);
    if (o < 8 || o >= n - 32) return false;
    unsigned hi = d[o] >> 4;
    if (hi == 0x5) return true;
    if (hi != 0x6) {
      key_problem = "dictionary key is not a string";
      return false;
    }
    std::uint64_t count = d[o] & 0xF, p = o + 1;
    if (count == 0xF) {
      if (p >= n - 32) return false;
      unsigned im = d[p];
      if ((im >> 4) != 0x1 || (im & 0xF) > 3) return false;
      std::uint64_t w = 1ULL << (im & 0xF);
      if (p + 1 + w > n - 32) return false;
      count = be_uint(d + p + 1, static_cast<std::size_t>(w));
      p += 1 + w;
    }
    if (count > (n - 32 - p) / 2) return false;
    for (std::uint64_t k = 0; k < count; ++k)
      if (d[p + 2 * k] == 0 && d[p + 2 * k + 1] == 0) {
        key_problem = "dictionary key holds a NUL character";
        return false;
      }
    return true;
  };
  auto push = [&](std::uint64_t idx) -> bool {
    Frame f{idx, {}, 0, false};
    if (!children(idx, f.kids)) return false;
    std::uint64_t o = offset_of(idx);
    unsigned hi = d[o] >> 4;
    f.container = hi == 0xA || hi == 0xC || hi == 0xD;
    if (hi == 0xD)
      for (std::size_t k = 0; k < f.kids.size() / 2; ++k)
        if (!key_ok(f.kids[k])) return false;
    state[idx] = 1;
    stack.push_back(std::move(f));
    return true;
  };
  if (!push(top)) return fail(key_problem.empty() ? "object out of range" : key_problem);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next < f.kids.size()) {
      std::uint64_t k = f.kids[f.next++];
      if (state[k] == 1) return fail("reference cycle");
      if (state[k] == 0) {
        if (stack.size() > max_depth + 1) {
          set_error(error, "plist nesting deeper than " + std::to_string(max_depth));
          return false;
        }
        if (!push(k)) return fail(key_problem.empty() ? "object out of range" : key_problem);
      }
      continue;
    }
    std::uint32_t dep = 0;
    std::uint64_t sz = 1;
    for (auto k : f.kids) {
      dep = std::max(dep, depth[k]);
      sz = std::min(node_cap, sz + size[k]);
    }
    std::uint64_t idx = f.idx;
    depth[idx] = dep + (f.container ? 1 : 0);
    size[idx] = sz;
    state[idx] = 2;
    stack.pop_back();
    if (depth[idx] > max_depth) {
      set_error(error, "plist nesting deeper than " + std::to_string(max_depth));
      return false;
    }
    if (size[idx] > max_nodes) {
      set_error(error, "plist has more than " + std::to_string(max_nodes) + " nodes");
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// libplist tree -> Json

struct PlistHolder {
  plist_t p = nullptr;
  ~PlistHolder() {
    if (p) plist_free(p);
  }
};

std::string fix_utf8(std::string s) {
  if (is_valid_utf8(s)) return s;
  return utf8_backslashreplace(s);
}

// "YYYY-MM-DD HH:MM:SS.ffffff" for seconds since 2001-01-01 (exact for whole seconds).
std::optional<std::string> mac_date_text(double t) {
  if (!std::isfinite(t) || std::fabs(t) > 4.0e11) return std::nullopt;
  double whole = std::floor(t);
  auto us = static_cast<std::int64_t>(std::nearbyint((t - whole) * 1e6));
  auto secs = static_cast<std::int64_t>(whole);
  if (us >= 1'000'000) {
    secs += 1;
    us -= 1'000'000;
  }
  std::string s = unix_to_iso_int(secs + 978307200LL);
  if (s.size() != 26) return std::nullopt;
  char frac[32];
  std::snprintf(frac, sizeof frac, "%06lld", static_cast<long long>(us));
  s.replace(20, 6, frac);
  return s;
}

double date_seconds(plist_t node) {
  // Exact value: the 8-byte big-endian double of the date object in libplist's own bplist.
  char* out = nullptr;
  uint32_t len = 0;
  plist_to_bin(node, &out, &len);
  if (out && len >= 17 && static_cast<unsigned char>(out[8]) == 0x33) {
    std::uint64_t bits = be_uint(reinterpret_cast<const unsigned char*>(out) + 9, 8);
    free(out);
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  free(out);
  int32_t sec = 0, usec = 0;
  plist_get_date_val(node, &sec, &usec);
  return sec < 0 ? sec - usec / 1e6 : sec + usec / 1e6;
}

Json integer_json(plist_t node) {
  uint64_t v = 0;
  plist_get_uint_val(node, &v);
  if (v <= static_cast<uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return Json(static_cast<std::int64_t>(v));
  char* xml = nullptr;
  uint32_t len = 0;
  plist_to_xml(node, &xml, &len);
  bool negative = xml && std::string_view(xml, len).find("<integer>-") != std::string_view::npos;
  free(xml);
  if (negative) return Json(static_cast<std::int64_t>(v));
  return Json(v);
}

using ObjectBase = Json::object_t::Container;

// Appends to an ordered object in O(1); a repeated key replaces the earlier value in place
// (last value wins at the first position, like a Python dict).
class ObjectBuilder {
 public:
  explicit ObjectBuilder(Json& obj) : obj_(obj) { obj_ = Json::object(); }
  void add(std::string key, Json value) {
    auto& base = static_cast<ObjectBase&>(obj_.get_ref<Json::object_t&>());
    auto it = index_.find(key);
    if (it != index_.end()) {
      base[it->second].second = std::move(value);
      return;
    }
    index_.emplace(key, base.size());
    base.emplace_back(std::move(key), std::move(value));
  }

 private:
  Json& obj_;
  std::unordered_map<std::string, std::size_t> index_;
};

struct Converter {
  const PlistOptions& opts;
  std::size_t max_depth;
  std::size_t nodes = 0;
  std::string error;

  bool count() {
    if (++nodes > opts.max_nodes) {
      error = "plist has more than " + std::to_string(opts.max_nodes) + " nodes";
      return false;
    }
    return true;
  }
  bool enter(std::size_t depth) {
    if (depth > max_depth) {
      error = "plist nesting deeper than " + std::to_string(max_depth);
      return false;
    }
    return true;
  }

  bool convert(plist_t n, Json& out, std::size_t depth) {
    if (!count()) return false;
    switch (plist_get_node_type(n)) {
      case PLIST_DICT: {
        if (!enter(depth + 1)) return false;
        ObjectBuilder b(out);
        plist_dict_iter it = nullptr;
        plist_dict_new_iter(n, &it);
        if (!it) return true;
        bool ok = true;
        for (;;) {
          // The key is fetched separately: a hostile binary plist can give a dict a key that
          // is not a string, and libplist's plist_dict_next_item(&key) then aborts on an
          // assert in plist_get_key_val (found by fuzz_plist).
          plist_t val = nullptr;
          plist_dict_next_item(n, it, nullptr, &val);
          if (!val) break;
          plist_t knode = plist_dict_item_get_key(val);
          if (!knode || plist_get_node_type(knode) != PLIST_KEY) {
            error = "dictionary key is not a string";
            ok = false;
            break;
          }
          char* key = nullptr;
          plist_get_key_val(knode, &key);
          std::string k = key ? key : "";
          free(key);
          Json child;
          if (!convert(val, child, depth + 1)) {
            ok = false;
            break;
          }
          b.add(fix_utf8(std::move(k)), std::move(child));
        }
        free(it);
        return ok;
      }
      case PLIST_ARRAY: {
        if (!enter(depth + 1)) return false;
        out = Json::array();
        uint32_t size = plist_array_get_size(n);
        auto& arr = out.get_ref<Json::array_t&>();
        arr.reserve(std::min<uint32_t>(size, 1u << 16));
        for (uint32_t i = 0; i < size; ++i) {
          Json child;
          if (!convert(plist_array_get_item(n, i), child, depth + 1)) return false;
          arr.push_back(std::move(child));
        }
        return true;
      }
      case PLIST_BOOLEAN: {
        uint8_t b = 0;
        plist_get_bool_val(n, &b);
        out = b != 0;
        return true;
      }
      case PLIST_UINT: out = integer_json(n); return true;
      case PLIST_REAL: {
        double r = 0;
        plist_get_real_val(n, &r);
        out = r;  // NaN/inf are written as null by the JSON serialiser
        return true;
      }
      case PLIST_STRING:
      case PLIST_KEY: {
        uint64_t len = 0;
        const char* p = plist_get_string_ptr(n, &len);
        out = fix_utf8(p ? std::string(p, static_cast<std::size_t>(len)) : std::string());
        return true;
      }
      case PLIST_DATA: {
        uint64_t len = 0;
        const char* p = plist_get_data_ptr(n, &len);
        std::string_view bytes(p ? p : "", p ? static_cast<std::size_t>(len) : 0);
        out = opts.data_as_base64 ? base64_encode(bytes) : utf8_backslashreplace(bytes);
        return true;
      }
      case PLIST_DATE: {
        auto text = mac_date_text(date_seconds(n));
        out = text ? Json(*text) : Json(nullptr);
        return true;
      }
      case PLIST_UID: {
        uint64_t v = 0;
        plist_get_uid_val(n, &v);
        out = Json::object();
        out["CF$UID"] = v;
        return true;
      }
      default: out = nullptr; return true;
    }
  }
};

// ---------------------------------------------------------------------------------------
// NSKeyedArchiver resolution on the converted JSON

std::optional<std::uint64_t> as_uid(const Json& v) {
  if (!v.is_object() || v.size() != 1) return std::nullopt;
  auto it = v.find("CF$UID");
  if (it == v.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  auto s = it->get<std::int64_t>();
  if (s < 0) return std::nullopt;
  return static_cast<std::uint64_t>(s);
}

struct Resolver {
  const Json& objects;
  const PlistOptions& opts;
  std::size_t max_depth;
  std::size_t nodes = 0;
  std::vector<char> on_path;
  std::string error;

  Resolver(const Json& objs, const PlistOptions& o)
      : objects(objs), opts(o), max_depth(depth_limit(o)), on_path(objs.size(), 0) {}

  bool count() {
    if (++nodes > opts.max_nodes) {
      error = "archive expands to more than " + std::to_string(opts.max_nodes) + " nodes";
      return false;
    }
    return true;
  }

  std::string class_name(const Json& obj) {
    auto it = obj.find("$class");
    if (it == obj.end()) return {};
    auto uid = as_uid(*it);
    if (!uid || *uid >= objects.size()) return {};
    const Json& cls = objects[static_cast<std::size_t>(*uid)];
    if (!cls.is_object()) return {};
    auto cn = cls.find("$classname");
    if (cn == cls.end() || !cn->is_string()) return {};
    return cn->get<std::string>();
  }

  // Resolves a member value: UIDs are followed, containers resolved element-wise.
  bool value(const Json& v, Json& out, std::size_t depth) {
    if (depth > max_depth) {
      error = "archive nesting deeper than " + std::to_string(max_depth);
      return false;
    }
    if (auto uid = as_uid(v)) {
      if (*uid >= objects.size()) {
        if (!count()) return false;
        out = nullptr;  // dangling reference
        return true;
      }
      auto idx = static_cast<std::size_t>(*uid);
      if (on_path[idx]) {
        if (!count()) return false;
        out = nullptr;  // cycle cut
        return true;
      }
      on_path[idx] = 1;
      bool ok = object(objects[idx], out, depth + 1);
      on_path[idx] = 0;
      return ok;
    }
    return object(v, out, depth + 1);
  }

  bool list(const Json& v, Json& out, std::size_t depth) {
    out = Json::array();
    if (!v.is_array()) return true;
    auto& arr = out.get_ref<Json::array_t&>();
    for (const auto& e : v) {
      Json r;
      if (!value(e, r, depth)) return false;
      arr.push_back(std::move(r));
    }
    return true;
  }

  bool object(const Json& o, Json& out, std::size_t depth) {
    if (depth > max_depth) {
      error = "archive nesting deeper than " + std::to_string(max_depth);
      return false;
    }
    if (o.is_string() && o.get_ref<const std::string&>() == "$null") {
      if (!count()) return false;
      out = nullptr;
      return true;
    }
    if (o.is_array()) {
      if (!count()) return false;
      return list(o, out, depth);
    }
    if (!o.is_object()) {
      if (!count()) return false;
      out = o;
      return true;
    }
    std::string cls = class_name(o);
    auto member = [&](const char* key) -> const Json* {
      auto it = o.find(key);
      return it == o.end() ? nullptr : &*it;
    };
    if (cls == "NSData" || cls == "NSMutableData") {
      if (const Json* d = member("NS.data")) return value(*d, out, depth);
    } else if (cls == "NSString" || cls == "NSMutableString") {
      if (const Json* d = member("NS.string")) return value(*d, out, depth);
    } else if (cls == "NSArray" || cls == "NSMutableArray" || cls == "NSSet" ||
               cls == "NSMutableSet" || cls == "NSOrderedSet" || cls == "NSMutableOrderedSet") {
      if (!count()) return false;
      const Json* objs = member("NS.objects");
      return objs ? list(*objs, out, depth) : (out = Json::array(), true);
    } else if (cls == "NSDictionary" || cls == "NSMutableDictionary") {
      const Json* keys = member("NS.keys");
      const Json* vals = member("NS.objects");
      if (!count()) return false;
      ObjectBuilder b(out);
      if (!keys || !vals || !keys->is_array() || !vals->is_array()) return true;
      std::size_t n = std::min(keys->size(), vals->size());
      for (std::size_t i = 0; i < n; ++i) {
        Json k, v;
        if (!value((*keys)[i], k, depth) || !value((*vals)[i], v, depth)) return false;
        b.add(k.is_string() ? k.get<std::string>() : k.dump(), std::move(v));
      }
      return true;
    } else if (cls == "NSDate" || cls == "__NSDate") {
      const Json* t = member("NS.time");
      if (t && t->is_number()) {
        if (!count()) return false;
        auto text = mac_date_text(t->get<double>());
        out = text ? Json(*text) : Json(nullptr);
        return true;
      }
    }
    // Any other object (including unknown classes): its members resolved, "$class" dropped.
    if (!count()) return false;
    ObjectBuilder b(out);
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (it.key() == "$class") continue;
      Json v;
      if (!value(it.value(), v, depth)) return false;
      b.add(it.key(), std::move(v));
    }
    return true;
  }
};

}  // namespace

std::optional<Json> plist_to_json(std::string_view data, const PlistOptions& opts,
                                  std::string* error) {
  try {
    if (data.empty()) {
      set_error(error, "empty plist");
      return std::nullopt;
    }
    if (data.size() > std::numeric_limits<uint32_t>::max()) {
      set_error(error, "plist larger than 4 GiB");
      return std::nullopt;
    }
    const auto len = static_cast<uint32_t>(data.size());
    const std::size_t max_depth = depth_limit(opts);
    const bool binary = plist_is_binary(data.data(), len) != 0;
    std::string why;
    if (binary ? !prescan_bin(data, max_depth, opts.max_nodes, &why)
               : !prescan_xml(data, max_depth, &why)) {
      set_error(error, why);
      return std::nullopt;
    }
    PlistHolder root;
    if (binary) plist_from_bin(data.data(), len, &root.p);
    else plist_from_xml(data.data(), len, &root.p);
    if (!root.p) {
      set_error(error, binary ? "malformed binary plist" : "malformed XML plist");
      return std::nullopt;
    }
    Converter conv{opts, max_depth, 0, {}};
    Json out;
    if (!conv.convert(root.p, out, 0)) {
      set_error(error, conv.error);
      return std::nullopt;
    }
    return out;
  } catch (const std::exception& e) {
    set_error(error, std::string("plist conversion failed: ") + e.what());
    return std::nullopt;
  } catch (...) {
    set_error(error, "plist conversion failed");
    return std::nullopt;
  }
}

std::optional<Json> nska_to_json(std::string_view data, const PlistOptions& opts,
                                 std::string* error) {
  try {
    auto archive = plist_to_json(data, opts, error);
    if (!archive) return std::nullopt;
    if (!archive->is_object()) {
      set_error(error, "not a keyed archive (root is not a dictionary)");
      return std::nullopt;
    }
    auto arch = archive->find("$archiver");
    if (arch != archive->end() && !(arch->is_string() && arch->get<std::string>() == "NSKeyedArchiver")) {
      set_error(error, "not an NSKeyedArchiver archive");
      return std::nullopt;
    }
    auto objs = archive->find("$objects");
    auto top = archive->find("$top");
    if (objs == archive->end() || !objs->is_array() || top == archive->end() ||
        !top->is_object() || top->empty()) {
      set_error(error, "not a keyed archive (no $objects/$top)");
      return std::nullopt;
    }
    auto root = top->find("root");
    const Json& start = root != top->end() ? *root : top->begin().value();
    Resolver r(*objs, opts);
    Json out;
    if (!r.value(start, out, 0)) {
      set_error(error, r.error);
      return std::nullopt;
    }
    return out;
  } catch (const std::exception& e) {
    set_error(error, std::string("keyed archive conversion failed: ") + e.what());
    return std::nullopt;
  } catch (...) {
    set_error(error, "keyed archive conversion failed");
    return std::nullopt;
  }
}

namespace {

bool raw_key_is(plist_t knode, const char* name) {
  if (!knode || plist_get_node_type(knode) != PLIST_KEY) return false;
  char* key = nullptr;
  plist_get_key_val(knode, &key);
  bool eq = key && std::strcmp(key, name) == 0;
  free(key);
  return eq;
}

// Calls fn(key_node, value) for every item of a dict, in order; false when a key is not a
// string (then nska_to_json's converter would fail: the caller falls back to it).
template <typename Fn>
bool each_item(plist_t dict, Fn&& fn) {
  plist_dict_iter it = nullptr;
  plist_dict_new_iter(dict, &it);
  if (!it) return true;
  bool ok = true;
  for (;;) {
    plist_t val = nullptr;
    plist_dict_next_item(dict, it, nullptr, &val);
    if (!val) break;
    plist_t knode = plist_dict_item_get_key(val);
    if (!knode || plist_get_node_type(knode) != PLIST_KEY) {
      ok = false;
      break;
    }
    fn(knode, val);
  }
  free(it);
  return ok;
}

// The value of `name` in a dict, the last one when repeated (the converter keeps the last).
plist_t dict_last(plist_t dict, const char* name, bool* ok) {
  plist_t found = nullptr;
  *ok = each_item(dict, [&](plist_t k, plist_t v) {
    if (raw_key_is(k, name)) found = v;
  }) && *ok;
  return found;
}

bool is_container(plist_t n) {
  auto t = plist_get_node_type(n);
  return t == PLIST_DICT || t == PLIST_ARRAY;
}

std::string string_value(plist_t n) {
  uint64_t len = 0;
  const char* p = plist_get_string_ptr(n, &len);
  return p ? std::string(p, static_cast<std::size_t>(len)) : std::string();
}

enum class Fast { Done, Fallback };

Fast root_members_fast(std::string_view data, const std::vector<std::string_view>& keys,
                       const PlistOptions& opts, Json& out) {
  if (data.empty() || data.size() > std::numeric_limits<uint32_t>::max()) return Fast::Fallback;
  const auto len = static_cast<uint32_t>(data.size());
  if (!plist_is_binary(data.data(), len)) return Fast::Fallback;
  const std::size_t max_depth = depth_limit(opts);
  if (max_depth < 8 || opts.max_nodes < 64) return Fast::Fallback;
  if (!prescan_bin(data, max_depth, opts.max_nodes, nullptr)) return Fast::Fallback;
  PlistHolder root;
  plist_from_bin(data.data(), len, &root.p);
  if (!root.p || plist_get_node_type(root.p) != PLIST_DICT) return Fast::Fallback;
  bool ok = true;
  // Every key of the tree is a string (the pre-scan checks it), so the whole conversion
  // nska_to_json would do succeeds; what remains is the resolution of the root object.
  plist_t archiver = dict_last(root.p, "$archiver", &ok);
  if (archiver && !(plist_get_node_type(archiver) == PLIST_STRING && string_value(archiver) == "NSKeyedArchiver"))
    return Fast::Fallback;
  plist_t objects = dict_last(root.p, "$objects", &ok);
  plist_t top = dict_last(root.p, "$top", &ok);
  if (!ok || !objects || plist_get_node_type(objects) != PLIST_ARRAY || !top ||
      plist_get_node_type(top) != PLIST_DICT)
    return Fast::Fallback;
  plist_t start = dict_last(top, "root", &ok);
  if (!ok || !start || plist_get_node_type(start) != PLIST_UID) return Fast::Fallback;
  const uint32_t count = plist_array_get_size(objects);
  auto target = [&](plist_t uid_node, uint64_t* idx) -> plist_t {
    uint64_t v = 0;
    plist_get_uid_val(uid_node, &v);
    *idx = v;
    return v < count ? plist_array_get_item(objects, static_cast<uint32_t>(v)) : nullptr;
  };
  uint64_t root_idx = 0;
  plist_t obj = target(start, &root_idx);
  if (!obj || plist_get_node_type(obj) != PLIST_DICT) return Fast::Fallback;
  // The class decides the resolution: only plain (non-Foundation-collection) classes here.
  if (plist_t cls = dict_last(obj, "$class", &ok)) {
    if (plist_get_node_type(cls) != PLIST_UID) return Fast::Fallback;
    uint64_t ci = 0;
    plist_t c = target(cls, &ci);
    if (c && plist_get_node_type(c) == PLIST_DICT) {
      plist_t cn = dict_last(c, "$classname", &ok);
      if (cn && plist_get_node_type(cn) == PLIST_STRING) {
        static const char* const kSpecial[] = {
            "NSData", "NSMutableData", "NSString", "NSMutableString", "NSArray", "NSMutableArray",
            "NSSet", "NSMutableSet", "NSOrderedSet", "NSMutableOrderedSet", "NSDictionary",
            "NSMutableDictionary", "NSDate", "__NSDate"};
        std::string name = string_value(cn);
        for (const char* sp : kSpecial)
          if (name == sp) return Fast::Fallback;
      }
    }
  }
  if (!ok) return Fast::Fallback;
  // Members: scalars stay as they are; a reference resolves without failing when it is
  // dangling or cyclic (null), to a scalar, or to a dict whose members are all scalars (a
  // reference as its $class aside). Anything else: the general resolver decides.
  std::vector<plist_t> wanted(keys.size(), nullptr);
  bool simple = true;
  std::size_t expanded = 1;  // nodes the resolver would visit (shared references re-counted)
  ok = each_item(obj, [&](plist_t k, plist_t v) {
    if (!simple || raw_key_is(k, "$class")) return;
    if (++expanded > opts.max_nodes / 2) simple = false;
    auto t = plist_get_node_type(v);
    if (t == PLIST_DICT || t == PLIST_ARRAY) {
      simple = false;
      return;
    }
    if (t == PLIST_UID) {
      uint64_t ti = 0;
      plist_t tn = target(v, &ti);
      if (tn && ti != root_idx && plist_get_node_type(tn) == PLIST_ARRAY) simple = false;
      if (tn && ti != root_idx && plist_get_node_type(tn) == PLIST_DICT) {
        bool inner_ok = each_item(tn, [&](plist_t ik, plist_t iv) {
          if (++expanded > opts.max_nodes / 2) simple = false;
          if (is_container(iv)) simple = false;
          if (plist_get_node_type(iv) == PLIST_UID && !raw_key_is(ik, "$class")) simple = false;
        });
        if (!inner_ok) simple = false;
      }
    }
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (raw_key_is(k, std::string(keys[i]).c_str())) wanted[i] = v;
  });
  if (!ok || !simple) return Fast::Fallback;
  Converter conv{opts, max_depth, 0, {}};
  out = Json::object();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!wanted[i]) continue;
    if (plist_get_node_type(wanted[i]) == PLIST_UID) return Fast::Fallback;  // resolved value: rare
    Json v;
    if (!conv.convert(wanted[i], v, 0)) return Fast::Fallback;
    out[std::string(keys[i])] = std::move(v);
  }
  return Fast::Done;
}

}  // namespace

std::optional<Json> nska_root_members(std::string_view data, std::initializer_list<const char*> keys,
                                      const PlistOptions& opts, std::string* error) {
  std::vector<std::string_view> wanted(keys.begin(), keys.end());
  try {
    Json out;
    if (root_members_fast(data, wanted, opts, out) == Fast::Done) return out;
  } catch (...) {
    // the general path below reports the problem
  }
  auto full = nska_to_json(data, opts, error);
  if (!full) return std::nullopt;
  if (!full->is_object()) {
    set_error(error, "keyed archive root is not an object");
    return std::nullopt;
  }
  Json out = Json::object();
  for (auto& k : wanted)
    if (auto it = full->find(std::string(k)); it != full->end()) out[std::string(k)] = *it;
  return out;
}

}  // namespace bridle
