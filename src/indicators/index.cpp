// IndicatorIndex: hash-based lookups of observables against loaded indicators.
// Every lookup costs O(length of the observed value) hash probes; nothing scans the
// indicators.
#include <algorithm>
#include <array>
#include <cstring>
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

std::uint64_t mix64(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h | 1;  // 0 marks an empty slot
}

std::uint64_t hash_key(std::string_view s) {
  return mix64(std::hash<std::string_view>{}(s));
}

// Hash of a host-name suffix, folded over its bytes from the last to the first, so that the
// hash of "b.evil.com" continues the one of "evil.com" (reversed-label hashing): a lookup
// hashes each byte of the observed host once, however many suffixes it probes.
constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ull, kFnvPrime = 0x100000001b3ull;
inline std::uint64_t fold_back(std::uint64_t h, std::string_view part) {
  for (std::size_t i = part.size(); i-- > 0;) h = (h ^ static_cast<unsigned char>(part[i])) * kFnvPrime;
  return h;
}

// An immutable open-addressing hash table: key -> list of indicator numbers, in one flat
// slot array (one probe, usually one cache miss, answers a miss), keys in one arena, no
// allocation per lookup. Built from a std::unordered_map once (seal()); the hash of each key
// is given by the caller so that domains can use reversed-label hashing.
class FlatMap {
 public:
  struct Node {
    std::uint32_t key_off = 0, key_len = 0;
    std::uint32_t ids_off = 0, ids_len = 0;  // ids_len 0: an interior domain suffix only
  };

  // Collects a key (call before seal()); `hash` must be the one find() will be given.
  void add(std::string_view key, std::uint64_t hash, std::uint32_t id, bool interior = false) {
    auto it = build_.find(key);
    if (it == build_.end()) it = build_.emplace(std::string(key), Pending{hash, {}}).first;
    if (interior) return;
    auto& ids = it->second.ids;
    if (ids.empty() || ids.back() != id) ids.push_back(id);
  }

  void seal() {
    std::size_t cap = 16;
    while (cap < build_.size() * 2 + 1) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    nodes_.clear();
    nodes_.reserve(build_.size());
    // Deterministic layout (sorted keys) whatever the hash map's iteration order.
    std::vector<const std::pair<const std::string, Pending>*> entries;
    entries.reserve(build_.size());
    for (const auto& kv : build_) entries.push_back(&kv);
    std::sort(entries.begin(), entries.end(), [](auto* x, auto* y) { return x->first < y->first; });
    for (const auto* kv : entries) {
      Node n;
      n.key_off = static_cast<std::uint32_t>(arena_.size());
      n.key_len = static_cast<std::uint32_t>(kv->first.size());
      arena_ += kv->first;
      n.ids_off = static_cast<std::uint32_t>(ids_.size());
      n.ids_len = static_cast<std::uint32_t>(kv->second.ids.size());
      ids_.insert(ids_.end(), kv->second.ids.begin(), kv->second.ids.end());
      auto node = static_cast<std::uint32_t>(nodes_.size());
      nodes_.push_back(n);
      std::uint64_t h = kv->second.hash;
      std::size_t pos = static_cast<std::size_t>(h) & mask_;
      while (slots_[pos].hash != 0) pos = (pos + 1) & mask_;
      slots_[pos] = Slot{h, node, n.ids_len != 0};
    }
    // A blocked Bloom filter over the key hashes (one 64-bit word per key, 4 bits set, about
    // 16 bits per key): small enough to stay in cache when the slot array is not, it answers
    // most misses without touching the slots.
    std::size_t words = 1;
    while (words * 4 < nodes_.size() + 1) words <<= 1;
    bloom_.assign(words, 0);
    bloom_mask_ = words - 1;
    for (const auto& sl : slots_)
      if (sl.hash != 0) bloom_[bloom_word(sl.hash)] |= bloom_bits(sl.hash);
    build_.clear();
    build_.rehash(0);
    arena_.shrink_to_fit();
  }
  bool maybe(std::uint64_t h) const {
    std::uint64_t b = bloom_bits(h);
    return (bloom_[bloom_word(h)] & b) == b;
  }

