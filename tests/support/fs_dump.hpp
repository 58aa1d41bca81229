// Test helpers for filesystem dumps: archives written with libarchive (tar, tar.gz, zip),
// packing a folder, and running one check-fs module over a source.
#pragma once
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "acquisition/ios_fs.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/module_runner.hpp"
#include "support/support.hpp"

namespace bridle::test {

struct ArchiveMember {
  enum Type { File, Dir, Symlink, Hardlink } type = File;
  std::string name;
  std::string data;        // File contents
  std::string link;        // Symlink / Hardlink target
  double mtime = 1600000000.0;
};

inline ArchiveMember mfile(std::string name, std::string data, double mtime = 1600000000.0) {
  ArchiveMember m;
  m.name = std::move(name);
  m.data = std::move(data);
  m.mtime = mtime;
  return m;
}
inline ArchiveMember mdir(std::string name, double mtime = 1600000000.0) {
  ArchiveMember m;
  m.type = ArchiveMember::Dir;
  m.name = std::move(name);
  m.mtime = mtime;
  return m;
}
inline ArchiveMember mlink(std::string name, std::string target) {
  ArchiveMember m;
  m.type = ArchiveMember::Symlink;
  m.name = std::move(name);
  m.link = std::move(target);
  return m;
}

enum class ArchiveFormat { Tar, TarGz, Zip };

inline void write_archive(const fs::path& out, const std::vector<ArchiveMember>& members, ArchiveFormat fmt) {
  archive* a = archive_write_new();
  if (fmt == ArchiveFormat::Zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax(a);  // keeps sub-second mtimes
    if (fmt == ArchiveFormat::TarGz) archive_write_add_filter_gzip(a);
  }
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK) << archive_error_string(a);
  for (auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, m.name.c_str());
    auto secs = static_cast<time_t>(m.mtime);
    archive_entry_set_mtime(e, secs, static_cast<long>((m.mtime - static_cast<double>(secs)) * 1e9 + 0.5));
    switch (m.type) {
      case ArchiveMember::File:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
        break;
      case ArchiveMember::Dir:
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        break;
      case ArchiveMember::Symlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_perm(e, 0777);
        archive_entry_copy_symlink(e, m.link.c_str());
        break;
      case ArchiveMember::Hardlink:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_copy_hardlink(e, m.link.c_str());
        archive_entry_set_size(e, 0);
        break;
    }
    EXPECT_GE(archive_write_header(a, e), ARCHIVE_WARN) << m.name << ": " << archive_error_string(a);
    if (m.type == ArchiveMember::File && !m.data.empty())
      archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// Members for every entry under `dir` (folders first, names sorted), named prefix + relpath.
inline std::vector<ArchiveMember> members_of(const fs::path& dir, const std::string& prefix = "") {
  std::vector<ArchiveMember> out;
  std::vector<fs::path> all;
  for (auto& e : fs::recursive_directory_iterator(dir)) all.push_back(e.path());
  std::sort(all.begin(), all.end());
  for (auto& p : all) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    ArchiveMember m;
    m.name = prefix + p.lexically_relative(dir).string();
    m.mtime = static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
    if (S_ISDIR(st.st_mode)) {
      m.type = ArchiveMember::Dir;
    } else if (S_ISLNK(st.st_mode)) {
      m.type = ArchiveMember::Symlink;
      m.link = fs::read_symlink(p).string();
    } else {
      m.data = slurp(p);
    }
    out.push_back(std::move(m));
  }
  return out;
}

// Sets every mtime under `dir` (and dir) to whole seconds (zip keeps only seconds).
inline void whole_second_mtimes(const fs::path& dir, time_t when = 1700000000) {
  std::vector<fs::path> all;
  for (auto& e : fs::recursive_directory_iterator(dir)) all.push_back(e.path());
  std::sort(all.rbegin(), all.rend());  // contents before their folders
  all.push_back(dir);
  for (auto& p : all) {
    struct timespec ts[2] = {{when, 0}, {when, 0}};
    ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
  }
}

struct FsModuleRun {
  ScanResult result;
  Json doc;  // <slug>.json (null when the module wrote none)
  std::vector<const Alert*> alerts(std::optional<Level> l = std::nullopt) const {
    std::vector<const Alert*> out;
    for (auto& a : result.alerts)
      if (!l || a.level == *l) out.push_back(&a);
    return out;
  }
  std::vector<const TimelineEntry*> rows() const {
    std::vector<const TimelineEntry*> out;
    for (auto& t : result.timeline) out.push_back(&t);
    return out;
  }
};

// Runs one check-fs module (class name) over `src` with the indicators in `stix`.
inline FsModuleRun run_fs_module(IosSource& src, const Scratch& dir, const std::string& module,
                                 const std::string& slug, const std::string& stix = "", bool fast = false) {
  static int counter = 0;
  ModuleRunOptions o;
  o.fast = fast;
  o.out_dir = dir / ("out" + std::to_string(counter++));
  FsModuleRun r;
  r.result = run_ios_module(src, module, stix, o).result;
  auto p = o.out_dir / (slug + ".json");
  if (fs::exists(p)) r.doc = Json::parse(slurp(p));
  return r;
}

inline std::unique_ptr<IosFsSource> open_fs(const fs::path& p) {
  std::string err;
  auto s = IosFsSource::open(p, &err);
  EXPECT_TRUE(s) << err;
  return s;
}

// A STIX2 bundle with the given patterns, all from malware "TestSpy".
inline std::string stix_bundle(const std::vector<std::string>& patterns) {
  std::string s = R"({"type":"bundle","id":"bundle--1","objects":[{"type":"malware","id":"malware--1","name":"TestSpy"})";
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    auto n = std::to_string(i + 1);
    Json ind = {{"type", "indicator"}, {"id", "indicator--" + n}, {"pattern", patterns[i]}, {"pattern_type", "stix"}};
    Json rel = {{"type", "relationship"}, {"id", "relationship--" + n}, {"source_ref", "indicator--" + n},
                {"target_ref", "malware--1"}};
    s += "," + ind.dump() + "," + rel.dump();
  }
  return s + "]}";
}

// The WebKit origin modules (WebkitIndexedDB, WebkitLocalStorage, WebkitSafariViewService):
// origins named by the children of the dump folder `rel` ("https_host_0" -> URL), one indicator
// match, `timeline_rows` timeline rows.
inline void expect_webkit_origins(const std::string& module, const std::string& slug, const std::string& rel,
                                  std::size_t timeline_rows) {
  Scratch d;
  auto base = d / ("dump/" + rel);
  write_file(base / "https_evil.example.com_0" / "x", "x");
  fs::create_directories(base / "http_news.example.org_0");
  write_file(base / "other", "x");
  write_file(base / ".hidden", "x");
  struct timespec ts[2] = {{1600000000, 0}, {1600000000, 0}};
  ::utimensat(AT_FDCWD, base.c_str(), ts, 0);
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, module, slug, stix_bundle({"[domain-name:value='evil.example.com']"}));
  ASSERT_TRUE(run.doc.is_array());
  ASSERT_EQ(run.doc.size(), 2u);
  EXPECT_EQ(run.doc[0]["url"], "http://news.example.org");
  EXPECT_EQ(run.doc[1]["url"], "https://evil.example.com");
  EXPECT_EQ(run.doc[1]["folder"], rel);
  EXPECT_EQ(run.doc[1]["isodate"], "2020-09-13 12:26:40.000000");
  EXPECT_EQ(run.alerts(Level::Critical).size(), 1u);
  EXPECT_EQ(run.rows().size(), timeline_rows);
}

}  // namespace bridle::test
