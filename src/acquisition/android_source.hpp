// Android acquisitions seen as sets of logical files: an androidqf folder or zip, a bugreport
// zip or folder, an adb backup's tar stream, intrusion-log folders. Paths are relative and
// '/'-separated; member names that escape the root (absolute, "..", symlinks leading out) are
// never exposed as files and are reported instead.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace bridle {

namespace fs = std::filesystem;

struct AndroidFile {
  std::string path;          // relative to the acquisition root, '/'-separated
  std::uint64_t size = 0;
  std::int64_t mtime = 0;    // unix seconds (zip entries: as stored)
};

// The dumpstate of a bugreport, read once and split into "DUMP OF SERVICE x:" sections once,
// shared by every module (see android/dumpstate.hpp for the splitter).
class Dumpstate;
struct AndroidSourceOptions;  // android_sources.hpp

class AndroidSource {
 public:
  virtual ~AndroidSource() = default;
  // "androidqf", "bugreport", "backup", "intrusion_logs".
  virtual std::string kind() const = 0;
  // Human name of the acquisition (path given by the user, or "<outer>!bugreport.zip").
  virtual std::string display() const = 0;
  virtual const std::vector<AndroidFile>& files() const = 0;
  // Reads a member (bounded); nullopt + error when it cannot.
  virtual std::optional<std::string> read(const AndroidFile& f, std::string* err,
                                          std::uint64_t max_bytes = 1ull << 30) = 0;
  // Streams a member to `sink` in chunks of at most kStreamChunk bytes, so memory stays
  // bounded whatever the member's size. `sink` returns false to stop early (not an error).
  // Returns false + error when the member cannot be opened or is damaged; chunks delivered
  // before a damage was detected stay delivered. The default reads the member whole.
  using ChunkSink = std::function<bool(std::string_view chunk)>;
  static constexpr std::size_t kStreamChunk = 1u << 20;
  virtual bool read_stream(const AndroidFile& f, const ChunkSink& sink, std::string* err,
                           std::uint64_t max_bytes = ~0ull);
  // Opens a zip member (a nested bugreport.zip) as a ZipSource with `opts`. The default reads
  // the member into memory; a folder opens it in place on disk. nullptr + err when it cannot.
  virtual std::unique_ptr<AndroidSource> open_nested_zip(const AndroidFile& f, AndroidSourceOptions opts,
                                                         std::string* err, std::uint64_t max_bytes);
  // Members whose path matches a shell pattern where '*' also matches '/', as MVT's fnmatch.
  std::vector<AndroidFile> glob(std::string_view pattern) const;
  std::optional<AndroidFile> first(std::string_view pattern) const;
  // Problems found while listing (escaping names, bombs, ...): reported by the command.
  const std::vector<Diagnostic>& problems() const { return problems_; }
  // Adds a problem found by the command (e.g. a nested part that could not be opened). Call
  // before modules run.
  void add_problem(Diagnostic d) { problems_.push_back(std::move(d)); }

  // Nested acquisitions found inside this one (check-androidqf: bugreport.zip, backup.ab,
  // intrusion_logs/). Owned by this source.
  AndroidSource* nested(const std::string& kind) const;
  void add_nested(std::unique_ptr<AndroidSource> s);

  // Shared, parsed-once state for modules. Set by the command before modules run.
  std::string timezone;                     // device IANA timezone (getprop), "" = UTC
  Json acquisition = Json::object();        // androidqf acquisition.json / host key
  std::shared_ptr<const Dumpstate> dumpstate;  // bugreport only

  // Every evidence file read (for info.json).
  std::vector<std::string> files_read() const;

 protected:
  void note_read(const std::string& p);
  std::vector<Diagnostic> problems_;

 private:
  std::vector<std::unique_ptr<AndroidSource>> nested_;
  mutable std::mutex mu_;
  std::vector<std::string> read_;
};

// fnmatch(pattern, path) without FNM_PATHNAME ('*' matches '/').
bool android_fnmatch(std::string_view pattern, std::string_view path);

}  // namespace bridle
