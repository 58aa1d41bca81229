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
//   fname  file basename (case-sensitive); every observed path also yields its basename
//   apath  absolute path + '/': indicator "/a/b" matches "/a/b" and "/a/b/..." (component prefix)
//   rpath  reversed relative path + '/': indicator "b/c" matches ".../b/c" (component suffix)
//   email, appid, md5, sha1, sha256, cert, profile, prop: lower-case, exact
// Keys are made valid UTF-8 without NUL (invalid bytes escaped as \xNN) so both backends
// store them as text; both sides are escaped the same way.
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
};

struct IndKey {
  std::string cat;
  std::string key;
  bool prefix = false;  // matched as [key, prefix_upper(key))
};

// Appends the keys under which `obs` is stored (none for values that can never match).
void observation_keys(const Observation& obs, std::vector<ObsKey>& out);
// Appends the keys of one indicator.
void indicator_keys(const Indicator& ind, std::vector<IndKey>& out);
// Exclusive upper bound of the prefix range of a key ending in '.' or '/'.
std::string prefix_upper(std::string_view key);
// "a.evil.com" -> "com.evil.a."
std::string reverse_labels(std::string_view host);
// Text safe for both databases: valid UTF-8, no NUL (else bytes escaped as \xNN).
std::string db_text(std::string_view s);

}  // namespace bridle::store
