#include "core/timeutil.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <chrono>

namespace bridle {

namespace {
std::string format_parts(std::int64_t whole, std::int64_t micros) {
  if (micros >= 1000000) { whole += micros / 1000000; micros %= 1000000; }
  if (micros < 0) { whole -= 1; micros += 1000000; }
  // Python's datetime covers years 1..9999.
  if (whole < -62135596800LL || whole > 253402300799LL) return "";
  std::time_t t = static_cast<std::time_t>(whole);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}
}  // namespace

std::string unix_to_iso(double seconds) {
  if (!std::isfinite(seconds)) return "";
  double whole;
  double frac = std::modf(seconds, &whole);
  double us = std::nearbyint(frac * 1e6);  // default rounding mode: half to even
  if (whole < -9.0e15 || whole > 9.0e15) return "";
  return format_parts(static_cast<std::int64_t>(whole), static_cast<std::int64_t>(us));
}

std::string unix_to_iso_int(std::int64_t seconds) { return format_parts(seconds, 0); }

std::string mac_to_iso(double seconds) {
  if (seconds == 0 || !std::isfinite(seconds)) return "";
  return unix_to_iso(seconds + kMacEpochOffset);
}

std::string mac_to_iso_int(std::int64_t value) {
  if (value == 0) return "";
  std::int64_t v = value;
  std::int64_t a = v < 0 ? -v : v;
  if (a >= 100000000000000000LL && a <= 999999999999999999LL) v = v / 1000000000LL;
  if (v > INT64_MAX - 978307200LL) return "";
  return format_parts(v + 978307200LL, 0);
}

std::string chrome_to_iso(std::int64_t micros) {
  constexpr std::int64_t kDelta = 11644473600LL;  // 1601-01-01 .. 1970-01-01 in seconds
  std::int64_t secs = micros / 1000000 - kDelta;
  std::int64_t us = micros % 1000000;
  return format_parts(secs, us);
}

std::string now_iso_local() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us % 1000000));
  return buf;
}

std::string now_iso_utc() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  return format_parts(us / 1000000, us % 1000000);
}

std::optional<double> iso_to_unix(const std::string& iso) {
  int Y, M, D, h, m, s;
  char frac[16] = {0};
  int n = std::sscanf(iso.c_str(), "%4d-%2d-%2d %2d:%2d:%2d.%9[0-9]", &Y, &M, &D, &h, &m, &s, frac);
  if (n < 6) return std::nullopt;
  std::tm tm{};
  tm.tm_year = Y - 1900; tm.tm_mon = M - 1; tm.tm_mday = D;
  tm.tm_hour = h; tm.tm_min = m; tm.tm_sec = s;
  double v = static_cast<double>(timegm(&tm));
  if (n == 7) {
    std::string f(frac);
    v += std::stod("0." + f);
  }
  return v;
}

}  // namespace bridle
