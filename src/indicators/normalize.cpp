// Normalisers for observables and indicator values. Every function here is total on
// arbitrary bytes: no exceptions on bad input, no undefined behaviour (they are fuzzed).
#include <arpa/inet.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "indicators/indicators.hpp"

namespace bridle {

namespace {

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

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Characters that can never be part of a host name as written in a URL.
bool is_bad_host_char(unsigned char c) {
  if (c <= 0x20 || c == 0x7f) return true;
  switch (c) {
    case '/': case '\\': case '?': case '#': case '@': case '[': case ']':
    case '<': case '>': case '"': case '\'': case '`': case '{': case '}':
    case '|': case '^': case ',': case ';':
      return true;
    default:
      return false;
  }
}

bool valid_scheme(std::string_view s) {
  if (s.empty()) return false;
  char c0 = s[0];
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Splits "authority" (already without userinfo) into host and port. For a bracketed IPv6
// literal the host keeps its brackets. Returns false when the port is not numeric.
bool split_host_port(std::string_view auth, std::string_view& host, std::string_view& port) {
  port = {};
  if (!auth.empty() && auth.front() == '[') {
    auto close = auth.find(']');
    if (close == std::string_view::npos) return false;
    host = auth.substr(0, close + 1);
    std::string_view rest = auth.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    port = rest.substr(1);
    return all_digits(port);
  }
  auto colon = auth.rfind(':');
  if (colon == std::string_view::npos) {
    host = auth;
    return true;
  }
  // More than one ':' without brackets: a bare IPv6 literal, no port.
  if (auth.find(':') != colon) {
    host = auth;
    return true;
  }
  host = auth.substr(0, colon);
  port = auth.substr(colon + 1);
  return all_digits(port);
}

}  // namespace

std::optional<std::string> normalize_ip(std::string_view text) {
  text = trim_view(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  // Drop an IPv6 zone index ("fe80::1%en0"): it is not part of the address.
  if (auto pct = text.find('%'); pct != std::string_view::npos && text.find(':') != std::string_view::npos)
    text = text.substr(0, pct);
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (std::memchr(buf, '\0', text.size()) != nullptr) return std::nullopt;
  char out[INET6_ADDRSTRLEN + 1];
  if (text.find(':') == std::string_view::npos) {
    in_addr a4{};
    if (inet_pton(AF_INET, buf, &a4) != 1) return std::nullopt;
    if (!inet_ntop(AF_INET, &a4, out, sizeof out)) return std::nullopt;
    return std::string(out);
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, buf, &a6) != 1) return std::nullopt;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a6.s6_addr, kMapped, 12) == 0) {
    in_addr a4{};
    std::memcpy(&a4, a6.s6_addr + 12, 4);
    if (!inet_ntop(AF_INET, &a4, out, sizeof out)) return std::nullopt;
    return std::string(out);
  }
  if (!inet_ntop(AF_INET6, &a6, out, sizeof out)) return std::nullopt;
  return std::string(out);
}

std::string normalize_host(std::string_view host) {
  host = trim_view(host);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto ip = normalize_ip(host);
    return ip ? *ip : std::string();
  }
  if (host.find(':') != std::string_view::npos) {
    // Bare IPv6 literal, or "host:port".
    if (auto ip = normalize_ip(host)) return *ip;
    std::string_view h, port;
    if (!split_host_port(host, h, port)) return {};
    host = h;
  }
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return {};
  std::string out;
  out.reserve(host.size());
  for (char c : host) {
    if (is_bad_host_char(static_cast<unsigned char>(c)) || c == ':') return {};
    out.push_back(lower_ascii(c));
  }
  // No empty labels ("a..b", ".a").
  if (out.front() == '.' || out.find("..") != std::string::npos) return {};
  if (auto ip = normalize_ip(out)) return *ip;
  if (out.size() > 4 && out.compare(0, 4, "www.") == 0) out.erase(0, 4);
  return out;
}

std::optional<std::string> normalize_url(std::string_view url) {
  url = trim_view(url);
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view scheme = url.substr(0, sep);
  if (!valid_scheme(scheme)) return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  std::size_t auth_end = rest.find_first_of("/?#");
  if (auth_end == std::string_view::npos) auth_end = rest.size();
  std::string_view auth = rest.substr(0, auth_end);
  std::string_view tail = rest.substr(auth_end);
  if (auto at = auth.rfind('@'); at != std::string_view::npos) auth = auth.substr(at + 1);
  std::string_view host, port;
  if (!split_host_port(auth, host, port)) return std::nullopt;
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return std::nullopt;
  for (char c : host) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '\\') return std::nullopt;
  }

  std::string out;
  out.reserve(url.size());
  for (char c : scheme) out.push_back(lower_ascii(c));
  out += "://";
  for (char c : host) out.push_back(lower_ascii(c));
  // Drop leading zeros of the port and the scheme's default port.
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  if (!port.empty()) {
    bool is_default = (port == "80" && (out.compare(0, 7, "http://") == 0 || out.compare(0, 5, "ws://") == 0)) ||
                      (port == "443" && (out.compare(0, 8, "https://") == 0 || out.compare(0, 6, "wss://") == 0));
    if (!is_default) {
      out.push_back(':');
      out += port;
    }
  }
  // Fragment dropped, query kept.
  if (auto hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  if (tail.empty() || tail.front() != '/') out.push_back('/');
  out += tail;
  return out;
}

std::string url_host(std::string_view url) {
  std::string out;
  url_host_to(url, out);
  return out;
}

void url_host_to(std::string_view url, std::string& out) {
  url = trim_view(url);
  std::string_view rest = url;
  if (auto sep = url.find("://"); sep != std::string_view::npos && valid_scheme(url.substr(0, sep))) {
    rest = url.substr(sep + 3);
  } else if (rest.size() >= 2 && rest[0] == '/' && rest[1] == '/') {
    rest = rest.substr(2);
  }
  std::size_t auth_end = rest.find_first_of("/?#\\");
  if (auth_end != std::string_view::npos) rest = rest.substr(0, auth_end);
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string_view host, port;
  if (!split_host_port(rest, host, port)) {
    // Not a numeric port: keep what comes before the last ':' (or the bracketed part).
    if (!rest.empty() && rest.front() == '[') {
      auto close = rest.find(']');
      host = close == std::string_view::npos ? std::string_view() : rest.substr(0, close + 1);
    } else {
      host = rest.substr(0, rest.rfind(':'));
    }
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  out.resize(host.size());
  for (std::size_t i = 0; i < host.size(); ++i) out[i] = lower_ascii(host[i]);
}

std::string normalize_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  // "/private/var", "/private/etc" and "/private/tmp" are the real locations of /var, /etc
  // and /tmp on iOS; paths relative to the device root ("private/var/...", as written by
  // some extraction tools) are treated as rooted.
  static constexpr std::string_view kFirmlinks[] = {"var", "etc", "tmp"};
  std::size_t start = 0;
  if (out.compare(0, 9, "/private/") == 0) {
    start = 9;
  } else if (out.compare(0, 8, "private/") == 0) {
    start = 8;
  } else {
    return out;
  }
  std::string_view after = std::string_view(out).substr(start);
  for (auto dir : kFirmlinks) {
    if (after.size() >= dir.size() && after.compare(0, dir.size(), dir) == 0 &&
        (after.size() == dir.size() || after[dir.size()] == '/')) {
      return "/" + std::string(after);
    }
  }
  return out;
}

}  // namespace bridle
