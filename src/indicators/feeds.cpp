#include "indicators/feeds.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <set>

#include "bridle/version.hpp"
#include "core/util.hpp"
#include "indicators/indicators.hpp"

namespace bridle::feeds {
namespace {

constexpr const char* kTempPrefix = ".bridle-tmp-";
constexpr const char* kManifestName = "manifest.json";

bool is_safe_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool has_ctl_or_space(std::string_view s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f) return true;
  return false;
}

// Scalar value of map[key] as text; "" when absent or not a scalar.
std::string scalar(const YAML::Node& map, const char* key) {
  YAML::Node n = map[key];
  if (!n || !n.IsScalar()) return "";
  return n.Scalar();
}

std::vector<std::string> scalar_list(const YAML::Node& map, const char* key) {
  std::vector<std::string> out;
  YAML::Node n = map[key];
  if (!n) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& item : n)
      if (item.IsScalar()) out.push_back(item.Scalar());
  }
  return out;
}

// Percent-encodes one URL path component (unreserved characters kept).
std::string encode_component(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// Splits a '/'-separated value into components, refusing empty (except leading/trailing
// slashes), "." and ".." components.
std::optional<std::vector<std::string>> path_components(std::string_view v) {
  while (!v.empty() && v.front() == '/') v.remove_prefix(1);
  while (!v.empty() && v.back() == '/') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  std::vector<std::string> parts = split(v, '/');
  for (auto& p : parts)
    if (p.empty() || p == "." || p == "..") return std::nullopt;
  return parts;
}

std::string join_encoded(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += encode_component(parts[i]);
  }
  return out;
}

// ---- libcurl -------------------------------------------------------------------------------
void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  std::string* buffer = nullptr;
  std::FILE* file = nullptr;
  std::uint64_t written = 0;
  std::uint64_t max = 0;
  bool too_big = false;
  bool write_failed = false;
  const std::atomic<bool>* cancel = nullptr;
};

