// iOS full-filesystem dumps: a folder, a .tar, .tar.gz/.tgz or .zip.
//
// Layout: the dump may hold "private/var/..." (rooted at the device's "/"), "var/..."
// (rooted at /private) or "mobile/, db/, ..." (rooted at /private/var), possibly under one
// or more single top folders ("dump/private/var/..."). Every path the source hands out is
// canonical: relative to the device root, "private/var/...", so the modules' fs globs find
// the files whatever the layout.
//
// Archives are never extracted whole. Opening one reads its headers in a single streaming
// pass (libarchive) and keeps an index (name, type, size, mtime, link target). Files that
// modules open (a database with its -wal/-shm/-journal, a plist, a log) are copied into a
// private temporary folder (0700) that is removed with the source. Copies are batched: the
// files every find() returned since the last pass are copied together in one pass, so a
// .tar.gz is decompressed once per batch, not once per file. A member above 4 GiB is
// never copied (reported).
//
// Safety: member names with ".." components or absolute names are never used (they would
// escape the dump when extracted); symlinks are never followed out of the dump (absolute
// targets are read relative to the dump root, as on the device; a target climbing above the
// root is refused); folder walks never follow symlinks. Such members are reported in
// acquisition_problems(); they make a module's result partial only when they hide a file
// the module asked for (find() then returns the file, and reading it fails with the
// reason). A truncated or damaged archive is read as far as possible: the index keeps the
// readable members and acquisition_problems() holds an `unread` problem.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "acquisition/source.hpp"

namespace bridle {

class TempDir;

class IosFsSource final : public IosSource {
 public:
  // Members above this size are never copied out of an archive.
  static constexpr std::uint64_t kMaxMemberSize = 4ull << 30;
  // Total bytes copied out of one archive into private copies (an archive bomb, or a
  // crafted dump with thousands of huge databases, cannot fill the disk); members past it
  // are reported as not read. Env BRIDLE_MAX_EXTRACT_BYTES overrides it (tests, big dumps).
  static constexpr std::uint64_t kMaxExtractTotal = 32ull << 30;

  // Opens PATH (folder or archive). nullptr + *err (a sentence for the user) when it is not
  // a readable iOS filesystem dump.
  static std::unique_ptr<IosFsSource> open(const fs::path& path, std::string* err);
  ~IosFsSource() override;

  bool is_backup() const override { return false; }
  // The dump's root folder (folder dumps) or the archive file.
  const fs::path& root() const override { return root_; }
  std::vector<IosFile> find(const ArtifactSpec& spec) override;
  std::unique_ptr<SqliteDb> open_sqlite(const IosFile& f, SqliteError* err) override;
  std::optional<std::string> read(const IosFile& f, std::string* err, std::uint64_t max_bytes) override;
  bool for_each_entry(const std::function<bool(const IosFsEntry&)>& fn) override;
  std::vector<IosFsEntry> fs_glob(const std::string& pattern) override;
  std::vector<Diagnostic> acquisition_problems() const override;
  void prefetch(const std::vector<IosFile>& files) override;

  bool is_archive() const { return archive_; }
  // Where the logical root is inside the input ("" or e.g. "dump/"), and what was prefixed
  // to make paths canonical ("", "private/" or "private/var/").
  const std::string& stripped_prefix() const { return disk_prefix_; }
  const std::string& added_prefix() const { return logical_prefix_; }
  // Number of passes over the archive made to copy members (tests).
  std::size_t extraction_passes() const;
  // Where the private copies go (tests check it is removed).
  std::optional<fs::path> temp_folder() const;

  struct Node;  // one entry of the logical tree (archives and prefix folders)

 private:
  IosFsSource() = default;
  bool open_folder(const fs::path& path, std::string* err);
  bool open_archive(const fs::path& path, std::string* err);
  bool index_archive(std::string* err);

  // Logical tree access (both kinds).
  struct Stat {
    enum Type { File, Dir, Symlink, Other } type = Other;
    std::uint64_t size = 0;
    std::optional<double> mtime;
    std::string link_target;
  };
  std::optional<Stat> lstat(const std::string& logical) const;
  std::vector<std::string> list(const std::string& logical_dir) const;
  // Follows symlinks inside the dump; nullopt + reason when a link leads out or loops.
  std::optional<std::string> resolve(const std::string& logical, std::string* why) const;
  fs::path disk_path_of(const std::string& logical) const;  // folder dumps
  void glob(const std::vector<std::string>& parts, std::size_t i, const std::string& base,
            std::vector<std::string>& out, std::set<std::string>& blocked, bool any_type = false) const;

  // Archive members.
  std::optional<fs::path> materialise(const std::string& logical, std::string* err);
  void extract_pass(std::set<std::size_t> ordinals);
  std::uint64_t extracted_bytes_ = 0;  // written to private copies so far (all passes)
  void want(const std::string& logical);  // adds a member and its sidecars to the batch
  // The member path a file found by find() stands for; nullopt + why when it is blocked.
  std::optional<std::string> real_path_of(const IosFile& f, std::string* err);
  void problem(Diagnostic::Severity sev, std::string file, std::string message, bool unread);

  fs::path root_;          // folder: the dump root folder; archive: the archive file
  bool archive_ = false;
  std::string disk_prefix_;     // stripped from archive member names
  std::string logical_prefix_;  // added in front of paths inside the dump
  std::map<std::string, std::string> blocked_;  // logical path -> why it is not read
  std::map<std::string, std::string> aliases_;  // found path -> member path (archives)

  // Archive index: logical path -> node.
  std::map<std::string, std::unique_ptr<Node>> nodes_;

  mutable std::mutex mu_;
  std::vector<Diagnostic> problems_;
  std::set<std::size_t> pending_;  // ordinals wanted in the next pass
  std::map<std::size_t, fs::path> copied_;  // ordinal -> private copy
  std::map<std::size_t, std::string> copy_errors_;
  std::map<std::string, std::size_t> temp_dirs_;  // logical parent -> sub-folder id
  std::unique_ptr<TempDir> temp_;
  std::size_t passes_ = 0;
};

// True when `path` looks like an archive this source reads (by content, not name).
bool looks_like_archive(const fs::path& path);

}  // namespace bridle