  const Node* find(std::string_view key, std::uint64_t h) const {
    if (nodes_.empty() || !maybe(h)) return nullptr;
    std::size_t pos = static_cast<std::size_t>(h) & mask_;
    for (;;) {
      const Slot& s = slots_[pos];
      if (s.hash == 0) return nullptr;
      if (s.hash == h) {
        const Node& n = nodes_[s.node];
        if (n.key_len == key.size() && std::memcmp(arena_.data() + n.key_off, key.data(), key.size()) == 0)
          return &n;
      }
      pos = (pos + 1) & mask_;
    }
  }
  const Node* find(std::string_view key) const { return find(key, hash_key(key)); }

  // For a walk over domain suffixes: 0 when no key has this hash, 1 when only an interior
  // suffix has it (its text is not compared: a 64-bit hash collision there can only make the
  // walk go on, and every match is compared in full), 2 + *node for an indicator.
  int probe(std::string_view key, std::uint64_t h, const Node** node) const {
    if (!maybe(h)) return 0;
    std::size_t pos = static_cast<std::size_t>(h) & mask_;
    int seen = 0;
    for (;;) {
      const Slot& s = slots_[pos];
      if (s.hash == 0) return seen;
      if (s.hash == h) {
        if (!s.terminal) {
          seen = 1;
        } else {
          const Node& n = nodes_[s.node];
          if (n.key_len == key.size() && std::memcmp(arena_.data() + n.key_off, key.data(), key.size()) == 0) {
            *node = &n;
            return 2;
          }
        }
      }
      pos = (pos + 1) & mask_;
    }
  }
  void prefetch(std::uint64_t h) const { __builtin_prefetch(&bloom_[bloom_word(h)]); }

  template <class F>
  void for_ids(const Node& n, F&& f) const {
    for (std::uint32_t i = 0; i < n.ids_len; ++i) f(ids_[n.ids_off + i]);
  }
  bool empty() const { return nodes_.empty() && build_.empty(); }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t node = 0;
    bool terminal = false;  // the key is an indicator (not only an interior domain suffix)
  };
  struct SvHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct Pending {
    std::uint64_t hash;
    std::vector<std::uint32_t> ids;
  };
  std::unordered_map<std::string, Pending, SvHash, std::equal_to<>> build_;
  std::size_t bloom_word(std::uint64_t h) const { return static_cast<std::size_t>(h >> 40) & bloom_mask_; }
  static std::uint64_t bloom_bits(std::uint64_t h) {
    return (1ull << ((h >> 16) & 63)) | (1ull << ((h >> 22) & 63)) | (1ull << ((h >> 28) & 63)) |
           (1ull << ((h >> 34) & 63));
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::vector<std::uint64_t> bloom_;
  std::size_t bloom_mask_ = 0;
  std::vector<Node> nodes_;
  std::string arena_;
  std::vector<std::uint32_t> ids_;
};

// Plain key -> indicators map.
class Map {
 public:
  void add(std::string_view key, std::uint32_t i) { m_.add(key, hash_key(key), i); }
  void seal() { m_.seal(); }
  template <class F>
  void find(std::string_view key, F&& f) const {
    if (const auto* n = m_.find(key)) m_.for_ids(*n, f);
  }
  bool empty() const { return m_.empty(); }

 private:
  FlatMap m_;
};