size_t on_write(char* data, size_t size, size_t nmemb, void* user) {
  auto* s = static_cast<Sink*>(user);
  const size_t n = size * nmemb;
  if (s->cancel && s->cancel->load()) return 0;
  if (s->written + n > s->max) {
    s->too_big = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  if (s->buffer) {
    s->buffer->append(data, n);
  } else if (s->file) {
    if (std::fwrite(data, 1, n, s->file) != n) {
      s->write_failed = true;
      return 0;
    }
  }
  s->written += n;
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* s = static_cast<Sink*>(user);
  return (s->cancel && s->cancel->load()) ? 1 : 0;
}

bool do_fetch(const std::string& url, Sink& sink, bool allow_file, std::string* error) {
  curl_init_once();
  CURL* h = curl_easy_init();
  if (!h) {
    if (error) *error = "cannot initialise libcurl";
    return false;
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string agent = std::string("bridle/") + kVersion;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, allow_file ? "http,https,file" : "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(sink.max));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &sink);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  if (rc == CURLE_OK) return true;
  if (error) {
    if (sink.cancel && sink.cancel->load()) *error = "interrupted";
    else if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED)
      *error = "larger than " + (sink.max >= (1u << 20) ? std::to_string(sink.max >> 20) + " MiB"
                                                        : std::to_string(sink.max) + " bytes") + "; refused";
    else if (sink.write_failed) *error = "cannot write the temporary file";
    else *error = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  }
  return false;
}

// ---- files ---------------------------------------------------------------------------------
void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Creates an empty private temp file in dir; returns its fd and path (fd -1 on error).
int make_temp(const fs::path& dir, fs::path& out) {
  std::string tmpl = (dir / (std::string(kTempPrefix) + "XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd >= 0) out = tmpl;
  return fd;
}

// Writes bytes to a temp file in dir (fsynced); returns its path or nullopt.
std::optional<fs::path> write_temp(const fs::path& dir, std::string_view bytes, std::string* error) {
  fs::path tmp;
  int fd = make_temp(dir, tmp);
  if (fd < 0) {
    if (error) *error = "cannot create a temporary file in " + dir.string();
    return std::nullopt;
  }
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      if (error) *error = "cannot write " + tmp.string();
      return std::nullopt;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    if (error) *error = "cannot write " + tmp.string();
    return std::nullopt;
  }
  return tmp;
}

// Exclusive lock on the indicators folder for the lifetime of the object.
class FolderLock {
 public:
  explicit FolderLock(const fs::path& dir) {
    fd_ = ::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FolderLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Temp files left by a killed run (only removed while holding the lock).
void remove_stale_temps(const fs::path& dir) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind(kTempPrefix, 0) == 0) {
      std::error_code ec2;
      fs::remove(it->path(), ec2);
    }
  }
}

std::map<std::string, std::size_t> counts_of(const IndicatorSet& set) {
  std::map<std::string, std::size_t> out;
  auto c = set.counts();
  for (int i = 0; i < kIocTypeCount; ++i)
    if (c[static_cast<std::size_t>(i)])
      out[std::string(ioc_type_key(static_cast<IocType>(i)))] = c[static_cast<std::size_t>(i)];
  return out;
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::vector<fs::path> installed_feed_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code ec2;
    const std::string n = it->path().filename().string();
    if (it->is_regular_file(ec2) && ends_with(n, ".stix2") && is_plain_file_name(n)) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// ---- index ---------------------------------------------------------------------------------
std::optional<IndexParse> parse_index(std::string_view yaml_text, std::string* error) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    if (error) *error = std::string("not valid YAML: ") + e.what();
    return std::nullopt;
  }
  try {
    if (!root.IsMap() || !root["indicators"] || !root["indicators"].IsSequence()) {
      if (error) *error = "no `indicators:` list";
      return std::nullopt;
    }
    IndexParse out;
    std::size_t pos = 0;
    for (const auto& n : root["indicators"]) {
      ++pos;
      if (pos > kMaxBundleMembers) {
        out.problems.push_back("more than " + std::to_string(kMaxBundleMembers) + " entries; the rest is ignored");
        break;
      }
      if (!n.IsMap()) {
        out.problems.push_back("entry #" + std::to_string(pos) + ": not a mapping; skipped");
        continue;
      }
      FeedEntry e;
      e.type = scalar(n, "type");
      e.name = trim(scalar(n, "name"));
      e.sources = scalar_list(n, "sources");
      e.references = scalar_list(n, "references");
      if (YAML::Node g = n["github"]; g && g.IsMap()) {
        e.owner = scalar(g, "owner");
        e.repo = scalar(g, "repo");
        e.branch = scalar(g, "branch");
        e.path = scalar(g, "path");
      }
      if (e.branch.empty()) e.branch = "main";
      e.download_url = trim(scalar(n, "download_url"));
      if (e.name.empty()) e.name = "entry #" + std::to_string(pos);
      std::string why;
      if (!feed_url(e, &why)) {
        out.problems.push_back(e.name + ": " + why + "; skipped");
        continue;
      }
      out.feeds.push_back(std::move(e));
    }
    return out;
  } catch (const YAML::Exception& e) {
    if (error) *error = std::string("unexpected YAML structure: ") + e.what();
    return std::nullopt;
  }
}

std::optional<std::string> feed_url(const FeedEntry& e, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<std::string> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (e.type == "github") {
    if (e.owner.empty() || e.repo.empty() || e.path.empty())
      return fail("github entry without owner, repo and path");
    for (const std::string* part : {&e.owner, &e.repo})
      if (part->find('/') != std::string::npos || *part == "." || *part == "..")
        return fail("invalid github owner or repo '" + *part + "'");
    auto branch = path_components(e.branch.empty() ? std::string("main") : e.branch);
    auto path = path_components(e.path);
    if (!branch) return fail("invalid github branch '" + e.branch + "'");
    if (!path) return fail("invalid github path '" + e.path + "'");
    return std::string(kGithubRawBase) + "/" + encode_component(e.owner) + "/" +
           encode_component(e.repo) + "/" + join_encoded(*branch) + "/" + join_encoded(*path);
  }
  if (e.download_url.empty())
    return fail(e.type.empty() ? std::string("no type and no download_url")
                               : "type '" + e.type + "' without download_url");
  const std::string lower = to_lower(e.download_url);
  if (!(lower.rfind("https://", 0) == 0 || lower.rfind("http://", 0) == 0))
    return fail("download_url is not an http(s) URL");
  if (has_ctl_or_space(e.download_url)) return fail("download_url contains spaces or control characters");
  std::string_view rest = std::string_view(e.download_url).substr(lower.find("://") + 3);
  if (rest.empty() || rest.front() == '/') return fail("download_url has no host");
  return e.download_url;
}

