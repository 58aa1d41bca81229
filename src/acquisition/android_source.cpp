#include "acquisition/android_source.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace bridle {

bool android_fnmatch(std::string_view pattern, std::string_view path) {
  std::string p(pattern), s(path);
  return ::fnmatch(p.c_str(), s.c_str(), 0) == 0;
}

std::vector<AndroidFile> AndroidSource::glob(std::string_view pattern) const {
  std::vector<AndroidFile> out;
  for (auto& f : files())
    if (android_fnmatch(pattern, f.path)) out.push_back(f);
  return out;
}

std::optional<AndroidFile> AndroidSource::first(std::string_view pattern) const {
  for (auto& f : files())
    if (android_fnmatch(pattern, f.path)) return f;
  return std::nullopt;
}

bool AndroidSource::read_stream(const AndroidFile& f, const ChunkSink& sink, std::string* err,
                                std::uint64_t max_bytes) {
  auto data = read(f, err, max_bytes);
  if (!data) return false;
  std::string_view v(*data);
  while (!v.empty()) {
    std::size_t n = std::min(v.size(), kStreamChunk);
    if (!sink(v.substr(0, n))) break;
    v.remove_prefix(n);
  }
  return true;
}

AndroidSource* AndroidSource::nested(const std::string& kind) const {
  for (auto& n : nested_)
    if (n->kind() == kind) return n.get();
  return nullptr;
}

void AndroidSource::add_nested(std::unique_ptr<AndroidSource> s) { nested_.push_back(std::move(s)); }

std::vector<std::string> AndroidSource::files_read() const {
  std::lock_guard<std::mutex> lk(mu_);
  auto out = read_;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void AndroidSource::note_read(const std::string& p) {
  std::lock_guard<std::mutex> lk(mu_);
  read_.push_back(p);
}

}  // namespace bridle
