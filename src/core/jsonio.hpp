// JSON text as MVT writes it (Python json.dump(indent=4), ASCII-escaped), incrementally.
#pragma once
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/types.hpp"

namespace bridle {

// indent=4, non-ASCII escaped as \uXXXX, invalid UTF-8 replaced (never throws).
std::string dump_mvt(const Json& j);
// Appends dump_mvt(j) to out with every line after the first indented by `indent` more
// spaces (an element of an enclosing list or object).
void append_mvt(std::string& out, const Json& j, std::size_t indent = 0);
// Writes `text` to `path` atomically (temp file + rename). Returns false on error.
bool write_text_file(const std::filesystem::path& path, const std::string& text,
                     std::string* err = nullptr);

// Streams a JSON list to a file, one element at a time, in dump_mvt layout. The file is only
// created when the first element arrives (MVT writes no file for a module with no results).
class JsonListWriter {
 public:
  explicit JsonListWriter(std::filesystem::path path) : path_(std::move(path)) {}
  ~JsonListWriter();
  JsonListWriter(const JsonListWriter&) = delete;
  JsonListWriter& operator=(const JsonListWriter&) = delete;
  bool add(const Json& element);
  bool close();  // writes the closing bracket; true when nothing failed
  std::size_t count() const { return count_; }
  const std::string& error() const { return error_; }

 private:
  std::filesystem::path path_;
  std::FILE* f_ = nullptr;
  std::size_t count_ = 0;
  bool failed_ = false;
  std::string error_;
  std::string buf_;  // one element's text, reused
};

// Python repr() of a JSON value as MVT's alerts_timeline.csv shows event dicts:
// {'a': 'x', 'b': None, 'c': True, 'd': 1.0}.
std::string python_repr(const Json& j);
void append_python_repr(std::string& out, const Json& j);

// Appends s as a quoted JSON string the way nlohmann's serializer writes ASCII: printable
// ASCII copied, the short escapes for \b \t \n \f \r \" \\, other control bytes as \u00xx,
// DEL as \u007f only with escape_del (dump with ensure_ascii, as MVT's files; without it for
// timeline.jsonl). False, nothing appended, when s has a byte >= 0x80: the caller falls back
// to nlohmann for its UTF-8 decoding and replacement rules.
bool append_ascii_json_string(std::string& out, std::string_view s, bool escape_del);

// A JSON string as dump_mvt writes it (ASCII-escaped, invalid UTF-8 replaced).
void append_mvt_string(std::string& out, std::string_view s);

// csv_field(s) appended to out.
void append_csv_field(std::string& out, std::string_view s);

// Json::parse(text, nullptr, false) for the common subset of JSON (ASCII strings without
// \u escapes, integers of at most 18 digits, no repeated keys, nesting up to 64), without
// nlohmann's lexer: true with the same value in `out`; false (out untouched) when the text is
// outside the subset or not valid JSON, and the caller must use nlohmann's parser.
bool parse_json_fast(std::string_view text, Json& out);

// One CSV field, QUOTE_ALL with doubled quotes (Python csv, escapechar '\\').
std::string csv_field(const std::string& s);

}  // namespace bridle