std::string apply_mirror(const std::string& url, const std::string& mirror) {
  if (mirror.empty()) return url;
  const std::string_view base = kGithubRawBase;
  if (url.size() < base.size() || to_lower(url.substr(0, base.size())) != base) return url;
  std::string m = mirror;
  while (!m.empty() && m.back() == '/') m.pop_back();
  return m + url.substr(base.size());
}

bool is_plain_file_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.') return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), is_safe_char);
}

std::string safe_file_name(std::string_view url) {
  std::string_view rest = url;
  std::string host;
  if (auto p = rest.find("://"); p != std::string_view::npos) {
    rest.remove_prefix(p + 3);
    auto slash = rest.find('/');
    host = to_lower(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  if (auto q = rest.find_first_of("?#"); q != std::string_view::npos) rest = rest.substr(0, q);
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  std::string name;
  // Feeds not on GitHub keep their host, so that two sites' "x/feed.stix2" do not collide.
  if (!host.empty() && host != "raw.githubusercontent.com") {
    if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    name = host + "_";
  }
  name += rest;
  for (char& c : name)
    if (c == '/') c = '_';
    else if (!is_safe_char(c)) c = '_';
  // No ".." anywhere, no leading '.'.
  std::string clean;
  for (char c : name) {
    if (c == '.' && (clean.empty() || clean.back() == '.')) {
      clean.push_back('_');
      continue;
    }
    clean.push_back(c);
  }
  while (!clean.empty() && (clean.back() == '_' || clean.back() == '.')) clean.pop_back();
  if (clean.empty()) clean = "feed";
  if (!ends_with(clean, ".stix2")) clean += ".stix2";
  if (clean.size() > 200) clean = sha256_hex(url).substr(0, 16) + "_" + clean.substr(clean.size() - 180);
  return clean;
}

// ---- metadata ------------------------------------------------------------------------------
fs::path indicators_dir() { return user_data_dir() / "indicators"; }
fs::path metadata_path() { return indicators_dir() / "feeds.json"; }

Json metadata_to_json(const Metadata& m) {
  Json j = Json::object();
  j["format"] = "bridle-feeds";
  j["version"] = 1;
  j["index"] = m.index;
  j["updated_at"] = m.updated_at;
  Json feeds = Json::object();
  for (const auto& [name, r] : m.feeds) {
    Json f = Json::object();
    f["source"] = r.source;
    f["fetched_from"] = r.fetched_from;
    f["file"] = r.file;
    f["sha256"] = r.sha256;
    f["downloaded_at"] = r.downloaded_at;
    Json c = Json::object();
    for (const auto& [k, v] : r.counts) c[k] = v;
    f["indicators"] = c;
    f["total"] = r.total;
    f["status"] = r.status;
    f["last_attempt"] = r.last_attempt;
    feeds[name] = f;
  }
  j["feeds"] = feeds;
  return j;
}

Metadata metadata_from_json(const Json& j) {
  Metadata m;
  if (!j.is_object()) return m;
  auto str = [](const Json& o, const char* k) -> std::string {
    auto it = o.find(k);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  m.index = str(j, "index");
  m.updated_at = str(j, "updated_at");
  auto feeds = j.find("feeds");
  if (feeds == j.end() || !feeds->is_object()) return m;
  for (auto it = feeds->begin(); it != feeds->end(); ++it) {
    if (!it.value().is_object()) continue;
    const Json& f = it.value();
    FeedRecord r;
    r.name = it.key();
    r.source = str(f, "source");
    r.fetched_from = str(f, "fetched_from");
    r.file = str(f, "file");
    if (!is_plain_file_name(r.file)) r.file.clear();
    r.sha256 = str(f, "sha256");
    r.downloaded_at = str(f, "downloaded_at");
    if (auto c = f.find("indicators"); c != f.end() && c->is_object())
      for (auto ci = c->begin(); ci != c->end(); ++ci)
        if (ci.value().is_number_unsigned()) r.counts[ci.key()] = ci.value().get<std::size_t>();
    if (auto t = f.find("total"); t != f.end() && t->is_number_unsigned()) r.total = t->get<std::size_t>();
    r.status = str(f, "status");
    r.last_attempt = str(f, "last_attempt");
    m.feeds[r.name] = std::move(r);
  }
  return m;
}

Metadata load_metadata() {
  std::string err;
  auto text = read_file(metadata_path(), 16u << 20, &err);
  if (!text) return {};
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded()) return {};
  return metadata_from_json(j);
}

bool save_metadata(const Metadata& m, std::string* error) {
  const fs::path dir = indicators_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string text = metadata_to_json(m).dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  auto tmp = write_temp(dir, text, error);
  if (!tmp) return false;
  if (::rename(tmp->c_str(), metadata_path().c_str()) != 0) {
    ::unlink(tmp->c_str());
    if (error) *error = "cannot replace " + metadata_path().string();
    return false;
  }
  fsync_dir(dir);
  return true;
}

std::string utc_now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::int64_t> parse_utc_iso(std::string_view iso) {
  int Y, M, D, h, m, s;
  char z = 0;
  std::string text(iso);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &Y, &M, &D, &h, &m, &s, &z) != 7 || z != 'Z')
    return std::nullopt;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm));
}

