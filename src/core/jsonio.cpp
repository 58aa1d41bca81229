#include "core/jsonio.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace bridle {

std::string dump_mvt(const Json& j) {
  return j.dump(4, ' ', true, Json::error_handler_t::replace);
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
  std::string text = dump_mvt(element);
  std::string out;
  out.reserve(text.size() + 64);
  out += "    ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  if (std::fwrite(out.data(), 1, out.size(), f_) != out.size()) {
    failed_ = true;
    error_ = "write failed: " + path_.string();
  }
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
  for (unsigned char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == static_cast<unsigned char>(q)) { out += '\\'; out += static_cast<char>(c); }
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
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
