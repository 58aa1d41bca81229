#include "indicators/psl.hpp"

#include <libpsl.h>

#include <cctype>

namespace bridle {

namespace {
bool valid_host_chars(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.back() == '.') return false;
  bool dot = false;
  char prev = 0;
  for (char c : h) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    if (!ok) return false;
    if (c == '.') {
      if (prev == '.') return false;
      dot = true;
    }
    prev = c;
  }
  return dot;
}
}  // namespace

std::optional<std::string> registrable_domain(std::string_view host) {
  if (!valid_host_chars(host)) return std::nullopt;
  std::string h(host);
  const char* r = psl_registrable_domain(psl_builtin(), h.c_str());
  if (!r) return std::nullopt;
  // libpsl treats an unknown TLD as a public suffix ("*" rule): require a listed TLD.
  std::string reg(r);
  auto dot = reg.rfind('.');
  std::string tld = dot == std::string::npos ? reg : reg.substr(dot + 1);
  if (!psl_is_public_suffix2(psl_builtin(), tld.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
    return std::nullopt;
  return reg;
}

bool has_registrable_domain(std::string_view host) { return registrable_domain(host).has_value(); }

bool is_public_suffix(std::string_view host) {
  std::string h(host);
  return psl_is_public_suffix2(psl_builtin(), h.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

}  // namespace bridle