// ---- download ------------------------------------------------------------------------------
std::optional<std::string> fetch_to_string(const std::string& url, std::uint64_t max_bytes,
                                           bool allow_file, const std::atomic<bool>* cancel,
                                           std::string* error) {
  std::string buf;
  Sink sink;
  sink.buffer = &buf;
  sink.max = max_bytes;
  sink.cancel = cancel;
  if (!do_fetch(url, sink, allow_file, error)) return std::nullopt;
  return buf;
}

DownloadResult download_feeds(const DownloadOptions& opt) {
  DownloadResult res;
  auto log = [&](const std::string& line) {
    if (opt.log) opt.log(line);
  };
  auto cancelled = [&] { return opt.cancel && opt.cancel->load(); };

  log("Downloading the indicator index " + opt.index_url);
  std::string err;
  auto index_text = fetch_to_string(opt.index_url, kMaxIndexBytes, true, opt.cancel, &err);
  if (!index_text) {
    res.exit_code = 2;
    res.interrupted = cancelled();
    res.index_error = "cannot download the index " + opt.index_url + ": " + err;
    return res;
  }
  auto index = parse_index(*index_text, &err);
  if (!index) {
    res.exit_code = 2;
    res.index_error = "cannot read the index " + opt.index_url + ": " + err;
    return res;
  }
  res.index_problems = index->problems;
  if (index->feeds.empty() && index->problems.empty()) {
    res.exit_code = 2;
    res.index_error = "the index " + opt.index_url + " lists no feeds";
    return res;
  }

  const fs::path dir = indicators_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) {
    res.exit_code = 2;
    res.index_error = "cannot create the data folder " + dir.string();
    return res;
  }
  FolderLock lock(dir);
  if (!lock.held()) {
    res.exit_code = 2;
    res.index_error = "another bridle is updating " + dir.string() + "; try again later";
    return res;
  }
  remove_stale_temps(dir);
  Metadata meta = load_metadata();
  meta.index = opt.index_url;

  std::map<std::string, std::string> file_owner;  // file name -> feed name (this run)
  std::set<std::string> names_seen;
  for (const auto& feed : index->feeds) {
    if (cancelled()) {
      res.interrupted = true;
      break;
    }
    FeedOutcome o;
    o.name = feed.name;
    std::string url = *feed_url(feed);
    o.url = url;
    const std::string file = safe_file_name(url);
    const std::string fetched = apply_mirror(url, opt.mirror);
    const std::string now = utc_now_iso();
    const fs::path target = dir / file;

    auto fail = [&](const std::string& why) {
      o.ok = false;
      o.error = why;
      std::error_code e2;
      o.kept_previous = fs::is_regular_file(target, e2);
      // Metadata is per feed name; do not let a duplicate name overwrite the first one.
      if (!names_seen.count(feed.name)) {
        FeedRecord& r = meta.feeds[feed.name];
        r.name = feed.name;
        if (r.source.empty()) r.source = url;
        if (r.file.empty()) r.file = file;
        if (!o.kept_previous) {
          r.sha256.clear();
          r.downloaded_at.clear();
          r.counts.clear();
          r.total = 0;
        }
        r.status = "failed: " + why;
        r.last_attempt = now;
      }
      names_seen.insert(feed.name);
      log("  " + feed.name + ": FAILED (" + why + ")" + (o.kept_previous ? "; the previous copy is kept" : ""));
      res.outcomes.push_back(o);
    };

    if (names_seen.count(feed.name)) {
      fail("the index lists this name twice");
      continue;
    }
    if (auto it = file_owner.find(file); it != file_owner.end()) {
      fail("same file name as feed '" + it->second + "'");
      continue;
    }
    file_owner[file] = feed.name;
    log("Downloading " + feed.name + " from " + fetched);

    fs::path tmp;
    int fd = make_temp(dir, tmp);
    if (fd < 0) {
      fail("cannot create a temporary file in " + dir.string());
      continue;
    }
    std::FILE* f = ::fdopen(fd, "wb");
    if (!f) {
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("cannot open a temporary file");
      continue;
    }
    Sink sink;
    sink.file = f;
    sink.max = kMaxFeedBytes;
    sink.cancel = opt.cancel;
    std::string why;
    bool got = do_fetch(fetched, sink, false, &why);
    bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    bool closed = std::fclose(f) == 0;
    if (!got || !flushed || !closed) {
      ::unlink(tmp.c_str());
      if (cancelled()) {
        res.interrupted = true;
        fail("interrupted");
        break;
      }
      fail(got ? "cannot write the temporary file" : why);
      continue;
    }
    std::string rerr;
    auto bytes = read_file(tmp, kMaxFeedBytes, &rerr);
    if (!bytes) {
      ::unlink(tmp.c_str());
      fail("cannot read back the download: " + rerr);
      continue;
    }
    IndicatorSet set;
    bool parsed = set.load_bundle(*bytes, file);
    if (!parsed || set.empty()) {
      ::unlink(tmp.c_str());
      std::string detail = set.warnings().empty() ? std::string() : " (" + set.warnings().front() + ")";
      fail(parsed ? "not a STIX2 bundle with indicators" : "not a STIX2 bundle" + detail);
      continue;
    }
    ::chmod(tmp.c_str(), 0644);
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
      ::unlink(tmp.c_str());
      fail("cannot install " + target.string());
      continue;
    }
    fsync_dir(dir);
    FeedRecord& r = meta.feeds[feed.name];
    r.name = feed.name;
    r.source = url;
    r.fetched_from = fetched;
    r.file = file;
    r.sha256 = sha256_hex(*bytes);
    r.downloaded_at = now;
    r.counts = counts_of(set);
    r.total = set.size();
    r.status = "ok";
    r.last_attempt = now;
    names_seen.insert(feed.name);
    o.ok = true;
    log("  " + feed.name + ": " + std::to_string(set.size()) + " indicators -> " + file);
    res.outcomes.push_back(o);
  }
  meta.updated_at = utc_now_iso();
  std::string serr;
  if (!save_metadata(meta, &serr)) {
    log("error: " + serr);
    res.exit_code = 3;
  }
  bool all_ok = !res.interrupted && res.index_problems.empty();
  for (auto& o : res.outcomes) all_ok = all_ok && o.ok;
  if (!all_ok) res.exit_code = 3;
  return res;
}

