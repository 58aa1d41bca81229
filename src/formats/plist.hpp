// Property lists (binary and XML, via libplist) converted to JSON, and a minimal
// NSKeyedArchiver resolver (enough for MBFile records in Manifest.db).
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/types.hpp"

namespace bridle {

struct PlistOptions {
  // How <data> values appear in JSON: base64 text (true) or UTF-8 text with
  // backslashreplace, like MVT's JSON encoder (false).
  bool data_as_base64 = true;
  std::size_t max_depth = 512;    // deeper nesting is an error, never a stack overflow
  std::size_t max_nodes = 5'000'000;
};

// Converts plist bytes to JSON. Dates become "YYYY-MM-DD HH:MM:SS.ffffff" UTC strings,
// UIDs become {"CF$UID": n}. nullopt (with *error) on malformed input.
std::optional<Json> plist_to_json(std::string_view data, const PlistOptions& opts = {},
                                  std::string* error = nullptr);

// Resolves an NSKeyedArchiver plist to a plain JSON object: follows UIDs from $top.root
// into $objects (cycles cut), collapses NSData/NSMutableData to their bytes (per
// data_as_base64), NSString/NSMutableString to the string, NSArray/NSDictionary to
// arrays/objects, and drops "$class". nullopt when it is not a keyed archive.
std::optional<Json> nska_to_json(std::string_view data, const PlistOptions& opts = {},
                                 std::string* error = nullptr);

// The members named in `keys` of a keyed archive's root object, as nska_to_json() would give
// them (a missing member is absent; order unspecified). nullopt exactly when nska_to_json()
// fails or does not yield an object. When the root object is a plain one whose members are
// scalars or references to scalars or to flat objects (an MBFile in Manifest.db), the wanted
// members are read straight from libplist's tree, without converting and resolving the
// whole archive; anything else takes the nska_to_json() path.
std::optional<Json> nska_root_members(std::string_view data, std::initializer_list<const char*> keys,
                                      const PlistOptions& opts = {}, std::string* error = nullptr);

}  // namespace bridle