// Domain indicators keyed by every label suffix ("evil.com" also stores "com" as an interior
// node). A lookup walks the observed host's suffixes from the top-level label down
// ("com", "evil.com", "a.evil.com", ...), hashing incrementally, and stops at the first
// suffix no indicator ends with: most hosts cost one or two probes whatever the number of
// indicators. The suffixes reached are exactly those the rule "every label suffix of the
// host" names, so matching is unchanged.
class DomainMap {
 public:
  void add(std::string_view key, std::uint32_t i) {
    std::uint64_t h = kFnvBasis;
    std::size_t end = key.size();
    for (;;) {
      std::size_t dot = end == 0 ? std::string_view::npos : key.rfind('.', end - 1);
      std::size_t start = dot == std::string_view::npos ? 0 : dot + 1;
      h = fold_back(h, key.substr(start, end - start));
      m_.add(key.substr(start), mix64(h), i, /*interior=*/start != 0);
      if (start == 0) return;
      h = fold_back(h, ".");
      end = dot;
    }
  }
  void seal() { m_.seal(); }
  bool empty() const { return m_.empty(); }
  template <class F>
  void find_suffixes(std::string_view key, F&& f) const {
    if (m_.empty()) return;
    // Hash every suffix first and prefetch their slots, so that the cache misses of a walk
    // overlap instead of following one another.
    constexpr std::size_t kAhead = 16;
    std::size_t starts[kAhead];
    std::uint64_t hashes[kAhead];
    std::size_t n = 0;
    std::uint64_t h = kFnvBasis;
    std::size_t end = key.size();
    for (;;) {
      std::size_t dot = end == 0 ? std::string_view::npos : key.rfind('.', end - 1);
      std::size_t start = dot == std::string_view::npos ? 0 : dot + 1;
      h = fold_back(h, key.substr(start, end - start));
      starts[n] = start;
      hashes[n] = mix64(h);
      m_.prefetch(hashes[n]);
      ++n;
      if (start == 0 || n == kAhead) break;
      h = fold_back(h, ".");
      end = dot;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const FlatMap::Node* node = nullptr;
      int r = m_.probe(key.substr(starts[i]), hashes[i], &node);
      if (r == 0) return;  // no indicator ends with this suffix, nor with any longer one
      if (r == 2) m_.for_ids(*node, f);
    }
    if (starts[n - 1] == 0) return;
    // More than kAhead labels: go on one suffix at a time.
    end = starts[n - 1] - 1;
    h = fold_back(h, ".");
    for (;;) {
      std::size_t dot = end == 0 ? std::string_view::npos : key.rfind('.', end - 1);
      std::size_t start = dot == std::string_view::npos ? 0 : dot + 1;
      h = fold_back(h, key.substr(start, end - start));
      const FlatMap::Node* node = nullptr;
      int r = m_.probe(key.substr(start), mix64(h), &node);
      if (r == 0) return;
      if (r == 2) m_.for_ids(*node, f);
      if (start == 0) return;
      h = fold_back(h, ".");
      end = dot;
    }
  }

 private:
  FlatMap m_;
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

// value.find_first_of(":/@?#[\\") != npos, with a table instead of a search per byte.
bool has_url_char(std::string_view v) {
  static constexpr auto kTable = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : std::string_view(":/@?#[\\")) t[c] = true;
    return t;
  }();
  for (char c : v)
    if (kTable[static_cast<unsigned char>(c)]) return true;
  return false;
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
  if (has_url_char(value)) {
    url_host_to(value, out);
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
  DomainMap domains;
  Map ips, urls;
  Map procs, procs15, procs16;
  Map file_names, abs_paths, rel_paths;
  Map emails, app_ids, md5, sha1, sha256, certs, profiles, props;

  static void add(Map& m, std::string_view key, std::uint32_t i) { m.add(key, i); }

  static void find(const Map& m, std::string_view key, Msg msg, std::vector<Hit>& hits) {
    m.find(key, [&](std::uint32_t i) { hits.push_back({i, msg}); });
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
          else if (k == HostKind::Host) domains.add(key, i);
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
    domains.seal();
    for (Map* m : {&ips, &urls, &procs, &procs15, &procs16, &file_names, &abs_paths, &rel_paths,
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
    // Every label suffix: "a.b.evil.com", "b.evil.com", "evil.com", "com" (walked from the
    // top-level label, stopping where no indicator can match any more).
    domains.find_suffixes(key, [&](std::uint32_t i) { hits.push_back({i, Msg::Domain}); });
  }

  void match_url(std::string_view value, std::vector<Hit>& hits) const {
    value = trim_view(value);
    if (!urls.empty()) {
      auto u = normalize_url(value);
      if (!u) u = normalize_url("http://" + std::string(value));
      if (u) find(urls, *u, Msg::Domain, hits);
    }
    thread_local std::string host;
    url_host_to(value, host);
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
    thread_local std::string key;
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