// ---- staleness -----------------------------------------------------------------------------
int max_age_days_from_env() {
  const char* v = std::getenv("BRIDLE_IOCS_MAX_AGE_DAYS");
  if (!v || !*v) return kDefaultMaxAgeDays;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 0 || n > 100000) return kDefaultMaxAgeDays;
  return static_cast<int>(n);
}

std::optional<std::string> feeds_staleness_note(int max_age_days, std::int64_t now) {
  if (max_age_days <= 0) return std::nullopt;
  try {
    if (now == 0) now = static_cast<std::int64_t>(std::time(nullptr));
    const Metadata meta = load_metadata();
    const fs::path dir = indicators_dir();
    std::optional<std::int64_t> newest;
    std::string newest_text;
    for (const auto& [name, r] : meta.feeds) {
      if (r.file.empty() || r.sha256.empty()) continue;
      std::error_code ec;
      if (!fs::is_regular_file(dir / r.file, ec)) continue;
      auto t = parse_utc_iso(r.downloaded_at);
      if (t && (!newest || *t > *newest)) {
        newest = t;
        newest_text = r.downloaded_at;
      }
    }
    if (!newest)
      return std::string(
          "note: no indicator feeds were ever downloaded; run `bridle download-iocs` to get the "
          "public indicators (bridle never connects to the network on its own)");
    const std::int64_t age = now - *newest;
    if (age <= static_cast<std::int64_t>(max_age_days) * 86400) return std::nullopt;
    return "note: the indicator feeds were last downloaded " + std::to_string(age / 86400) +
           " days ago (" + newest_text + "); run `bridle download-iocs` to update them";
  } catch (...) {
    return std::nullopt;
  }
}

