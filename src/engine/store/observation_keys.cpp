#include "engine/store/observation_keys.hpp"

#include <algorithm>

#include "core/util.hpp"
#include "indicators/indicators.hpp"

namespace bridle::store {
namespace {

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim_view(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower_ascii(c);
  return out;
}

std::string_view basename_of(std::string_view s) {
  auto slash = s.rfind('/');
  return slash == std::string_view::npos ? s : s.substr(slash + 1);
}

enum class HostKind { None, Host, Ip };

// The IndicatorIndex's own host key (src/indicators/index.cpp), so stored keys match exactly.
HostKind host_key(std::string_view value, std::string& out) {
  switch (observed_host_key(value, out)) {
    case 1: return HostKind::Host;
    case 2: return HostKind::Ip;
    default: return HostKind::None;
  }
}

void add_host_obs(std::string_view value, std::vector<ObsKey>& out) {
  std::string key;
  switch (host_key(value, key)) {
    case HostKind::None: return;
    case HostKind::Ip: out.push_back({"ip", db_text(key)}); return;
    case HostKind::Host: out.push_back({"host", db_text(reverse_labels(key))}); return;
  }
}

std::string reversed(std::string_view s) { return std::string(s.rbegin(), s.rend()); }

}  // namespace

std::string reverse_labels(std::string_view host) {
  std::string out;
  out.reserve(host.size() + 1);
  std::size_t end = host.size();
  for (;;) {
    auto dot = host.rfind('.', end == 0 ? std::string_view::npos : end - 1);
    if (end == 0) dot = std::string_view::npos;
    std::size_t start = dot == std::string_view::npos ? 0 : dot + 1;
    out.append(host.substr(start, end - start));
    out.push_back('.');
    if (dot == std::string_view::npos) break;
    end = dot;
  }
  return out;
}

std::string prefix_upper(std::string_view key) {
  std::string up(key);
  if (!up.empty()) up.back() = static_cast<char>(up.back() + 1);
  return up;
}

namespace {
bool is_db_text(std::string_view s) {
  return s.find('\0') == std::string_view::npos && s.find('\\') == std::string_view::npos && is_valid_utf8(s);
}
}  // namespace

void to_db_text(std::string& s) {
  if (!is_db_text(s)) s = db_text(s);
}

std::string db_text(std::string_view s) {
  // Fast path: nothing to escape.
  if (is_db_text(s)) return std::string(s);
  // Local escaping (each byte decided by its own UTF-8 sequence), so a key's prefix is
  // escaped like the same prefix of a longer key.
  static const char* hex = "0123456789abcdef";
  std::string out;
  auto esc = [&](unsigned char c) {
    out += "\\x";
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  };
  auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    if (i >= s.size()) return false;
    auto c = static_cast<unsigned char>(s[i]);
    return c >= lo && c <= hi;
  };
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (c == 0 || c == '\\') len = 0;
    else if (c < 0x80) len = 1;
    else if (c >= 0xc2 && c <= 0xdf) len = cont(i + 1) ? 2 : 0;
    else if (c >= 0xe0 && c <= 0xef) {
      unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
      len = cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
    } else if (c >= 0xf0 && c <= 0xf4) {
      unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
      len = cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    if (len == 0) {
      esc(c);
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string bounded_key(std::string_view key) {
  if (key.size() <= kMaxKeyBytes) return std::string(key);
  std::size_t n = kMaxKeyBytes;  // cut at a character boundary: the key stays valid UTF-8
  while (n > 0 && (static_cast<unsigned char>(key[n]) & 0xc0) == 0x80) --n;
  std::string out(key.substr(0, n));
  out += '\x01';
  out += sha256_hex(key).substr(0, 32);
  return out;
}

namespace {

void observation_keys_unbounded(const Observation& obs, std::vector<ObsKey>& out) {
  const std::string& v = obs.value;
  switch (obs.kind) {
    case ObsKind::Domain:
      add_host_obs(v, out);
      break;
    case ObsKind::Url: {
      auto t = trim_view(v);
      auto u = normalize_url(t);
      if (!u) u = normalize_url("http://" + std::string(t));
      if (u) out.push_back({"url", db_text(*u)});
      std::string host = url_host(t);
      if (!host.empty()) add_host_obs(host, out);
      break;
    }
    case ObsKind::Ip: {
      auto ip = normalize_ip(v);
      if (!ip) {
        std::string h = url_host(v);
        if (!h.empty()) ip = normalize_ip(h);
      }
      if (ip) out.push_back({"ip", db_text(*ip)});
      break;
    }
    case ObsKind::Process: {
      auto name = basename_of(v);
      if (!name.empty()) out.push_back({"proc", db_text(name)});
      break;
    }
    case ObsKind::FilePath: {
      // One key per path (see the header): forward key for absolute prefixes, reversed key
      // for relative suffixes and basenames.
      std::string p = normalize_path(trim_view(v));
      std::string_view sv = p;
      while (sv.size() > 1 && sv.back() == '/') sv.remove_suffix(1);
      if (sv.empty()) break;
      bool dir = sv.size() < p.size();
      std::string_view rel = sv;
      while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
      ObsKey k{sv.front() == '/' ? "path" : "relpath", db_text(std::string(sv) + (dir ? "//" : "/")), {}};
      if (!rel.empty()) k.rkey = (dir ? "/" : "") + db_text(reversed(rel) + "/");
      out.push_back(std::move(k));
      break;
    }
    case ObsKind::FileName: {
      auto name = basename_of(v);
      if (!name.empty()) out.push_back({"fname", db_text(name)});
      break;
    }
    case ObsKind::Email: out.push_back({"email", db_text(lower(trim_view(v)))}); break;
    case ObsKind::AppId: out.push_back({"appid", db_text(lower(trim_view(v)))}); break;
    case ObsKind::FileHash: {
      auto h = trim_view(v);
      const char* cat = h.size() == 32 ? "md5" : h.size() == 40 ? "sha1" : h.size() == 64 ? "sha256" : nullptr;
      if (cat) out.push_back({cat, db_text(lower(h))});
      break;
    }
    case ObsKind::CertHash: out.push_back({"cert", db_text(lower(trim_view(v)))}); break;
    case ObsKind::ProfileId: out.push_back({"profile", db_text(lower(trim_view(v)))}); break;
    case ObsKind::Property: out.push_back({"prop", db_text(lower(trim_view(v)))}); break;
  }
}

}  // namespace

void observation_keys(const Observation& obs, std::vector<ObsKey>& out) {
  std::size_t first = out.size();
  observation_keys_unbounded(obs, out);
  for (std::size_t i = first; i < out.size(); ++i) {
    if (out[i].key.size() > kMaxKeyBytes) out[i].key = bounded_key(out[i].key);
    if (out[i].rkey.size() > kMaxKeyBytes) out[i].rkey = bounded_key(out[i].rkey);
  }
}

namespace {

void indicator_keys_unbounded(const Indicator& ind, std::vector<IndKey>& out) {
  const std::string& v = ind.value;
  auto exact = [&](const char* cat, std::string_view key) { out.push_back({cat, db_text(key), false}); };
  switch (ind.type) {
    case IocType::Domain: {
      std::string key;
      HostKind k = host_key(v, key);
      if (k == HostKind::Ip) exact("ip", key);
      else if (k == HostKind::Host) out.push_back({"host", db_text(reverse_labels(key)), true});
      break;
    }
    case IocType::Ipv4:
    case IocType::Ipv6: {
      auto ip = normalize_ip(v);
      exact("ip", ip ? *ip : v);
      break;
    }
    case IocType::Url: {
      if (auto u = normalize_url(v)) {
        exact("url", *u);
      } else {
        auto h = normalize_url("http://" + v);
        auto hs = normalize_url("https://" + v);
        if (h) exact("url", *h);
        if (hs) exact("url", *hs);
        if (!h && !hs) exact("url", v);
      }
      break;
    }
    case IocType::Process:
      exact("proc", v);
      if (v.size() > 15) exact("proc", std::string_view(v).substr(0, 15));
      if (v.size() > 16) exact("proc", std::string_view(v).substr(0, 16));
      break;
    case IocType::FileName:
      exact("fname", v);
      // Basenames of stored paths: their reversed keys start with the reversed name + '/'.
      if (!v.empty() && v.find('/') == std::string::npos) out.push_back({kRkey, db_text(reversed(v) + "/"), true});
      break;
    case IocType::FilePath: {
      std::string p = normalize_path(trim_view(v));
      while (!p.empty() && p.back() == '/') p.pop_back();
      std::string_view rel = p;
      while (rel.size() >= 2 && rel[0] == '.' && rel[1] == '/') rel.remove_prefix(2);
      if (rel.empty()) break;
      if (rel.front() == '/') {
        std::string k = db_text(std::string(rel) + "/");
        out.push_back({"apath", k, true});  // schema 2 rows
        out.push_back({"path", std::move(k), true});
      } else {
        std::string r = db_text(reversed(rel) + "/");
        out.push_back({"rpath", r, true});         // schema 2 rows
        out.push_back({kRkey, "/" + r, true});     // directories
        out.push_back({kRkey, std::move(r), true});
      }
      break;
    }
    case IocType::Email: exact("email", v); break;
    case IocType::AppId: exact("appid", v); break;
    case IocType::Md5: exact("md5", v); break;
    case IocType::Sha1: exact("sha1", v); break;
    case IocType::Sha256: exact("sha256", v); break;
    case IocType::AppCert: exact("cert", v); break;
    case IocType::ProfileId: exact("profile", v); break;
    case IocType::AndroidProperty: exact("prop", v); break;
  }
}

}  // namespace

void indicator_keys(const Indicator& ind, std::vector<IndKey>& out) {
  std::size_t first = out.size(), end;
  indicator_keys_unbounded(ind, out);
  end = out.size();
  // A long key as stored now (bounded_key) next to its full form (stores written before).
  for (std::size_t i = first; i < end; ++i) {
    if (out[i].key.size() <= kMaxKeyBytes) continue;
    IndKey b = out[i];
    if (!b.prefix) {
      b.key = bounded_key(b.key);
    } else {
      // Every stored key with this prefix is longer than the bound and shares its cut.
      std::string cut = bounded_key(b.key);
      cut.resize(cut.size() - 33);
      b.key = cut;
      b.upper = cut + "\xf4\x8f\xbf\xbf";  // U+10FFFF: above any character that can follow
    }
    out.push_back(std::move(b));
  }
}

}  // namespace bridle::store
