#include "core/jsonio.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace bridle {

namespace {
// Per byte: 0 copied as is, 1 escaped, 2 DEL (escaped with escape_del), 3 non-ASCII.
struct AsciiClass {
  unsigned char c[256];
  constexpr AsciiClass() : c{} {
    for (int i = 0; i < 0x20; ++i) c[i] = 1;
    c[static_cast<unsigned char>('"')] = 1;
    c[static_cast<unsigned char>('\\')] = 1;
    c[0x7f] = 2;
    for (int i = 0x80; i < 0x100; ++i) c[i] = 3;
  }
};
constexpr AsciiClass kAscii;
}  // namespace

bool append_ascii_json_string(std::string& out, std::string_view s, bool escape_del) {
  const std::size_t start = out.size();
  out += '"';
  const char* data = s.data();
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char k = kAscii.c[static_cast<unsigned char>(data[i])];
    if (k == 0 || (k == 2 && !escape_del)) continue;
    if (k == 3) {
      out.resize(start);  // nothing appended: the caller falls back to nlohmann
      return false;
    }
    out.append(data + run, i - run);
    run = i + 1;
    unsigned char c = static_cast<unsigned char>(data[i]);
    switch (c) {
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default: {
        static const char kHex[] = "0123456789abcdef";
        char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(buf, 6);
      }
    }
  }
  out.append(data + run, s.size() - run);
  out += '"';
  return true;
}

namespace {

// The JSON text of one scalar exactly as nlohmann's dump() writes it (ensure_ascii, invalid
// UTF-8 replaced); used for anything the fast paths below do not handle themselves.
void append_slow(std::string& out, const Json& j) {
  out += j.dump(-1, ' ', true, Json::error_handler_t::replace);
}


void append_string(std::string& out, const std::string& s) {
  if (!append_ascii_json_string(out, s, true)) append_slow(out, Json(s));
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// dump(4, ' ', true, replace) of j, every line after the first indented by `indent` more.
void dump_indented(std::string& out, const Json& j, std::size_t indent) {
  switch (j.type()) {
    case Json::value_t::null: out += "null"; return;
    case Json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; return;
    case Json::value_t::number_integer: append_int(out, j.get<std::int64_t>()); return;
    case Json::value_t::number_unsigned: append_uint(out, j.get<std::uint64_t>()); return;
    case Json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (!append_ascii_json_string(out, s, true)) append_slow(out, j);
      return;
    }
    case Json::value_t::object: {
      if (j.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ",\n";
        first = false;
        out.append(indent + 4, ' ');
        append_string(out, it.key());
        out += ": ";
        dump_indented(out, it.value(), indent + 4);
      }
      out += '\n';
      out.append(indent, ' ');
      out += '}';
      return;
    }
    case Json::value_t::array: {
      if (j.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      bool first = true;
      for (const auto& e : j) {
        if (!first) out += ",\n";
        first = false;
        out.append(indent + 4, ' ');
        dump_indented(out, e, indent + 4);
      }
      out += '\n';
      out.append(indent, ' ');
      out += ']';
      return;
    }
    default: append_slow(out, j); return;  // floats, binary, discarded
  }
}

}  // namespace

void append_mvt(std::string& out, const Json& j, std::size_t indent) { dump_indented(out, j, indent); }

void append_mvt_string(std::string& out, std::string_view s) {
  if (!append_ascii_json_string(out, s, true)) append_slow(out, Json(std::string(s)));
}

std::string dump_mvt(const Json& j) {
  std::string out;
  dump_indented(out, j, 0);
  return out;
}

bool write_text_file(const std::filesystem::path& path, const std::string& text, std::string* err) {
  auto tmp = path;
  tmp += ".tmp-bridle";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) {
    if (err) *err = "cannot write " + path.string();
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fclose(f) == 0) && ok;
  if (ok) {
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    ok = !ec;
  }
  if (!ok) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    if (err) *err = "cannot write " + path.string();
  }
  return ok;
}