// ---- export / import -----------------------------------------------------------------------
Json build_manifest(const Metadata& meta,
                    const std::vector<std::pair<std::string, std::string>>& files_sha) {
  Json m = Json::object();
  m["format"] = "bridle-iocs-bundle";
  m["version"] = 1;
  m["bridle_version"] = kVersion;
  m["created_at"] = utc_now_iso();
  Json feeds = Json::array();
  for (const auto& [file, sha] : files_sha) {
    const FeedRecord* rec = nullptr;
    for (const auto& [name, r] : meta.feeds)
      if (r.file == file && r.sha256 == sha) rec = &r;
    Json f = Json::object();
    f["name"] = rec ? rec->name : fs::path(file).stem().string();
    f["file"] = file;
    f["sha256"] = sha;
    f["downloaded_at"] = rec ? rec->downloaded_at : std::string();
    f["source"] = rec ? rec->source : std::string();
    feeds.push_back(f);
  }
  m["feeds"] = feeds;
  return m;
}

std::optional<std::vector<ManifestEntry>> verify_bundle(const std::map<std::string, std::string>& members,
                                                        std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<std::vector<ManifestEntry>> {
    if (error) *error = why;
    return std::nullopt;
  };
  for (const auto& [name, bytes] : members) {
    if (!is_plain_file_name(name)) return fail("member '" + name + "' is not a plain file name");
    if (name != kManifestName && !(ends_with(name, ".stix2") && name.size() > 6))
      return fail("member '" + name + "' is neither manifest.json nor a .stix2 feed");
  }
  auto mit = members.find(kManifestName);
  if (mit == members.end()) return fail("no manifest.json in the bundle");
  Json m = Json::parse(mit->second, nullptr, false);
  if (m.is_discarded() || !m.is_object()) return fail("manifest.json is not a JSON object");
  auto feeds = m.find("feeds");
  if (feeds == m.end() || !feeds->is_array()) return fail("manifest.json has no \"feeds\" list");
  std::vector<ManifestEntry> out;
  std::set<std::string> listed;
  for (const auto& f : *feeds) {
    if (!f.is_object()) return fail("manifest.json: a feed entry is not an object");
    auto str = [&](const char* k) -> std::string {
      auto it = f.find(k);
      return it != f.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    ManifestEntry e{str("name"), str("file"), str("sha256"), str("downloaded_at"), str("source")};
    if (!is_plain_file_name(e.file) || !ends_with(e.file, ".stix2"))
      return fail("manifest.json: invalid feed file name '" + e.file + "'");
    if (!listed.insert(e.file).second) return fail("manifest.json lists '" + e.file + "' twice");
    if (!is_sha256_hex(e.sha256)) return fail("manifest.json: no valid sha256 for '" + e.file + "'");
    auto it = members.find(e.file);
    if (it == members.end()) return fail("'" + e.file + "' is in manifest.json but not in the bundle");
    const std::string actual = sha256_hex(it->second);
    if (actual != e.sha256)
      return fail("'" + e.file + "' does not match its sha256 in manifest.json (tampered or damaged)");
    if (e.name.empty()) e.name = fs::path(e.file).stem().string();
    out.push_back(std::move(e));
  }
  for (const auto& [name, bytes] : members)
    if (name != kManifestName && !listed.count(name))
      return fail("'" + name + "' is in the bundle but not in manifest.json");
  if (out.empty()) return fail("the bundle holds no feeds");
  return out;
}

std::optional<std::size_t> export_bundle(const fs::path& out, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<std::size_t> {
    if (error) *error = why;
    return std::nullopt;
  };
  const fs::path dir = indicators_dir();
  const Metadata meta = load_metadata();
  std::vector<std::pair<std::string, std::string>> files_sha;
  std::vector<std::string> contents;
  for (const auto& p : installed_feed_files(dir)) {
    std::string rerr;
    auto bytes = read_file(p, kMaxFeedBytes, &rerr);
    if (!bytes) return fail("cannot read " + p.string() + ": " + rerr);
    files_sha.emplace_back(p.filename().string(), sha256_hex(*bytes));
    contents.push_back(std::move(*bytes));
  }
  if (files_sha.empty()) return fail("no feeds in " + dir.string() + " (run `bridle download-iocs` first)");
  const std::string manifest = build_manifest(meta, files_sha).dump(2) + "\n";

  fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  fs::path tmp;
  int fd = make_temp(parent, tmp);
  if (fd < 0) return fail("cannot create a file in " + parent.string());
  ::close(fd);
  struct archive* a = archive_write_new();
  bool ok = a && archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
            archive_write_set_format_pax_restricted(a) == ARCHIVE_OK &&
            archive_write_open_filename(a, tmp.c_str()) == ARCHIVE_OK;
  const std::time_t mtime = std::time(nullptr);
  auto add = [&](const std::string& name, const std::string& data) {
    if (!ok) return;
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, mtime, 0);
    ok = archive_write_header(a, e) == ARCHIVE_OK;
    std::size_t off = 0;
    while (ok && off < data.size()) {
      la_ssize_t n = archive_write_data(a, data.data() + off, data.size() - off);
      if (n <= 0) ok = false;
      else off += static_cast<std::size_t>(n);
    }
    archive_entry_free(e);
  };
  add(kManifestName, manifest);
  for (std::size_t i = 0; i < files_sha.size(); ++i) add(files_sha[i].first, contents[i]);
  std::string aerr = a && archive_error_string(a) ? archive_error_string(a) : "";
  if (a) {
    if (archive_write_close(a) != ARCHIVE_OK) ok = false;
    archive_write_free(a);
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return fail("cannot write " + out.string() + (aerr.empty() ? "" : ": " + aerr));
  }
  ::chmod(tmp.c_str(), 0644);
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return fail("cannot create " + out.string());
  }
  return files_sha.size();
}

