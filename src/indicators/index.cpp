// IndicatorIndex: hash-based lookups of observables against loaded indicators.
// Every lookup costs O(length of the observed value) hash probes; nothing scans the
// indicators.
#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "indicators/indicators.hpp"

namespace bridle {

namespace {

struct SvHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
using RawMap = std::unordered_map<std::string, std::vector<std::uint32_t>, SvHash, std::equal_to<>>;

// A hash map plus a flat open-addressing table of key hashes in front of it. Almost every
// lookup is a miss; the flat table answers those with one probe into a contiguous array
// (one cache miss) instead of walking the map's bucket array and node chain.
class Map {
 public:
  void add(std::string_view key, std::uint32_t i) {
    auto it = map_.find(key);
    if (it == map_.end()) it = map_.emplace(std::string(key), std::vector<std::uint32_t>{}).first;
    if (it->second.empty() || it->second.back() != i) it->second.push_back(i);
  }
  // Builds the filter; call once after the last add().
  void seal() {
    std::size_t cap = 16;
    while (cap < map_.size() * 2 + 1) cap <<= 1;
    slots_.assign(cap, 0);
    mask_ = cap - 1;
    for (const auto& kv : map_) {
      std::uint64_t h = tag(SvHash{}(kv.first));
      std::size_t pos = static_cast<std::size_t>(h) & mask_;
      while (slots_[pos] != 0 && slots_[pos] != h) pos = (pos + 1) & mask_;
      slots_[pos] = h;
    }
  }
  const std::vector<std::uint32_t>* find(std::string_view key) const {
    if (map_.empty()) return nullptr;
    std::uint64_t h = tag(SvHash{}(key));
    std::size_t pos = static_cast<std::size_t>(h) & mask_;
    for (;;) {
      std::uint64_t s = slots_[pos];
      if (s == 0) return nullptr;
      if (s == h) break;
      pos = (pos + 1) & mask_;
    }
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  bool empty() const { return map_.empty(); }

 private:
  static std::uint64_t tag(std::size_t h) { return static_cast<std::uint64_t>(h) | 1u; }
  RawMap map_;
  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0;
};

enum class Msg : std::uint8_t {
  Domain, Process, FileName, FilePath, Email, AppId, FileHash, CertHash, Profile, Property,
};

struct Hit {
  std::uint32_t index;
  Msg msg;
};

constexpr char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim_view(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

void lower_into(std::string_view s, std::string& out) {
  out.resize(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = lower_ascii(s[i]);
}

std::string_view basename_of(std::string_view s) {
  auto slash = s.rfind('/');
  return slash == std::string_view::npos ? s : s.substr(slash + 1);
}

bool maybe_ip(std::string_view s) {
  if (s.empty()) return false;
  if (s.front() == '[' || s.find(':') != std::string_view::npos) return true;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  return true;
}

enum class HostKind { None, Host, Ip };

// Reduces a host-like observed value to the key used by the index: lower-case, trailing
// dots removed, port/userinfo/path dropped; IP literals in canonical form. Unlike
// normalize_host() a leading "www." is kept: every label suffix is looked up, so
// "www.evil.com" reaches an "evil.com" indicator anyway, and a "www.x" indicator stays
// reachable (MVT's lstrip("www.") makes such indicators unmatchable).
HostKind host_key(std::string_view value, std::string& out) {
  value = trim_view(value);
  if (value.empty()) return HostKind::None;
  if (maybe_ip(value)) {
    if (auto ip = normalize_ip(value)) {
      out = std::move(*ip);
      return HostKind::Ip;
    }
  }
  if (value.find_first_of(":/@?#[\\") != std::string_view::npos) {
    out = url_host(value);
  } else {
    lower_into(value, out);
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
  if (out.empty()) return HostKind::None;
  if (maybe_ip(out)) {
    if (auto ip = normalize_ip(out)) {
      out = std::move(*ip);
      return HostKind::Ip;
    }
  }
  return HostKind::Host;
}

}  // namespace

int observed_host_key(std::string_view value, std::string& key) {
  switch (host_key(value, key)) {
    case HostKind::None: return 0;
    case HostKind::Host: return 1;
    case HostKind::Ip: return 2;
  }
  return 0;
}

struct IndicatorIndex::Impl {
  const IndicatorSet* set = nullptr;
  Map domains, ips, urls;
  Map procs, procs15, procs16;
  Map file_names, abs_paths, rel_paths;
  Map emails, app_ids, md5, sha1, sha256, certs, profiles, props;

  static void add(Map& m, std::string_view key, std::uint32_t i) { m.add(key, i); }

  static void find(const Map& m, std::string_view key, Msg msg, std::vector<Hit>& hits) {
    if (const auto* ids = m.find(key))
      for (auto i : *ids) hits.push_back({i, msg});
  }

  void build() {
    const auto& inds = set->indicators();
    for (std::uint32_t i = 0; i < inds.size(); ++i) {
      const Indicator& ind = inds[i];
      const std::string& v = ind.value;
      switch (ind.type) {
        case IocType::Domain: {
          std::string key;
          HostKind k = host_key(v, key);
          if (k == HostKind::Ip) add(ips, key, i);
          else if (k == HostKind::Host) add(domains, key, i);
          break;
        }
        case IocType::Ipv4:
        case IocType::Ipv6: {
          auto ip = normalize_ip(v);
          add(ips, ip ? *ip : v, i);
          break;
        }
        case IocType::Url: {
          if (auto u = normalize_url(v)) {
            add(urls, *u, i);
          } else {
            // A URL indicator written without a scheme matches over http and https.
            auto h = normalize_url("http://" + v);
            auto hs = normalize_url("https://" + v);
            if (h) add(urls, *h, i);
            if (hs) add(urls, *hs, i);
            if (!h && !hs) add(urls, v, i);
          }
          break;
        }
        case IocType::Process:
          add(procs, v, i);
          // Kernel-truncated names: iOS keeps 16 characters (MAXCOMLEN), Linux 15.
          if (v.size() > 15) add(procs15, std::string_view(v).substr(0, 15), i);
          if (v.size() > 16) add(procs16, std::string_view(v).substr(0, 16), i);
          break;
        case IocType::FileName:
          add(file_names, v, i);
          break;
        case IocType::FilePath: {
          std::string p = normalize_path(trim_view(v));
          while (!p.empty() && p.back() == '/') p.pop_back();
          std::string_view rel = p;
          while (rel.size() >= 2 && rel[0] == '.' && rel[1] == '/') rel.remove_prefix(2);
          if (rel.empty()) break;  // "/" alone would match every path: not indexed
          if (rel.front() == '/') add(abs_paths, rel, i);
          else add(rel_paths, rel, i);
          break;
        }
        case IocType::Email: add(emails, v, i); break;
        case IocType::AppId: add(app_ids, v, i); break;
        case IocType::Md5: add(md5, v, i); break;
        case IocType::Sha1: add(sha1, v, i); break;
        case IocType::Sha256: add(sha256, v, i); break;
        case IocType::AppCert: add(certs, v, i); break;
        case IocType::ProfileId: add(profiles, v, i); break;
        case IocType::AndroidProperty: add(props, v, i); break;
      }
    }
    for (Map* m : {&domains, &ips, &urls, &procs, &procs15, &procs16, &file_names, &abs_paths, &rel_paths,
                   &emails, &app_ids, &md5, &sha1, &sha256, &certs, &profiles, &props})
      m->seal();
  }

  void match_host(std::string_view value, std::vector<Hit>& hits) const {
    // Reused buffer: most hosts are longer than the small-string buffer.
    thread_local std::string key;
    switch (host_key(value, key)) {
      case HostKind::None:
        return;
      case HostKind::Ip:
        find(ips, key, Msg::Domain, hits);
        return;
      case HostKind::Host:
        break;
    }
    // Every label suffix: "a.b.evil.com", "b.evil.com", "evil.com", "com".
    std::string_view s = key;
    for (;;) {
      find(domains, s, Msg::Domain, hits);
      auto dot = s.find('.');
      if (dot == std::string_view::npos) break;
      s.remove_prefix(dot + 1);
    }
  }

  void match_url(std::string_view value, std::vector<Hit>& hits) const {
    value = trim_view(value);
    if (!urls.empty()) {
      auto u = normalize_url(value);
      if (!u) u = normalize_url("http://" + std::string(value));
      if (u) find(urls, *u, Msg::Domain, hits);
    }
    std::string host = url_host(value);
    if (!host.empty()) match_host(host, hits);
  }

  void match_path(std::string_view value, std::vector<Hit>& hits) const {
    std::string p = normalize_path(trim_view(value));
    std::string_view base = basename_of(p);
    if (!base.empty()) find(file_names, base, Msg::FileName, hits);
    std::string_view sv = p;
    while (sv.size() > 1 && sv.back() == '/') sv.remove_suffix(1);
    if (sv.empty()) return;
    if (sv.front() == '/' && !abs_paths.empty()) {
      // Component prefixes: "/a", "/a/b", ..., the whole path.
      for (std::size_t i = 1; i < sv.size(); ++i)
        if (sv[i] == '/') find(abs_paths, sv.substr(0, i), Msg::FilePath, hits);
      find(abs_paths, sv, Msg::FilePath, hits);
    }
    if (!rel_paths.empty()) {
      // Component suffixes: "a/b/c", "b/c", "c".
      std::string_view s = sv;
      while (!s.empty() && s.front() == '/') s.remove_prefix(1);
      for (;;) {
        if (!s.empty()) find(rel_paths, s, Msg::FilePath, hits);
        auto slash = s.find('/');
        if (slash == std::string_view::npos) break;
        s.remove_prefix(slash + 1);
      }
    }
  }

  void match_lower(const Map& m, std::string_view value, Msg msg, std::vector<Hit>& hits) const {
    if (m.empty()) return;
    std::string key;
    lower_into(trim_view(value), key);
    find(m, key, msg, hits);
  }

  void collect(const Observation& obs, std::vector<Hit>& hits) const {
    const std::string& v = obs.value;
    switch (obs.kind) {
      case ObsKind::Domain:
        match_host(v, hits);
        break;
      case ObsKind::Url:
        match_url(v, hits);
        break;
      case ObsKind::Ip: {
        auto ip = normalize_ip(v);
        if (!ip) {
          // "1.2.3.4:443" or "[::1]:80"
          std::string h = url_host(v);
          if (!h.empty()) ip = normalize_ip(h);
        }
        if (ip) find(ips, *ip, Msg::Domain, hits);
        break;
      }
      case ObsKind::Process: {
        std::string_view name = basename_of(v);
        if (name.empty()) break;
        find(procs, name, Msg::Process, hits);
        if (name.size() == 16) find(procs16, name, Msg::Process, hits);
        else if (name.size() == 15) find(procs15, name, Msg::Process, hits);
        break;
      }
      case ObsKind::FilePath:
        match_path(v, hits);
        break;
      case ObsKind::FileName: {
        std::string_view name = basename_of(v);
        if (!name.empty()) find(file_names, name, Msg::FileName, hits);
        break;
      }
      case ObsKind::Email:
        match_lower(emails, v, Msg::Email, hits);
        break;
      case ObsKind::AppId:
        match_lower(app_ids, v, Msg::AppId, hits);
        break;
      case ObsKind::FileHash: {
        std::string_view h = trim_view(v);
        const Map* m = h.size() == 32 ? &md5 : h.size() == 40 ? &sha1 : h.size() == 64 ? &sha256 : nullptr;
        if (m) match_lower(*m, h, Msg::FileHash, hits);
        break;
      }
      case ObsKind::CertHash:
        match_lower(certs, v, Msg::CertHash, hits);
        break;
      case ObsKind::ProfileId:
        match_lower(profiles, v, Msg::Profile, hits);
        break;
      case ObsKind::Property:
        match_lower(props, v, Msg::Property, hits);
        break;
    }
  }

  std::string message(const Observation& obs, const Hit& h) const {
    const Indicator& ind = set->indicators()[h.index];
    const std::string& cname = set->collections()[ind.collection].name;
    const std::string& v = obs.value;
    switch (h.msg) {
      case Msg::Domain:
        return fmt::format("Found a known suspicious domain {} matching indicator \"{}\" from \"{}\"",
                           v, ind.value, cname);
      case Msg::Process:
        return fmt::format("Found a known suspicious process name \"{}\" matching indicators from \"{}\"",
                           v, cname);
      case Msg::FileName:
        return fmt::format("Found a known suspicious file name \"{}\" matching indicators from \"{}\"",
                           basename_of(normalize_path(v)), cname);
      case Msg::FilePath:
        return fmt::format("Found a known suspicious file path \"{}\" matching indicators from \"{}\"",
                           v, cname);
      case Msg::Email:
        return fmt::format("Found a known suspicious email address \"{}\" matching indicators from \"{}\"",
                           v, cname);
      case Msg::AppId:
        return fmt::format("Found a known suspicious app with ID \"{}\" matching indicators from \"{}\"",
                           v, cname);
      case Msg::FileHash:
        return fmt::format("Found a known suspicious file with hash \"{}\" matching indicators from \"{}\"",
                           v, cname);
      case Msg::CertHash:
        return fmt::format(
            "Found a known suspicious app certificate with hash \"{}\" matching indicators from \"{}\"", v,
            cname);
      case Msg::Profile:
        return fmt::format(
            "Found a known suspicious configuration profile \"{}\" matching indicators from \"{}\"", v, cname);
      case Msg::Property:
        return fmt::format("Found a known suspicious Android property \"{}\" matching indicators from \"{}\"",
                           v, cname);
    }
    return {};
  }
};

IndicatorIndex::IndicatorIndex(const IndicatorSet& set) : impl_(std::make_unique<Impl>()) {
  impl_->set = &set;
  impl_->build();
}

IndicatorIndex::~IndicatorIndex() = default;

bool IndicatorIndex::empty() const { return impl_->set->empty(); }

std::vector<IocMatch> IndicatorIndex::match(const Observation& obs) const {
  std::vector<IocMatch> out;
  std::vector<Hit> hits;
  impl_->collect(obs, hits);
  if (hits.empty()) return out;
  // Load order; the first route that found an indicator decides its message.
  std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.index < b.index; });
  hits.erase(std::unique(hits.begin(), hits.end(),
                         [](const Hit& a, const Hit& b) { return a.index == b.index; }),
             hits.end());
  out.reserve(hits.size());
  const auto& inds = impl_->set->indicators();
  const auto& colls = impl_->set->collections();
  for (const Hit& h : hits) {
    IocMatch m;
    m.indicator = &inds[h.index];
    m.collection = &colls[inds[h.index].collection];
    m.message = impl_->message(obs, h);
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<IocMatch> IndicatorIndex::first(const Observation& obs) const {
  auto all = match(obs);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

}  // namespace bridle
