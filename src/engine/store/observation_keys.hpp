// Lookup keys shared by the observation store and its hunts. An observation is stored under
// one or more (category, key) pairs; an indicator becomes (category, key) pairs matched either
// exactly or as a prefix range [key, prefix_upper(key)). The keys are built so that these
// SQL matches give exactly the IndicatorIndex semantics (tests/unit/test_store.cpp compares them):
//   host   domain as reversed labels with a trailing '.', "a.evil.com" -> "com.evil.a."; an
//          indicator "evil.com" ("com.evil.") matches every label-suffix (prefix range)
//   ip     canonical IP literal (normalize_ip)
//   url    normalize_url (an observed URL also yields its host as a host/ip key)
//   proc   process basename (case-sensitive); indicators also add their 15/16-byte prefixes
//          (kernel-truncated names)
//   fname  basename of an observed file name (case-sensitive)
//   path   an observed absolute path, one row per path: key = the path + '/' (+ '/' when the
//          observed path ended in '/', a directory): indicator "/a/b" matches "/a/b" and
//          "/a/b/..." (component prefix range on key)
//   relpath an observed relative path, keyed the same way (never matched by "/..." ranges)
//   both path categories also carry a reversed key (rkey, observables.rkey): the path without
//          its leading '/' reversed + '/', "/a/b/c" -> "c/b/a/", prefixed by '/' for a
//          directory. Indicator "b/c" ("c/b/") matches ".../b/c" (component suffix; also
//          "/c/b/", directories); file name "c" matches "c/" (basename; not a directory).
//   Stores of schema 2 hold each path under three keys instead, without rkey: `apath` (as
//   path, no directory mark), `rpath` (reversed relative path + '/') and `fname`; indicators
//   still produce those keys, so rows recorded by schema 2 keep matching, each once.
//   email, appid, md5, sha1, sha256, cert, profile, prop: lower-case, exact
// Keys are made valid UTF-8 without NUL (invalid bytes escaped as \xNN) so both backends
// store them as text; both sides are escaped the same way. A key (or rkey) longer than
// kMaxKeyBytes is stored bounded (bounded_key): PostgreSQL's B-tree refuses index entries over
// ~2.7 kB, and a tracking link in an SMS can be longer. Exact matches stay exact; a prefix
// longer than the bound matches every stored key sharing its first kMaxKeyBytes bytes.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace bridle {
struct Indicator;
}

namespace bridle::store {

struct ObsKey {
  std::string cat;
  std::string key;
  std::string rkey = {};  // reversed path key (path/relpath), "" for none
};

// cat kRkey: matched against observables.rkey (always a prefix range), not (cat, key).
inline constexpr const char* kRkey = "rkey";

struct IndKey {
  std::string cat;
  std::string key;
  bool prefix = false;     // matched as [key, upper)
  std::string upper = {};  // "" for prefix_upper(key)
};

inline constexpr std::size_t kMaxKeyBytes = 1000;

// Appends the keys under which `obs` is stored (none for values that can never match).
void observation_keys(const Observation& obs, std::vector<ObsKey>& out);
// Appends the keys of one indicator.
void indicator_keys(const Indicator& ind, std::vector<IndKey>& out);
// A key of at most kMaxKeyBytes as is; a longer one as its first kMaxKeyBytes bytes or fewer
// (cut at a character boundary), '\x01' and 32 hex digits of its sha256.
std::string bounded_key(std::string_view key);
// Exclusive upper bound of the prefix range of a key ending in '.' or '/'.
std::string prefix_upper(std::string_view key);
// "a.evil.com" -> "com.evil.a."
std::string reverse_labels(std::string_view host);
// Text safe for both databases: valid UTF-8, no NUL (else bytes escaped as \xNN).
std::string db_text(std::string_view s);
// The same in place (no copy when `s` is already such text).
void to_db_text(std::string& s);

}  // namespace bridle::store
