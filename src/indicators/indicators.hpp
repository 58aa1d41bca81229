// Indicators of compromise: loading STIX2 bundles into an IndicatorSet, and the
// IndicatorIndex that answers "does this observable match a known indicator?".
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace bridle {

// The kind an indicator was declared with (its STIX2 pattern type).
enum class IocType : std::uint8_t {
  Domain, Ipv4, Ipv6, Url, Process, Email, FileName, FilePath,
  Sha256, Sha1, Md5, AppId, AppCert, ProfileId, AndroidProperty,
};
inline constexpr int kIocTypeCount = 15;
// Key used by `bridle iocs stats`: "domain", "ipv4", ..., "android_property".
std::string_view ioc_type_key(IocType t);
// MVT's bucket name used in matched_indicator.type: "domains", "processes", "emails",
// "file_names", "file_paths", "files_sha256", "files_sha1", "files_md5", "app_ids",
// "app_cert_hashes", "ios_profile_ids", "android_property_names", "urls"
// (ipv4/ipv6 go to "domains" as in MVT).
std::string_view ioc_mvt_bucket(IocType t);

struct Collection {
  std::string id;           // malware/report STIX id, or "0" for the default collection
  std::string name;
  std::string description;
  std::string stix2_file_name;  // base name
  std::string stix2_file_path;  // as given
};

struct Indicator {
  std::string value;        // normalised value as matched (e.g. lower-case domain)
  std::string raw_value;    // value as written in the pattern
  IocType type;
  std::uint32_t collection;  // index into IndicatorSet::collections()
  std::string stix_id;       // indicator object id
};

struct LoadedFile {
  std::string path;
  std::string sha256;
  std::size_t indicators = 0;  // unique per collection, added by this file
};

// Everything loaded from STIX2 files. Loading never throws for bad content: a malformed
// file or indicator becomes a warning (naming file and id) and the rest still loads.
class IndicatorSet {
 public:
  // Returns false (with a warning) when the file cannot be read or is not a STIX2 bundle.
  bool load_file(const std::filesystem::path& path);
  // Parses bundle text; `path` is used for names and warnings only.
  bool load_bundle(std::string_view json_text, const std::string& path);

  const std::vector<Collection>& collections() const { return collections_; }
  const std::vector<Indicator>& indicators() const { return indicators_; }
  const std::vector<LoadedFile>& files() const { return files_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  std::size_t skipped() const { return skipped_; }
  std::size_t size() const { return indicators_.size(); }
  bool empty() const { return indicators_.empty(); }
  // Unique values per collection, per declared type.
  std::array<std::size_t, kIocTypeCount> counts() const;
  // sha256 over the sorted sha256 of every loaded file: "the indicator-set digest".
  std::string digest() const;

 private:
  template <class Access, class Objects>
  bool load_objects(const Objects& objects, std::string_view json_text, const std::string& path);
  std::vector<Collection> collections_;
  std::vector<Indicator> indicators_;
  std::vector<LoadedFile> files_;
  std::vector<std::string> warnings_;
  std::size_t skipped_ = 0;
};

struct IocMatch {
  const Indicator* indicator = nullptr;
  const Collection* collection = nullptr;
  std::string message;  // MVT-style alert message
};

// Immutable lookup structure built once from an IndicatorSet (which must outlive it).
// Hash/trie based: lookups never scan the indicators.
class IndicatorIndex {
 public:
  explicit IndicatorIndex(const IndicatorSet& set);
  ~IndicatorIndex();
  IndicatorIndex(const IndicatorIndex&) = delete;
  IndicatorIndex& operator=(const IndicatorIndex&) = delete;

  // All distinct indicators matching one observation (empty when none).
  std::vector<IocMatch> match(const Observation& obs) const;
  std::optional<IocMatch> first(const Observation& obs) const;
  bool empty() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Where indicators come from besides -i: every *.stix2 in user_data_dir()/indicators and
// every entry of BRIDLE_STIX2 (colon-separated files, or folders searched recursively for
// *.stix2). Returned in a deterministic order.
std::vector<std::filesystem::path> default_indicator_files();

// Normalisers shared by the index and by modules.
// Host: lower-case, trailing '.' removed, a leading "www." removed (as a prefix only),
// brackets of IPv6 literals removed. Empty when not a plausible host.
std::string normalize_host(std::string_view host);
// URL: scheme and host lower-cased, default port dropped, empty path -> "/", fragment
// dropped. nullopt when it has no scheme://host.
std::optional<std::string> normalize_url(std::string_view url);
// Host part of a URL (or of "host/path" without a scheme); "" when none.
std::string url_host(std::string_view url);
// Same, into `out` (its buffer is reused; `url` must not point into `out`).
void url_host_to(std::string_view url, std::string& out);
// Canonical text of an IPv4/IPv6 literal; nullopt when not an IP address.
std::optional<std::string> normalize_ip(std::string_view text);
// The key the IndicatorIndex looks a host-like observed value up with (lower-case, trailing
// dots removed, port/userinfo/path dropped, IP literals canonical; "www." kept because every
// label suffix is looked up). Returns 0 for none, 1 for a host, 2 for an IP literal. The
// observation store uses it too, so stored keys match exactly what the index matches.
int observed_host_key(std::string_view value, std::string& key);
// Path: "/private/var/..." -> "/var/...", duplicate '/' collapsed.
std::string normalize_path(std::string_view path);

}  // namespace bridle
