// Public indicator feeds: the mvt-indicators index (indicators.yaml), downloading each feed
// into the data folder, the feeds.json metadata, the staleness note of check-* commands,
// and exporting/importing the feeds as a verified tar.gz bundle (air-gapped machines).
//
// Network access happens only in download_feeds() (i.e. `bridle download-iocs`); everything
// else here works on local files.
#pragma once
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace bridle::feeds {

inline constexpr const char* kDefaultIndexUrl =
    "https://raw.githubusercontent.com/mvt-project/mvt-indicators/main/indicators.yaml";
inline constexpr const char* kGithubRawBase = "https://raw.githubusercontent.com";
inline constexpr std::uint64_t kMaxFeedBytes = 64ull << 20;     // per feed / per bundle member
inline constexpr std::uint64_t kMaxIndexBytes = 4ull << 20;     // indicators.yaml
inline constexpr std::uint64_t kMaxBundleTotal = 512ull << 20;  // all members of an import
inline constexpr std::size_t kMaxBundleMembers = 1000;
inline constexpr int kDefaultMaxAgeDays = 7;

// One entry of indicators.yaml.
struct FeedEntry {
  std::string type;  // "github" or anything else (then download_url is used)
  std::string name;
  std::vector<std::string> sources;
  std::vector<std::string> references;
  std::string owner, repo, branch, path;  // github; branch defaults to "main"
  std::string download_url;               // other types
};

struct IndexParse {
  std::vector<FeedEntry> feeds;       // entries that give a usable URL
  std::vector<std::string> problems;  // entries skipped, by name (or position) and reason
};

// Parses indicators.yaml text. nullopt (and *error) when it is not YAML or has no
// `indicators:` list; a bad entry is skipped and named in `problems`.
std::optional<IndexParse> parse_index(std::string_view yaml_text, std::string* error = nullptr);

// The canonical URL of a feed (github raw URL, or download_url); nullopt + *error when the
// entry cannot give one (missing owner/repo/path, a path component "..", no download_url,
// a URL that is not http(s)).
std::optional<std::string> feed_url(const FeedEntry& e, std::string* error = nullptr);

// Replaces the https://raw.githubusercontent.com prefix of a URL by `mirror` (no-op when
// mirror is empty or the URL does not start with that prefix). A trailing '/' of mirror is
// ignored.
std::string apply_mirror(const std::string& url, const std::string& mirror);

// File name of a feed in the data folder, derived from the URL's path:
// ".../mvt-project/mvt-indicators/main/2022-06-23_rcs_lab/rcs.stix2" ->
// "mvt-project_mvt-indicators_main_2022-06-23_rcs_lab_rcs.stix2". Only [A-Za-z0-9._-]
// (others become '_'), never starting with '.', always ending in ".stix2".
std::string safe_file_name(std::string_view url);

// A plain file name made only of [A-Za-z0-9._-], not "." / "..", not starting with '.'.
bool is_plain_file_name(std::string_view name);

// ---- metadata (user_data_dir()/indicators/feeds.json) ------------------------------------
struct FeedRecord {
  std::string name;
  std::string source;        // canonical URL (or "import:<bundle>")
  std::string fetched_from;  // URL actually used (mirror applied)
  std::string file;          // file name in the indicators folder
  std::string sha256;        // of the installed file ("" when never installed)
  std::string downloaded_at; // UTC "YYYY-MM-DDTHH:MM:SSZ" of the installed copy
  std::map<std::string, std::size_t> counts;  // ioc_type_key -> unique indicators (non-zero)
  std::size_t total = 0;
  std::string status;        // "ok", "imported", or "failed: <why>" (last attempt)
  std::string last_attempt;  // UTC time of the last attempt
};

struct Metadata {
  std::string index;       // index URL of the last download-iocs
  std::string updated_at;  // last download-iocs / import
  std::map<std::string, FeedRecord> feeds;  // by feed name
};

std::filesystem::path indicators_dir();     // user_data_dir()/indicators
std::filesystem::path metadata_path();      // indicators_dir()/feeds.json
Json metadata_to_json(const Metadata& m);
Metadata metadata_from_json(const Json& j);  // tolerant: bad fields are ignored
Metadata load_metadata();                    // empty when missing or unreadable
bool save_metadata(const Metadata& m, std::string* error = nullptr);  // atomic

// "YYYY-MM-DDTHH:MM:SSZ" now / parse (nullopt when malformed).
std::string utc_now_iso();
std::optional<std::int64_t> parse_utc_iso(std::string_view iso);

// ---- download ----------------------------------------------------------------------------
struct DownloadOptions {
  std::string index_url = kDefaultIndexUrl;
  std::string mirror;  // replaces https://raw.githubusercontent.com
  // Where to log progress lines ("Downloading ...", failures). Defaults to nothing.
  std::function<void(const std::string&)> log;
  // Set to true (e.g. by a signal handler) to stop: the transfer aborts, its temp file is
  // removed, the remaining feeds are not attempted.
  const std::atomic<bool>* cancel = nullptr;
};

struct FeedOutcome {
  std::string name;
  std::string url;
  bool ok = false;
  bool kept_previous = false;  // failed, an older copy is still installed
  std::string error;
};

struct DownloadResult {
  int exit_code = 0;  // 0 all current, 2 index unreadable, 3 some feeds failed / interrupted
  std::string index_error;
  std::vector<FeedOutcome> outcomes;
  std::vector<std::string> index_problems;
  bool interrupted = false;
};

DownloadResult download_feeds(const DownloadOptions& opt);

// Fetches one URL into memory (index) — exposed for tests. `allow_file` permits file://.
std::optional<std::string> fetch_to_string(const std::string& url, std::uint64_t max_bytes,
                                           bool allow_file, const std::atomic<bool>* cancel,
                                           std::string* error);

// ---- staleness ---------------------------------------------------------------------------
// BRIDLE_IOCS_MAX_AGE_DAYS when set to an integer >= 0, else kDefaultMaxAgeDays. 0 turns
// the note off.
int max_age_days_from_env();
// One line when the newest installed feed was downloaded more than max_age_days ago, or when
// no feed was ever downloaded; nullopt otherwise or when max_age_days <= 0. Never uses the
// network: it only reads feeds.json. `now` is for tests (unix seconds; 0 = now).
std::optional<std::string> feeds_staleness_note(int max_age_days, std::int64_t now = 0);

// ---- export / import ---------------------------------------------------------------------
struct ManifestEntry {
  std::string name;
  std::string file;
  std::string sha256;
  std::string downloaded_at;
  std::string source;
};

// Builds the manifest of the current feeds (every *.stix2 in the indicators folder).
Json build_manifest(const Metadata& meta, const std::vector<std::pair<std::string, std::string>>& files_sha);

// Verifies bundle members (file name -> bytes) against their manifest.json: every member
// name plain and either manifest.json or *.stix2; manifest well-formed with plain .stix2
// file names, no duplicates; every manifest entry present with the right sha256; every
// .stix2 member listed. nullopt + *error when anything does not verify.
std::optional<std::vector<ManifestEntry>> verify_bundle(
    const std::map<std::string, std::string>& members, std::string* error);

// Writes the bundle; returns the number of feeds exported, or nullopt + *error.
std::optional<std::size_t> export_bundle(const std::filesystem::path& out, std::string* error);

struct ImportResult {
  bool ok = false;
  std::string error;
  std::vector<ManifestEntry> installed;
};
// Reads the tar.gz in memory with limits, verifies it (verify_bundle, and every feed must be
// a STIX2 bundle with >= 1 indicator), then installs every feed atomically. Nothing is
// installed unless everything verified.
ImportResult import_bundle(const std::filesystem::path& bundle);

}  // namespace bridle::feeds