JsonListWriter::~JsonListWriter() { close(); }

bool JsonListWriter::add(const Json& element) {
  if (failed_) return false;
  if (!f_) {
    f_ = std::fopen(path_.c_str(), "wb");
    if (!f_) {
      failed_ = true;
      error_ = "cannot write " + path_.string();
      return false;
    }
    std::fputs("[\n", f_);
  } else {
    std::fputs(",\n", f_);
  }
  // Written at indent level 1 directly (no intermediate text re-indented line by line).
  buf_.clear();
  buf_ += "    ";
  dump_indented(buf_, element, 4);
  if (std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
    failed_ = true;
    error_ = "write failed: " + path_.string();
  }
  if (buf_.capacity() > (1u << 20)) std::string().swap(buf_);
  ++count_;
  return !failed_;
}

bool JsonListWriter::close() {
  if (f_) {
    std::fputs("\n]", f_);
    if (std::fclose(f_) != 0) failed_ = true;
    f_ = nullptr;
  }
  return !failed_;
}

namespace {
void repr_string(const std::string& s, std::string& out) {
  // Python picks single quotes unless the string contains ' and no ".
  bool has_sq = s.find('\'') != std::string::npos;
  bool has_dq = s.find('"') != std::string::npos;
  char q = (has_sq && !has_dq) ? '"' : '\'';
  out += q;
  // Runs of bytes Python prints as they are are copied at once.
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != 0x7f && c != '\\' && c != static_cast<unsigned char>(q)) continue;
    out.append(s, run, i - run);
    run = i + 1;
    if (c == '\\') out += "\\\\";
    else if (c == static_cast<unsigned char>(q)) { out += '\\'; out += static_cast<char>(c); }
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else {
      static const char kHex[] = "0123456789abcdef";
      char buf[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
      out.append(buf, 4);
    }
  }
  out.append(s, run, std::string::npos);
  out += q;
}

void repr(const Json& j, std::string& out) {
  switch (j.type()) {
    case Json::value_t::null: out += "None"; break;
    case Json::value_t::boolean: out += j.get<bool>() ? "True" : "False"; break;
    case Json::value_t::number_integer: out += std::to_string(j.get<std::int64_t>()); break;
    case Json::value_t::number_unsigned: out += std::to_string(j.get<std::uint64_t>()); break;
    case Json::value_t::number_float: {
      double d = j.get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e16) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.1f", d);
        out += buf;
      } else {
        out += Json(d).dump();
      }
      break;
    }
    case Json::value_t::string: repr_string(j.get_ref<const std::string&>(), out); break;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (auto& x : j) {
        if (!first) out += ", ";
        first = false;
        repr(x, out);
      }
      out += ']';
      break;
    }
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        repr_string(it.key(), out);
        out += ": ";
        repr(it.value(), out);
      }
      out += '}';
      break;
    }
    default: out += "None";
  }
}
}  // namespace

std::string python_repr(const Json& j) {
  std::string out;
  repr(j, out);
  return out;
}

void append_python_repr(std::string& out, const Json& j) { repr(j, out); }

void append_csv_field(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    out += c;
    out += c;
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

std::string csv_field(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "\"\"";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
  out += '"';
  return out;
}

}  // namespace bridle

namespace bridle {
namespace {

// The subset of JSON parse_json_fast handles itself; anything else makes it give up (false)
// so the caller uses nlohmann's parser, whose result this one reproduces on its subset.
class FastJson {
 public:
  explicit FastJson(std::string_view t) : p_(t.data()), e_(t.data() + t.size()) {}
  bool parse(Json& out) {
    ws();
    if (!value(out, 0)) return false;
    ws();
    return p_ == e_;
  }