ImportResult import_bundle(const fs::path& bundle) {
  ImportResult res;
  auto fail = [&](const std::string& why) {
    res.ok = false;
    res.error = why;
    return res;
  };
  std::map<std::string, std::string> members;
  {
    struct archive* a = archive_read_new();
    if (!a) return fail("cannot initialise libarchive");
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, bundle.c_str(), 64 * 1024) != ARCHIVE_OK) {
      std::string e = archive_error_string(a) ? archive_error_string(a) : "unreadable";
      archive_read_free(a);
      return fail("cannot read " + bundle.string() + ": " + e);
    }
    std::string problem;
    std::uint64_t total = 0;
    std::size_t count = 0;
    struct archive_entry* entry = nullptr;
    std::vector<char> buf(64 * 1024);
    while (problem.empty()) {
      int r = archive_read_next_header(a, &entry);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        problem = std::string("not a valid tar.gz: ") + (archive_error_string(a) ? archive_error_string(a) : "?");
        break;
      }
      if (++count > kMaxBundleMembers) {
        problem = "more than " + std::to_string(kMaxBundleMembers) + " members";
        break;
      }
      const char* pn = archive_entry_pathname(entry);
      const std::string name = pn ? pn : "";
      if (!is_plain_file_name(name) || (name != kManifestName && !ends_with(name, ".stix2"))) {
        problem = "member '" + name + "' is not an allowed plain file name";
        break;
      }
      if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) ||
          archive_entry_symlink(entry)) {
        problem = "member '" + name + "' is not a regular file";
        break;
      }
      if (members.count(name)) {
        problem = "member '" + name + "' appears twice";
        break;
      }
      if (archive_entry_size_is_set(entry) &&
          static_cast<std::uint64_t>(archive_entry_size(entry)) > kMaxFeedBytes) {
        problem = "member '" + name + "' is larger than 64 MiB";
        break;
      }
      std::string data;
      for (;;) {
        la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
        if (n == 0) break;
        if (n < 0) {
          problem = "cannot read member '" + name + "': " +
                    (archive_error_string(a) ? archive_error_string(a) : "?");
          break;
        }
        if (data.size() + static_cast<std::size_t>(n) > kMaxFeedBytes) {
          problem = "member '" + name + "' is larger than 64 MiB";
          break;
        }
        total += static_cast<std::uint64_t>(n);
        if (total > kMaxBundleTotal) {
          problem = "the bundle is larger than 512 MiB";
          break;
        }
        data.append(buf.data(), static_cast<std::size_t>(n));
      }
      if (problem.empty()) members[name] = std::move(data);
    }
    archive_read_free(a);
    if (!problem.empty()) return fail(problem);
  }
  std::string verr;
  auto entries = verify_bundle(members, &verr);
  if (!entries) return fail(verr);
  std::map<std::string, IndicatorSet> sets;
  for (const auto& e : *entries) {
    IndicatorSet& set = sets[e.file];
    if (!set.load_bundle(members[e.file], e.file) || set.empty())
      return fail("'" + e.file + "' is not a STIX2 bundle with indicators");
  }

  // Install: every temp file first, then the renames.
  const fs::path dir = indicators_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  FolderLock lock(dir);
  if (!lock.held()) return fail("another bridle is updating " + dir.string() + "; try again later");
  remove_stale_temps(dir);
  std::vector<std::pair<fs::path, fs::path>> moves;
  for (const auto& e : *entries) {
    std::string werr;
    auto tmp = write_temp(dir, members[e.file], &werr);
    if (!tmp) {
      for (auto& mv : moves) ::unlink(mv.first.c_str());
      return fail(werr);
    }
    ::chmod(tmp->c_str(), 0644);
    moves.emplace_back(*tmp, dir / e.file);
  }
  for (std::size_t i = 0; i < moves.size(); ++i) {
    if (::rename(moves[i].first.c_str(), moves[i].second.c_str()) != 0) {
      for (std::size_t j = i; j < moves.size(); ++j) ::unlink(moves[j].first.c_str());
      return fail("cannot install " + moves[i].second.string());
    }
  }
  fsync_dir(dir);

  Metadata meta = load_metadata();
  const std::string now = utc_now_iso();
  for (const auto& e : *entries) {
    // A feed of the same file under another name is replaced by the imported one.
    for (auto it = meta.feeds.begin(); it != meta.feeds.end();)
      it = (it->second.file == e.file && it->first != e.name) ? meta.feeds.erase(it) : std::next(it);
    FeedRecord& r = meta.feeds[e.name];
    r.name = e.name;
    r.source = e.source.empty() ? "import:" + bundle.filename().string() : e.source;
    r.fetched_from = "import:" + bundle.filename().string();
    r.file = e.file;
    r.sha256 = e.sha256;
    r.downloaded_at = parse_utc_iso(e.downloaded_at) ? e.downloaded_at : now;
    r.counts = counts_of(sets[e.file]);
    r.total = sets[e.file].size();
    r.status = "imported";
    r.last_attempt = now;
  }
  meta.updated_at = now;
  std::string serr;
  if (!save_metadata(meta, &serr)) return fail("feeds installed, but " + serr);
  res.ok = true;
  res.installed = *entries;
  return res;
}

}  // namespace bridle::feeds
