#include "core/timeutil.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <chrono>

namespace bridle {

namespace {
// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

void digits(char* out, unsigned v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// "YYYY-MM-DD HH:MM:SS.ffffff" (what gmtime_r + "%04d-%02d-%02d %02d:%02d:%02d.%06lld" gives
// for years 1..9999), or "" outside them.
std::string format_parts(std::int64_t whole, std::int64_t micros) {
  if (micros >= 1000000) { whole += micros / 1000000; micros %= 1000000; }
  if (micros < 0) { whole -= 1; micros += 1000000; }
  // Python's datetime covers years 1..9999.
  if (whole < -62135596800LL || whole > 253402300799LL) return "";
  std::int64_t days = whole >= 0 ? whole / 86400 : -((-whole + 86399) / 86400);
  std::int64_t secs = whole - days * 86400;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[26];
  digits(buf, static_cast<unsigned>(y), 4);
  buf[4] = '-';
  digits(buf + 5, m, 2);
  buf[7] = '-';
  digits(buf + 8, d, 2);
  buf[10] = ' ';
  digits(buf + 11, static_cast<unsigned>(secs / 3600), 2);
  buf[13] = ':';
  digits(buf + 14, static_cast<unsigned>(secs / 60 % 60), 2);
  buf[16] = ':';
  digits(buf + 17, static_cast<unsigned>(secs % 60), 2);
  buf[19] = '.';
  digits(buf + 20, static_cast<unsigned>(micros), 6);
  return std::string(buf, 26);
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