 private:
  static constexpr int kMaxDepth = 64;
  void ws() {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  // ASCII strings with the short escapes (\u, bytes >= 0x80 and control bytes: give up).
  bool string(std::string& s) {
    ++p_;  // opening quote
    const char* run = p_;
    s.clear();
    for (;;) {
      if (p_ >= e_) return false;
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        s.append(run, static_cast<std::size_t>(p_ - run));
        ++p_;
        return true;
      }
      if (c < 0x20 || c >= 0x80) return false;
      if (c != '\\') {
        ++p_;
        continue;
      }
      s.append(run, static_cast<std::size_t>(p_ - run));
      if (++p_ >= e_) return false;
      switch (*p_) {
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        case '/': s += '/'; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'n': s += '\n'; break;
        case 'r': s += '\r'; break;
        case 't': s += '\t'; break;
        default: return false;  // \u and anything invalid
      }
      run = ++p_;
    }
  }
  // Integers of at most 18 digits (no fraction, no exponent): nlohmann makes them unsigned
  // without a sign and signed with one.
  bool number(Json& out) {
    bool neg = *p_ == '-';
    const char* d = p_ + (neg ? 1 : 0);
    const char* q = d;
    while (q < e_ && *q >= '0' && *q <= '9') ++q;
    std::size_t n = static_cast<std::size_t>(q - d);
    if (n == 0 || n > 18 || (n > 1 && *d == '0')) return false;
    if (q < e_ && (*q == '.' || *q == 'e' || *q == 'E')) return false;
    std::uint64_t v = 0;
    for (const char* c = d; c < q; ++c) v = v * 10 + static_cast<std::uint64_t>(*c - '0');
    if (neg) out = Json(static_cast<std::int64_t>(-static_cast<std::int64_t>(v)));
    else out = Json(v);
    p_ = q;
    return true;
  }
  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(e_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }
  bool value(Json& out, int depth) {
    if (p_ >= e_) return false;
    switch (*p_) {
      case '{': return object(out, depth + 1);
      case '[': return array(out, depth + 1);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = Json(std::move(s));
        return true;
      }
      case 't':
        if (!literal("true")) return false;
        out = Json(true);
        return true;
      case 'f':
        if (!literal("false")) return false;
        out = Json(false);
        return true;
      case 'n':
        if (!literal("null")) return false;
        out = Json(nullptr);
        return true;
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return number(out);
        return false;
    }
  }
  bool object(Json& out, int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;
    out = Json(Json::value_t::object);
    auto& m = *out.get_ptr<Json::object_t*>();
    ws();
    if (p_ < e_ && *p_ == '}') {
      ++p_;
      return true;
    }
    std::string key;
    for (;;) {
      if (p_ >= e_ || *p_ != '"' || !string(key)) return false;
      // A repeated key (nlohmann: first position, last value) is left to nlohmann.
      for (auto& kv : m)
        if (kv.first.size() == key.size() && kv.first == key) return false;
      ws();
      if (p_ >= e_ || *p_ != ':') return false;
      ++p_;
      ws();
      Json v;
      if (!value(v, depth)) return false;
      m.emplace_back(std::move(key), std::move(v));
      ws();
      if (p_ >= e_) return false;
      if (*p_ == ',') {
        ++p_;
        ws();
        continue;
      }
      if (*p_ != '}') return false;
      ++p_;
      return true;
    }
  }
  bool array(Json& out, int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;
    out = Json(Json::value_t::array);
    auto& a = *out.get_ptr<Json::array_t*>();
    ws();
    if (p_ < e_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      Json v;
      if (!value(v, depth)) return false;
      a.push_back(std::move(v));
      ws();
      if (p_ >= e_) return false;
      if (*p_ == ',') {
        ++p_;
        ws();
        continue;
      }
      if (*p_ != ']') return false;
      ++p_;
      return true;
    }
  }
  const char* p_;
  const char* e_;
};

}  // namespace

bool parse_json_fast(std::string_view text, Json& out) {
  FastJson p(text);
  Json j;
  if (!p.parse(j)) return false;
  out = std::move(j);
  return true;
}

}  // namespace bridle
