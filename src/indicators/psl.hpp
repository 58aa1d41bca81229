// Public Suffix List questions (libpsl's built-in list).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace bridle {

// True when `host` (lower-case) is a syntactically valid host name that has a registrable
// domain under the Public Suffix List, e.g. "evil.com", "a.b.evil.co.uk"; false for
// "localstorage", "com", "0.localstorage", "com.apple.ios".
bool has_registrable_domain(std::string_view host);
// "a.b.evil.co.uk" -> "evil.co.uk"; nullopt when none.
std::optional<std::string> registrable_domain(std::string_view host);
bool is_public_suffix(std::string_view host);

}  // namespace bridle
