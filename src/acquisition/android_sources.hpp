// Concrete Android acquisition sources: a folder, a zip (libzip, read in place, also over
// bytes in memory for nested zips) and a tar held in memory (libarchive; the adb backup
// stream). All apply the same member-name rules: names that are absolute, contain a ".."
// component or a NUL, duplicates, symlinks and zip bombs are reported in problems() and never
// exposed as files.
//
// Path layout (what module patterns see):
//   - kind "androidqf": paths are relative to the PARENT of the acquisition folder, as MVT
//     does ("androidqf/getprop.txt"), so MVT's "*/getprop.txt" patterns work. A zip is given
//     the same layout: members already under one top folder keep their names; a zip whose
//     members sit at its root gets the zip's stem as top folder. The folder X and a zip of X
//     (with or without the top folder) therefore list identical paths.
//   - other kinds: paths are relative to the acquisition root ("main_entry.txt",
//     "apps/com.android.providers.telephony/d_f/000000_sms_backup").
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "acquisition/android_source.hpp"

namespace bridle {

struct AndroidSourceLimits {
  std::uint64_t max_total_uncompressed = 8ull << 30;  // whole archive (zip bomb guard)
  std::uint64_t bomb_ratio = 1000;                     // uncompressed:compressed
  std::uint64_t bomb_min_size = 1ull << 20;            // the ratio applies to members above this
  std::uint64_t max_files = 2'000'000;                 // members listed
  std::uint64_t max_tar_bytes = 2ull << 30;            // tar kept in memory
};

struct AndroidSourceOptions {
  std::string kind;            // "androidqf", "bugreport", "backup", "intrusion_logs"
  std::string display;         // shown to the user; default: the path
  bool parent_relative = false;  // androidqf layout (see above)
  std::string subdir;          // view only the members under this folder, relative to it
  AndroidSourceLimits limits;
};

// Checks a member name and normalises it ('\\' kept as is, "./" and "//" collapsed).
// nullopt + reason when it must be rejected.
std::optional<std::string> android_member_name(std::string_view raw, std::string* why);

class FolderSource final : public AndroidSource {
 public:
  static std::unique_ptr<FolderSource> open(const fs::path& root, AndroidSourceOptions opts,
                                            std::string* err);
  std::string kind() const override { return opts_.kind; }
  std::string display() const override { return opts_.display; }
  const std::vector<AndroidFile>& files() const override { return files_; }
  std::optional<std::string> read(const AndroidFile& f, std::string* err,
                                  std::uint64_t max_bytes = 1ull << 30) override;
  bool read_stream(const AndroidFile& f, const ChunkSink& sink, std::string* err,
                   std::uint64_t max_bytes = ~0ull) override;
  std::unique_ptr<AndroidSource> open_nested_zip(const AndroidFile& f, AndroidSourceOptions opts, std::string* err,
                                                 std::uint64_t max_bytes) override;
  // Absolute location of a member on disk (for info.json hashes); "" if unknown.
  fs::path disk_path(const std::string& rel) const;
  const fs::path& root() const { return root_; }

 private:
  FolderSource() = default;
  fs::path root_;
  std::string prefix_;  // "<folder name>/" for the androidqf layout
  AndroidSourceOptions opts_;
  std::vector<AndroidFile> files_;
};

class ZipSource final : public AndroidSource {
 public:
  // Zip file on disk, read in place.
  static std::unique_ptr<ZipSource> open(const fs::path& path, AndroidSourceOptions opts,
                                         std::string* err);
  // Zip held in memory (a member of another archive).
  static std::unique_ptr<ZipSource> open_bytes(std::string bytes, AndroidSourceOptions opts,
                                               std::string* err);
  ~ZipSource() override;
  std::string kind() const override { return opts_.kind; }
  std::string display() const override { return opts_.display; }
  const std::vector<AndroidFile>& files() const override { return files_; }
  std::optional<std::string> read(const AndroidFile& f, std::string* err,
                                  std::uint64_t max_bytes = 1ull << 30) override;
  // Reads through a zip handle of its own (the shared one is not held while streaming).
  bool read_stream(const AndroidFile& f, const ChunkSink& sink, std::string* err,
                   std::uint64_t max_bytes = ~0ull) override;

 private:
  ZipSource() = default;
  bool index(const std::string& stem, std::string* err);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  AndroidSourceOptions opts_;
  std::vector<AndroidFile> files_;
};

class TarSource final : public AndroidSource {
 public:
  // Indexes the tar and keeps the members' bytes (the tar itself is released).
  static std::unique_ptr<TarSource> open_bytes(std::string tar, AndroidSourceOptions opts,
                                               std::string* err);
  std::string kind() const override { return opts_.kind; }
  std::string display() const override { return opts_.display; }
  const std::vector<AndroidFile>& files() const override { return files_; }
  std::optional<std::string> read(const AndroidFile& f, std::string* err,
                                  std::uint64_t max_bytes = 1ull << 30) override;

 private:
  TarSource() = default;
  AndroidSourceOptions opts_;
  std::vector<AndroidFile> files_;
  std::map<std::string, std::string> data_;
};

// A view of the members of `parent` under `prefix` ("androidqf/intrusion_logs"), with the
// prefix stripped (or kept as the last component when parent_relative). Reads go to the
// parent, which must outlive the view.
class SubdirSource final : public AndroidSource {
 public:
  SubdirSource(AndroidSource& parent, std::string prefix, std::string kind, bool parent_relative = false);
  std::string kind() const override { return kind_; }
  std::string display() const override { return display_; }
  const std::vector<AndroidFile>& files() const override { return files_; }
  std::optional<std::string> read(const AndroidFile& f, std::string* err,
                                  std::uint64_t max_bytes = 1ull << 30) override;
  bool read_stream(const AndroidFile& f, const ChunkSink& sink, std::string* err,
                   std::uint64_t max_bytes = ~0ull) override;

 private:
  AndroidSource& parent_;
  std::string prefix_, kind_, display_, shown_;
  std::vector<AndroidFile> files_;
};

enum class AndroidInputKind { Auto, Folder, Zip, Tar };

// Opens a folder or a zip (by content, not by extension) as an Android source of `opts.kind`.
std::unique_ptr<AndroidSource> open_android(const fs::path& path, AndroidSourceOptions opts,
                                            std::string* err,
                                            AndroidInputKind hint = AndroidInputKind::Auto);

}  // namespace bridle
